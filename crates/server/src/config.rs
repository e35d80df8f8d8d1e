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
    /// On SIGTERM/SIGINT, how long open requests may finish (seconds). Default 10.
    pub shutdown_grace_secs: u64,
    /// Send `strict-transport-security` (served over TLS, directly or by a proxy). Default false.
    pub hsts: bool,
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
            shutdown_grace_secs: 10,
            hsts: false,
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
        if !(1..=3600).contains(&self.request_timeout_secs) {
            return Err(ConfigError::new(
                "request_timeout_secs",
                "must be between 1 and 3600",
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

    /// Where the embedded SQLite database lives.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("rempart.sqlite3")
    }

    /// Where the field-sealing key lives (until the key-management issue lands).
    pub fn sealing_key_path(&self) -> PathBuf {
        self.data_dir.join("keys").join("sealing.key")
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The HTTP layer's settings.
    pub fn web(&self) -> web::WebConfig {
        web::WebConfig {
            max_body_bytes: self.max_body_bytes,
            request_timeout: self.request_timeout(),
            hsts: self.hsts,
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
    fn missing_file_is_an_error() {
        let e = Config::load(
            Some(std::path::Path::new("/nonexistent/rempart.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert_eq!(e.key, "--config");
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
