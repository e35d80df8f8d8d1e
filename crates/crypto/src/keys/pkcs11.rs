//! KEKs in a PKCS#11 token (an HSM in production, SoftHSM2 in development and CI).
//!
//! - KEK version `N` is an AES-256 secret key labelled (and with `CKA_ID`) `rempart/kek/v<N>`,
//!   generated in the token with `TOKEN`, `PRIVATE`, `SENSITIVE`, not `EXTRACTABLE`, not
//!   `MODIFIABLE`, `WRAP`/`UNWRAP` only (no encrypt, decrypt, sign, verify or derive).
//! - Wrap: the 32-byte data key is imported as a short-lived *session* object, wrapped with
//!   `CKM_AES_KEY_WRAP` (RFC 3394, 40-byte output) and destroyed. Unwrap is the reverse; the
//!   unwrapped session object's value is read and the object destroyed.
//! - Rewrap: unwrap under the old KEK into a sensitive session object, wrap it with the new
//!   KEK, destroy it: the data key never enters the process.
//! - The library is initialised once with `OS_LOCKING_OK`; the token is found by label (its
//!   slot id is random), retrying initialisation when the label is missing (SoftHSM can load
//!   an empty token directory while another process writes). One read-write session is
//!   logged in and kept for the provider's lifetime, behind a mutex (SoftHSM does not scale
//!   with threads in a process anyway); `UserAlreadyLoggedIn` counts as success. KEK handles
//!   are cached and looked up again when the token says a handle is invalid.
//! - PKCS#11 does not enforce unique labels: `create_version` serialises under the mutex,
//!   checks the label is free, and after generation destroys its own key if another process
//!   raced it to the same label.
//! - Dropping the provider closes the session and calls `C_Finalize`.

use super::{KeyError, KeyProvider};
use crate::sealing::DataKey;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use zeroize::{Zeroize, Zeroizing};

const LABEL_PREFIX: &str = "rempart/kek/v";
const WRAPPED_LEN: usize = 40;
const INIT_ATTEMPTS: usize = 20;

fn label(version: u32) -> String {
    format!("{LABEL_PREFIX}{version}")
}

fn parse_label(bytes: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(bytes).ok()?;
    let digits = s.strip_prefix(LABEL_PREFIX)?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn ck(operation: &'static str) -> impl Fn(CkError) -> KeyError {
    move |e| KeyError::Pkcs11 {
        operation,
        detail: e.to_string(),
    }
}

fn is_handle_invalid(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid
                | RvError::WrappingKeyHandleInvalid
                | RvError::UnwrappingKeyHandleInvalid,
            _
        )
    )
}

/// How a KEK is protected, as reported by the token (for `rempart keys` and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KekProtection {
    /// Reading `CKA_VALUE` is refused as sensitive.
    pub value_is_sensitive: bool,
    pub sensitive: bool,
    pub extractable: bool,
    pub always_sensitive: bool,
    pub never_extractable: bool,
}

struct State {
    session: Option<Session>,
    handles: BTreeMap<u32, ObjectHandle>,
}

/// KEKs in a PKCS#11 token. See the module documentation.
pub struct Pkcs11KeyProvider {
    ctx: Option<Pkcs11>,
    state: Mutex<State>,
    module: PathBuf,
    token_label: String,
    slot: Slot,
}

impl std::fmt::Debug for Pkcs11KeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11KeyProvider")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("slot", &self.slot.id())
            .finish_non_exhaustive()
    }
}

fn find_slot(ctx: &Pkcs11, token_label: &str) -> Result<Option<Slot>, KeyError> {
    for slot in ctx.get_slots_with_token().map_err(ck("C_GetSlotList"))? {
        let info = ctx.get_token_info(slot).map_err(ck("C_GetTokenInfo"))?;
        if info.label().trim_end() == token_label {
            return Ok(Some(slot));
        }
    }
    Ok(None)
}

/// Initialises the library and finds the token, retrying when the label is missing.
fn init_and_find(ctx: &Pkcs11, token_label: &str) -> Result<Slot, KeyError> {
    for _ in 0..INIT_ATTEMPTS {
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| match e {
                CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _) => KeyError::Pkcs11 {
                    operation: "C_Initialize",
                    detail: "the module is already initialised in this process (open one provider per process)".into(),
                },
                e => ck("C_Initialize")(e),
            })?;
        match find_slot(ctx, token_label) {
            Ok(Some(slot)) => return Ok(slot),
            Ok(None) => {}
            Err(e) => {
                let _ = ctx.clone().finalize();
                return Err(e);
            }
        }
        let _ = ctx.clone().finalize();
        std::thread::yield_now();
    }
    Err(KeyError::TokenNotFound(token_label.to_string()))
}

fn open_session(ctx: &Pkcs11, slot: Slot, pin: &SecretString) -> Result<Session, KeyError> {
    let session = ctx.open_rw_session(slot).map_err(ck("C_OpenSession"))?;
    let pin: AuthPin = pin.clone();
    match session.login(UserType::User, Some(&pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(ck("C_Login")(e)),
    }
}

fn kek_template(version: u32) -> Vec<Attribute> {
    let l = label(version).into_bytes();
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32.into()),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Modifiable(false),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Encrypt(false),
        Attribute::Decrypt(false),
        Attribute::Sign(false),
        Attribute::Verify(false),
        Attribute::Derive(false),
        Attribute::Label(l.clone()),
        Attribute::Id(l),
    ]
}

/// Template of a data key living as a session object for the duration of one call.
fn dek_template(sensitive: bool) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(false),
        Attribute::Sensitive(sensitive),
        Attribute::Extractable(true),
    ]
}

fn find_by_label(session: &Session, version: u32) -> Result<Vec<ObjectHandle>, KeyError> {
    session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label(version).into_bytes()),
        ])
        .map_err(ck("C_FindObjects"))
}

/// Every `rempart/kek/v<N>` in the token; refuses duplicate labels.
fn scan(session: &Session) -> Result<BTreeMap<u32, ObjectHandle>, KeyError> {
    let objects = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Token(true),
        ])
        .map_err(ck("C_FindObjects"))?;
    let mut found: BTreeMap<u32, Vec<ObjectHandle>> = BTreeMap::new();
    for object in objects {
        let attrs = session
            .get_attributes(object, &[AttributeType::Label])
            .map_err(ck("C_GetAttributeValue"))?;
        for attr in attrs {
            if let Attribute::Label(l) = attr
                && let Some(version) = parse_label(&l)
            {
                found.entry(version).or_default().push(object);
            }
        }
    }
    let mut handles = BTreeMap::new();
    for (version, objects) in found {
        match objects.as_slice() {
            [one] => {
                handles.insert(version, *one);
            }
            many => {
                return Err(KeyError::DuplicateLabel {
                    label: label(version),
                    count: many.len(),
                });
            }
        }
    }
    Ok(handles)
}

impl Pkcs11KeyProvider {
    /// Loads the module, finds the token by label, logs in and indexes the KEKs present.
    pub fn open(
        module_path: impl AsRef<Path>,
        token_label: &str,
        pin: SecretString,
    ) -> Result<Self, KeyError> {
        let module = module_path.as_ref().to_path_buf();
        let ctx = Pkcs11::new(&module).map_err(ck("loading the module"))?;
        let slot = init_and_find(&ctx, token_label)?;
        let opened = open_session(&ctx, slot, &pin).and_then(|session| {
            let handles = scan(&session)?;
            Ok(State {
                session: Some(session),
                handles,
            })
        });
        match opened {
            Ok(state) => Ok(Self {
                ctx: Some(ctx),
                state: Mutex::new(state),
                module,
                token_label: token_label.to_string(),
                slot,
            }),
            Err(e) => {
                let _ = ctx.finalize();
                Err(e)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `op` with the session and the KEK handle of `version`, looking the handle up again
    /// once if the token reports it invalid (or if it is not cached: another process may have
    /// created the version).
    fn with_kek<T>(
        &self,
        version: u32,
        op: impl Fn(&Session, ObjectHandle) -> Result<T, CkError>,
        on_error: impl Fn(CkError) -> KeyError,
    ) -> Result<T, KeyError> {
        let mut state = self.lock();
        let State { session, handles } = &mut *state;
        let session = session.as_ref().ok_or(KeyError::Pkcs11 {
            operation: "session",
            detail: "closed".into(),
        })?;
        if let Some(&handle) = handles.get(&version) {
            match op(session, handle) {
                Ok(v) => return Ok(v),
                Err(e) if is_handle_invalid(&e) => {}
                Err(e) => return Err(on_error(e)),
            }
        }
        let handle = match find_by_label(session, version)?.as_slice() {
            [] => return Err(KeyError::UnknownVersion(version)),
            [one] => *one,
            many => {
                return Err(KeyError::DuplicateLabel {
                    label: label(version),
                    count: many.len(),
                });
            }
        };
        handles.insert(version, handle);
        op(session, handle).map_err(on_error)
    }

    /// What the token reports about KEK `version`'s protection.
    pub fn kek_protection(&self, version: u32) -> Result<KekProtection, KeyError> {
        self.with_kek(
            version,
            |session, kek| {
                let info = session.get_attribute_info(kek, &[AttributeType::Value])?;
                let attrs = session.get_attributes(
                    kek,
                    &[
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                        AttributeType::AlwaysSensitive,
                        AttributeType::NeverExtractable,
                    ],
                )?;
                let mut p = KekProtection {
                    value_is_sensitive: matches!(info.as_slice(), [AttributeInfo::Sensitive]),
                    sensitive: false,
                    extractable: true,
                    always_sensitive: false,
                    never_extractable: false,
                };
                for a in attrs {
                    match a {
                        Attribute::Sensitive(b) => p.sensitive = b,
                        Attribute::Extractable(b) => p.extractable = b,
                        Attribute::AlwaysSensitive(b) => p.always_sensitive = b,
                        Attribute::NeverExtractable(b) => p.never_extractable = b,
                        _ => {}
                    }
                }
                Ok(p)
            },
            ck("C_GetAttributeValue"),
        )
    }
}

impl Drop for Pkcs11KeyProvider {
    fn drop(&mut self) {
        // Close the session (which logs out) before finalising the library.
        drop(self.lock().session.take());
        if let Some(ctx) = self.ctx.take() {
            let _ = ctx.finalize();
        }
    }
}

/// Imports `dek` as a session object, runs `f` on it, and always destroys it.
fn with_dek_object<T>(
    session: &Session,
    dek: &DataKey,
    f: impl FnOnce(ObjectHandle) -> Result<T, CkError>,
) -> Result<T, CkError> {
    let mut template = dek_template(false);
    template.push(Attribute::Value(dek.expose().to_vec()));
    let created = session.create_object(&template);
    for attr in template.iter_mut() {
        if let Attribute::Value(v) = attr {
            v.zeroize();
        }
    }
    let object = created?;
    let result = f(object);
    let destroyed = session.destroy_object(object);
    let value = result?;
    destroyed?;
    Ok(value)
}

impl KeyProvider for Pkcs11KeyProvider {
    fn current_version(&self) -> Result<u32, KeyError> {
        self.lock()
            .handles
            .keys()
            .next_back()
            .copied()
            .ok_or(KeyError::NoVersion)
    }

    fn versions(&self) -> Result<Vec<u32>, KeyError> {
        Ok(self.lock().handles.keys().copied().collect())
    }

    fn wrap(&self, kek_version: u32, dek: &DataKey) -> Result<Vec<u8>, KeyError> {
        self.with_kek(
            kek_version,
            |session, kek| {
                with_dek_object(session, dek, |obj| {
                    session.wrap_key(&Mechanism::AesKeyWrap, kek, obj)
                })
            },
            ck("C_WrapKey"),
        )
    }

    fn unwrap(&self, kek_version: u32, wrapped: &[u8]) -> Result<DataKey, KeyError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(KeyError::Malformed {
                expected: WRAPPED_LEN,
                actual: wrapped.len(),
            });
        }
        let value = self.with_kek(
            kek_version,
            |session, kek| {
                let obj = match session.unwrap_key(
                    &Mechanism::AesKeyWrap,
                    kek,
                    wrapped,
                    &dek_template(false),
                ) {
                    Ok(obj) => obj,
                    // SoftHSM reports an integrity failure as a general error: not retryable.
                    Err(CkError::Pkcs11(RvError::GeneralError | RvError::WrappedKeyInvalid, f)) => {
                        return Ok(Err(f));
                    }
                    Err(e) => return Err(e),
                };
                let attrs = session.get_attributes(obj, &[AttributeType::Value]);
                let destroyed = session.destroy_object(obj);
                let mut attrs = attrs?;
                destroyed?;
                let mut out = None;
                for attr in attrs.iter_mut() {
                    if let Attribute::Value(v) = attr {
                        out = Some(Zeroizing::new(std::mem::take(v)));
                    }
                }
                Ok(Ok(out))
            },
            ck("C_UnwrapKey"),
        )?;
        match value {
            Ok(Some(bytes)) => {
                let arr: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyError::Unwrap(kek_version))?;
                Ok(DataKey::from_bytes(arr))
            }
            Ok(None) | Err(_) => Err(KeyError::Unwrap(kek_version)),
        }
    }

    fn rewrap(
        &self,
        from_version: u32,
        to_version: u32,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        if wrapped.len() != WRAPPED_LEN {
            return Err(KeyError::Malformed {
                expected: WRAPPED_LEN,
                actual: wrapped.len(),
            });
        }
        // Resolve the target handle first (caches it), then do both steps under one lock.
        self.with_kek(to_version, |_, _| Ok(()), ck("C_FindObjects"))?;
        let to_handle = self
            .lock()
            .handles
            .get(&to_version)
            .copied()
            .ok_or(KeyError::UnknownVersion(to_version))?;
        let result = self.with_kek(
            from_version,
            |session, from| {
                let obj = match session.unwrap_key(
                    &Mechanism::AesKeyWrap,
                    from,
                    wrapped,
                    &dek_template(true),
                ) {
                    Ok(obj) => obj,
                    Err(CkError::Pkcs11(RvError::GeneralError | RvError::WrappedKeyInvalid, _)) => {
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                };
                let out = session.wrap_key(&Mechanism::AesKeyWrap, to_handle, obj);
                let destroyed = session.destroy_object(obj);
                let out = out?;
                destroyed?;
                Ok(Some(out))
            },
            ck("rewrap"),
        )?;
        result.ok_or(KeyError::Unwrap(from_version))
    }

    fn create_version(&self) -> Result<u32, KeyError> {
        let mut state = self.lock();
        let State { session, handles } = &mut *state;
        let session = session.as_ref().ok_or(KeyError::Pkcs11 {
            operation: "session",
            detail: "closed".into(),
        })?;
        // Another process may have created versions since we last looked.
        *handles = scan(session)?;
        let next = match handles.keys().next_back() {
            None => 1,
            Some(&v) => v.checked_add(1).ok_or(KeyError::UnknownVersion(v))?,
        };
        if !find_by_label(session, next)?.is_empty() {
            return Err(KeyError::DuplicateLabel {
                label: label(next),
                count: 1,
            });
        }
        let kek = session
            .generate_key(&Mechanism::AesKeyGen, &kek_template(next))
            .map_err(ck("C_GenerateKey"))?;
        let same = find_by_label(session, next)?;
        if same.len() != 1 {
            // Lost a race with another process: withdraw ours.
            let _ = session.destroy_object(kek);
            return Err(KeyError::DuplicateLabel {
                label: label(next),
                count: same.len(),
            });
        }
        handles.insert(next, kek);
        Ok(next)
    }

    fn destroy_version(&self, version: u32) -> Result<(), KeyError> {
        let mut state = self.lock();
        let State { session, handles } = &mut *state;
        let session = session.as_ref().ok_or(KeyError::Pkcs11 {
            operation: "session",
            detail: "closed".into(),
        })?;
        *handles = scan(session)?;
        if !handles.contains_key(&version) {
            return Err(KeyError::UnknownVersion(version));
        }
        if handles.keys().next_back() == Some(&version) {
            return Err(KeyError::CurrentVersion(version));
        }
        for handle in find_by_label(session, version)? {
            session
                .destroy_object(handle)
                .map_err(ck("C_DestroyObject"))?;
        }
        handles.remove(&version);
        Ok(())
    }

    fn describe(&self) -> String {
        let versions: Vec<u32> = self.lock().handles.keys().copied().collect();
        format!(
            "PKCS#11 module {}, token {:?} (slot {}), KEK versions {versions:?} (labels {LABEL_PREFIX}<N>)",
            self.module.display(),
            self.token_label,
            self.slot.id()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_parse_strictly() {
        assert_eq!(label(3), "rempart/kek/v3");
        assert_eq!(parse_label(b"rempart/kek/v3"), Some(3));
        for bad in [
            &b"rempart/kek/v03"[..],
            b"rempart/kek/v",
            b"kek-v1",
            b"rempart/kek/v1x",
            b"\xff",
        ] {
            assert_eq!(parse_label(bad), None);
        }
    }

    #[test]
    fn kek_template_is_wrap_only_and_non_extractable() {
        let t = kek_template(1);
        for required in [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Encrypt(false),
            Attribute::Decrypt(false),
        ] {
            assert!(t.contains(&required), "{required:?}");
        }
    }

    #[test]
    fn a_missing_module_is_a_clean_error() {
        let err = Pkcs11KeyProvider::open(
            "/nonexistent/libnothing.so",
            "t",
            SecretString::from("1234"),
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::Pkcs11 { .. }), "{err}");
        assert!(!err.to_string().contains("1234"));
    }
}
