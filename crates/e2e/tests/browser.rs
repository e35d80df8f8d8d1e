//! In headless Debian `chromium` with its virtual WebAuthn authenticator (CDP): follow an
//! invitation link, enrol a passkey, land signed in, sign out, sign in again with the same
//! (discoverable) passkey. The real application runs on 127.0.0.1; the browser goes to
//! `http://localhost:PORT` (WebAuthn refuses IP addresses as relying-party ids).
//!
//! Without `/usr/bin/chromium`: SKIPPED line, or a failure under `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::web_authn::{
    AddVirtualAuthenticatorParams, AuthenticatorProtocol, AuthenticatorTransport, EnableParams,
    GetCredentialsParams, VirtualAuthenticatorOptions,
};
use chromiumoxide::page::{Page, ScreenshotParams};
use domain::accounts::{OrganisationKind, Role};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::{Backend, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Our own deadline: a ceremony without a reachable authenticator never settles.
const DEADLINE: Duration = Duration::from_secs(20);

fn chromium_or_skip() -> Option<PathBuf> {
    let path = Path::new(CHROMIUM);
    if path.exists() {
        return Some(path.to_path_buf());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{CHROMIUM} is missing under CI=true: install Debian's `chromium` (scripts/test does)"
        );
    }
    println!("SKIPPED browser test: {CHROMIUM} not found (install Debian's `chromium`)");
    None
}

/// Evaluates `expr` (a JS expression) until it is `true`, or fails after [`DEADLINE`].
async fn wait_for(page: &Page, what: &str, expr: &str) -> Result<(), String> {
    let started = Instant::now();
    loop {
        if let Ok(v) = page.evaluate(expr).await
            && v.into_value::<bool>().unwrap_or(false)
        {
            return Ok(());
        }
        if started.elapsed() > DEADLINE {
            let status = text_of(page, "#status").await;
            let url = page.url().await.ok().flatten().unwrap_or_default();
            return Err(format!(
                "timed out waiting for {what} (at {url}; status line: {status:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(page: &Page, selector: &str) -> String {
    let js = format!(
        "(() => {{ const e = document.querySelector({selector:?}); return e ? e.textContent.trim() : ''; }})()"
    );
    match page.evaluate(js).await {
        Ok(v) => v.into_value::<String>().unwrap_or_default(),
        Err(_) => String::new(),
    }
}

async fn click(page: &Page, selector: &str) -> Result<(), String> {
    page.find_element(selector)
        .await
        .map_err(|e| format!("no {selector}: {e}"))?
        .click()
        .await
        .map_err(|e| format!("cannot click {selector}: {e}"))?;
    Ok(())
}

async fn screenshot(page: &Page, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-screenshots");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}.png"));
    let params = ScreenshotParams::builder()
        .format(CaptureScreenshotFormat::Png)
        .full_page(true)
        .build();
    match page.save_screenshot(params, &path).await {
        Ok(_) => eprintln!("screenshot: {}", path.display()),
        Err(e) => eprintln!("could not save a screenshot: {e}"),
    }
}

/// The walk itself; an `Err` names the step that failed.
async fn walk(page: &Page, origin: &str, invitation: &str) -> Result<(), String> {
    // The authenticator belongs to this tab: attach it before navigating.
    page.execute(EnableParams::builder().enable_ui(false).build())
        .await
        .map_err(|e| format!("WebAuthn.enable: {e}"))?;
    let options = VirtualAuthenticatorOptions::builder()
        .protocol(AuthenticatorProtocol::Ctap2)
        .transport(AuthenticatorTransport::Internal)
        .has_resident_key(true)
        .has_user_verification(true)
        .is_user_verified(true)
        .automatic_presence_simulation(true)
        .build()
        .map_err(|e| format!("authenticator options: {e}"))?;
    let authenticator = page
        .execute(AddVirtualAuthenticatorParams::new(options))
        .await
        .map_err(|e| format!("addVirtualAuthenticator: {e}"))?
        .result
        .authenticator_id;

    // 1. The invitation link shows what it is for.
    page.goto(format!("{origin}/enrol?invitation={invitation}"))
        .await
        .map_err(|e| format!("open the invitation link: {e}"))?;
    wait_for(
        page,
        "the enrolment page",
        "!!document.querySelector('#enrol')",
    )
    .await?;
    let role = text_of(page, "#invited-role").await;
    if role != "operator_admin" {
        return Err(format!("the enrolment page shows role {role:?}"));
    }

    // 2. Enrol: the passkey is created and the session opened; the page goes to /me.
    click(page, "#enrol").await?;
    wait_for(
        page,
        "/me after enrolment",
        "location.pathname === '/me' && !!document.querySelector('#me-role')",
    )
    .await?;
    let role = text_of(page, "#me-role").await;
    if role != "operator_admin" {
        return Err(format!("/me after enrolment shows role {role:?}"));
    }
    let credentials = page
        .execute(GetCredentialsParams::new(authenticator.clone()))
        .await
        .map_err(|e| format!("getCredentials: {e}"))?
        .result
        .credentials;
    if credentials.len() != 1 || !credentials[0].is_resident_credential {
        return Err(format!(
            "expected one resident credential, got {credentials:?}"
        ));
    }

    // 3. Sign out (a form with the synchronizer token): back home, /me now sends to /login.
    click(page, "#sign-out").await?;
    wait_for(page, "home after sign-out", "location.pathname === '/'").await?;
    page.goto(format!("{origin}/me"))
        .await
        .map_err(|e| format!("open /me: {e}"))?;
    wait_for(
        page,
        "/login after /me signed out",
        "location.pathname === '/login' && !!document.querySelector('#sign-in')",
    )
    .await?;

    // 4. Sign in again with the same passkey (discoverable: no user name asked).
    click(page, "#sign-in").await?;
    wait_for(
        page,
        "/me after sign-in",
        "location.pathname === '/me' && !!document.querySelector('#me-role')",
    )
    .await?;
    let role = text_of(page, "#me-role").await;
    if role != "operator_admin" {
        return Err(format!("/me after sign-in shows role {role:?}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_sign_out_and_sign_in_again_with_a_passkey() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let started = Instant::now();
    let app = spawn_app(Backend::Sqlite).await.expect("SQLite app");
    let operator = app.given_organisation(OrganisationKind::Operator).await;
    let invitation = app.invite(Role::OperatorAdmin, operator).await;

    let profile = tempfile::tempdir().expect("profile directory");
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .new_headless_mode()
        .user_data_dir(profile.path())
        .no_sandbox()
        .args([
            "disable-gpu",
            "disable-quic",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .build()
        .expect("browser config");
    let (mut browser, mut handler) = Browser::launch(config).await.expect("launch chromium");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });

    let page = browser.new_page("about:blank").await.expect("a tab");
    let outcome = walk(&page, &app.origin, &invitation).await;
    if outcome.is_err() {
        screenshot(&page, "enrol_sign_out_and_sign_in_again").await;
    }
    let _ = browser.close().await;
    let _ = browser.wait().await;
    events.abort();
    app.cleanup().await;
    if let Err(e) = outcome {
        panic!("browser walk failed: {e}");
    }
    println!("browser walk passed in {:?}", started.elapsed());
}
