//! Key management: the [`Vault`] holds every secret the application uses, unwrapped in
//! memory from the `data_keys` table where each is stored ONLY wrapped by the
//! [`KeyProvider`]'s key-encryption key (KEK, a key file or a PKCS#11 token).
//!
//! Secrets (each a 32-byte key, one `data_keys` row, purpose in brackets):
//!
//! - one series of sealing data keys per scope (`seal`): an insurer id, or
//!   [`PLATFORM_SCOPE`] for data that belongs to no insurer (practices' IBANs);
//! - the blind-index key (`blind_index`, platform scope);
//! - the card-signing Ed25519 seeds (`card_signing`, platform scope, one per card key
//!   version; the version is the token's `kid`);
//! - the verification-code hash key (`card_code`, platform scope);
//! - the ledger pseudonym key (`pseudonym`, platform scope): HMAC-SHA-256 of a beneficiary
//!   in the access ledger ([`Vault::pseudonym`]);
//! - the ledger checkpoint-signing Ed25519 seeds (`ledger_signing`, platform scope, one per
//!   version; the newest signs);
//! - the access-token key (`access_token`, platform scope): the keyed hashes of invitation
//!   tokens and session ids ([`Vault::token_key`]), so every server of a deployment shares it
//!   through the database, and it is never on disk in the clear.
//!
//! Key ids are random non-zero u32s, unique in the deployment (the `data_keys_pkey`
//! constraint): the sealing key id is the 4-byte key id in every sealed header, so a sealed
//! value names the exact data key that opens it.
//!
//! Maintenance (used by `rempart keys …`): [`Vault::rotate_kek`] re-wraps every data key under
//! a new KEK version (online: older versions keep unwrapping), [`Vault::reseal`] re-encrypts
//! rows with a new data-key version, [`Vault::retire_kek`] destroys an unused KEK version,
//! [`Vault::shred`] destroys a scope's data keys (crypto-shredding).

use crate::Ports;
use crate::beneficiaries;
use crate::clock::Clock;
use crate::store::{DataKeyRow, KeyPurpose, SealedKeyCount, Store, StoreError};
use crypto::checkpoint::{NoteSigner, NoteVerifier};
use crypto::envelope::{DataKeyId, EnvelopeError, PLATFORM_SCOPE};
use crypto::{
    BlindIndex, CardSigningKey, CardVerifyingKeys, CodeHasher, DataKey, EnvelopeSealer, FieldRef,
    KeyError, KeyProvider, Keyring, ScopedSealer, SealError, Sealer, SecureRandom,
    sealed_key_version,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;
use uuid::Uuid;

/// The table and column of the practices' sealed IBAN.
pub const PRACTICE_IBAN: (&str, &str) = ("practices", "iban");

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("no data key for scope {0}")]
    NoKeyForScope(Uuid),
    #[error("the platform has no {0} key")]
    Missing(&'static str),
    #[error("this vault is ephemeral (in memory): it has no key provider")]
    Ephemeral,
    #[error("could not allocate a data key after several attempts (concurrent writers?)")]
    Contended,
    #[error("{0}")]
    Refused(String),
}

/// What a data key row describes, without its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    key_id: u32,
    scope: Uuid,
    purpose: KeyPurpose,
    version: u32,
}

impl Meta {
    fn of(row: &DataKeyRow) -> Self {
        Self {
            key_id: row.key_id,
            scope: row.scope,
            purpose: row.purpose,
            version: row.version,
        }
    }
}

struct State {
    keys: BTreeMap<u32, (Meta, DataKey)>,
    sealer: EnvelopeSealer,
    card_signer: Arc<CardSigningKey>,
    card_keys: CardVerifyingKeys,
}

/// Every secret of the application, unwrapped; see the module documentation. Cheap to share
/// (`Arc<Vault>`); new scopes and key versions appear without restart (interior mutability).
pub struct Vault {
    keyring: Option<Keyring>,
    rng: Arc<dyn SecureRandom>,
    blind_index: BlindIndex,
    code_hasher: CodeHasher,
    pseudonym_key: DataKey,
    token_key: DataKey,
    state: RwLock<Arc<State>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.snapshot();
        f.debug_struct("Vault")
            .field("provider", &self.keyring)
            .field("key_ids", &state.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn random_key_id(rng: &dyn SecureRandom, taken: &BTreeSet<u32>) -> u32 {
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        let id = u32::from_be_bytes(b);
        if id != 0 && !taken.contains(&id) {
            return id;
        }
    }
}

fn build_state(
    keys: BTreeMap<u32, (Meta, DataKey)>,
    rng: Arc<dyn SecureRandom>,
) -> Result<State, VaultError> {
    let seal = keys
        .values()
        .filter(|(m, _)| m.purpose == KeyPurpose::Seal)
        .map(|(m, k)| {
            (
                DataKeyId {
                    key_id: m.key_id,
                    scope: m.scope,
                    version: m.version,
                },
                k.clone(),
            )
        })
        .collect();
    let sealer = EnvelopeSealer::from_keys(seal, PLATFORM_SCOPE, rng)?;
    let mut card_keys = CardVerifyingKeys::new();
    let mut signer: Option<CardSigningKey> = None;
    for (m, k) in keys.values() {
        if m.purpose == KeyPurpose::CardSigning && m.scope == PLATFORM_SCOPE {
            let key = CardSigningKey::from_seed(m.version, k.expose());
            card_keys
                .insert(m.version, key.verifying_key())
                .map_err(|_| VaultError::Missing("valid card-signing"))?;
            if signer.as_ref().is_none_or(|s| s.kid() < m.version) {
                signer = Some(key);
            }
        }
    }
    let signer = signer.ok_or(VaultError::Missing("card-signing"))?;
    Ok(State {
        keys,
        sealer,
        card_signer: Arc::new(signer),
        card_keys,
    })
}

fn platform_key(keys: &BTreeMap<u32, (Meta, DataKey)>, purpose: KeyPurpose) -> Option<&DataKey> {
    keys.values()
        .filter(|(m, _)| m.scope == PLATFORM_SCOPE && m.purpose == purpose)
        .max_by_key(|(m, _)| m.version)
        .map(|(_, k)| k)
}

/// The secrets the platform needs from the first start.
const PLATFORM_PURPOSES: [KeyPurpose; 7] = [
    KeyPurpose::Seal,
    KeyPurpose::BlindIndex,
    KeyPurpose::CardSigning,
    KeyPurpose::CardCode,
    KeyPurpose::Pseudonym,
    KeyPurpose::LedgerSigning,
    KeyPurpose::AccessToken,
];

/// Domain separation of the ledger pseudonym HMAC.
const PSEUDONYM_CONTEXT: &[u8] = b"rempart ledger pseudonym v1";

impl Vault {
    /// An in-memory vault with fresh random keys and no provider (unit tests, throwaway
    /// tools). [`Vault::ensure_scope`] creates scope keys in memory only.
    pub fn ephemeral(rng: Arc<dyn SecureRandom>) -> Self {
        let mut keys = BTreeMap::new();
        let mut taken = BTreeSet::new();
        for purpose in PLATFORM_PURPOSES {
            let key_id = random_key_id(rng.as_ref(), &taken);
            taken.insert(key_id);
            let meta = Meta {
                key_id,
                scope: PLATFORM_SCOPE,
                purpose,
                version: 1,
            };
            keys.insert(key_id, (meta, DataKey::generate(rng.as_ref())));
        }
        Self::from_keys(None, keys, rng)
            .unwrap_or_else(|_| unreachable!("an ephemeral vault has every platform key"))
    }

    fn from_keys(
        keyring: Option<Keyring>,
        keys: BTreeMap<u32, (Meta, DataKey)>,
        rng: Arc<dyn SecureRandom>,
    ) -> Result<Self, VaultError> {
        let bi = platform_key(&keys, KeyPurpose::BlindIndex)
            .ok_or(VaultError::Missing("blind-index"))?;
        let blind_index = BlindIndex::new(*bi.expose(), BlindIndex::DEFAULT_BITS)
            .map_err(|_| VaultError::Missing("blind-index"))?;
        let code =
            platform_key(&keys, KeyPurpose::CardCode).ok_or(VaultError::Missing("card-code"))?;
        let code_hasher = CodeHasher::new(*code.expose());
        let pseudonym_key = platform_key(&keys, KeyPurpose::Pseudonym)
            .ok_or(VaultError::Missing("ledger pseudonym"))?
            .clone();
        let token_key = platform_key(&keys, KeyPurpose::AccessToken)
            .ok_or(VaultError::Missing("access-token"))?
            .clone();
        if platform_key(&keys, KeyPurpose::LedgerSigning).is_none() {
            return Err(VaultError::Missing("ledger-signing"));
        }
        let state = build_state(keys, rng.clone())?;
        Ok(Self {
            keyring,
            rng,
            blind_index,
            code_hasher,
            pseudonym_key,
            token_key,
            state: RwLock::new(Arc::new(state)),
        })
    }

    /// Loads every stored key (unwrapping it through `provider`) and creates what is missing:
    /// on first start the platform keys, and a sealing key for every insurer already stored.
    pub async fn load(
        store: &dyn Store,
        provider: Arc<dyn KeyProvider>,
        rng: Arc<dyn SecureRandom>,
        clock: &dyn Clock,
    ) -> Result<Self, VaultError> {
        let keyring = Keyring::new(provider);
        for purpose in PLATFORM_PURPOSES {
            create_row(
                store,
                &keyring,
                rng.as_ref(),
                clock,
                PLATFORM_SCOPE,
                purpose,
                1,
            )
            .await?;
        }
        for insurer in store.list_insurers().await? {
            let rows = store.list_data_keys().await?;
            if !rows
                .iter()
                .any(|r| r.scope == insurer.id && r.purpose == KeyPurpose::Seal)
            {
                create_row(
                    store,
                    &keyring,
                    rng.as_ref(),
                    clock,
                    insurer.id,
                    KeyPurpose::Seal,
                    1,
                )
                .await?;
            }
        }
        let rows = store.list_data_keys().await?;
        let mut keys = BTreeMap::new();
        for row in &rows {
            let key = keyring.load(&row.wrapped, row.kek_version)?;
            keys.insert(row.key_id, (Meta::of(row), key));
        }
        Self::from_keys(Some(keyring), keys, rng)
    }

    fn snapshot(&self) -> Arc<State> {
        match self.state.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, state: State) {
        let mut g = match self.state.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g = Arc::new(state);
    }

    /// A sealer confined to `scope` (an insurer id, or [`PLATFORM_SCOPE`]): it seals with the
    /// scope's newest data key and opens only values sealed under one of the scope's keys.
    pub fn sealer(&self, scope: Uuid) -> Result<ScopedSealer, VaultError> {
        self.snapshot()
            .sealer
            .for_scope(scope)
            .map_err(|e| match e {
                EnvelopeError::NoKeyForScope(s) => VaultError::NoKeyForScope(s),
                other => VaultError::Envelope(other),
            })
    }

    /// Whether `scope` has a sealing key.
    pub fn has_scope(&self, scope: Uuid) -> bool {
        self.snapshot().sealer.current_key_id(scope).is_some()
    }

    /// The key id new values of `scope` are sealed with.
    pub fn current_key_id(&self, scope: Uuid) -> Option<u32> {
        self.snapshot().sealer.current_key_id(scope)
    }

    /// The blind index (NIR lookups), [`BlindIndex::DEFAULT_BITS`] wide.
    pub fn blind_index(&self) -> &BlindIndex {
        &self.blind_index
    }

    /// The current card-signing key.
    pub fn card_signer(&self) -> Arc<CardSigningKey> {
        self.snapshot().card_signer.clone()
    }

    /// Every card-signing key version's public key (what `/api/v1/card-keys` publishes).
    pub fn card_keys(&self) -> CardVerifyingKeys {
        self.snapshot().card_keys.clone()
    }

    /// The keyed hash of card verification codes.
    pub fn code_hasher(&self) -> &CodeHasher {
        &self.code_hasher
    }

    /// The key of the keyed hashes of invitation tokens and session ids (`app::accounts`).
    pub fn token_key(&self) -> crate::accounts::TokenKey {
        crate::accounts::TokenKey::from_bytes(*self.token_key.expose())
    }

    /// The ledger pseudonym of a beneficiary: HMAC-SHA-256 under the platform pseudonym key of
    /// a context string, the insurer id and the beneficiary id (16 bytes each). The insurer's
    /// access log and incident scoping recompute it for a known member; the ledger alone links
    /// to no one.
    pub fn pseudonym(&self, insurer_id: Uuid, beneficiary_id: Uuid) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(self.pseudonym_key.expose())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(PSEUDONYM_CONTEXT);
        mac.update(insurer_id.as_bytes());
        mac.update(beneficiary_id.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The newest ledger-signing key, signing notes under `name` (the ledger's origin), and
    /// its version.
    pub fn ledger_signer(&self, name: &str) -> Result<(u32, NoteSigner), VaultError> {
        let snapshot = self.snapshot();
        let (meta, key) = snapshot
            .keys
            .values()
            .filter(|(m, _)| m.scope == PLATFORM_SCOPE && m.purpose == KeyPurpose::LedgerSigning)
            .max_by_key(|(m, _)| m.version)
            .ok_or(VaultError::Missing("ledger-signing"))?;
        let signer = NoteSigner::from_seed(name, key.expose())
            .map_err(|e| VaultError::Refused(format!("ledger origin: {e}")))?;
        Ok((meta.version, signer))
    }

    /// Every ledger-signing key version's verifier key under `name`, oldest version first.
    pub fn ledger_verifiers(&self, name: &str) -> Result<Vec<(u32, NoteVerifier)>, VaultError> {
        let snapshot = self.snapshot();
        let mut out: Vec<(u32, NoteVerifier)> = Vec::new();
        for (m, k) in snapshot.keys.values() {
            if m.scope == PLATFORM_SCOPE && m.purpose == KeyPurpose::LedgerSigning {
                let signer = NoteSigner::from_seed(name, k.expose())
                    .map_err(|e| VaultError::Refused(format!("ledger origin: {e}")))?;
                out.push((m.version, signer.verifier()));
            }
        }
        out.sort_by_key(|(v, _)| *v);
        Ok(out)
    }

    /// Makes sure `insurer_id` has a sealing data key, creating and storing one (wrapped) if
    /// not. Call it when an insurer is created; idempotent and safe against a concurrent
    /// creator (another process).
    pub async fn ensure_scope(&self, ports: &Ports, insurer_id: Uuid) -> Result<(), VaultError> {
        if self.has_scope(insurer_id) {
            return Ok(());
        }
        let Some(keyring) = &self.keyring else {
            return self.add_ephemeral_scope(insurer_id);
        };
        create_row(
            ports.store.as_ref(),
            keyring,
            self.rng.as_ref(),
            ports.clock.as_ref(),
            insurer_id,
            KeyPurpose::Seal,
            1,
        )
        .await?;
        self.refresh(ports.store.as_ref()).await
    }

    /// An in-memory sealing key for `scope` (ephemeral vaults only).
    pub fn add_ephemeral_scope(&self, scope: Uuid) -> Result<(), VaultError> {
        if self.keyring.is_some() {
            return Err(VaultError::Refused(
                "a persistent vault creates scopes with ensure_scope".into(),
            ));
        }
        if self.has_scope(scope) {
            return Ok(());
        }
        let snapshot = self.snapshot();
        let mut keys = snapshot.keys.clone();
        let taken = keys.keys().copied().collect();
        let key_id = random_key_id(self.rng.as_ref(), &taken);
        let meta = Meta {
            key_id,
            scope,
            purpose: KeyPurpose::Seal,
            version: 1,
        };
        keys.insert(key_id, (meta, DataKey::generate(self.rng.as_ref())));
        self.replace(build_state(keys, self.rng.clone())?);
        Ok(())
    }

    /// Re-reads the key table: unwraps keys created by another process (a new insurer, a
    /// new data-key version) and forgets shredded ones. A running server calls it
    /// periodically.
    pub async fn refresh(&self, store: &dyn Store) -> Result<(), VaultError> {
        let Some(keyring) = &self.keyring else {
            return Ok(());
        };
        let rows = store.list_data_keys().await?;
        let old = self.snapshot();
        let mut keys = BTreeMap::new();
        for row in &rows {
            let meta = Meta::of(row);
            let key = match old.keys.get(&row.key_id) {
                Some((m, k)) if *m == meta => k.clone(),
                _ => keyring.load(&row.wrapped, row.kek_version)?,
            };
            keys.insert(row.key_id, (meta, key));
        }
        if keys.len() == old.keys.len() && keys.keys().eq(old.keys.keys()) {
            return Ok(());
        }
        self.replace(build_state(keys, self.rng.clone())?);
        Ok(())
    }

    fn keyring(&self) -> Result<&Keyring, VaultError> {
        self.keyring.as_ref().ok_or(VaultError::Ephemeral)
    }

    /// `rempart keys rotate`: creates KEK version `current + 1` and re-wraps every data key
    /// under it. Online (older KEK versions keep unwrapping) and resumable: when some data
    /// keys are still under an older version (an interrupted rotation), it finishes moving
    /// them to the current version instead of creating another one.
    pub async fn rotate_kek(&self, store: &dyn Store) -> Result<RotateReport, VaultError> {
        let keyring = self.keyring()?;
        let provider = keyring.provider();
        let rows = store.list_data_keys().await?;
        let current = match provider.current_version() {
            Ok(v) => Some(v),
            Err(KeyError::NoVersion) => None,
            Err(e) => return Err(e.into()),
        };
        let (to, created) = match current {
            Some(v) if rows.iter().any(|r| r.kek_version != v) => (v, false),
            _ => (provider.create_version()?, true),
        };
        let mut report = RotateReport {
            kek_version: to,
            created,
            rewrapped: 0,
            already: 0,
        };
        for row in rows {
            if row.kek_version == to {
                report.already += 1;
                continue;
            }
            let wrapped = keyring.rewrap(&row.wrapped, row.kek_version, to)?;
            if store
                .rewrap_data_key(row.key_id, row.kek_version, to, &wrapped)
                .await?
            {
                report.rewrapped += 1;
            } else {
                report.already += 1;
            }
        }
        Ok(report)
    }

    /// `rempart keys retire --kek-version N`: destroys KEK version `kek_version` (file
    /// deleted, token object destroyed). Refused while it is the current version or while any
    /// data key is still wrapped under it.
    pub async fn retire_kek(&self, store: &dyn Store, kek_version: u32) -> Result<(), VaultError> {
        let provider = self.keyring()?.provider();
        if !provider.versions()?.contains(&kek_version) {
            return Err(KeyError::UnknownVersion(kek_version).into());
        }
        if provider.current_version()? == kek_version {
            return Err(VaultError::Refused(format!(
                "KEK version {kek_version} is the current version; run `rempart keys rotate` first"
            )));
        }
        let still = store
            .list_data_keys()
            .await?
            .iter()
            .filter(|r| r.kek_version == kek_version)
            .count();
        if still > 0 {
            return Err(VaultError::Refused(format!(
                "{still} data key(s) are still wrapped under KEK version {kek_version}; run `rempart keys rotate` to finish moving them"
            )));
        }
        provider.destroy_version(kek_version)?;
        Ok(())
    }

    /// `rempart keys shred --insurer …`: destroys every data key of `scope`; every copy of
    /// its sealed values (backups included, once the KEK versions that wrapped the keys are
    /// retired) becomes unreadable. Answers how many keys were destroyed.
    pub async fn shred(&self, store: &dyn Store, scope: Uuid) -> Result<u64, VaultError> {
        if scope == PLATFORM_SCOPE {
            return Err(VaultError::Refused(
                "the platform scope cannot be shredded".into(),
            ));
        }
        let n = store.delete_data_keys(scope).await?;
        self.refresh(store).await?;
        Ok(n)
    }

    /// Starts (or resumes) a re-seal: every scope whose sealing keys are all retired but the
    /// newest gets a new data-key version; a scope with a re-seal in progress (an older
    /// version not yet retired) keeps its newest version. Answers the scopes' current key ids.
    pub async fn new_seal_versions(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
    ) -> Result<BTreeMap<Uuid, u32>, VaultError> {
        let keyring = self.keyring()?;
        let rows = store.list_data_keys().await?;
        let mut by_scope: BTreeMap<Uuid, Vec<&DataKeyRow>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.purpose == KeyPurpose::Seal) {
            by_scope.entry(r.scope).or_default().push(r);
        }
        for (scope, keys) in &by_scope {
            let newest = keys.iter().map(|r| r.version).max().unwrap_or(0);
            let in_progress = keys
                .iter()
                .any(|r| r.version != newest && r.retired_at.is_none());
            if !in_progress {
                create_row(
                    store,
                    keyring,
                    self.rng.as_ref(),
                    clock,
                    *scope,
                    KeyPurpose::Seal,
                    newest + 1,
                )
                .await?;
            }
        }
        self.refresh(store).await?;
        let snapshot = self.snapshot();
        Ok(by_scope
            .keys()
            .filter_map(|s| snapshot.sealer.current_key_id(*s).map(|k| (*s, k)))
            .collect())
    }

    /// Re-encrypts every beneficiary (per insurer) and practice IBAN not sealed under its
    /// scope's newest data key, `batch` rows per transaction, then retires the scope's older
    /// sealing keys. Resumable: rows already under the newest key are skipped (their key id
    /// is read from the sealed header). `progress` is called after each batch.
    pub async fn reseal(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        batch: u32,
        progress: &mut (dyn FnMut(&ResealReport) + Send),
    ) -> Result<ResealReport, VaultError> {
        let batch = batch.max(1);
        let mut report = ResealReport::default();
        for insurer in store.list_insurers().await? {
            let Ok(sealer) = self.sealer(insurer.id) else {
                // Shredded (or never had data): nothing to re-seal that could open.
                continue;
            };
            let Some(current) = self.current_key_id(insurer.id) else {
                continue;
            };
            let mut after = None;
            loop {
                let page = store
                    .list_beneficiaries_page(insurer.id, after, batch)
                    .await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                let mut changed = Vec::new();
                for record in &page {
                    report.scanned += 1;
                    if sealed_key_version(&record.nir_sealed).ok() == Some(current) {
                        report.skipped += 1;
                        continue;
                    }
                    match beneficiaries::reseal_record(self, &sealer, record) {
                        Ok(r) => changed.push(r),
                        Err(_) => report.unreadable += 1,
                    }
                }
                report.resealed += changed.len() as u64;
                store.update_beneficiary_seals(&changed).await?;
                progress(&report);
            }
            self.retire_older_seal_keys(store, clock, insurer.id, current)
                .await?;
        }
        // Practices' IBANs, platform scope.
        let sealer = self.sealer(PLATFORM_SCOPE)?;
        if let Some(current) = self.current_key_id(PLATFORM_SCOPE) {
            let mut after = None;
            loop {
                let page = store.list_practices_page(after, batch).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                for p in &page {
                    report.scanned += 1;
                    if sealed_key_version(&p.iban_sealed).ok() == Some(current) {
                        report.skipped += 1;
                        continue;
                    }
                    let field = FieldRef::new(PRACTICE_IBAN.0, PRACTICE_IBAN.1, p.id);
                    let Ok(clear) = sealer.open(&field, &p.iban_sealed) else {
                        report.unreadable += 1;
                        continue;
                    };
                    let sealed = sealer.seal(&field, &clear)?;
                    store.update_practice_iban(p.id, &sealed).await?;
                    report.resealed += 1;
                }
                progress(&report);
            }
            self.retire_older_seal_keys(store, clock, PLATFORM_SCOPE, current)
                .await?;
        }
        Ok(report)
    }

    async fn retire_older_seal_keys(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
        scope: Uuid,
        current: u32,
    ) -> Result<(), VaultError> {
        for r in store.list_data_keys().await? {
            if r.scope == scope
                && r.purpose == KeyPurpose::Seal
                && r.key_id != current
                && r.retired_at.is_none()
            {
                store.retire_data_key(r.key_id, clock.now()).await?;
            }
        }
        Ok(())
    }

    /// `rempart keys status`: KEK versions, data keys and rows per key id. No secret.
    pub async fn status(&self, store: &dyn Store) -> Result<KeyStatus, VaultError> {
        let (provider, kek_versions, current_kek) = match &self.keyring {
            Some(k) => (
                k.provider().describe(),
                k.provider().versions()?,
                k.provider().current_version().ok(),
            ),
            None => ("ephemeral".to_string(), Vec::new(), None),
        };
        let keys = store
            .list_data_keys()
            .await?
            .into_iter()
            .map(|r| KeyInfo {
                key_id: r.key_id,
                scope: r.scope,
                purpose: r.purpose.code(),
                version: r.version,
                kek_version: r.kek_version,
                created_at: r.created_at,
                retired_at: r.retired_at,
            })
            .collect();
        Ok(KeyStatus {
            provider,
            kek_versions,
            current_kek,
            blind_index_bits: self.blind_index.bits(),
            keys,
            rows: store.sealed_key_counts().await?,
        })
    }
}

/// Creates `(scope, purpose, version)` (a fresh random secret, wrapped with the current KEK)
/// unless it exists. Safe against a concurrent creator: a duplicate version means someone
/// else created it; a duplicate key id draws another.
async fn create_row(
    store: &dyn Store,
    keyring: &Keyring,
    rng: &dyn SecureRandom,
    clock: &dyn Clock,
    scope: Uuid,
    purpose: KeyPurpose,
    version: u32,
) -> Result<(), VaultError> {
    for _ in 0..8 {
        let rows = store.list_data_keys().await?;
        if rows
            .iter()
            .any(|r| r.scope == scope && r.purpose == purpose && r.version == version)
        {
            return Ok(());
        }
        let taken = rows.iter().map(|r| r.key_id).collect();
        let generated = keyring.generate_data_key(rng)?;
        let row = DataKeyRow {
            key_id: random_key_id(rng, &taken),
            scope,
            purpose,
            version,
            kek_version: generated.kek_version,
            wrapped: generated.wrapped,
            created_at: clock.now(),
            retired_at: None,
        };
        match store.insert_data_key(&row).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) | Err(StoreError::Retryable) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(VaultError::Contended)
}

/// What [`Vault::rotate_kek`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RotateReport {
    pub kek_version: u32,
    /// Whether this run created the KEK version (false: it resumed an interrupted rotation).
    pub created: bool,
    pub rewrapped: u64,
    pub already: u64,
}

/// Progress and outcome of [`Vault::reseal`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResealReport {
    pub scanned: u64,
    pub resealed: u64,
    pub skipped: u64,
    /// Rows whose key is gone (shredded): left as they are.
    pub unreadable: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub key_id: u32,
    pub scope: Uuid,
    pub purpose: &'static str,
    pub version: u32,
    pub kek_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
}

/// The key status; no secret in it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyStatus {
    pub provider: String,
    pub kek_versions: Vec<u32>,
    pub current_kek: Option<u32>,
    pub blind_index_bits: u8,
    pub keys: Vec<KeyInfo>,
    #[serde(serialize_with = "ser_rows")]
    pub rows: Vec<SealedKeyCount>,
}

fn ser_rows<S: serde::Serializer>(rows: &[SealedKeyCount], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(rows.len()))?;
    for r in rows {
        seq.serialize_element(&serde_json::json!({
            "table": r.table, "key_id": r.key_id, "rows": r.rows
        }))?;
    }
    seq.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::SeededRandom;

    #[test]
    fn ephemeral_vault_has_platform_keys_and_scoped_sealers() {
        let vault = Vault::ephemeral(Arc::new(SeededRandom::new(1)));
        assert!(vault.has_scope(PLATFORM_SCOPE));
        assert!(vault.sealer(Uuid::from_u128(7)).is_err());
        assert_eq!(vault.blind_index().bits(), 20);
        assert_eq!(vault.card_keys().kids().count(), 1);
        let dbg = format!("{vault:?}");
        assert!(!dbg.contains("key:"), "{dbg}");
    }
}

#[cfg(test)]
mod swap_tests {
    //! T3.2: a ciphertext moved to another row, column, scope (insurer) or key version never
    //! opens.
    use super::*;
    use crypto::SeededRandom;
    use proptest::prelude::*;

    const COLUMNS: [&str; 5] = [
        "nir",
        "last_name",
        "first_name",
        "birth_date",
        "marital_status",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_swap_fails(seed in any::<u64>(), col_a in 0usize..5, col_b in 0usize..5,
                            row_a in any::<u128>(), row_b in any::<u128>(), text in "[A-Z]{1,20}") {
            let vault = Vault::ephemeral(Arc::new(SeededRandom::new(seed)));
            let (a, b) = (Uuid::from_u128(0xA), Uuid::from_u128(0xB));
            vault.add_ephemeral_scope(a).unwrap();
            vault.add_ephemeral_scope(b).unwrap();
            let sa = vault.sealer(a).unwrap();
            let sb = vault.sealer(b).unwrap();
            let field_a = FieldRef::new("beneficiaries", COLUMNS[col_a], Uuid::from_u128(row_a));
            let field_b = FieldRef::new("beneficiaries", COLUMNS[col_b], Uuid::from_u128(row_b));
            let sealed = sa.seal(&field_a, text.as_bytes()).unwrap();
            prop_assert_eq!(&sa.open(&field_a, &sealed).unwrap()[..], text.as_bytes());
            // Another row or column of the same insurer.
            if col_a != col_b || row_a != row_b {
                prop_assert!(sa.open(&field_b, &sealed).is_err());
            }
            // The same place, another insurer.
            prop_assert!(sb.open(&field_a, &sealed).is_err());
            // Relabelled with another key id (another insurer's or the platform's).
            for other in [vault.current_key_id(b).unwrap(), vault.current_key_id(PLATFORM_SCOPE).unwrap()] {
                let mut moved = sealed.clone();
                moved[1..5].copy_from_slice(&other.to_be_bytes());
                prop_assert!(sa.open(&field_a, &moved).is_err());
                prop_assert!(sb.open(&field_a, &moved).is_err());
            }
        }
    }
}
