//! The configuration: defaults, then a TOML file (`--config FILE`), then `REMPART_*`
//! environment variables, then command-line flags. Unknown keys are refused and every value is
//! checked at start; an error names the key and the problem and never echoes a value (a value
//! may be a secret).

use crate::cli::{GlobalArgs, LogFormat};
use figment::Figment;
use figment::error::Kind;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Environment variables start with this (`REMPART_LISTEN`, `REMPART_DATA_DIR`, …).
pub const ENV_PREFIX: &str = "REMPART_";

/// The whole configuration, validated. No globals: it is passed down.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The embedded SQLite database and the key files. Default `./rempart-data`.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; when set, used instead of the embedded SQLite database.
    pub database_url: Option<SecretString>,
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `text` or `json`; unset: text on a terminal, JSON otherwise.
    pub log_format: Option<LogFormat>,
    /// A tracing filter (`info`, `rempart=debug,info`, …); `RUST_LOG` overrides it. Default `info`.
    pub log_level: String,
    /// Largest request body accepted (bytes). Default 1 MiB.
    pub max_body_bytes: usize,
    /// A request running longer is abandoned (seconds). Default 30.
    pub request_timeout_secs: u64,
    /// Largest beneficiary file accepted by the import API (bytes, streamed; the import route
    /// does not take `max_body_bytes`). Default 2 GiB.
    pub import_max_bytes: u64,
    /// Set by `rempart demo` only, never by a file or the environment.
    #[serde(skip)]
    pub demo: bool,
    /// On SIGTERM/SIGINT, how long open requests may finish (seconds). Default 10.
    pub shutdown_grace_secs: u64,
    /// Send `strict-transport-security` (served over TLS, directly or by a proxy). Default false.
    pub hsts: bool,
    /// WebAuthn relying-party id: the registrable domain people sign in on. Default `localhost`.
    pub rp_id: String,
    /// The origin of the pages (`https://rempart.example.fr`); assertions made for any other
    /// origin are refused, and state-changing requests must come from it. Default
    /// `http://localhost:<listening port>`.
    pub rp_origin: Option<String>,
    /// The base of invitation links (`<public_url>/enrol?invitation=…`). Default `rp_origin`.
    pub public_url: Option<String>,
    /// A session unused this long ends (minutes). Default 15.
    pub session_idle_minutes: u32,
    /// A session ends this long after sign-in, whatever its use (hours). Default 12.
    pub session_absolute_hours: u32,
    /// Where the key-encryption keys (KEKs) live: `file` (default; `keys_dir`) or `pkcs11`
    /// (an HSM: `pkcs11_module`, `pkcs11_token`, `pkcs11_pin`).
    pub keys_provider: KeysProvider,
    /// The KEK files of the `file` provider. Default `<data_dir>/keys`.
    pub keys_dir: Option<PathBuf>,
    /// The PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub pkcs11_module: Option<PathBuf>,
    /// The label of the PKCS#11 token holding the KEKs.
    pub pkcs11_token: Option<String>,
    /// The token's user PIN (`REMPART_PKCS11_PIN`); never echoed.
    pub pkcs11_pin: Option<SecretString>,
    /// A second listener, over TLS, requiring a client certificate of the platform CA
    /// (machines), e.g. `127.0.0.1:8443`. Unset: no TLS listener.
    pub tls_listen: Option<SocketAddr>,
    /// The TLS listener's certificate chain (PEM). Default `<data_dir>/ca/server.pem`.
    pub tls_cert: Option<PathBuf>,
    /// The guard's thresholds, contact and webhook (`[guard]`; defaults in docs/operating.md).
    pub guard: app::guard::GuardConfig,
    /// The operator console's payment desk (`[payments]`): the debtor account and directory
    /// of the runs made from the console, the IBAN changes' cooling-off.
    pub payments: PaymentsConfig,
    /// Its private key (PEM). Default `<data_dir>/ca/server-key.pem`.
    pub tls_key: Option<PathBuf>,
    /// The CA that client certificates must chain to. Default `<data_dir>/ca/ca.pem`.
    pub tls_client_ca: Option<PathBuf>,
    /// Addresses of TLS-terminating proxies in front of `listen`: only from them are
    /// `X-Client-Cert` (a forwarded client certificate, verified against `tls_client_ca`) and
    /// `X-Forwarded-For` read. Default none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Sign-in and enrolment ceremonies per client address and minute (then 429); 0: no
    /// limit. Default 30.
    pub auth_rate_per_minute: u32,
    /// How many ceremonies may come at once before the rate applies. Default 10.
    pub auth_rate_burst: u32,
    /// The access ledger's checkpoint origin line (and signing key name): no space, no `+`.
    /// Default `rempart.localhost/ledger`.
    pub ledger_origin: String,
}

/// The demo's settlement account: a well-formed example IBAN, for demonstration only.
pub const DEMO_DEBTOR_IBAN: &str = "FR7630001007941234567890185";

/// `[payments]`: what the operator console needs to run payments. Without the three debtor
/// keys the console lists runs but does not make them (`rempart payments run` does).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// Name of the debited account holder (the platform's settlement account).
    pub debtor_name: Option<String>,
    /// IBAN of the debited account (never echoed).
    pub debtor_iban: Option<SecretString>,
    /// BIC of the debited account's bank.
    pub debtor_bic: Option<String>,
    /// Where the console's runs write their files. Default `<data_dir>/payments`.
    pub out_dir: Option<PathBuf>,
    /// Hours from an IBAN change's confirmation to its effect. Default 72.
    pub iban_cooling_off_hours: u32,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            debtor_name: None,
            debtor_iban: None,
            debtor_bic: None,
            out_dir: None,
            iban_cooling_off_hours: 72,
        }
    }
}

/// Which `KeyProvider` holds the key-encryption keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeysProvider {
    #[default]
    File,
    Pkcs11,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./rempart-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: None,
            log_level: "info".to_string(),
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            import_max_bytes: 2 * 1024 * 1024 * 1024,
            demo: false,
            shutdown_grace_secs: 10,
            hsts: false,
            rp_id: "localhost".to_string(),
            rp_origin: None,
            public_url: None,
            session_idle_minutes: 15,
            session_absolute_hours: 12,
            keys_provider: KeysProvider::File,
            keys_dir: None,
            pkcs11_module: None,
            pkcs11_token: None,
            pkcs11_pin: None,
            tls_listen: None,
            tls_cert: None,
            tls_key: None,
            guard: app::guard::GuardConfig::default(),
            payments: PaymentsConfig::default(),
            tls_client_ca: None,
            trusted_proxies: Vec::new(),
            auth_rate_per_minute: 30,
            auth_rate_burst: 10,
            ledger_origin: app::ledger::DEFAULT_ORIGIN.to_string(),
        }
    }
}

/// A configuration error: one line, naming the key, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config: {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }
}

/// What the command line says, layered last.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl Overrides {
    pub fn from_cli(global: &GlobalArgs, listen: Option<&str>) -> Self {
        Self {
            data_dir: global.data_dir.clone(),
            database_url: global.database_url.clone(),
            log_format: global.log_format,
            listen: listen.map(str::to_string),
        }
    }
}

impl Config {
    /// Loads defaults < `file` < `REMPART_*` environment < `overrides`, then validates.
    pub fn load(
        file: Option<&std::path::Path>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "--config",
                    format!("cannot read {}: {}", path.display(), io_problem(&e)),
                )
            })?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment
            .merge(env_provider())
            .merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().map_err(describe)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_access()?;
        self.debtor()?;
        if !(1..=24 * 30).contains(&self.payments.iban_cooling_off_hours) {
            return Err(ConfigError::new(
                "payments.iban_cooling_off_hours",
                "must be between 1 and 720",
            ));
        }
        self.guard
            .validate()
            .map_err(|problem| match problem.split_once(": ") {
                Some((key, p)) => ConfigError::new(key, p),
                None => ConfigError::new("guard", problem),
            })?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        if let Some(url) = &self.database_url {
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::new(
                    "database_url",
                    "must be a postgres:// or postgresql:// URL",
                ));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err()
            || self.log_level.trim().is_empty()
        {
            return Err(ConfigError::new(
                "log_level",
                "not a valid log filter (e.g. info, debug, rempart=debug,warn)",
            ));
        }
        if !(1024..=1024 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::new(
                "max_body_bytes",
                "must be between 1024 and 1073741824",
            ));
        }
        if !(1024 * 1024..=1024 * 1024 * 1024 * 1024).contains(&self.import_max_bytes) {
            return Err(ConfigError::new(
                "import_max_bytes",
                "must be between 1048576 (1 MiB) and 1099511627776 (1 TiB)",
            ));
        }
        if !(1..=3600).contains(&self.request_timeout_secs) {
            return Err(ConfigError::new(
                "request_timeout_secs",
                "must be between 1 and 3600",
            ));
        }
        if self.keys_provider == KeysProvider::Pkcs11 {
            if self.pkcs11_module.is_none() {
                return Err(ConfigError::new(
                    "pkcs11_module",
                    "required when keys_provider = \"pkcs11\"",
                ));
            }
            if self.pkcs11_token.as_deref().is_none_or(str::is_empty) {
                return Err(ConfigError::new(
                    "pkcs11_token",
                    "required when keys_provider = \"pkcs11\"",
                ));
            }
            if self.pkcs11_pin.is_none() {
                return Err(ConfigError::new(
                    "pkcs11_pin",
                    "required when keys_provider = \"pkcs11\" (set REMPART_PKCS11_PIN)",
                ));
            }
        }
        if self.auth_rate_per_minute > 100_000 {
            return Err(ConfigError::new(
                "auth_rate_per_minute",
                "must be between 0 (no limit) and 100000",
            ));
        }
        if !(1..=10_000).contains(&self.auth_rate_burst) {
            return Err(ConfigError::new(
                "auth_rate_burst",
                "must be between 1 and 10000",
            ));
        }
        if self.shutdown_grace_secs > 3600 {
            return Err(ConfigError::new(
                "shutdown_grace_secs",
                "must be at most 3600",
            ));
        }
        Ok(())
    }

    /// The console's debtor account: `None` when `[payments]` names none; an error when it
    /// names only some of the three keys, or a bad IBAN or BIC (the value is never echoed).
    pub fn debtor(&self) -> Result<Option<domain::payments::Debtor>, ConfigError> {
        let p = &self.payments;
        match (&p.debtor_name, &p.debtor_iban, &p.debtor_bic) {
            (None, None, None) => Ok(None),
            (Some(name), Some(iban), Some(bic)) => {
                domain::payments::Debtor::parse(name, iban.expose_secret(), bic)
                    .map(Some)
                    .map_err(|e| ConfigError::new("payments", e.to_string()))
            }
            _ => Err(ConfigError::new(
                "payments",
                "debtor_name, debtor_iban and debtor_bic go together",
            )),
        }
    }

    /// The operator console's payment desk. `rempart demo` without a `[payments]` debtor
    /// pays from a fictitious settlement account ([`DEMO_DEBTOR_IBAN`]).
    pub fn payment_desk(&self) -> Result<web::PaymentDesk, ConfigError> {
        let debtor = match self.debtor()? {
            None if self.demo => Some(
                domain::payments::Debtor::parse(
                    "REMPART DEMO SETTLEMENT",
                    DEMO_DEBTOR_IBAN,
                    "BDFEFRPPCCT",
                )
                .map_err(|e| ConfigError::new("payments", e.to_string()))?,
            ),
            other => other,
        };
        Ok(web::PaymentDesk {
            out_dir: debtor.as_ref().map(|_| {
                self.payments
                    .out_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("payments"))
            }),
            debtor,
            iban_cooling_off: time::Duration::hours(i64::from(
                self.payments.iban_cooling_off_hours,
            )),
        })
    }

    /// Where the embedded SQLite database lives.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("rempart.sqlite3")
    }

    /// Where the `file` provider's KEK files live: `keys_dir`, default `<data_dir>/keys`.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("keys"))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    fn validate_access(&self) -> Result<(), ConfigError> {
        let host_ok = !self.rp_id.is_empty()
            && self
                .rp_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !host_ok {
            return Err(ConfigError::new(
                "rp_id",
                "must be a host name (e.g. rempart.example.fr or localhost)",
            ));
        }
        for (key, value) in [
            ("rp_origin", &self.rp_origin),
            ("public_url", &self.public_url),
        ] {
            if let Some(v) = value {
                let https = v.starts_with("https://");
                let local = v.starts_with("http://localhost");
                if !(https || local) {
                    return Err(ConfigError::new(
                        key,
                        "must be an https:// URL (plain http only for localhost)",
                    ));
                }
            }
        }
        if let Some(origin) = &self.rp_origin {
            let host = origin
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            if host != self.rp_id && !host.ends_with(&format!(".{}", self.rp_id)) {
                return Err(ConfigError::new(
                    "rp_origin",
                    "its host must be rp_id or a subdomain of it",
                ));
            }
        }
        if !(1..=120).contains(&self.session_idle_minutes) {
            return Err(ConfigError::new(
                "session_idle_minutes",
                "must be between 1 and 120",
            ));
        }
        if !(1..=24).contains(&self.session_absolute_hours) {
            return Err(ConfigError::new(
                "session_absolute_hours",
                "must be between 1 and 24",
            ));
        }
        Ok(())
    }

    /// The access settings; `port` is the listening port (the default origin's).
    pub fn access(&self, port: u16) -> app::accounts::AccessConfig {
        let origin = self
            .rp_origin
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{port}"));
        let mut access = app::accounts::AccessConfig::for_origin(&self.rp_id, &origin);
        if let Some(url) = &self.public_url {
            access.public_url = url.trim_end_matches('/').to_string();
        }
        access.session_idle = time::Duration::minutes(i64::from(self.session_idle_minutes));
        access.session_absolute = time::Duration::hours(i64::from(self.session_absolute_hours));
        access
    }

    /// The HTTP layer's settings.
    /// The access ledger's settings.
    pub fn ledger(&self) -> app::ledger::LedgerConfig {
        app::ledger::LedgerConfig {
            origin: self.ledger_origin.clone(),
            ..app::ledger::LedgerConfig::default()
        }
    }

    pub fn web(&self) -> web::WebConfig {
        web::WebConfig {
            max_body_bytes: self.max_body_bytes,
            request_timeout: self.request_timeout(),
            hsts: self.hsts,
            import_max_bytes: self.import_max_bytes,
            trusted_proxies: self.trusted_proxies.clone(),
            auth_rate_per_minute: self.auth_rate_per_minute,
            auth_rate_burst: self.auth_rate_burst,
            ..web::WebConfig::default()
        }
    }
}

/// `REMPART_*` variables, less those that are not configuration (`REMPART_TEST_*`, used by tests).
fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX).filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_"))
}

fn io_problem(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => "unreadable".to_string(),
    }
}

/// One line from a figment error: the key, where it came from, the problem, never the value.
fn describe(error: figment::Error) -> ConfigError {
    let source = error.metadata.as_ref().map(|m| {
        source_name(
            &m.name,
            error.path.last().map(String::as_str).unwrap_or_default(),
        )
    });
    let mut key = error.path.join(".");
    let problem = match &error.kind {
        Kind::UnknownField(field, _) => {
            // figment's path already ends with the unknown field.
            if key.is_empty() {
                key = field.clone();
            }
            let source = error.metadata.as_ref().map(|m| source_name(&m.name, field));
            return ConfigError::new(key, with_source("unknown key", source.as_deref()));
        }
        Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected) => {
            format!("invalid value, expected {expected}")
        }
        Kind::UnknownVariant(_, expected) => {
            format!("invalid value, expected one of: {}", expected.join(", "))
        }
        Kind::MissingField(name) => {
            key = if key.is_empty() {
                name.to_string()
            } else {
                format!("{key}.{name}")
            };
            "missing".to_string()
        }
        Kind::Message(message) => {
            let first = message.lines().next().unwrap_or("invalid").trim();
            if first.contains("socket address") {
                "invalid socket address (expected IP:PORT, e.g. 127.0.0.1:8080)".to_string()
            } else {
                first.to_string()
            }
        }
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "number out of range".to_string(),
        Kind::InvalidLength(_, expected) => format!("invalid length, expected {expected}"),
        Kind::DuplicateField(_) => "given twice".to_string(),
        Kind::Unsupported(_) | Kind::UnsupportedKey(_, _) => "unsupported value".to_string(),
    };
    if key.is_empty() {
        key = source.clone().unwrap_or_else(|| "config".to_string());
        return ConfigError::new(key, problem);
    }
    ConfigError::new(key, with_source(&problem, source.as_deref()))
}

/// Where a value came from, for a person: the variable, the file or the command line.
fn source_name(provider: &str, key: &str) -> String {
    if provider.contains("environment") {
        format!("{ENV_PREFIX}{}", key.to_uppercase())
    } else if provider.contains("TOML") {
        "config file".to_string()
    } else {
        "command line".to_string()
    }
}

fn with_source(problem: &str, source: Option<&str>) -> String {
    match source {
        Some(s) => format!("{problem} (from {s})"),
        None => problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(contents.as_bytes()).unwrap();
        f
    }

    fn load(contents: &str, overrides: &Overrides) -> Result<Config, ConfigError> {
        let f = file(contents);
        Config::load(Some(f.path()), overrides)
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = load("", &Overrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./rempart-data"));
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.request_timeout_secs, 30);
        assert!(c.database_url.is_none());
    }

    #[test]
    fn the_payment_desk_needs_the_whole_debtor_and_never_echoes_its_iban() {
        let none = load("", &Overrides::default()).unwrap();
        let desk = none.payment_desk().unwrap();
        assert!(desk.debtor.is_none() && desk.out_dir.is_none());
        assert_eq!(desk.iban_cooling_off, time::Duration::hours(72));

        let full = load(
            "data_dir = \"/srv/r\"\n[payments]\ndebtor_name = \"REMPART\"\ndebtor_iban = \"FR7630001007941234567890185\"\ndebtor_bic = \"BDFEFRPPCCT\"\niban_cooling_off_hours = 24\n",
            &Overrides::default(),
        )
        .unwrap();
        let desk = full.payment_desk().unwrap();
        assert!(desk.debtor.is_some());
        assert_eq!(desk.out_dir, Some(PathBuf::from("/srv/r/payments")));
        assert_eq!(desk.iban_cooling_off, time::Duration::hours(24));

        let partial = load(
            "[payments]\ndebtor_name = \"REMPART\"\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(partial.key, "payments");
        assert!(partial.problem.contains("go together"), "{partial}");

        let typo = "FR7630001007941234567890186";
        let bad = load(
            &format!("[payments]\ndebtor_name = \"R\"\ndebtor_iban = \"{typo}\"\ndebtor_bic = \"BDFEFRPPCCT\"\n"),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(bad.problem.starts_with("debtor_iban:"), "{bad}");
        assert!(!bad.to_string().contains(typo), "the IBAN is never echoed");

        let zero = load(
            "[payments]\niban_cooling_off_hours = 0\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(zero.key, "payments.iban_cooling_off_hours");

        // The demo pays from its fictitious settlement account.
        let mut demo = none.clone();
        demo.demo = true;
        assert!(demo.payment_desk().unwrap().debtor.is_some());
    }

    #[test]
    fn file_values_are_read_and_flags_win() {
        let c = load(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/tmp/x\"\n",
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        let o = Overrides {
            listen: Some("127.0.0.1:9100".into()),
            ..Overrides::default()
        };
        let c = load("listen = \"127.0.0.1:9000\"\n", &o).unwrap();
        assert_eq!(c.listen.port(), 9100);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = load("lisen = \"127.0.0.1:9000\"\n", &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "lisen");
        assert!(e.problem.contains("unknown key"), "{e}");
    }

    #[test]
    fn bad_listen_is_named_without_its_value() {
        let e = load("listen = \"nope\"\n", &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "listen");
        assert!(e.problem.contains("invalid socket address"), "{e}");
        assert!(!e.to_string().contains("nope"));
    }

    #[test]
    fn secrets_are_never_echoed() {
        let e = load(
            "database_url = \"mysql://u:hunter2@h/db\"\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "database_url");
        assert!(!e.to_string().contains("hunter2"));
        let e = load("database_url = 42\n", &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "database_url");
    }

    #[test]
    fn keys_default_to_files_under_the_data_dir() {
        let c = load("data_dir = \"/tmp/x\"\n", &Overrides::default()).unwrap();
        assert_eq!(c.keys_provider, KeysProvider::File);
        assert_eq!(c.keys_dir(), PathBuf::from("/tmp/x/keys"));
        let c = load("keys_dir = \"/srv/keks\"\n", &Overrides::default()).unwrap();
        assert_eq!(c.keys_dir(), PathBuf::from("/srv/keks"));
    }

    #[test]
    fn pkcs11_needs_module_token_and_pin_and_never_echoes_the_pin() {
        let e = load("keys_provider = \"pkcs11\"\n", &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "pkcs11_module");
        let e = load(
            "keys_provider = \"pkcs11\"\npkcs11_module = \"/x.so\"\npkcs11_token = \"t\"\n",
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "pkcs11_pin");
        let c = load(
            "keys_provider = \"pkcs11\"\npkcs11_module = \"/x.so\"\npkcs11_token = \"t\"\npkcs11_pin = \"s3cr3t-pin\"\n",
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.keys_provider, KeysProvider::Pkcs11);
        assert!(!format!("{c:?}").contains("s3cr3t-pin"));
        let e = load("keys_provider = \"vault\"\n", &Overrides::default()).unwrap_err();
        assert_eq!(e.key, "keys_provider");
    }

    #[test]
    fn missing_file_is_an_error() {
        let e = Config::load(
            Some(std::path::Path::new("/nonexistent/rempart.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "--config");
    }

    #[test]
    fn import_max_bytes_defaults_to_2_gib_and_is_checked() {
        let c = load("", &Overrides::default()).unwrap();
        assert_eq!(c.import_max_bytes, 2 * 1024 * 1024 * 1024);
        assert_eq!(c.web().import_max_bytes, 2 * 1024 * 1024 * 1024);
        let c = load("import_max_bytes = 10485760\n", &Overrides::default()).unwrap();
        assert_eq!(c.web().import_max_bytes, 10 * 1024 * 1024);
        assert_eq!(
            load("import_max_bytes = 10\n", &Overrides::default())
                .unwrap_err()
                .key,
            "import_max_bytes"
        );
        // Demo mode is not configuration.
        assert_eq!(
            load("demo = true\n", &Overrides::default())
                .unwrap_err()
                .key,
            "demo"
        );
    }

    #[test]
    fn trusted_proxies_and_the_sign_in_rate_are_read_and_checked() {
        let c = load("", &Overrides::default()).unwrap();
        assert!(c.web().trusted_proxies.is_empty());
        assert_eq!(
            (c.web().auth_rate_per_minute, c.web().auth_rate_burst),
            (30, 10)
        );
        let c = load(
            "trusted_proxies = [\"10.0.0.5\", \"::1\"]\nauth_rate_per_minute = 0\n",
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.web().trusted_proxies.len(), 2);
        assert_eq!(c.web().auth_rate_per_minute, 0);
        assert_eq!(
            load("trusted_proxies = [\"nope\"]\n", &Overrides::default())
                .unwrap_err()
                .key,
            "trusted_proxies.0"
        );
        assert_eq!(
            load("auth_rate_burst = 0\n", &Overrides::default())
                .unwrap_err()
                .key,
            "auth_rate_burst"
        );
    }

    #[test]
    fn syntax_error_is_one_line() {
        let e = load("listen = \n", &Overrides::default()).unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn ranges_are_checked() {
        assert_eq!(
            load("request_timeout_secs = 0\n", &Overrides::default())
                .unwrap_err()
                .key,
            "request_timeout_secs"
        );
        assert_eq!(
            load("max_body_bytes = 10\n", &Overrides::default())
                .unwrap_err()
                .key,
            "max_body_bytes"
        );
        assert_eq!(
            load("log_level = \"[[[\"\n", &Overrides::default())
                .unwrap_err()
                .key,
            "log_level"
        );
        assert_eq!(
            load("log_format = \"xml\"\n", &Overrides::default())
                .unwrap_err()
                .key,
            "log_format"
        );
    }
}
