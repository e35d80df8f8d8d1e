//! Card tokens for the datamatrix printed on the tiers-payant card, and the card's
//! verification code for manual entry.
//!
//! **Token**: `RP1.` ‖ base64url without padding of (payload ‖ 64-byte Ed25519 signature).
//! The signature covers `"rempart/card-token/v1\0"` ‖ payload. Payload (big endian):
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version, `0x01` |
//! | 4 | kid: the signing key's id (u32) |
//! | 16 | card id (UUID) |
//! | 1 + ⌈n/2⌉ | AMC number: digit count n (1–10), then BCD, high nibble first, `0xF` pad |
//! | 1 + … | member number: header = length (1–20) in bits 0–4, bit 7 set when all digits; then BCD as above, or the ASCII letters and digits |
//! | 4 + 4 | validity from / to, days since 1970-01-01 (u32), from ≤ to |
//! | 1 | number of domains (0–32) |
//! | 5 each | domain code: 1–4 characters of `A–Z0–9` packed as four 6-bit symbols (`0` = padding after the code, `1–26` = A–Z, `27–36` = 0–9); regime: u16, basis points (0–65534) or `0xFFFF` = PEC (prior approval) |
//!
//! There is no NIR, name or date of birth in a token. Size: 4 + ⌈4·bytes/3⌉ characters; with
//! a 9-digit AMC number and a 10-digit member number, 42 payload bytes + 64 of signature make
//! 146 characters, and each domain adds 5 bytes: 166 characters for 3 domains, 212 for 10. The
//! signature and the card id alone take 80 bytes (107 characters), so 10 domains cannot fit in
//! 160 characters without dropping a field or using a domain-code table.
//!
//! [`verify`] checks the form, finds the key by kid, verifies the signature strictly, then
//! decodes. It never panics, whatever the input. Dates are returned, not judged: whether the
//! card is valid on the care date is the caller's decision (it holds the clock).
//!
//! **Published keys**: a JSON list `[{"kid": 1, "public_key": "<base64url, no padding, 32
//! bytes>"}]`.
//!
//! **Verification code**: 8 characters of Crockford base32 (40 random bits) shown as
//! `XXXX-XXXX`. Input is normalised (case, `-` and spaces ignored, `O`→`0`, `I`/`L`→`1`). It is
//! stored only as `HMAC-SHA-256(code key, "rempart/card-code/v1\0" ‖ card id (16 bytes) ‖ 8
//! normalised characters)` and compared in constant time.

use crate::random::SecureRandom;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use uuid::Uuid;
use zeroize::Zeroizing;

const PREFIX: &str = "RP1.";
const VERSION: u8 = 1;
const SIGNED_CONTEXT: &[u8] = b"rempart/card-token/v1\0";
const SIG_LEN: usize = 64;
const MAX_TOKEN_CHARS: usize = 512;
const MAX_DOMAINS: usize = 32;
const PEC: u16 = 0xFFFF;

/// How a domain is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// A rate in basis points (10 000 = 100 %), at most 65 534.
    RateBps(u16),
    /// Needs a prior approval (PEC).
    Pec,
}

/// One domain printed on the card, e.g. `PHAR 100%` or `OPTI PEC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDomain {
    /// 1–4 characters, `A–Z0–9`.
    pub code: String,
    pub regime: Regime,
}

/// What a card token asserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardClaims {
    pub card_id: Uuid,
    /// 1–10 digits.
    pub amc_number: String,
    /// 1–20 ASCII letters or digits.
    pub member_number: String,
    /// Days since 1970-01-01, ≥ 0.
    pub valid_from: i32,
    /// Days since 1970-01-01, ≥ `valid_from`.
    pub valid_to: i32,
    /// At most 32.
    pub domains: Vec<CardDomain>,
}

/// Token errors. They never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("card token is malformed")]
    Malformed,
    #[error("card token is signed by unknown key id {0}")]
    UnknownKey(u32),
    #[error("card token signature is invalid")]
    BadSignature,
    #[error("card claims cannot be encoded: {0}")]
    InvalidClaims(&'static str),
}

/// Errors loading a published key list.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error("published key list is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key id {0}: public key is not 32 bytes of base64url")]
    Encoding(u32),
    #[error("key id {0}: not a valid Ed25519 public key")]
    InvalidKey(u32),
    #[error("key id {0} appears twice")]
    DuplicateKid(u32),
}

// ---------------------------------------------------------------------------------------
// Encoding helpers.

fn push_bcd(out: &mut Vec<u8>, digits: &[u8]) {
    for pair in digits.chunks(2) {
        let hi = pair[0] - b'0';
        let lo = pair.get(1).map_or(0xF, |d| d - b'0');
        out.push(hi << 4 | lo);
    }
}

fn code_symbol(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A' + 1),
        b'0'..=b'9' => Some(c - b'0' + 27),
        _ => None,
    }
}

fn symbol_char(s: u8) -> Option<char> {
    match s {
        1..=26 => Some(char::from(b'A' + s - 1)),
        27..=36 => Some(char::from(b'0' + s - 27)),
        _ => None,
    }
}

fn encode_payload(kid: u32, c: &CardClaims) -> Result<Vec<u8>, TokenError> {
    let amc = c.amc_number.as_bytes();
    if amc.is_empty() || amc.len() > 10 || !amc.iter().all(u8::is_ascii_digit) {
        return Err(TokenError::InvalidClaims(
            "AMC number must be 1 to 10 digits",
        ));
    }
    let member = c.member_number.as_bytes();
    if member.is_empty() || member.len() > 20 || !member.iter().all(u8::is_ascii_alphanumeric) {
        return Err(TokenError::InvalidClaims(
            "member number must be 1 to 20 letters or digits",
        ));
    }
    let from = u32::try_from(c.valid_from)
        .map_err(|_| TokenError::InvalidClaims("validity starts before 1970"))?;
    let to = u32::try_from(c.valid_to)
        .map_err(|_| TokenError::InvalidClaims("validity ends before 1970"))?;
    if from > to {
        return Err(TokenError::InvalidClaims("validity ends before it starts"));
    }
    if c.domains.len() > MAX_DOMAINS {
        return Err(TokenError::InvalidClaims("more than 32 domains"));
    }
    let mut out = Vec::with_capacity(48 + 5 * c.domains.len());
    out.push(VERSION);
    out.extend_from_slice(&kid.to_be_bytes());
    out.extend_from_slice(c.card_id.as_bytes());
    out.push(amc.len() as u8);
    push_bcd(&mut out, amc);
    let len = member.len() as u8;
    if member.iter().all(u8::is_ascii_digit) {
        out.push(0x80 | len);
        push_bcd(&mut out, member);
    } else {
        out.push(len);
        out.extend_from_slice(member);
    }
    out.extend_from_slice(&from.to_be_bytes());
    out.extend_from_slice(&to.to_be_bytes());
    out.push(c.domains.len() as u8);
    for d in &c.domains {
        let code = d.code.as_bytes();
        if code.is_empty() || code.len() > 4 {
            return Err(TokenError::InvalidClaims(
                "domain code must be 1 to 4 characters",
            ));
        }
        let mut packed: u32 = 0;
        for i in 0..4 {
            let s = match code.get(i) {
                Some(&ch) => code_symbol(ch)
                    .ok_or(TokenError::InvalidClaims("domain code must be A-Z or 0-9"))?,
                None => 0,
            };
            packed = packed << 6 | u32::from(s);
        }
        out.extend_from_slice(&packed.to_be_bytes()[1..]);
        let regime = match d.regime {
            Regime::Pec => PEC,
            Regime::RateBps(PEC) => {
                return Err(TokenError::InvalidClaims("rate above 65534 basis points"));
            }
            Regime::RateBps(bps) => bps,
        };
        out.extend_from_slice(&regime.to_be_bytes());
    }
    Ok(out)
}

/// A cursor that reports running out as `Malformed`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, TokenError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, TokenError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, TokenError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bcd(&mut self, n: usize) -> Result<String, TokenError> {
        let bytes = self.take(n.div_ceil(2))?;
        let mut s = String::with_capacity(n);
        for (i, b) in bytes.iter().enumerate() {
            for (j, nibble) in [b >> 4, b & 0xF].into_iter().enumerate() {
                if 2 * i + j < n {
                    if nibble > 9 {
                        return Err(TokenError::Malformed);
                    }
                    s.push(char::from(b'0' + nibble));
                } else if nibble != 0xF {
                    return Err(TokenError::Malformed);
                }
            }
        }
        Ok(s)
    }
}

fn decode_payload(payload: &[u8]) -> Result<(u32, CardClaims), TokenError> {
    let mut r = Reader(payload);
    if r.u8()? != VERSION {
        return Err(TokenError::Malformed);
    }
    let kid = r.u32()?;
    let card_id = Uuid::from_slice(r.take(16)?).map_err(|_| TokenError::Malformed)?;
    let n = usize::from(r.u8()?);
    if !(1..=10).contains(&n) {
        return Err(TokenError::Malformed);
    }
    let amc_number = r.bcd(n)?;
    let header = r.u8()?;
    let len = usize::from(header & 0x1F);
    if header & 0x60 != 0 || !(1..=20).contains(&len) {
        return Err(TokenError::Malformed);
    }
    let member_number = if header & 0x80 != 0 {
        r.bcd(len)?
    } else {
        let b = r.take(len)?;
        if !b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(TokenError::Malformed);
        }
        b.iter().map(|&c| char::from(c)).collect()
    };
    let from = r.u32()?;
    let to = r.u32()?;
    let valid_from = i32::try_from(from).map_err(|_| TokenError::Malformed)?;
    let valid_to = i32::try_from(to).map_err(|_| TokenError::Malformed)?;
    if valid_from > valid_to {
        return Err(TokenError::Malformed);
    }
    let count = usize::from(r.u8()?);
    if count > MAX_DOMAINS {
        return Err(TokenError::Malformed);
    }
    let mut domains = Vec::with_capacity(count);
    for _ in 0..count {
        let b = r.take(3)?;
        let packed = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        let mut code = String::with_capacity(4);
        let mut ended = false;
        for i in (0..4).rev() {
            let s = ((packed >> (6 * i)) & 0x3F) as u8;
            match (s, ended) {
                (0, _) => ended = true,
                (_, true) => return Err(TokenError::Malformed),
                (s, false) => code.push(symbol_char(s).ok_or(TokenError::Malformed)?),
            }
        }
        if code.is_empty() {
            return Err(TokenError::Malformed);
        }
        let regime = match r.u16()? {
            PEC => Regime::Pec,
            bps => Regime::RateBps(bps),
        };
        domains.push(CardDomain { code, regime });
    }
    if !r.0.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok((
        kid,
        CardClaims {
            card_id,
            amc_number,
            member_number,
            valid_from,
            valid_to,
            domains,
        },
    ))
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_CONTEXT.len() + payload.len());
    m.extend_from_slice(SIGNED_CONTEXT);
    m.extend_from_slice(payload);
    m
}

// ---------------------------------------------------------------------------------------
// Keys.

/// An Ed25519 card-signing key with its key id. Zeroized on drop; `Debug` shows only the kid
/// and the public key.
pub struct CardSigningKey {
    kid: u32,
    key: SigningKey,
}

impl std::fmt::Debug for CardSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardSigningKey")
            .field("kid", &self.kid)
            .field(
                "public_key",
                &URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
            )
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// One entry of the published key list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedKey {
    pub kid: u32,
    pub public_key: String,
}

impl CardSigningKey {
    pub fn generate(kid: u32, rng: &dyn SecureRandom) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill(seed.as_mut());
        Self::from_seed(kid, &seed)
    }

    /// From the 32-byte secret seed (as stored by [`CardSigningKey::seed`]).
    pub fn from_seed(kid: u32, seed: &[u8; 32]) -> Self {
        Self {
            kid,
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The secret seed, for storage in a key file or HSM import.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    pub fn kid(&self) -> u32 {
        self.kid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// This key's entry in the published list.
    pub fn published(&self) -> PublishedKey {
        PublishedKey {
            kid: self.kid,
            public_key: URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
        }
    }

    /// Encodes and signs `claims` into a token.
    pub fn sign(&self, claims: &CardClaims) -> Result<String, TokenError> {
        let mut bytes = encode_payload(self.kid, claims)?;
        let signature: Signature = self.key.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes)))
    }
}

/// The public card keys by kid, as published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardVerifyingKeys {
    keys: BTreeMap<u32, VerifyingKey>,
}

impl CardVerifyingKeys {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, kid: u32, key: VerifyingKey) -> Result<(), KeySetError> {
        if key.is_weak() {
            return Err(KeySetError::InvalidKey(kid));
        }
        if self.keys.insert(kid, key).is_some() {
            return Err(KeySetError::DuplicateKid(kid));
        }
        Ok(())
    }

    pub fn kids(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.keys().copied()
    }

    pub fn from_json(json: &str) -> Result<Self, KeySetError> {
        let list: Vec<PublishedKey> = serde_json::from_str(json)?;
        let mut set = Self::new();
        for entry in list {
            let bytes = URL_SAFE_NO_PAD
                .decode(entry.public_key.as_bytes())
                .map_err(|_| KeySetError::Encoding(entry.kid))?;
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeySetError::Encoding(entry.kid))?;
            let key =
                VerifyingKey::from_bytes(&arr).map_err(|_| KeySetError::InvalidKey(entry.kid))?;
            set.insert(entry.kid, key)?;
        }
        Ok(set)
    }

    pub fn to_json(&self) -> Result<String, KeySetError> {
        let list: Vec<PublishedKey> = self
            .keys
            .iter()
            .map(|(&kid, k)| PublishedKey {
                kid,
                public_key: URL_SAFE_NO_PAD.encode(k.as_bytes()),
            })
            .collect();
        Ok(serde_json::to_string_pretty(&list)?)
    }
}

/// Verifies a card token against the published keys.
pub fn verify(token: &str, keys: &CardVerifyingKeys) -> Result<CardClaims, TokenError> {
    if token.len() > MAX_TOKEN_CHARS {
        return Err(TokenError::Malformed);
    }
    let body = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body.as_bytes())
        .map_err(|_| TokenError::Malformed)?;
    if bytes.len() < 1 + 4 + SIG_LEN || bytes[0] != VERSION {
        return Err(TokenError::Malformed);
    }
    let (payload, sig) = bytes.split_at(bytes.len() - SIG_LEN);
    let kid = u32::from_be_bytes([payload[1], payload[2], payload[3], payload[4]]);
    let key = keys.keys.get(&kid).ok_or(TokenError::UnknownKey(kid))?;
    let sig: [u8; SIG_LEN] = sig.try_into().map_err(|_| TokenError::Malformed)?;
    key.verify_strict(&signed_message(payload), &Signature::from_bytes(&sig))
        .map_err(|_| TokenError::BadSignature)?;
    decode_payload(payload).map(|(_, claims)| claims)
}

// ---------------------------------------------------------------------------------------
// Verification codes.

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A card verification code, `XXXX-XXXX`. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode(Zeroizing<String>);

impl std::fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerificationCode(<redacted>)")
    }
}

impl VerificationCode {
    /// The formatted code, for printing on the card letter.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fresh code: 40 random bits as 8 Crockford base32 characters.
pub fn generate_verification_code(rng: &dyn SecureRandom) -> VerificationCode {
    let mut b = Zeroizing::new([0u8; 8]);
    rng.fill(&mut b[3..]);
    let bits = Zeroizing::new(u64::from_be_bytes(*b));
    let mut s = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        let index = ((*bits >> (35 - 5 * i)) & 0x1F) as usize;
        s.push(char::from(CROCKFORD[index]));
    }
    VerificationCode(Zeroizing::new(s))
}

/// Normalises typed input to the 8 canonical characters, or `None` if it cannot be a code.
pub fn normalise_code(input: &str) -> Option<Zeroizing<[u8; 8]>> {
    let mut out = Zeroizing::new([0u8; 8]);
    let mut n = 0;
    for c in input.chars() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CROCKFORD.contains(&(c as u8)) || n == 8 {
            return None;
        }
        out[n] = c as u8;
        n += 1;
    }
    (n == 8).then_some(out)
}

/// Keyed hash of verification codes, bound to the card. `Debug` hides the key.
#[derive(Clone)]
pub struct CodeHasher {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeHasher(<redacted>)")
    }
}

impl CodeHasher {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(key),
        }
    }

    fn mac(&self, card_id: Uuid, code: &[u8; 8]) -> Option<Hmac<Sha256>> {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.as_ref()).ok()?;
        Some(
            mac.chain_update(b"rempart/card-code/v1\0")
                .chain_update(card_id.as_bytes())
                .chain_update(code),
        )
    }

    /// The value to store for `code` on card `card_id`; `None` if `code` is not a code.
    pub fn hash(&self, card_id: Uuid, code: &str) -> Option<[u8; 32]> {
        let code = normalise_code(code)?;
        let tag = self.mac(card_id, &code)?.finalize().into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag);
        Some(out)
    }

    /// Whether `code` matches the stored hash, compared in constant time.
    pub fn verify(&self, card_id: Uuid, code: &str, stored: &[u8]) -> bool {
        let Some(code) = normalise_code(code) else {
            return false;
        };
        self.mac(card_id, &code)
            .is_some_and(|m| m.verify_slice(stored).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    fn claims(domains: usize) -> CardClaims {
        let codes = [
            "PHAR", "MED", "LABO", "RAD", "AUXM", "SAGE", "OPTI", "DENT", "AUDI", "HOSP", "EXTE",
            "CSTE",
        ];
        CardClaims {
            card_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            amc_number: "123456789".into(),
            member_number: "0012345678".into(),
            valid_from: 20_454,
            valid_to: 20_818,
            domains: (0..domains)
                .map(|i| CardDomain {
                    code: codes[i % codes.len()].into(),
                    regime: if i % 3 == 2 {
                        Regime::Pec
                    } else {
                        Regime::RateBps(10_000 + 500 * (i % 10) as u16)
                    },
                })
                .collect(),
        }
    }

    fn keyset(k: &CardSigningKey) -> CardVerifyingKeys {
        let json = serde_json::to_string(&[k.published()]).unwrap();
        CardVerifyingKeys::from_json(&json).unwrap()
    }

    #[test]
    fn round_trip_and_size() {
        let k = CardSigningKey::generate(1, &SeededRandom::new(1));
        let keys = keyset(&k);
        for n in [0, 3, 10] {
            let c = claims(n);
            let t = k.sign(&c).unwrap();
            assert!(t.starts_with("RP1."));
            assert_eq!(verify(&t, &keys).unwrap(), c);
            eprintln!("{n} domains: {} chars", t.len());
        }
        assert_eq!(k.sign(&claims(0)).unwrap().len(), 146);
        assert_eq!(k.sign(&claims(3)).unwrap().len(), 166);
        assert_eq!(k.sign(&claims(10)).unwrap().len(), 212);
    }

    #[test]
    fn alphanumeric_member_numbers_and_odd_digit_counts_round_trip() {
        let k = CardSigningKey::generate(7, &SeededRandom::new(2));
        let mut c = claims(2);
        c.member_number = "AB12cd".into();
        c.amc_number = "7".into();
        assert_eq!(verify(&k.sign(&c).unwrap(), &keyset(&k)).unwrap(), c);
    }

    #[test]
    fn no_nir_name_or_birth_date_fits_in_the_claims() {
        // The type has no such field; the token holds only the claims' bytes.
        let k = CardSigningKey::generate(1, &SeededRandom::new(3));
        let t = k.sign(&claims(1)).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&t[4..]).unwrap();
        assert_eq!(bytes.len(), 1 + 4 + 16 + 6 + 6 + 8 + 1 + 5 + 64);
    }

    #[test]
    fn unknown_key_bad_signature_and_tampering_are_told_apart() {
        let k1 = CardSigningKey::generate(1, &SeededRandom::new(4));
        let k2 = CardSigningKey::generate(2, &SeededRandom::new(5));
        let t = k2.sign(&claims(3)).unwrap();
        assert_eq!(verify(&t, &keyset(&k1)), Err(TokenError::UnknownKey(2)));
        // A key with the right kid but another secret.
        let impostor = CardSigningKey::generate(1, &SeededRandom::new(6));
        let forged = impostor.sign(&claims(3)).unwrap();
        assert_eq!(verify(&forged, &keyset(&k1)), Err(TokenError::BadSignature));
        // Flip each payload bit that does not touch the kid.
        let good = k1.sign(&claims(3)).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&good[4..]).unwrap();
        for i in (0..bytes.len()).filter(|i| !(1..5).contains(i)) {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let t = format!("RP1.{}", URL_SAFE_NO_PAD.encode(&b));
            assert!(
                matches!(
                    verify(&t, &keyset(&k1)),
                    Err(TokenError::BadSignature | TokenError::Malformed)
                ),
                "byte {i}"
            );
        }
        assert_eq!(verify("RP2.AAAA", &keyset(&k1)), Err(TokenError::Malformed));
        assert_eq!(
            verify(&good[..good.len() - 1], &keyset(&k1)),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn invalid_claims_are_refused_at_signing() {
        let k = CardSigningKey::generate(1, &SeededRandom::new(7));
        type Mutation = Box<dyn Fn(&mut CardClaims)>;
        let cases: Vec<Mutation> = vec![
            Box::new(|c| c.amc_number = "".into()),
            Box::new(|c| c.amc_number = "12345678901".into()),
            Box::new(|c| c.amc_number = "12a".into()),
            Box::new(|c| c.member_number = "".into()),
            Box::new(|c| c.member_number = "a-b".into()),
            Box::new(|c| c.member_number = "1".repeat(21)),
            Box::new(|c| c.valid_from = -1),
            Box::new(|c| c.valid_to = c.valid_from - 1),
            Box::new(|c| c.domains[0].code = "PHARM".into()),
            Box::new(|c| c.domains[0].code = "ph".into()),
            Box::new(|c| c.domains[0].code = "".into()),
            Box::new(|c| c.domains[0].regime = Regime::RateBps(0xFFFF)),
            Box::new(|c| c.domains = claims(33).domains),
        ];
        for (i, mutate) in cases.iter().enumerate() {
            let mut c = claims(2);
            mutate(&mut c);
            assert!(
                matches!(k.sign(&c), Err(TokenError::InvalidClaims(_))),
                "case {i}"
            );
        }
    }

    #[test]
    fn key_lists_round_trip_and_reject_bad_entries() {
        let k1 = CardSigningKey::generate(1, &SeededRandom::new(8));
        let k2 = CardSigningKey::generate(2, &SeededRandom::new(9));
        let mut set = CardVerifyingKeys::new();
        set.insert(1, k1.verifying_key()).unwrap();
        set.insert(2, k2.verifying_key()).unwrap();
        let json = set.to_json().unwrap();
        assert_eq!(CardVerifyingKeys::from_json(&json).unwrap(), set);
        let pk = k1.published().public_key;
        let dup = format!(r#"[{{"kid":1,"public_key":"{pk}"}},{{"kid":1,"public_key":"{pk}"}}]"#);
        assert!(matches!(
            CardVerifyingKeys::from_json(&dup),
            Err(KeySetError::DuplicateKid(1))
        ));
        assert!(matches!(
            CardVerifyingKeys::from_json(r#"[{"kid":3,"public_key":"AAAA"}]"#),
            Err(KeySetError::Encoding(3))
        ));
        let extra = format!(r#"[{{"kid":1,"public_key":"{pk}","x":1}}]"#);
        assert!(matches!(
            CardVerifyingKeys::from_json(&extra),
            Err(KeySetError::Json(_))
        ));
        // The identity point is a weak key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = format!(
            r#"[{{"kid":4,"public_key":"{}"}}]"#,
            URL_SAFE_NO_PAD.encode(identity)
        );
        assert!(matches!(
            CardVerifyingKeys::from_json(&weak),
            Err(KeySetError::InvalidKey(4))
        ));
    }

    #[test]
    fn seeds_restore_the_same_key_and_debug_hides_secrets() {
        let k = CardSigningKey::generate(3, &SeededRandom::new(10));
        let seed = k.seed();
        let again = CardSigningKey::from_seed(3, &seed);
        assert_eq!(again.verifying_key(), k.verifying_key());
        let text = format!("{k:?}");
        assert!(
            !text.contains(&URL_SAFE_NO_PAD.encode(*seed))
                && !text.contains(&format!("{:?}", *seed)),
            "{text}"
        );
        let code = generate_verification_code(&SeededRandom::new(1));
        assert!(!format!("{code:?}").contains(code.as_str()));
        assert!(!format!("{:?}", CodeHasher::new([9; 32])).contains('9'));
    }

    #[test]
    fn verification_codes_look_right_and_hash_per_card() {
        let rng = SeededRandom::new(11);
        let code = generate_verification_code(&rng);
        let s = code.as_str();
        assert_eq!(s.len(), 9);
        assert_eq!(&s[4..5], "-");
        assert!(
            s.chars()
                .filter(|&c| c != '-')
                .all(|c| CROCKFORD.contains(&(c as u8)))
        );
        let h = CodeHasher::new([3; 32]);
        let card = Uuid::from_u128(1);
        let stored = h.hash(card, s).unwrap();
        assert!(h.verify(card, s, &stored));
        // Normalisation: lower case, no dash, O/I/L aliases.
        let typed = s
            .replace('-', " ")
            .to_lowercase()
            .replace('0', "o")
            .replace('1', "l");
        assert!(h.verify(card, &typed, &stored));
        assert!(
            !h.verify(Uuid::from_u128(2), s, &stored),
            "bound to the card"
        );
        assert!(
            !CodeHasher::new([4; 32]).verify(card, s, &stored),
            "bound to the key"
        );
        assert!(!h.verify(card, "UUUU-UUUU", &stored));
        assert!(!h.verify(card, s, &stored[..31]));
        assert_eq!(h.hash(card, "ABC"), None);
        assert_eq!(h.hash(card, "ABCD-EFGH-J"), None);
        // Codes differ between draws.
        let many: std::collections::BTreeSet<String> = (0..1000)
            .map(|_| generate_verification_code(&rng).as_str().to_string())
            .collect();
        assert_eq!(many.len(), 1000);
    }

    proptest! {
        #[test]
        fn verify_never_panics_on_arbitrary_strings(s in ".{0,600}") {
            let k = CardSigningKey::generate(1, &SeededRandom::new(12));
            let _ = verify(&s, &keyset(&k));
            let _ = verify(&format!("RP1.{s}"), &keyset(&k));
        }

        #[test]
        fn verify_never_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let k = CardSigningKey::generate(1, &SeededRandom::new(13));
            let t = format!("RP1.{}", URL_SAFE_NO_PAD.encode(&b));
            prop_assert!(verify(&t, &keyset(&k)).is_err());
            // Even unsigned garbage decodes without panicking.
            let _ = decode_payload(&b);
        }

        #[test]
        fn any_valid_claims_round_trip(
            id in any::<u128>(), amc in "[0-9]{1,10}", member in "[A-Za-z0-9]{1,20}",
            from in 0i32..100_000, len in 0i32..4_000,
            domains in proptest::collection::vec(("[A-Z0-9]{1,4}", proptest::option::of(0u16..0xFFFF)), 0..=32)
        ) {
            let k = CardSigningKey::generate(9, &SeededRandom::new(14));
            let c = CardClaims {
                card_id: Uuid::from_u128(id), amc_number: amc, member_number: member,
                valid_from: from, valid_to: from + len,
                domains: domains.into_iter().map(|(code, r)| CardDomain { code, regime: r.map_or(Regime::Pec, Regime::RateBps) }).collect(),
            };
            prop_assert_eq!(verify(&k.sign(&c).unwrap(), &keyset(&k)).unwrap(), c);
        }
    }
}
