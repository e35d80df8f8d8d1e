//! A store under test, and how a case runs on it.

use app::store::Store;
use std::any::Any;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Once};

type Teardown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A fresh, empty, migrated store and what must outlive it: a guard dropped after the case
/// (a temporary directory) and an async teardown awaited after the case, even when it failed
/// (dropping a PostgreSQL database).
pub struct Fixture {
    store: Arc<dyn Store>,
    guard: Option<Box<dyn Any + Send>>,
    teardown: Option<Teardown>,
}

impl Fixture {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            guard: None,
            teardown: None,
        }
    }

    /// Keeps `guard` alive until the case has run, then drops it.
    pub fn with_guard(mut self, guard: impl Any + Send) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// Awaits `teardown` after the case has run (and after the store is dropped).
    pub fn with_teardown(mut self, teardown: impl Future<Output = ()> + Send + 'static) -> Self {
        self.teardown = Some(Box::pin(teardown));
        self
    }

    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }
}

/// Runs one case on a fixture, then tears the fixture down, then reports the case's failure.
/// `None` means the backend was unavailable and the factory already said so: nothing runs.
pub async fn run<F, Fut>(name: &'static str, fixture: Option<Fixture>, case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(Fixture {
        store,
        guard,
        teardown,
    }) = fixture
    else {
        return;
    };
    announce(store.backend());
    let outcome = tokio::spawn(case(Arc::clone(&store))).await;
    drop(store);
    drop(guard);
    if let Some(teardown) = teardown {
        teardown.await;
    }
    if let Err(failure) = outcome {
        match failure.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => std::panic::resume_unwind(Box::new(format!(
                "conformance case {name} was cancelled"
            ))),
        }
    }
}

/// One line per test process naming the backend, written past the test harness's capture.
fn announce(backend: &'static str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "store-conformance: running on backend {backend}"
        );
    });
}
