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
    ca_with_key(name, KeyPair::generate().unwrap())
}

fn ca_with_key(name: &str, key: KeyPair) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
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

/// URL-encoded PEM, as nginx's `$ssl_client_escaped_cert`.
fn escaped(pem: &str) -> String {
    pem.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The app on a plain listener that trusts `trusted` as TLS-terminating proxies and verifies
/// forwarded certificates against `platform`; answers the base URL.
async fn behind_proxy(app: &TestApp, platform: &Ca, trusted: &str) -> String {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(platform.cert.der().clone()).unwrap();
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
    let state = web::AppState::new(
        app.ports.clone(),
        web::WebConfig {
            trusted_proxies: vec![trusted.parse().unwrap()],
            ..web::WebConfig::default()
        },
        web::Metrics::new(),
    )
    .with_access(app.access.clone())
    .with_client_verifier(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(web::serve(
        listener,
        web::router(state),
        std::future::pending(),
    ));
    format!("http://127.0.0.1:{port}")
}

async fn a_trusted_proxy_forwards_a_verified_certificate(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        eprintln!("skipped: no PostgreSQL");
        return;
    };
    let a = app.given_organisation(OrganisationKind::Insurer).await;
    let platform = ca("rempart platform CA");
    let (cert_a, _) = leaf(&platform, "insurer system A", false);
    let id_a = record(&app, &cert_a, a, Role::InsurerStaff).await;
    let header = escaped(&cert_a.pem());
    let plain = reqwest::Client::new();

    // From the trusted proxy (127.0.0.1 here): the certificate is the caller.
    let trusted = behind_proxy(&app, &platform, "127.0.0.1").await;
    let me = plain
        .get(format!("{trusted}/api/v1/me"))
        .header("x-client-cert", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["kind"], "machine");
    assert_eq!(me["account_id"], id_a.to_string());
    assert_eq!(me["organisation"]["id"], a.to_string());
    // No header: an anonymous caller.
    let anonymous = plain
        .get(format!("{trusted}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // A certificate of another CA, or not a certificate: 401, even from the trusted proxy.
    let other_ca = ca("someone else's CA");
    let (foreign, _) = leaf(&other_ca, "insurer system A", false);
    record(&app, &foreign, a, Role::InsurerStaff).await;
    for bad in [escaped(&foreign.pem()), "not%20a%20certificate".to_string()] {
        let refused = plain
            .get(format!("{trusted}/api/v1/me"))
            .header("x-client-cert", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    // Revoked: refused from the next request, as on the mutual-TLS listener.
    app.ports
        .store
        .revoke_client_certificate(id_a, app::Clock::now(app.clock.as_ref()))
        .await
        .unwrap();
    let revoked = plain
        .get(format!("{trusted}/api/v1/me"))
        .header("x-client-cert", &header)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);

    // From a peer that is not a trusted proxy, the header is ignored: anonymous.
    let (cert_b, _) = leaf(&platform, "insurer system A, again", false);
    record(&app, &cert_b, a, Role::InsurerStaff).await;
    let untrusted = behind_proxy(&app, &platform, "10.9.9.9").await;
    let ignored = plain
        .get(format!("{untrusted}/api/v1/me"))
        .header("x-client-cert", escaped(&cert_b.pem()))
        .send()
        .await
        .unwrap();
    assert_eq!(ignored.status(), 401);
    // ... while the same certificate through the trusted proxy is accepted.
    let accepted = plain
        .get(format!("{trusted}/api/v1/me"))
        .header("x-client-cert", escaped(&cert_b.pem()))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    app.cleanup().await;
}

/// A machine certificate of the insurer imports its beneficiary file (and one of another
/// insurer gets 404); `/api/v1/me` describes the machine.
async fn an_insurer_machine_imports_its_own_file(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        eprintln!("skipped: no PostgreSQL");
        return;
    };
    let insurer = crate::imports::insurer(&app).await;
    let other = app.given_organisation(OrganisationKind::Insurer).await;
    let platform = ca("rempart platform CA");
    let port = mtls_listener(&app, &platform).await;
    let base = format!("https://localhost:{port}");
    let (cert, key) = leaf(&platform, "SI mutuelle", false);
    record(&app, &cert, insurer.id, Role::InsurerStaff).await;
    let machine = client(&platform, Some((&cert, &key)));
    let me: Value = machine
        .get(format!("{base}/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "machine");
    assert_eq!(me["role"], "insurer_staff");
    assert_eq!(me["display_name"], "Logiciel de tiers payant");
    assert!(me["last_uv_at"].is_null());

    let lines = crate::imports::generated(7, 31);
    let path = "/api/v1/insurers/880000011/beneficiary-imports?date=2026-03-01";
    let response = machine
        .post(format!("{base}{path}"))
        .header("content-type", "text/csv")
        .header("idempotency-key", "machine-1")
        .body(crate::imports::body(&lines))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(app.ports.store.counts().await.unwrap().beneficiaries, 7);

    let (cert_o, key_o) = leaf(&platform, "SI autre mutuelle", false);
    record(&app, &cert_o, other, Role::InsurerStaff).await;
    let refused = client(&platform, Some((&cert_o, &key_o)))
        .post(format!("{base}{path}"))
        .header("content-type", "text/csv")
        .body(crate::imports::body(&lines))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    app.cleanup().await;
}

/// The platform CA of these tests, as the console's issuer.
struct TestCa(Ca);

impl app::machines::CertificateAuthority for TestCa {
    fn sign(
        &self,
        id: Uuid,
        organisation_name: &str,
        _role: Role,
        name: &str,
        now: time::OffsetDateTime,
        days: u32,
    ) -> Result<app::machines::Signed, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, organisation_name);
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.use_authority_key_identifier_extension = true;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(i64::from(days));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.0.issuer).unwrap();
        Ok(app::machines::Signed {
            serial: id.simple().to_string(),
            fingerprint: web::tls::fingerprint(cert.der()).to_vec(),
            not_before: params.not_before,
            not_after: params.not_after,
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: self.0.cert.pem(),
        })
    }
}

fn csrf_of(body: &str) -> String {
    let start = body.find(r#"name="csrf" value=""#).expect("a csrf field") + 19;
    body[start..][..body[start..].find('"').unwrap()].to_string()
}

/// The operator console's client-certificate page: list, issue (step-up; the bundle is a
/// one-time download that works on the mutual-TLS listener), revoke (step-up; refused from the
/// next request); analysts only look; others get the HTML 404.
async fn the_console_issues_lists_and_revokes_client_certificates(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        eprintln!("skipped: no PostgreSQL");
        return;
    };
    // The console dates the certificate it issues by the app's clock, and rustls checks it
    // against the real time: the app's clock starts at the real time here.
    app.clock.set(app::Clock::now(&app::SystemClock));
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let insurer = app.given_organisation(OrganisationKind::Insurer).await;
    let admin = app.enrol(Role::OperatorAdmin, operator).await;
    let analyst = app.enrol(Role::OperatorAnalyst, operator).await;
    let staff = app.enrol(Role::InsurerStaff, insurer).await;
    let platform = ca("rempart platform CA");
    let tls_port = mtls_listener(&app, &platform).await;
    // The console, with the CA, on its own plain listener.
    let state = web::AppState::new(
        app.ports.clone(),
        web::WebConfig::default(),
        web::Metrics::new(),
    )
    .with_access(app.access.clone())
    .with_ca(Arc::new(TestCa(ca_clone(&platform))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(web::serve(
        listener,
        web::router(state),
        std::future::pending(),
    ));
    let get = |who: &testkit::SignedIn, path: &str| {
        app.client
            .get(format!("{base}{path}"))
            .header("cookie", &who.cookie)
            .send()
    };
    let post = |who: &testkit::SignedIn, path: &str, form: String| {
        app.client
            .post(format!("{base}{path}"))
            .header("cookie", &who.cookie)
            .header("origin", &app.origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };

    let page = get(&admin, "/console/certificates").await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"action="/console/certificates""#));
    let csrf = csrf_of(&page);
    let form = format!("csrf={csrf}&organisation_id={insurer}&role=&name=SI+Mutuelle+test&days=30");
    // More than 5 minutes after sign-in: a step-up first.
    app.clock.advance(time::Duration::minutes(6));
    let needs = post(&admin, "/console/certificates", form.clone())
        .await
        .unwrap();
    assert_eq!(needs.status(), 200);
    assert!(needs.text().await.unwrap().contains("fresh passkey check"));
    assert!(
        app.ports
            .store
            .list_client_certificates()
            .await
            .unwrap()
            .is_empty()
    );

    app.step_up(&admin).await;
    let issued = post(&admin, "/console/certificates", form.clone())
        .await
        .unwrap();
    assert_eq!(issued.status(), 200);
    assert_eq!(issued.headers()["content-type"], "application/x-pem-file");
    assert!(
        issued.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let bundle = issued.text().await.unwrap();
    assert!(bundle.contains("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(bundle.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    let all = app.ports.store.list_client_certificates().await.unwrap();
    assert_eq!(all.len(), 1);
    let record = &all[0];
    assert_eq!(record.organisation_id, insurer);
    assert_eq!(
        record.role,
        Role::InsurerStaff,
        "the insurer's default role"
    );
    assert_eq!(record.display_name, "SI Mutuelle test");
    // The private key is not kept anywhere: only the download has it.
    let key_line = bundle
        .lines()
        .find(|l| !l.starts_with("-----") && !l.starts_with('#'))
        .unwrap()
        .to_string();
    assert!(!format!("{record:?}").contains(&key_line));

    // The downloaded bundle is a working machine identity on the mutual-TLS listener.
    let machine = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(platform.cert.pem().as_bytes()).unwrap()])
        .identity(reqwest::Identity::from_pem(bundle.as_bytes()).unwrap())
        .build()
        .unwrap();
    let me = machine
        .get(format!("https://localhost:{tls_port}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["organisation"]["id"], insurer.to_string());

    // Listed: organisation, name, serial, expiry, status.
    let list = get(&analyst, "/console/certificates")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("SI Mutuelle test"));
    assert!(list.contains(&record.serial));
    assert!(list.contains(r#"class="status-active""#));
    // Analysts look, never issue nor revoke.
    assert!(!list.contains(r#"action="/console/certificates""#));
    assert!(!list.contains("/revoke"));

    // Revoke (the step-up is still fresh): refused from the next request, no restart.
    let revoke = format!("/console/certificates/{}/revoke", record.id);
    let done = post(&admin, &revoke, format!("csrf={csrf}")).await.unwrap();
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap();
    assert!(done.contains("was revoked"), "{done}");
    assert!(done.contains(r#"class="status-revoked""#));
    let refused = machine
        .get(format!("https://localhost:{tls_port}/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Not an operator: the HTML 404 page, for the list and the forms.
    let hidden = get(&staff, "/console/certificates").await.unwrap();
    assert_eq!(hidden.status(), 404);
    assert!(hidden.text().await.unwrap().contains(r#"id="not-found""#));
    let staff_page = app.get_as(&staff, "/me").await.text().await.unwrap();
    let staff_csrf = csrf_of(&staff_page);
    let forbidden = post(
        &staff,
        "/console/certificates",
        format!("csrf={staff_csrf}&organisation_id={insurer}&name=x"),
    )
    .await
    .unwrap();
    assert_eq!(forbidden.status(), 404);
    assert_eq!(
        app.ports
            .store
            .list_client_certificates()
            .await
            .unwrap()
            .len(),
        1
    );
    app.cleanup().await;
}

/// The same CA (name and signing key) as a second value: what it signs chains to either.
fn ca_clone(ca: &Ca) -> Ca {
    let key = KeyPair::from_pem(&ca.issuer.key().serialize_pem()).unwrap();
    ca_with_key("rempart platform CA", key)
}

testkit::backend_tests!(
    a_trusted_proxy_forwards_a_verified_certificate,
    an_insurer_machine_imports_its_own_file,
    the_console_issues_lists_and_revokes_client_certificates,
);

#[tokio::test]
async fn mtls_on_sqlite() {
    machines_reach_their_own_organisation_only(Backend::Sqlite).await;
}

#[tokio::test]
async fn mtls_on_postgres() {
    machines_reach_their_own_organisation_only(Backend::Postgres).await;
}
