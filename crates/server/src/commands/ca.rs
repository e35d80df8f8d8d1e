//! `rempart ca init|issue|revoke|list`: the platform CA for machines' client certificates.
//!
//! Files in `<data_dir>/ca/` (directory 0700): `ca.pem` (the CA certificate, public),
//! `ca-key.pem` (its private key, 0600), `server.pem` and `server-key.pem` (0600) for the TLS
//! listener. Every issued client certificate is recorded in the store (`client_certificates`:
//! organisation, role, serial, SHA-256 fingerprint, validity, revocation); its private key is
//! written once to `--out` and never kept.

use crate::cli::{CaCommand, CaInitArgs, CaIssueArgs, CaListArgs, CaRevokeArgs};
use crate::config::Config;
use anyhow::{Context, bail};
use app::store::ClientCertificateRecord;
use domain::accounts::Role;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::Serialize;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The CA certificate (public).
pub const CA_CERT: &str = "ca.pem";
/// The CA private key (0600).
pub const CA_KEY: &str = "ca-key.pem";
/// The server certificate made by `ca init` (for `tls_cert`).
pub const SERVER_CERT: &str = "server.pem";
/// Its private key (for `tls_key`).
pub const SERVER_KEY: &str = "server-key.pem";

const CA_NAME: &str = "rempart platform CA";

/// `<data_dir>/ca`.
pub fn ca_dir(config: &Config) -> PathBuf {
    config.data_dir.join("ca")
}

pub async fn run(config: &Config, command: &CaCommand) -> anyhow::Result<()> {
    match command {
        CaCommand::Init(args) => init(config, args),
        CaCommand::Issue(args) => issue(config, args).await,
        CaCommand::Revoke(args) => revoke(config, args).await,
        CaCommand::List(args) => list(config, args).await,
    }
}

/// The CA's parameters. `ca init` signs them itself; `ca issue` rebuilds them to name the
/// issuer (subject and key identifier come from these and the key, so they match).
fn ca_params(now: OffsetDateTime) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "rempart");
    dn.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(3650);
    Ok(params)
}

fn serial(id: Uuid) -> SerialNumber {
    let mut bytes = *id.as_bytes();
    bytes[0] &= 0x7f; // a positive INTEGER
    SerialNumber::from_slice(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes a new file (never overwrites) with `mode`.
fn write_new(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn init(config: &Config, args: &CaInitArgs) -> anyhow::Result<()> {
    let dir = ca_dir(config);
    if dir.join(CA_KEY).exists() || dir.join(CA_CERT).exists() {
        bail!(
            "a CA already exists in {} (remove it first to start over: every certificate it issued stops working)",
            dir.display()
        );
    }
    private_dir(&dir)?;
    let clock = app::SystemClock;
    let now = app::Clock::now(&clock);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params(now)?.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params(now)?, &ca_key);

    let mut server = CertificateParams::new(Vec::<String>::new())?;
    for name in &args.server_names {
        server.subject_alt_names.push(match name.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into()?),
        });
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "rempart");
    dn.push(
        DnType::CommonName,
        args.server_names.first().cloned().unwrap_or_default(),
    );
    server.distinguished_name = dn;
    server.serial_number = Some(serial(app::ids::new_id(&clock, &crypto::OsRandom)));
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.use_authority_key_identifier_extension = true;
    server.not_before = now - Duration::minutes(5);
    server.not_after = now + Duration::days(365);
    let server_key = KeyPair::generate()?;
    let server_cert = server.signed_by(&server_key, &issuer)?;

    write_new(&dir.join(CA_KEY), &ca_key.serialize_pem(), 0o600)?;
    write_new(&dir.join(CA_CERT), &ca_cert.pem(), 0o644)?;
    write_new(&dir.join(SERVER_KEY), &server_key.serialize_pem(), 0o600)?;
    write_new(&dir.join(SERVER_CERT), &server_cert.pem(), 0o644)?;
    println!(
        "Platform CA created in {dir}:\n  {CA_CERT}      the CA certificate (give it to machines, and to proxies that verify client certificates)\n  {CA_KEY}   its private key (0600; keep it offline if you can)\n  {SERVER_CERT}  a server certificate for {names} (tls_cert), {SERVER_KEY} (tls_key)\nNext: rempart ca issue --org ORG --name NAME --out DIR; serve with tls_listen = \"127.0.0.1:8443\".",
        dir = dir.display(),
        names = args.server_names.join(", "),
    );
    Ok(())
}

/// What `ca issue --json` and `ca list --json` print per certificate.
#[derive(Debug, Serialize)]
struct CertificateOut {
    id: Uuid,
    organisation_id: Uuid,
    role: String,
    display_name: String,
    serial: String,
    fingerprint: String,
    not_before: String,
    not_after: String,
    created_at: String,
    revoked_at: Option<String>,
}

impl CertificateOut {
    fn from(c: &ClientCertificateRecord) -> anyhow::Result<Self> {
        Ok(Self {
            id: c.id,
            organisation_id: c.organisation_id,
            role: c.role.code().to_string(),
            display_name: c.display_name.clone(),
            serial: c.serial.clone(),
            fingerprint: hex(&c.fingerprint),
            not_before: c.not_before.format(&Rfc3339)?,
            not_after: c.not_after.format(&Rfc3339)?,
            created_at: c.created_at.format(&Rfc3339)?,
            revoked_at: c.revoked_at.map(|t| t.format(&Rfc3339)).transpose()?,
        })
    }
}

/// The platform CA of a data directory (`<data_dir>/ca/ca-key.pem` and `ca.pem`), signing with
/// rcgen: what `ca issue` and the operator console issue client certificates with.
pub struct FileCa {
    key: KeyPair,
    ca_pem: String,
}

impl FileCa {
    /// Reads the CA of `config`'s data directory.
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        let dir = ca_dir(config);
        let key_pem = std::fs::read_to_string(dir.join(CA_KEY)).with_context(|| {
            format!(
                "cannot read the CA key in {} (run `rempart ca init` first)",
                dir.display()
            )
        })?;
        let ca_pem = std::fs::read_to_string(dir.join(CA_CERT))
            .with_context(|| format!("cannot read {}", dir.join(CA_CERT).display()))?;
        let key = KeyPair::from_pem(&key_pem).context("the CA key is not a valid PEM key")?;
        Ok(Self { key, ca_pem })
    }
}

impl app::machines::CertificateAuthority for FileCa {
    fn sign(
        &self,
        id: Uuid,
        organisation_name: &str,
        role: Role,
        name: &str,
        now: OffsetDateTime,
        days: u32,
    ) -> Result<app::machines::Signed, String> {
        let fail = |e: rcgen::Error| e.to_string();
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, organisation_name);
        dn.push(DnType::OrganizationalUnitName, role.code());
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.serial_number = Some(serial(id));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(i64::from(days));
        let key = KeyPair::generate().map_err(fail)?;
        let issuer = Issuer::new(ca_params(now).map_err(|e| e.to_string())?, &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(fail)?;
        Ok(app::machines::Signed {
            serial: hex(&serial(id).to_bytes()),
            fingerprint: web::tls::fingerprint(cert.der()).to_vec(),
            not_before: params.not_before,
            not_after: params.not_after,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: self.ca_pem.clone(),
        })
    }
}

async fn issue(config: &Config, args: &CaIssueArgs) -> anyhow::Result<()> {
    let ca = FileCa::open(config)?;
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Refuse).await?;
    let store = ports.store.as_ref();
    let organisation_id = app::machines::resolve_organisation(store, &args.org)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "no organisation {} (an id, an AMC or an AM number)",
                args.org
            )
        })?;
    let org = store.get_organisation(organisation_id).await?;
    let role: Option<Role> = match &args.role {
        Some(text) => Some(text.parse().map_err(|_| {
            anyhow::anyhow!("--role must be operator_admin, operator_analyst, auditor, insurer_staff or professional")
        })?),
        None => None,
    };
    if role.is_none() && app::machines::default_role(org.kind).is_none() {
        bail!("--role is required for the operator's machines");
    }
    private_dir(&args.out)?;
    for file in ["cert.pem", "key.pem", "ca.pem"] {
        if args.out.join(file).exists() {
            bail!(
                "{} already exists; choose another --out",
                args.out.join(file).display()
            );
        }
    }
    let issued = app::machines::issue(
        &ports,
        &ca,
        None,
        time::Duration::ZERO,
        &app::machines::IssueRequest {
            organisation_id,
            role,
            display_name: args.name.clone(),
            days: args.days,
        },
    )
    .await
    .map_err(|e| match e {
        app::accounts::AccessError::Invalid(text) => anyhow::anyhow!("{text}"),
        other => anyhow::anyhow!("cannot issue the certificate: {other}"),
    })?;
    write_new(&args.out.join("key.pem"), &issued.signed.key_pem, 0o600)?;
    write_new(&args.out.join("cert.pem"), &issued.signed.cert_pem, 0o644)?;
    write_new(&args.out.join("ca.pem"), &issued.signed.ca_pem, 0o644)?;

    let out = CertificateOut::from(&issued.record)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "Client certificate {} for {} of {} ({}), valid until {}:\n  fingerprint {}\n  {}/cert.pem, key.pem (0600), ca.pem",
            out.id,
            out.role,
            org.name,
            out.organisation_id,
            out.not_after,
            out.fingerprint,
            args.out.display()
        );
    }
    Ok(())
}

/// Hex with or without colons, any case.
fn parse_fingerprint(text: &str) -> anyhow::Result<Vec<u8>> {
    let digits: String = text.chars().filter(|c| *c != ':').collect();
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("--fingerprint must be the 64 hex digits of a SHA-256");
    }
    (0..32)
        .map(|i| {
            u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| anyhow::anyhow!("--fingerprint is not hex"))
        })
        .collect()
}

async fn revoke(config: &Config, args: &CaRevokeArgs) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let clock = app::SystemClock;
    let id = match (&args.fingerprint, args.id) {
        (Some(f), _) => {
            let fingerprint = parse_fingerprint(f)?;
            store
                .find_client_certificate(&fingerprint)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no client certificate with that fingerprint"))?
                .id
        }
        (None, Some(id)) => id,
        (None, None) => bail!("give --fingerprint or --id"),
    };
    match store
        .revoke_client_certificate(id, app::Clock::now(&clock))
        .await
    {
        Ok(()) => {
            println!("Client certificate {id} revoked (refused from its next request).");
            Ok(())
        }
        Err(app::StoreError::NotFound) => bail!("no client certificate {id}"),
        Err(e) => Err(e.into()),
    }
}

async fn list(config: &Config, args: &CaListArgs) -> anyhow::Result<()> {
    let store = crate::storage::open_store(config).await?;
    let all = store.list_client_certificates().await?;
    let out = all
        .iter()
        .map(CertificateOut::from)
        .collect::<anyhow::Result<Vec<_>>>()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if out.is_empty() {
        println!("No client certificates.");
    } else {
        for c in &out {
            println!(
                "{}  {:<14} {}  {}  until {}{}  {}",
                c.id,
                c.role,
                c.organisation_id,
                c.fingerprint,
                c.not_after,
                c.revoked_at
                    .as_ref()
                    .map(|r| format!("  REVOKED {r}"))
                    .unwrap_or_default(),
                c.display_name
            );
        }
    }
    Ok(())
}
