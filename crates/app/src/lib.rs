//! Use cases and ports of rempart. The web and CLI layers call use cases here; use cases
//! talk to the world only through ports: [`Store`], [`Clock`], [`SecureRandom`] and the
//! [`keys::Vault`] (every secret; scoped [`Sealer`]s).

pub mod accounts;
pub mod approvals;
pub mod beneficiaries;
pub mod cards;
pub mod clock;
pub mod contracts;
pub mod demo;
pub mod guard;
pub mod idempotency;
pub mod ids;
pub mod incidents;
pub mod invoices;
pub mod keys;
pub mod ledger;
pub mod machines;
pub mod payments;
pub mod rights;
pub mod store;
pub mod synthetic;

pub use clock::{Clock, ManualClock, SystemClock};
pub use crypto::{Sealer, SecureRandom};
pub use store::{Store, StoreError};

use std::sync::Arc;

/// The ports a use case needs, cheap to clone.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn SecureRandom>,
    /// Every secret operation (sealing per insurer, blind index, card keys, code hash).
    pub vault: Arc<keys::Vault>,
}

impl Ports {
    /// A new time-ordered id (UUIDv7) from the injected clock and randomness.
    pub fn new_id(&self) -> uuid::Uuid {
        ids::new_id(self.clock.as_ref(), self.rng.as_ref())
    }
}
