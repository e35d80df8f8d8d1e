//! Machines over mutual TLS: the application's router behind `web::tls::serve_tls`, with a
//! rustls server that requires a client certificate of the platform CA (as `rempart serve`
//! with `tls_listen` does). A certificate of organisation A reaches A's objects only; a revoked
//! one is refused from its next request, without restart; a certificate of another CA, or
//! none, is refused at the handshake.

use domain::accounts::{OrganisationKind, Role};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::Value;
use std::sync::Arc;
use testkit::{Backend, TestApp, spawn_app};
use uuid::Uuid;

struct Ca {
    cert: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        cert,
        issuer: Issuer::new(params, key),
    }
}

fn leaf(ca: &Ca, name: &str, server: bool) -> (rcgen::Certificate, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.use_authority_key_identifier_extension = true;
    if server {
        params.subject_alt_names = vec![SanType::DnsName("localhost".try_into().unwrap())];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    } else {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert, key)
}

/// Serves the app's router over mutual TLS on 127.0.0.1:0; answers the port.
async fn mtls_listener(app: &TestApp, platform: &Ca) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let (server_cert, server_key) = leaf(platform, "localhost", true);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(platform.cert.der().clone()).unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .unwrap();
    let state = web::AppState::new(
        app.ports.clone(),
        web::WebConfig::default(),
        web::Metrics::new(),
    )
    .with_access(app.access.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(web::tls::serve_tls(
        listener,
        Arc::new(config),
        web::router(state),
        std::future::pending(),
    ));
    port
}

fn client(platform: &Ca, identity: Option<(&rcgen::Certificate, &KeyPair)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(platform.cert.pem().as_bytes()).unwrap()]);
    if let Some((cert, key)) = identity {
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// Records a certificate as `rempart ca issue` does.
async fn record(
    app: &TestApp,
    cert: &rcgen::Certificate,
    organisation_id: Uuid,
    role: Role,
) -> Uuid {
    let now = app::Clock::now(app.clock.as_ref());
    let id = app.ports.new_id();
    app::machines::record(
        app.ports.store.as_ref(),
        &app::store::ClientCertificateRecord {
            id,
            organisation_id,
            role,
            display_name: "Logiciel de tiers payant".into(),
            serial: "01".into(),
            fingerprint: web::tls::fingerprint(cert.der()).to_vec(),
            not_before: now - time::Duration::days(1),
            not_after: now + time::Duration::days(365),
            created_at: now,
            revoked_at: None,
        },
    )
    .await
    .unwrap();
    id
}

async fn machines_reach_their_own_organisation_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        eprintln!("skipped: no PostgreSQL");
        return;
    };
    let a = app.given_organisation(OrganisationKind::Insurer).await;
    let b = app.given_organisation(OrganisationKind::Insurer).await;
    let platform = ca("rempart platform CA");
    let port = mtls_listener(&app, &platform).await;
    let base = format!("https://localhost:{port}");

    let (cert_a, key_a) = leaf(&platform, "insurer system A", false);
    let id_a = record(&app, &cert_a, a, Role::InsurerStaff).await;
    let machine = client(&platform, Some((&cert_a, &key_a)));

    // A's organisation, and only A's.
    let response = machine
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let orgs = body["organisations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1, "{body}");
    assert_eq!(orgs[0]["id"], a.to_string());
    assert!(!body.to_string().contains(&b.to_string()));
    let own = machine
        .get(format!("{base}/api/v1/accounts?organisation={a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let other = machine
        .get(format!("{base}/api/v1/accounts?organisation={b}"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    // Machines have no session: sensitive actions (step-up) stay with people.
    let invite = machine
        .post(format!("{base}/api/v1/invitations"))
        .json(&serde_json::json!({"role": "insurer_staff", "organisation_id": a}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(invite.status().as_u16(), 403 | 404),
        "{}",
        invite.status()
    );

    // A certificate of the platform CA that rempart never issued (not recorded): 401.
    let (stray, stray_key) = leaf(&platform, "not recorded", false);
    let response = client(&platform, Some((&stray, &stray_key)))
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Revoked: refused from the next request, on the same running server (and connection).
    app.ports
        .store
        .revoke_client_certificate(id_a, app::Clock::now(app.clock.as_ref()))
        .await
        .unwrap();
    let response = machine
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // Another CA's certificate, or none: refused at the handshake.
    let other_ca = ca("someone else's CA");
    let (foreign, foreign_key) = leaf(&other_ca, "insurer system A", false);
    record(&app, &foreign, a, Role::InsurerStaff).await;
    let refused = client(&platform, Some((&foreign, &foreign_key)))
        .get(format!("{base}/api/v1/organisations"))
        .send()
        .await;
    assert!(refused.is_err(), "a foreign CA's certificate was accepted");
    let refused = client(&platform, None)
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a connection without a client certificate was accepted"
    );
}

#[tokio::test]
async fn mtls_on_sqlite() {
    machines_reach_their_own_organisation_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn mtls_on_postgres() {
    machines_reach_their_own_organisation_only(Backend::Postgres).await;
}
