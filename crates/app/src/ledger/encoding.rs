//! The canonical leaf encoding of a ledger entry, version 1 (docs/formats.md, "Ledger
//! entry"). Every field of the stored row but the leaf hash is encoded, in this order:
//!
//! | field | encoding |
//! |---|---|
//! | version | 1 byte, `0x01` |
//! | leaf index | u64 big-endian |
//! | entry id | 16 bytes (UUID) |
//! | time | i64 big-endian, microseconds since the Unix epoch (UTC) |
//! | account id | `0x00`, or `0x01` and 16 bytes |
//! | organisation id | 16 bytes |
//! | credential | text |
//! | insurer id | 16 bytes |
//! | pseudonym | bytes |
//! | categories | text (codes, comma-separated, canonical order) |
//! | purpose | text (code) |
//! | request id | text |
//! | client address | `0x00`, or `0x01` and text |
//!
//! where text and bytes are a u32 big-endian length followed by the bytes (UTF-8 for text).
//! The leaf hash is `SHA-256(0x00 ‖ encoding)` (RFC 9162).

use super::store::LedgerEntryRecord;
use crypto::merkle::{Hash, leaf_hash};

/// The version byte of the encoding.
pub const ENCODING_VERSION: u8 = 1;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&b[..len as usize]);
}

/// The canonical encoding of an entry (see the module documentation).
pub fn entry_encoding(e: &LedgerEntryRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + e.credential.len() + e.request_id.len());
    out.push(ENCODING_VERSION);
    out.extend_from_slice(&e.index.to_be_bytes());
    out.extend_from_slice(e.id.as_bytes());
    let micros = i64::try_from(e.at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
    out.extend_from_slice(&micros.to_be_bytes());
    match e.account_id {
        Some(a) => {
            out.push(1);
            out.extend_from_slice(a.as_bytes());
        }
        None => out.push(0),
    }
    out.extend_from_slice(e.organisation_id.as_bytes());
    put_bytes(&mut out, e.credential.as_bytes());
    out.extend_from_slice(e.insurer_id.as_bytes());
    put_bytes(&mut out, &e.pseudonym);
    put_bytes(&mut out, e.categories.as_bytes());
    put_bytes(&mut out, e.purpose.as_bytes());
    put_bytes(&mut out, e.request_id.as_bytes());
    match &e.client_addr {
        Some(a) => {
            out.push(1);
            put_bytes(&mut out, a.as_bytes());
        }
        None => out.push(0),
    }
    out
}

/// `H(0x00 ‖ entry_encoding(e))`.
pub fn entry_leaf_hash(e: &LedgerEntryRecord) -> Hash {
    leaf_hash(&entry_encoding(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    pub(crate) fn sample() -> LedgerEntryRecord {
        LedgerEntryRecord {
            index: 5,
            id: Uuid::from_u128(1),
            at: datetime!(2026-03-01 10:00:00.000001 UTC),
            account_id: Some(Uuid::from_u128(2)),
            organisation_id: Uuid::from_u128(3),
            credential: "passkey:x".into(),
            insurer_id: Uuid::from_u128(4),
            pseudonym: vec![7; 32],
            categories: "coverage,guarantees".into(),
            purpose: "rights_check".into(),
            request_id: "r-1".into(),
            client_addr: Some("127.0.0.1".into()),
            leaf_hash: vec![],
        }
    }

    #[test]
    fn the_encoding_is_the_documented_layout() {
        let e = sample();
        let b = entry_encoding(&e);
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..9], &5u64.to_be_bytes());
        assert_eq!(&b[9..25], Uuid::from_u128(1).as_bytes());
        let micros = datetime!(2026-03-01 10:00:00.000001 UTC).unix_timestamp() * 1_000_000 + 1;
        assert_eq!(&b[25..33], &micros.to_be_bytes());
        assert_eq!(b[33], 1);
        assert_eq!(&b[34..50], Uuid::from_u128(2).as_bytes());
        assert_eq!(&b[50..66], Uuid::from_u128(3).as_bytes());
        assert_eq!(&b[66..70], &9u32.to_be_bytes());
        assert_eq!(&b[70..79], b"passkey:x");
        assert!(b.ends_with(b"\x01\x00\x00\x00\x09127.0.0.1"));
    }

    #[test]
    fn every_field_changes_the_leaf_hash() {
        let base = entry_leaf_hash(&sample());
        #[allow(clippy::type_complexity)]
        let edits: Vec<Box<dyn Fn(&mut LedgerEntryRecord)>> = vec![
            Box::new(|e| e.index = 6),
            Box::new(|e| e.id = Uuid::from_u128(9)),
            Box::new(|e| e.at += time::Duration::microseconds(1)),
            Box::new(|e| e.account_id = None),
            Box::new(|e| e.organisation_id = Uuid::from_u128(9)),
            Box::new(|e| e.credential.push('y')),
            Box::new(|e| e.insurer_id = Uuid::from_u128(9)),
            Box::new(|e| e.pseudonym[0] ^= 1),
            Box::new(|e| e.categories = "coverage".into()),
            Box::new(|e| e.purpose = "invoice".into()),
            Box::new(|e| e.request_id.push('2')),
            Box::new(|e| e.client_addr = None),
            // Moving bytes between adjacent text fields changes the hash (length prefixes).
            Box::new(|e| {
                e.categories = "coverage,guarantees,".into();
                e.purpose = "ights_check".into();
            }),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut e = sample();
            edit(&mut e);
            assert_ne!(entry_leaf_hash(&e), base, "edit {i}");
        }
    }
}
