//! Test support (tests only): [`spawn_app`] starts the real HTTP application on
//! `127.0.0.1:0` over a fresh store, wired the way the server wires it, with a manual clock,
//! seeded randomness and a fixed test sealing key.
//!
//! PostgreSQL: each app gets a fresh database on the server named by `REMPART_TEST_PG_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`), dropped by [`TestApp::cleanup`] or,
//! failing that, when the [`TestApp`] is dropped. When no PostgreSQL answers, [`spawn_app`]
//! returns `None` and says so on stderr, except under `CI=true`, where it panics: the
//! PostgreSQL run is not optional in CI.
//!
//! Failing loudly is how a test helper reports, hence the allowances below.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod faulty;
mod passkeys;
mod postgres;

pub use faulty::FaultyStore;
pub use passkeys::{SignedIn, TestPasskey};

use app::{ManualClock, Ports, SecureRandom, Store};
use crypto::{FileKeyProvider, SeededRandom};
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;
use time::macros::datetime;

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where every test app's clock starts.
pub const START: OffsetDateTime = datetime!(2026-01-15 09:00:00 UTC);
/// The seed of every test app's randomness.
pub const SEED: u64 = 42;

/// The IBAN of the test apps' practices (a well-formed example, no real account).
pub const TEST_PRACTICE_IBAN: &str = "FR7630006000011234567890189";

/// How to start the app; `Default` is the production router with default HTTP settings.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    pub web: web::WebConfig,
    /// Add the routes that exercise error paths (`web::testing`), behind the same layers.
    pub test_routes: bool,
    /// The operator console's payment desk (none by default: the console lists runs only).
    pub payments: Option<web::PaymentDesk>,
}

/// A running app. Stop it (and drop its database) with [`TestApp::cleanup`].
pub struct TestApp {
    pub address: SocketAddr,
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    /// No redirects followed, no cookies.
    pub client: reqwest::Client,
    pub ports: Ports,
    pub clock: Arc<ManualClock>,
    pub backend: Backend,
    /// The relying-party origin, `http://localhost:<port>`: send it as `Origin`.
    pub origin: String,
    /// The access use cases of the running app (to make invitations as the CLI does).
    pub access: app::accounts::Access,
    /// Switch the store off and on (`store.set_down(true)`) to test outages.
    pub store: Arc<FaultyStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    database: Database,
    /// The key-encryption key's directory (file provider).
    pub keys_dir: tempfile::TempDir,
}

enum Database {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(postgres::TestDatabase),
    Gone,
}

/// Starts the app on `backend` with default options. `None`: PostgreSQL is not available here
/// (never under `CI=true`, where that panics).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, TestOptions::default()).await
}

/// Starts the app on `backend` with `options`.
pub async fn spawn_app_with(backend: Backend, options: TestOptions) -> Option<TestApp> {
    let (real_store, database): (Arc<dyn Store>, Database) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let store = store_sqlite::SqliteStore::open(&dir.path().join("rempart.sqlite3"))
                .await
                .expect("open SQLite");
            store.migrate().await.expect("migrate SQLite");
            (Arc::new(store), Database::Sqlite(dir))
        }
        Backend::Postgres => {
            let db = postgres::TestDatabase::create().await?;
            let store = store_postgres::PgStore::connect(db.url())
                .await
                .expect("connect to the test database");
            store.migrate().await.expect("migrate PostgreSQL");
            (Arc::new(store), Database::Postgres(db))
        }
    };
    let store = Arc::new(FaultyStore::new(real_store));
    let clock = Arc::new(ManualClock::new(START));
    let rng: Arc<dyn SecureRandom> = Arc::new(SeededRandom::new(SEED));
    // The KEK: a key file in a private temporary directory, kept as long as the app.
    let keys_dir = tempfile::tempdir().expect("temporary key directory");
    let provider = FileKeyProvider::init(keys_dir.path().join("keys"), rng.clone())
        .expect("key-encryption key");
    let vault = app::keys::Vault::load(
        store.as_ref(),
        Arc::new(provider),
        rng.clone(),
        clock.as_ref(),
    )
    .await
    .expect("vault");
    let ports = Ports {
        store: store.clone(),
        clock: clock.clone(),
        rng,
        vault: Arc::new(vault),
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("bound address");
    // Passkeys need a host name: the relying party is `localhost`, as in the demo.
    let origin = format!("http://localhost:{}", address.port());
    let access = app::accounts::Access::new(
        ports.clone(),
        app::accounts::AccessConfig::for_origin("localhost", &origin),
        ports.vault.token_key(),
    )
    .expect("access");

    // The same wiring as `rempart serve`.
    let mut state = web::AppState::new(ports.clone(), options.web.clone(), web::Metrics::new())
        .with_access(access.clone());
    if let Some(desk) = options.payments.clone() {
        state = state.with_payments(desk);
    }
    let router = if options.test_routes {
        web::testing::router(state)
    } else {
        web::router(state)
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve(listener, router, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");

    Some(TestApp {
        address,
        base_url: format!("http://{address}"),
        origin,
        access,
        client,
        ports,
        clock,
        backend,
        store,
        stop: Some(stop),
        server: Some(server),
        database,
        keys_dir,
    })
}

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Stops the server and drops the test database (PostgreSQL) or file (SQLite).
    pub async fn cleanup(mut self) {
        self.stop_server().await;
        match std::mem::replace(&mut self.database, Database::Gone) {
            Database::Postgres(db) => db.drop_database().await,
            Database::Sqlite(dir) => drop(dir),
            Database::Gone => {}
        }
    }

    async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Database::Postgres(db) = std::mem::replace(&mut self.database, Database::Gone) {
            db.drop_database_blocking();
        }
    }
}

/// Declares, for each `async fn name(backend: Backend)`, a module `name` with one test per
/// backend: `name::sqlite` and `name::postgres` (skipped visibly without PostgreSQL, except
/// under CI).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }

                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}
