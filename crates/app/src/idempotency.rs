//! `Idempotency-Key` on writes: the first request with a key runs and its answer is kept
//! (sealed) for 24 hours; a retry with the same key and the same request gets that answer
//! again without running anything; the same key with another request is refused; a retry
//! while the first is still running is told to wait.
//!
//! A key belongs to one caller (the account or the machine certificate) and one route: two
//! callers never see each other's keys. Only successful answers are kept: after a failure
//! (refusal, outage) the record is dropped, so a retry runs again.
//!
//! The kept answer may hold a secret (an invitation link, a client certificate's key): it is
//! stored sealed with the platform's data key (`FieldRef { table: "idempotency", column:
//! "response", row: id }`), never in clear, and purged once expired.

use crate::Ports;
use crate::store::StoreError;
use async_trait::async_trait;
use crypto::envelope::PLATFORM_SCOPE;
use crypto::{FieldRef, Sealer};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// How long an answer is kept for replays.
pub const RETENTION: Duration = Duration::hours(24);
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// One idempotency record (`idempotency`); `(actor_id, route, key)` is unique
/// (`idempotency_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub id: Uuid,
    /// The account or machine certificate that sent the key.
    pub actor_id: Uuid,
    pub organisation_id: Uuid,
    /// The route template with its method (`POST /api/v1/invitations`).
    pub route: String,
    pub key: String,
    /// SHA-256 of the request (method, path, query, body); `None` until known (a streamed
    /// body is hashed while it is read).
    pub request_hash: Option<Vec<u8>>,
    /// `None` while the first request runs.
    pub status: Option<u16>,
    /// The answer's body, sealed; `None` while running.
    pub response: Option<Vec<u8>>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// The idempotency part of the store.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// A new record (running); `Conflict { constraint: "idempotency_key" }` when the caller
    /// already has one for that route and key.
    async fn insert_idempotency(&self, record: &IdempotencyRecord) -> Result<(), StoreError>;
    async fn find_idempotency(
        &self,
        actor_id: Uuid,
        route: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Records the request hash and the answer of a running record; `NotFound` if absent.
    async fn complete_idempotency(
        &self,
        id: Uuid,
        request_hash: &[u8],
        status: u16,
        response: &[u8],
    ) -> Result<(), StoreError>;
    /// Drops a record (the first request failed, or it expired); absent is not an error.
    async fn delete_idempotency(&self, id: Uuid) -> Result<(), StoreError>;
    /// Deletes every record expired at `now`; answers how many.
    async fn purge_idempotency(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Run it, then [`complete`] (or [`abandon`]) this record.
    Run(Uuid),
    /// The first request's answer, to send again.
    Replay { status: u16, body: Vec<u8> },
    /// The key was used with another request.
    Mismatch,
    /// The first request is still running.
    InProgress,
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot seal or open a kept answer: {0}")]
    Seal(String),
}

fn field(id: Uuid) -> FieldRef {
    FieldRef::new("idempotency", "response", id)
}

/// Whether `key` is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Looks the key up for this caller and route. `request_hash`: the request's hash when known
/// before running (`None` for a streamed body: then a finished record answers
/// [`Begin::Replay`] and the caller compares hashes itself with [`finished_hash`]).
/// `stale_after`: a record still running after this long belongs to a request that died; it is
/// dropped and the request runs again.
pub async fn begin(
    ports: &Ports,
    actor_id: Uuid,
    organisation_id: Uuid,
    route: &str,
    key: &str,
    request_hash: Option<&[u8]>,
    stale_after: Duration,
) -> Result<Begin, IdempotencyError> {
    let store = ports.store.as_ref();
    for _ in 0..3 {
        let now = ports.clock.now();
        // A new key is the common case: try to take it first (one write), and look at the
        // record already there only when the key is taken.
        let record = IdempotencyRecord {
            id: ports.new_id(),
            actor_id,
            organisation_id,
            route: route.to_string(),
            key: key.to_string(),
            request_hash: request_hash.map(<[u8]>::to_vec),
            status: None,
            response: None,
            created_at: now,
            expires_at: now + RETENTION,
        };
        match store.insert_idempotency(&record).await {
            Ok(()) => return Ok(Begin::Run(record.id)),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        // Taken: replay, refuse or wait, unless the record expired or its request died.
        let Some(found) = store.find_idempotency(actor_id, route, key).await? else {
            // Dropped meanwhile (the first request failed): try again.
            continue;
        };
        let stale = found.status.is_none() && now - found.created_at > stale_after;
        if now >= found.expires_at || stale {
            store.delete_idempotency(found.id).await?;
            continue;
        }
        return Ok(match (found.status, found.response) {
            (Some(status), Some(sealed)) => {
                let same = match (request_hash, &found.request_hash) {
                    (Some(h), Some(stored)) => h == stored.as_slice(),
                    (None, _) => true,
                    (Some(_), None) => false,
                };
                if !same {
                    Begin::Mismatch
                } else {
                    let sealer = ports
                        .vault
                        .sealer(PLATFORM_SCOPE)
                        .map_err(|e| IdempotencyError::Seal(e.to_string()))?;
                    let body = sealer
                        .open(&field(found.id), &sealed)
                        .map_err(|e| IdempotencyError::Seal(e.to_string()))?;
                    Begin::Replay {
                        status,
                        body: body.to_vec(),
                    }
                }
            }
            _ => Begin::InProgress,
        });
    }
    Ok(Begin::InProgress)
}

/// The request hash of a finished record (for a streamed body compared after reading it).
pub async fn finished_hash(
    ports: &Ports,
    actor_id: Uuid,
    route: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, IdempotencyError> {
    Ok(ports
        .store
        .find_idempotency(actor_id, route, key)
        .await?
        .and_then(|r| r.request_hash))
}

/// A running record whose answer the work itself keeps, in the transaction that does the
/// work (an invoice and its kept answer are committed together: a crash between them cannot
/// leave an invoice whose retry would not get the same answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keep {
    /// The running record ([`Begin::Run`]).
    pub id: Uuid,
    pub request_hash: Vec<u8>,
}

/// An answer sealed for its record, ready to be stored with the work (see [`Keep`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub id: Uuid,
    pub request_hash: Vec<u8>,
    pub status: u16,
    /// The answer's body sealed with the platform's data key.
    pub sealed: Vec<u8>,
}

/// Seals `body` for the record `keep` (what [`complete`] stores, for a store that writes it
/// with the work).
pub fn seal_answer(
    ports: &Ports,
    keep: &Keep,
    status: u16,
    body: &[u8],
) -> Result<KeptAnswer, IdempotencyError> {
    let sealer = ports
        .vault
        .sealer(PLATFORM_SCOPE)
        .map_err(|e| IdempotencyError::Seal(e.to_string()))?;
    let sealed = sealer
        .seal(&field(keep.id), body)
        .map_err(|e| IdempotencyError::Seal(e.to_string()))?;
    Ok(KeptAnswer {
        id: keep.id,
        request_hash: keep.request_hash.clone(),
        status,
        sealed,
    })
}

/// Keeps the answer of a request that ran (sealed).
pub async fn complete(
    ports: &Ports,
    id: Uuid,
    request_hash: &[u8],
    status: u16,
    body: &[u8],
) -> Result<(), IdempotencyError> {
    let keep = Keep {
        id,
        request_hash: request_hash.to_vec(),
    };
    let kept = seal_answer(ports, &keep, status, body)?;
    ports
        .store
        .complete_idempotency(id, request_hash, status, &kept.sealed)
        .await?;
    Ok(())
}

/// Drops the record of a request that failed: a retry runs again.
pub async fn abandon(ports: &Ports, id: Uuid) -> Result<(), IdempotencyError> {
    ports.store.delete_idempotency(id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(valid_key("2026-03-01-full"));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
        assert!(!valid_key("é"));
        assert!(valid_key(&"a".repeat(255)));
        assert!(!valid_key(&"a".repeat(256)));
    }
}
