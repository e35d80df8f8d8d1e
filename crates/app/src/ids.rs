//! Row ids: UUIDv7, made by the application from the injected clock and randomness (no
//! sequences in the database; see DESIGN.md, Storage).

use crate::clock::Clock;
use crypto::SecureRandom;
use uuid::Uuid;

pub fn new_id(clock: &dyn Clock, rng: &dyn SecureRandom) -> Uuid {
    let now = clock.now();
    let millis = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let random = rng.bytes16();
    uuid::Builder::from_unix_timestamp_millis(millis, &random[..10].try_into().unwrap_or([0u8; 10]))
        .into_uuid()
}
