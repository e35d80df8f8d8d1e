//! Checkpoints of the access ledger: C2SP `tlog-checkpoint` bodies in C2SP `signed-note`
//! envelopes, signed with Ed25519 (ed25519-dalek).
//!
//! A checkpoint note:
//!
//! ```text
//! rempart.localhost/ledger
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//!
//! — rempart.localhost/ledger Az3grlgt…(base64 of key id ‖ signature)
//! ```
//!
//! - the body (the note text) is the origin line, the tree size in decimal (no leading zero),
//!   the standard base64 of the 32-byte root hash, each ending in a newline; no extension line;
//! - a blank line, then one signature line per signer: an em dash (U+2014), a space, the key
//!   name, a space, base64 of the 4-byte big-endian key id followed by the 64-byte Ed25519
//!   signature of the body (final newline included);
//! - key id = the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key), 0x01
//!   being the Ed25519 signature type;
//! - a verifier key is published as `<name>+<8 hex digits of key id>+<base64(0x01 ‖ public
//!   key)>`, the form Go's `golang.org/x/mod/sumdb/note` and witnesses read.
//!
//! rempart signs with the origin as the key name.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The Ed25519 signature type byte of signed notes.
const ED25519_TYPE: u8 = 0x01;
/// "— " (em dash, space) that starts a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("invalid key name: {0}")]
    KeyName(&'static str),
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("malformed checkpoint: {0}")]
    Checkpoint(&'static str),
    #[error("malformed verifier key: {0}")]
    VerifierKey(&'static str),
    #[error("no signature by a known key")]
    UnknownSigner,
    #[error("a signature by a known key does not verify")]
    BadSignature,
}

/// A tree head: the body of a checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: three lines, each ending in a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body (extension lines, if any, are ignored as the spec allows).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let text = text.strip_suffix('\n').ok_or(CheckpointError::Checkpoint(
            "the text must end with a newline",
        ))?;
        let mut lines = text.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Checkpoint("missing origin"))?;
        let size_line = lines
            .next()
            .ok_or(CheckpointError::Checkpoint("missing tree size"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(CheckpointError::Checkpoint(
                "the tree size is not a decimal",
            ));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| CheckpointError::Checkpoint("the tree size is too large"))?;
        let root_line = lines
            .next()
            .ok_or(CheckpointError::Checkpoint("missing root hash"))?;
        let root: Hash = STANDARD
            .decode(root_line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(CheckpointError::Checkpoint(
                "the root hash is not 32 bytes of base64",
            ))?;
        if lines.any(str::is_empty) {
            return Err(CheckpointError::Checkpoint("an extension line is empty"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// Key names: non-empty, no Unicode space, no `+`.
fn check_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() {
        return Err(CheckpointError::KeyName("empty"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CheckpointError::KeyName(
            "contains a space or control character",
        ));
    }
    if name.contains('+') {
        return Err(CheckpointError::KeyName("contains '+'"));
    }
    Ok(())
}

/// The signed-note key id of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4].
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A signer of notes: an Ed25519 key under a name. `Debug` shows no secret.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: u32,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish()
    }
}

impl NoteSigner {
    /// From a 32-byte Ed25519 seed (as kept by the vault).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, CheckpointError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            key,
            key_id,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            key_id: self.key_id,
        }
    }

    /// The signature line of `text` (without its final newline).
    pub fn signature_line(&self, text: &str) -> String {
        let sig: Signature = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.key_id.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, STANDARD.encode(blob))
    }

    /// The signed note of `text` (which must end with a newline and hold no blank line).
    pub fn sign_note(&self, text: &str) -> Result<String, CheckpointError> {
        check_text(text)?;
        Ok(format!("{text}\n{}\n", self.signature_line(text)))
    }

    /// The signed checkpoint note.
    pub fn sign_checkpoint(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        if checkpoint.origin.is_empty() || checkpoint.origin.contains('\n') {
            return Err(CheckpointError::Checkpoint("invalid origin"));
        }
        self.sign_note(&checkpoint.body())
    }
}

fn check_text(text: &str) -> Result<(), CheckpointError> {
    if !text.ends_with('\n') {
        return Err(CheckpointError::Malformed(
            "the text must end with a newline",
        ));
    }
    if text.contains("\n\n") || text.starts_with('\n') {
        return Err(CheckpointError::Malformed("the text holds a blank line"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(CheckpointError::Malformed(
            "the text holds a control character",
        ));
    }
    Ok(())
}

/// A verifier key: a name and an Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    key_id: u32,
}

impl NoteVerifier {
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, CheckpointError> {
        check_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| CheckpointError::VerifierKey("not an Ed25519 public key"))?;
        Ok(Self {
            name: name.to_string(),
            key,
            key_id: key_id(name, public_key),
        })
    }

    /// Parses `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, checking the key id.
    pub fn parse(vkey: &str) -> Result<Self, CheckpointError> {
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CheckpointError::VerifierKey("expected name+keyid+key"));
        };
        if hex.len() != 8 {
            return Err(CheckpointError::VerifierKey(
                "the key id is not 8 hex digits",
            ));
        }
        let id = u32::from_str_radix(hex, 16)
            .map_err(|_| CheckpointError::VerifierKey("the key id is not 8 hex digits"))?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| CheckpointError::VerifierKey("the key is not base64"))?;
        let Some((&ED25519_TYPE, pk)) = raw.split_first() else {
            return Err(CheckpointError::VerifierKey("not an Ed25519 key"));
        };
        let pk: [u8; 32] = pk
            .try_into()
            .map_err(|_| CheckpointError::VerifierKey("the public key is not 32 bytes"))?;
        let v = Self::new(name, &pk)?;
        if v.key_id != id {
            return Err(CheckpointError::VerifierKey(
                "the key id does not match the key",
            ));
        }
        Ok(v)
    }

    /// The text form of [`NoteVerifier::parse`].
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519_TYPE);
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

/// A note split into its text and signature lines (not verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedNote<'a> {
    pub text: &'a str,
    /// (key name, key id, signature bytes) per signature line.
    pub signatures: Vec<(&'a str, u32, Vec<u8>)>,
}

/// Splits a signed note at its last blank line and parses the signature lines.
pub fn parse_note(note: &str) -> Result<ParsedNote<'_>, CheckpointError> {
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(CheckpointError::Malformed(
            "the note holds a control character",
        ));
    }
    let split = note.rfind("\n\n").ok_or(CheckpointError::Malformed(
        "no blank line before the signatures",
    ))?;
    let text = &note[..=split];
    let sigs = &note[split + 2..];
    let sigs = sigs.strip_suffix('\n').ok_or(CheckpointError::Malformed(
        "the note must end with a newline",
    ))?;
    let mut signatures = Vec::new();
    for line in sigs.split('\n') {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(CheckpointError::Malformed(
                "a signature line must start with '— '",
            ))?;
        let (name, b64) = rest.split_once(' ').ok_or(CheckpointError::Malformed(
            "a signature line needs a name and a signature",
        ))?;
        check_name(name)?;
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| CheckpointError::Malformed("a signature is not base64"))?;
        if blob.len() < 5 {
            return Err(CheckpointError::Malformed("a signature is too short"));
        }
        let id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        signatures.push((name, id, blob[4..].to_vec()));
    }
    if signatures.is_empty() {
        return Err(CheckpointError::Malformed("no signature line"));
    }
    Ok(ParsedNote { text, signatures })
}

/// Opens a signed note: answers its text when at least one signature is by one of
/// `verifiers` and every signature by a known verifier verifies; lines by unknown keys are
/// ignored (a witness may add its cosignature).
pub fn open_note<'a>(
    note: &'a str,
    verifiers: &[NoteVerifier],
) -> Result<&'a str, CheckpointError> {
    let parsed = parse_note(note)?;
    let mut verified = false;
    for (name, id, sig) in &parsed.signatures {
        let Some(v) = verifiers
            .iter()
            .find(|v| v.name == *name && v.key_id == *id)
        else {
            continue;
        };
        let sig = Signature::from_slice(sig).map_err(|_| CheckpointError::BadSignature)?;
        v.key
            .verify(parsed.text.as_bytes(), &sig)
            .map_err(|_| CheckpointError::BadSignature)?;
        verified = true;
    }
    if verified {
        Ok(parsed.text)
    } else {
        Err(CheckpointError::UnknownSigner)
    }
}

/// Opens a signed checkpoint note and parses its body.
pub fn open_checkpoint(
    note: &str,
    verifiers: &[NoteVerifier],
) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse_body(open_note(note, verifiers)?)
}

/// Standard base64 (RFC 4648 §4, padded), the encoding of hashes in notes and in the API.
pub fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64; `None` if it is not.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> NoteSigner {
        NoteSigner::from_seed("rempart.localhost/ledger", &[7u8; 32]).unwrap()
    }

    fn cp() -> Checkpoint {
        Checkpoint {
            origin: "rempart.localhost/ledger".into(),
            size: 20852163,
            root: [9u8; 32],
        }
    }

    #[test]
    fn a_signed_checkpoint_has_the_c2sp_layout_and_opens() {
        let s = signer();
        let note = s.sign_checkpoint(&cp()).unwrap();
        let lines: Vec<&str> = note.split('\n').collect();
        assert_eq!(lines[0], "rempart.localhost/ledger");
        assert_eq!(lines[1], "20852163");
        assert_eq!(lines[2], STANDARD.encode([9u8; 32]));
        assert_eq!(lines[3], "");
        assert!(lines[4].starts_with("\u{2014} rempart.localhost/ledger "));
        assert_eq!(lines[5], "");
        assert_eq!(lines.len(), 6);
        let blob = STANDARD
            .decode(lines[4].rsplit(' ').next().unwrap())
            .unwrap();
        assert_eq!(blob.len(), 68);
        assert_eq!(&blob[..4], &s.key_id().to_be_bytes());
        assert_eq!(open_checkpoint(&note, &[s.verifier()]).unwrap(), cp());
    }

    #[test]
    fn key_id_is_the_truncated_sha256_of_name_newline_type_and_key() {
        let s = signer();
        let pk = s.verifier().public_key();
        let mut m = b"rempart.localhost/ledger\n\x01".to_vec();
        m.extend_from_slice(&pk);
        let d = Sha256::digest(&m);
        assert_eq!(s.key_id(), u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
    }

    #[test]
    fn verifier_keys_round_trip_and_a_wrong_key_id_is_refused() {
        let v = signer().verifier();
        let text = v.encode();
        assert!(text.starts_with("rempart.localhost/ledger+"));
        assert_eq!(NoteVerifier::parse(&text).unwrap(), v);
        let mut parts: Vec<String> = text.splitn(3, '+').map(String::from).collect();
        parts[1] = "00000000".into();
        assert!(NoteVerifier::parse(&parts.join("+")).is_err());
    }

    #[test]
    fn an_edited_note_or_another_key_does_not_open() {
        let s = signer();
        let note = s.sign_checkpoint(&cp()).unwrap();
        let edited = note.replacen("20852163", "20852164", 1);
        assert_eq!(
            open_checkpoint(&edited, &[s.verifier()]),
            Err(CheckpointError::BadSignature)
        );
        let other = NoteSigner::from_seed("rempart.localhost/ledger", &[8u8; 32]).unwrap();
        assert_eq!(
            open_checkpoint(&note, &[other.verifier()]),
            Err(CheckpointError::UnknownSigner)
        );
    }

    #[test]
    fn a_cosigned_note_still_opens_with_the_log_key() {
        let s = signer();
        let note = s.sign_checkpoint(&cp()).unwrap();
        let witness = NoteSigner::from_seed("witness.example", &[3u8; 32]).unwrap();
        let body = cp().body();
        let cosigned = format!("{note}{}\n", witness.signature_line(&body));
        assert_eq!(open_checkpoint(&cosigned, &[s.verifier()]).unwrap(), cp());
        assert_eq!(
            open_checkpoint(&cosigned, &[witness.verifier()]).unwrap(),
            cp()
        );
    }

    #[test]
    fn bodies_are_strict() {
        assert!(Checkpoint::parse_body("o\n01\nAAAA\n").is_err());
        assert!(Checkpoint::parse_body("o\n1\nAAAA\n").is_err());
        assert!(Checkpoint::parse_body("o\n1\n").is_err());
        assert!(NoteSigner::from_seed("a b", &[1; 32]).is_err());
        assert!(NoteSigner::from_seed("a+b", &[1; 32]).is_err());
    }
}
