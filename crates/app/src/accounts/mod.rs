//! Access: invitations, passkeys (WebAuthn, user verification required), ceremonies, sessions,
//! and the authorisation of every use case of this module.
//!
//! - **No password.** An account is created only by enrolling a passkey through a one-time
//!   invitation (72 h, single use). The invitation token (256 random bits) appears only in the
//!   link; the store keeps a keyed hash of it ([`TokenKey`]).
//! - **Ceremony state** (webauthn-rs state, JSON) is kept in the store, for 5 minutes, and
//!   deleted on first use, whatever the outcome: a state cannot be replayed.
//! - **Sessions** have a 256-bit random id (the cookie value); the store keeps its keyed hash.
//!   Idle timeout 15 min, absolute 12 h (configurable); a fresh session at every sign-in;
//!   deleted at logout. `last_uv_at` records the last user-verified assertion, for step-up.
//! - **Authorisation** is decided here, once: [`Actor`] is who asks, [`policy`] says what they
//!   may do, and an object of another organisation is `NotFound`, exactly like a missing one.
//!
//! Time comes from the `Clock` port and randomness from the `SecureRandom` port.

pub mod memory;
pub mod policy;

use crate::Ports;
use crate::store::{
    AccountRecord, AccountStatus, CeremonyRecord, CredentialRecord, InvitationRecord,
    OrganisationRecord, ProfessionalRecord, SessionRecord, StoreError,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::accounts::{OrganisationKind, ProfessionalId, Role};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};

/// The WebAuthn wire types the HTTP layer carries (JSON, as any WebAuthn client sends them).
pub use webauthn_rs::prelude::{
    CreationChallengeResponse as CreationOptions, PublicKeyCredential as Assertion,
    RegisterPublicKeyCredential as Attestation, RequestChallengeResponse as RequestOptions,
};

/// Ceremony kinds (`ceremonies.kind`).
pub const CEREMONY_ENROL: &str = "enrol";
pub const CEREMONY_LOGIN: &str = "login";
pub const CEREMONY_STEP_UP: &str = "step_up";
pub const CEREMONY_ADD_PASSKEY: &str = "add_passkey";

/// Settings of access, from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// WebAuthn relying-party id: the registrable domain (`localhost` in the demo).
    pub rp_id: String,
    /// The origin the pages are served from (`https://rempart.example.fr`, or
    /// `http://localhost:PORT` in the demo). Assertions made for any other origin are refused.
    pub rp_origin: String,
    /// The name shown by authenticators.
    pub rp_name: String,
    /// Where invitation links point (`<public_url>/enrol?invitation=…`); usually `rp_origin`.
    pub public_url: String,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// How fresh a user-verified assertion must be for a sensitive action.
    pub step_up_window: Duration,
    pub ceremony_ttl: Duration,
    pub invitation_ttl: Duration,
}

impl AccessConfig {
    /// The defaults for `origin` (rp id = its host): idle 15 min, absolute 12 h, step-up 5 min,
    /// ceremonies 5 min, invitations 72 h.
    pub fn for_origin(rp_id: &str, rp_origin: &str) -> Self {
        Self {
            rp_id: rp_id.to_string(),
            rp_origin: rp_origin.trim_end_matches('/').to_string(),
            rp_name: "rempart".to_string(),
            public_url: rp_origin.trim_end_matches('/').to_string(),
            session_idle: Duration::minutes(15),
            session_absolute: Duration::hours(12),
            step_up_window: Duration::minutes(5),
            ceremony_ttl: Duration::minutes(5),
            invitation_ttl: Duration::hours(72),
        }
    }

    /// Whether the origin is `https` (the cookie then is `__Host-rempart`, `Secure`).
    pub fn is_https(&self) -> bool {
        self.rp_origin.starts_with("https://")
    }
}

/// The key of the keyed hashes of invitation tokens and session ids. `Debug` hides it.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// `HMAC-SHA-256(key, "rempart/token/v1\0" ‖ purpose ‖ 0x00 ‖ token)`.
    pub fn hash(&self, purpose: &str, token: &str) -> Vec<u8> {
        // HMAC accepts keys of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) else {
            return Vec::new();
        };
        mac.update(b"rempart/token/v1\0");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// No valid session (missing, unknown, logged out, idle or past its absolute limit).
    #[error("not signed in")]
    Unauthenticated,
    /// The role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// A fresh user-verified assertion is needed (step-up).
    #[error("step-up required")]
    StepUpRequired,
    /// Missing, or of another organisation (the same answer).
    #[error("not found")]
    NotFound,
    /// Unknown, used or expired invitation (the same answer).
    #[error("invalid invitation")]
    InvalidInvitation,
    /// Unknown, used or expired ceremony, or an assertion/attestation that does not verify.
    #[error("ceremony failed")]
    CeremonyFailed,
    /// The request is well formed but not acceptable; the text is safe to show.
    #[error("{0}")]
    Invalid(String),
    /// The account's last passkey cannot be removed.
    #[error("last passkey")]
    LastPasskey,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Unexpected (serialisation, configuration); never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// Who is asking: an account signed in with a passkey (a later engineer adds machine
/// identities from client certificates, with `session_id: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    pub display_name: String,
    /// The session (for passkey sign-ins).
    pub session_id: Option<Uuid>,
    /// The passkey (`CredentialRecord::id`) that opened the session.
    pub credential_id: Option<Uuid>,
    /// The last user-verified assertion of this session.
    pub last_uv_at: Option<OffsetDateTime>,
}

impl Actor {
    pub fn is_operator(&self) -> bool {
        self.role.organisation_kind() == OrganisationKind::Operator
    }
}

/// Refuses unless the actor's session holds a user-verified assertion at most `window` old.
pub fn require_step_up(
    actor: &Actor,
    now: OffsetDateTime,
    window: Duration,
) -> Result<(), AccessError> {
    match actor.last_uv_at {
        Some(at) if now - at <= window && at <= now => Ok(()),
        _ => Err(AccessError::StepUpRequired),
    }
}

/// What [`Access::purge_expired`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub access: crate::store::AccessPurge,
    pub idempotency: u64,
}

/// A new session: `token` is the cookie value, given once, never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: SessionRecord,
    pub account: AccountRecord,
}

/// What to invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRequest {
    pub role: Role,
    pub organisation_id: Uuid,
    pub display_name: Option<String>,
    pub professional_id: Option<ProfessionalId>,
}

/// A new invitation: `token` goes only into `link`.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub id: Uuid,
    pub token: String,
    pub link: String,
    pub role: Role,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub display_name: Option<String>,
    pub professional_id: Option<ProfessionalId>,
    pub expires_at: OffsetDateTime,
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyInfo {
    pub id: Uuid,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

impl From<&CredentialRecord> for PasskeyInfo {
    fn from(c: &CredentialRecord) -> Self {
        Self {
            id: c.id,
            label: c.label.clone(),
            created_at: c.created_at,
            last_used_at: c.last_used_at,
        }
    }
}

/// The access use cases over the ports.
#[derive(Clone)]
pub struct Access {
    ports: Ports,
    config: Arc<AccessConfig>,
    webauthn: Arc<Webauthn>,
    key: TokenKey,
}

fn internal(e: impl std::fmt::Display) -> AccessError {
    AccessError::Internal(e.to_string())
}

impl Access {
    /// Checks the relying party (the rp id must be the origin's host or a parent of it).
    pub fn new(ports: Ports, config: AccessConfig, key: TokenKey) -> Result<Self, AccessError> {
        let origin = Url::parse(&config.rp_origin)
            .map_err(|_| AccessError::Invalid("rp_origin is not a URL".into()))?;
        let webauthn = WebauthnBuilder::new(&config.rp_id, &origin)
            .map_err(|_| {
                AccessError::Invalid("rp_id must be the host of rp_origin or a parent".into())
            })?
            .rp_name(&config.rp_name)
            .build()
            .map_err(internal)?;
        Ok(Self {
            ports,
            config: Arc::new(config),
            webauthn: Arc::new(webauthn),
            key,
        })
    }

    pub fn config(&self) -> &AccessConfig {
        &self.config
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    fn now(&self) -> OffsetDateTime {
        self.ports.clock.now()
    }

    /// 256 random bits, base64url without padding (43 characters).
    fn random_token(&self) -> String {
        let mut bytes = [0u8; 32];
        self.ports.rng.fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The synchronizer token of a session for HTML forms (a keyed hash of the session id):
    /// pages put it in a hidden field; [`Access::check_form_token`] verifies it.
    pub fn form_token(&self, session_token: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.key.hash("form", session_token))
    }

    /// Constant-time check of a form's synchronizer token.
    pub fn check_form_token(&self, session_token: &str, presented: &str) -> bool {
        let expected = self.form_token(session_token);
        expected.len() == presented.len()
            && expected
                .bytes()
                .zip(presented.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Refuses unless the actor's session stepped up within the configured window.
    pub fn require_step_up(&self, actor: &Actor) -> Result<(), AccessError> {
        require_step_up(actor, self.now(), self.config.step_up_window)
    }

    // ---- invitations

    /// Makes an invitation. `by`: the operator console's actor (must be an operator
    /// administrator who stepped up); `None`: the command line or the demo (local operator).
    pub async fn invite(
        &self,
        by: Option<&Actor>,
        request: InviteRequest,
    ) -> Result<NewInvitation, AccessError> {
        if let Some(actor) = by {
            policy::may_invite(actor)?;
            self.require_step_up(actor)?;
        }
        let org = match self
            .ports
            .store
            .get_organisation(request.organisation_id)
            .await
        {
            Ok(org) => org,
            Err(StoreError::NotFound) => return Err(AccessError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if org.kind != request.role.organisation_kind() {
            return Err(AccessError::Invalid(format!(
                "a {} account belongs to an organisation of kind {}",
                request.role,
                request.role.organisation_kind()
            )));
        }
        let display_name = request
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        if display_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 200)
        {
            return Err(AccessError::Invalid(
                "the display name is longer than 200 characters".into(),
            ));
        }
        let mut account_id = None;
        match (&request.role, &request.professional_id) {
            (Role::Professional, None) => {
                return Err(AccessError::Invalid(
                    "a professional invitation needs the RPPS or ADELI number checked by the operator".into(),
                ));
            }
            (Role::Professional, Some(pid)) => {
                if let Some(p) = self
                    .ports
                    .store
                    .find_professional_by_national_id(pid)
                    .await?
                {
                    if p.practice_id != org.id {
                        return Err(AccessError::Invalid(
                            "this professional belongs to another practice".into(),
                        ));
                    }
                    // A new invitation for a known professional binds a passkey to their
                    // existing account (recovery): never a second account.
                    account_id = self
                        .ports
                        .store
                        .list_accounts(org.id)
                        .await?
                        .into_iter()
                        .find(|a| a.professional_id == Some(p.id))
                        .map(|a| a.id);
                } else if display_name.is_none() {
                    return Err(AccessError::Invalid(
                        "a new professional needs a display name".into(),
                    ));
                }
            }
            (_, Some(_)) => {
                return Err(AccessError::Invalid(
                    "only professional invitations carry an RPPS or ADELI number".into(),
                ));
            }
            (_, None) => {}
        }
        self.insert_invitation(
            by.map(|a| a.account_id),
            &org,
            request.role,
            display_name,
            request.professional_id,
            account_id,
        )
        .await
    }

    /// Makes an invitation that binds a passkey to an existing account (recovery, the demo).
    pub async fn invite_account(
        &self,
        by: Option<&Actor>,
        account_id: Uuid,
    ) -> Result<NewInvitation, AccessError> {
        if let Some(actor) = by {
            policy::may_invite(actor)?;
            self.require_step_up(actor)?;
        }
        let account = match self.ports.store.get_account(account_id).await {
            Ok(a) => a,
            Err(StoreError::NotFound) => return Err(AccessError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let org = self
            .ports
            .store
            .get_organisation(account.organisation_id)
            .await?;
        self.insert_invitation(
            by.map(|a| a.account_id),
            &org,
            account.role,
            Some(account.display_name.clone()),
            None,
            Some(account.id),
        )
        .await
    }

    async fn insert_invitation(
        &self,
        created_by: Option<Uuid>,
        org: &OrganisationRecord,
        role: Role,
        display_name: Option<String>,
        professional_id: Option<ProfessionalId>,
        account_id: Option<Uuid>,
    ) -> Result<NewInvitation, AccessError> {
        let now = self.now();
        let token = self.random_token();
        let record = InvitationRecord {
            id: self.ports.new_id(),
            token_hash: self.key.hash("invitation", &token),
            role,
            organisation_id: org.id,
            display_name: display_name.clone(),
            professional_id: professional_id.clone(),
            account_id,
            created_by,
            created_at: now,
            expires_at: now + self.config.invitation_ttl,
            used_at: None,
        };
        self.ports.store.insert_invitation(&record).await?;
        tracing::info!(invitation = %record.id, role = %role, organisation = %org.id, "invitation made");
        Ok(NewInvitation {
            id: record.id,
            link: format!(
                "{}/enrol?invitation={token}",
                self.config.public_url.trim_end_matches('/')
            ),
            token,
            role,
            organisation_id: org.id,
            organisation_name: org.name.clone(),
            display_name,
            professional_id,
            expires_at: record.expires_at,
        })
    }

    /// What an unused, unexpired invitation is for (the enrolment page shows it before the
    /// passkey is created): the invitation and its organisation. Changes nothing.
    pub async fn invitation_preview(
        &self,
        token: &str,
    ) -> Result<(InvitationRecord, OrganisationRecord), AccessError> {
        let invitation = self.valid_invitation(token).await?;
        let org = self
            .ports
            .store
            .get_organisation(invitation.organisation_id)
            .await?;
        Ok((invitation, org))
    }

    /// The invitation of `token` if it is unused and unexpired.
    async fn valid_invitation(&self, token: &str) -> Result<InvitationRecord, AccessError> {
        if token.is_empty() || token.len() > 128 {
            return Err(AccessError::InvalidInvitation);
        }
        let hash = self.key.hash("invitation", token);
        match self.ports.store.find_invitation(&hash).await? {
            Some(i) if i.used_at.is_none() && self.now() < i.expires_at => Ok(i),
            _ => Err(AccessError::InvalidInvitation),
        }
    }

    // ---- ceremonies

    async fn put_ceremony(
        &self,
        id: Uuid,
        kind: &str,
        state: &impl Serialize,
        account_id: Option<Uuid>,
        session_id: Option<Uuid>,
    ) -> Result<(), AccessError> {
        let now = self.now();
        let record = CeremonyRecord {
            id,
            kind: kind.to_string(),
            state: serde_json::to_string(state).map_err(internal)?,
            account_id,
            session_id,
            created_at: now,
            expires_at: now + self.config.ceremony_ttl,
        };
        self.ports.store.insert_ceremony(&record).await?;
        Ok(())
    }

    /// Takes (deletes) the ceremony: it must exist, be of `kind` and unexpired.
    async fn take_ceremony<T: serde::de::DeserializeOwned>(
        &self,
        id: Uuid,
        kind: &str,
    ) -> Result<(CeremonyRecord, T), AccessError> {
        let record = self
            .ports
            .store
            .take_ceremony(id)
            .await?
            .ok_or(AccessError::CeremonyFailed)?;
        if record.kind != kind || self.now() >= record.expires_at {
            return Err(AccessError::CeremonyFailed);
        }
        let state = serde_json::from_str(&record.state).map_err(internal)?;
        Ok((record, state))
    }

    fn creation_options(
        &self,
        account_id: Uuid,
        name: &str,
        exclude: Vec<Vec<u8>>,
    ) -> Result<(CreationChallengeResponse, PasskeyRegistration), AccessError> {
        let exclude = if exclude.is_empty() {
            None
        } else {
            Some(exclude)
        };
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(account_id, name, name, exclude)
            .map_err(internal)?;
        // Resident (discoverable) keys preferred, so that sign-in needs no user name (the
        // type is not re-exported by webauthn-rs: patch the JSON form).
        let mut value = serde_json::to_value(&ccr).map_err(internal)?;
        if let Some(sel) = value
            .get_mut("publicKey")
            .and_then(|p| p.get_mut("authenticatorSelection"))
            .and_then(|s| s.as_object_mut())
        {
            sel.insert("residentKey".into(), "preferred".into());
        }
        let ccr = serde_json::from_value(value).map_err(internal)?;
        Ok((ccr, state))
    }

    // ---- enrolment

    /// Starts enrolment from an invitation: the passkey creation options.
    pub async fn enrol_start(&self, token: &str) -> Result<CreationChallengeResponse, AccessError> {
        let invitation = self.valid_invitation(token).await?;
        let (account_id, exclude) = match invitation.account_id {
            Some(id) => (id, self.credential_ids(id).await?),
            None => (self.ports.new_id(), Vec::new()),
        };
        let name = invitation
            .display_name
            .clone()
            .unwrap_or_else(|| invitation.role.code().to_string());
        let (ccr, state) = self.creation_options(account_id, &name, exclude)?;
        // One pending ceremony per invitation: a new start replaces the previous one.
        self.ports.store.take_ceremony(invitation.id).await?;
        self.put_ceremony(
            invitation.id,
            CEREMONY_ENROL,
            &state,
            Some(account_id),
            None,
        )
        .await?;
        Ok(ccr)
    }

    /// Finishes enrolment: verifies the new passkey, uses up the invitation, creates the
    /// account (unless the invitation names one) and opens a session.
    pub async fn enrol_finish(
        &self,
        token: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<NewSession, AccessError> {
        let invitation = self.valid_invitation(token).await?;
        let (ceremony, state): (_, PasskeyRegistration) =
            self.take_ceremony(invitation.id, CEREMONY_ENROL).await?;
        let account_id = ceremony.account_id.ok_or(AccessError::CeremonyFailed)?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(|_| AccessError::CeremonyFailed)?;
        let now = self.now();
        match self.ports.store.use_invitation(invitation.id, now).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Err(AccessError::InvalidInvitation),
            Err(e) => return Err(e.into()),
        }
        let account = match invitation.account_id {
            Some(id) => self.ports.store.get_account(id).await?,
            None => self.create_account(&invitation, account_id, now).await?,
        };
        let credential = self
            .store_passkey(account.id, &passkey, "passkey 1", now)
            .await?;
        tracing::info!(invitation = %invitation.id, account = %account.id, "enrolled");
        self.open_session(account, credential.id, now).await
    }

    async fn create_account(
        &self,
        invitation: &InvitationRecord,
        account_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<AccountRecord, AccessError> {
        let display_name = invitation
            .display_name
            .clone()
            .unwrap_or_else(|| invitation.role.code().to_string());
        let professional_id = match &invitation.professional_id {
            None => None,
            Some(pid) => Some(
                match self
                    .ports
                    .store
                    .find_professional_by_national_id(pid)
                    .await?
                {
                    Some(p) if p.practice_id == invitation.organisation_id => p.id,
                    Some(_) => return Err(AccessError::InvalidInvitation),
                    None => {
                        let practice = self
                            .ports
                            .store
                            .get_practice(invitation.organisation_id)
                            .await?;
                        let p = ProfessionalRecord {
                            id: self.ports.new_id(),
                            practice_id: practice.id,
                            national_id: pid.clone(),
                            profession: practice.profession,
                            display_name: display_name.clone(),
                            created_at: now,
                        };
                        self.ports.store.insert_professional(&p).await?;
                        p.id
                    }
                },
            ),
        };
        let account = AccountRecord {
            id: account_id,
            organisation_id: invitation.organisation_id,
            role: invitation.role,
            display_name,
            professional_id,
            status: AccountStatus::Active,
            created_at: now,
        };
        self.ports.store.insert_account(&account).await?;
        Ok(account)
    }

    async fn credential_ids(&self, account_id: Uuid) -> Result<Vec<Vec<u8>>, AccessError> {
        Ok(self
            .ports
            .store
            .list_credentials(account_id)
            .await?
            .into_iter()
            .map(|c| c.credential_id)
            .collect())
    }

    async fn store_passkey(
        &self,
        account_id: Uuid,
        passkey: &Passkey,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<CredentialRecord, AccessError> {
        let record = CredentialRecord {
            id: self.ports.new_id(),
            account_id,
            credential_id: passkey.cred_id().to_vec(),
            passkey: serde_json::to_string(passkey).map_err(internal)?,
            label: label.to_string(),
            created_at: now,
            last_used_at: Some(now),
        };
        match self.ports.store.insert_credential(&record).await {
            Ok(()) => Ok(record),
            Err(StoreError::Conflict { .. }) => Err(AccessError::CeremonyFailed),
            Err(e) => Err(e.into()),
        }
    }

    // ---- sessions

    async fn open_session(
        &self,
        account: AccountRecord,
        credential_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<NewSession, AccessError> {
        if account.status != AccountStatus::Active {
            return Err(AccessError::Unauthenticated);
        }
        let token = self.random_token();
        let session = SessionRecord {
            id: self.ports.new_id(),
            token_hash: self.key.hash("session", &token),
            account_id: account.id,
            credential_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.config.session_absolute,
            last_uv_at: now,
        };
        self.ports.store.insert_session(&session).await?;
        Ok(NewSession {
            token,
            session,
            account,
        })
    }

    /// The actor of a session cookie value; `Unauthenticated` when unknown, logged out, idle
    /// past its limit or past its absolute end (an expired session is deleted).
    pub async fn authenticate(&self, token: &str) -> Result<Actor, AccessError> {
        if token.is_empty() || token.len() > 128 {
            return Err(AccessError::Unauthenticated);
        }
        let hash = self.key.hash("session", token);
        let session = self
            .ports
            .store
            .find_session(&hash)
            .await?
            .ok_or(AccessError::Unauthenticated)?;
        let now = self.now();
        if now >= session.expires_at || now - session.last_seen_at > self.config.session_idle {
            self.ports.store.delete_session(session.id).await?;
            return Err(AccessError::Unauthenticated);
        }
        let account = match self.ports.store.get_account(session.account_id).await {
            Ok(a) if a.status == AccountStatus::Active => a,
            Ok(_) | Err(StoreError::NotFound) => {
                self.ports.store.delete_session(session.id).await?;
                return Err(AccessError::Unauthenticated);
            }
            Err(e) => return Err(e.into()),
        };
        // Sliding idle timeout; at most one write a minute per session.
        if now - session.last_seen_at >= Duration::minutes(1) {
            self.ports.store.touch_session(session.id, now).await?;
        }
        Ok(Actor {
            account_id: account.id,
            organisation_id: account.organisation_id,
            role: account.role,
            display_name: account.display_name,
            session_id: Some(session.id),
            credential_id: Some(session.credential_id),
            last_uv_at: Some(session.last_uv_at),
        })
    }

    /// Deletes what can no longer be used: expired ceremonies, sessions past their absolute
    /// end or idle limit, unused expired invitations, and expired idempotency records. Run
    /// periodically by the server (`rempart serve`/`demo`, every minute).
    pub async fn purge_expired(&self) -> Result<Purged, AccessError> {
        let now = self.now();
        let access = self
            .ports
            .store
            .purge_access(now, now - self.config.session_idle)
            .await?;
        let idempotency = self.ports.store.purge_idempotency(now).await?;
        Ok(Purged {
            access,
            idempotency,
        })
    }

    /// Ends the actor's session.
    pub async fn logout(&self, actor: &Actor) -> Result<(), AccessError> {
        if let Some(id) = actor.session_id {
            self.ports.store.delete_session(id).await?;
        }
        Ok(())
    }

    // ---- sign-in (discoverable credentials)

    /// Starts a sign-in: request options with no allowed credentials (the authenticator
    /// offers its discoverable ones) and the ceremony id to send back.
    pub async fn login_start(&self) -> Result<(Uuid, RequestChallengeResponse), AccessError> {
        let (mut rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(internal)?;
        // A sign-in button, not autofill: the pages may ask for conditional mediation.
        rcr.mediation = None;
        let id = self.ports.new_id();
        self.put_ceremony(id, CEREMONY_LOGIN, &state, None, None)
            .await?;
        Ok((id, rcr))
    }

    /// Finishes a sign-in: the assertion must verify against the stored passkey for this
    /// origin and challenge; the counter is stored; a new session is opened.
    pub async fn login_finish(
        &self,
        ceremony: Uuid,
        credential: &PublicKeyCredential,
    ) -> Result<NewSession, AccessError> {
        let (_, state): (_, DiscoverableAuthentication) =
            self.take_ceremony(ceremony, CEREMONY_LOGIN).await?;
        let stored = self
            .ports
            .store
            .find_credential(credential.get_credential_id())
            .await?
            .ok_or(AccessError::CeremonyFailed)?;
        if let Some(handle) = credential.get_user_unique_id()
            && Uuid::from_slice(handle).ok() != Some(stored.account_id)
        {
            return Err(AccessError::CeremonyFailed);
        }
        let mut passkey: Passkey = serde_json::from_str(&stored.passkey).map_err(internal)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(credential, state, &passkey)
            .map_err(|_| AccessError::CeremonyFailed)?;
        let now = self.now();
        passkey.update_credential(&result);
        self.ports
            .store
            .update_credential(
                stored.id,
                &serde_json::to_string(&passkey).map_err(internal)?,
                now,
            )
            .await?;
        let account = self.ports.store.get_account(stored.account_id).await?;
        self.open_session(account, stored.id, now).await
    }

    // ---- step-up

    async fn account_passkeys(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<(CredentialRecord, Passkey)>, AccessError> {
        self.ports
            .store
            .list_credentials(account_id)
            .await?
            .into_iter()
            .map(|c| {
                let p: Passkey = serde_json::from_str(&c.passkey).map_err(internal)?;
                Ok((c, p))
            })
            .collect()
    }

    /// Starts a step-up: request options for the actor's own passkeys.
    pub async fn step_up_start(
        &self,
        actor: &Actor,
    ) -> Result<(Uuid, RequestChallengeResponse), AccessError> {
        let session_id = actor.session_id.ok_or(AccessError::Forbidden)?;
        let passkeys: Vec<Passkey> = self
            .account_passkeys(actor.account_id)
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let (rcr, state) = self
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(internal)?;
        let id = self.ports.new_id();
        self.put_ceremony(
            id,
            CEREMONY_STEP_UP,
            &state,
            Some(actor.account_id),
            Some(session_id),
        )
        .await?;
        Ok((id, rcr))
    }

    /// Finishes a step-up: a fresh user-verified assertion of one of the actor's passkeys
    /// sets the session's `last_uv_at`.
    pub async fn step_up_finish(
        &self,
        actor: &Actor,
        ceremony: Uuid,
        credential: &PublicKeyCredential,
    ) -> Result<OffsetDateTime, AccessError> {
        let (record, state): (_, PasskeyAuthentication) =
            self.take_ceremony(ceremony, CEREMONY_STEP_UP).await?;
        if record.session_id != actor.session_id || record.account_id != Some(actor.account_id) {
            return Err(AccessError::CeremonyFailed);
        }
        let result = self
            .webauthn
            .finish_passkey_authentication(credential, &state)
            .map_err(|_| AccessError::CeremonyFailed)?;
        let now = self.now();
        for (c, mut p) in self.account_passkeys(actor.account_id).await? {
            if p.cred_id() == result.cred_id() {
                p.update_credential(&result);
                self.ports
                    .store
                    .update_credential(c.id, &serde_json::to_string(&p).map_err(internal)?, now)
                    .await?;
            }
        }
        if let Some(session_id) = actor.session_id {
            self.ports.store.set_session_uv(session_id, now).await?;
        }
        Ok(now)
    }

    // ---- the actor's passkeys

    pub async fn list_passkeys(&self, actor: &Actor) -> Result<Vec<PasskeyInfo>, AccessError> {
        Ok(self
            .ports
            .store
            .list_credentials(actor.account_id)
            .await?
            .iter()
            .map(PasskeyInfo::from)
            .collect())
    }

    /// Removes one of the actor's passkeys (another account's is `NotFound`); never the last.
    pub async fn delete_passkey(&self, actor: &Actor, id: Uuid) -> Result<(), AccessError> {
        let mine = self.ports.store.list_credentials(actor.account_id).await?;
        if !mine.iter().any(|c| c.id == id) {
            return Err(AccessError::NotFound);
        }
        if mine.len() <= 1 {
            return Err(AccessError::LastPasskey);
        }
        match self
            .ports
            .store
            .delete_credential(actor.account_id, id)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(AccessError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Starts adding a passkey to the actor's account: needs a step-up (same assurance).
    pub async fn add_passkey_start(
        &self,
        actor: &Actor,
    ) -> Result<(Uuid, CreationChallengeResponse), AccessError> {
        self.require_step_up(actor)?;
        let session_id = actor.session_id.ok_or(AccessError::Forbidden)?;
        let exclude = self.credential_ids(actor.account_id).await?;
        let (ccr, state) = self.creation_options(actor.account_id, &actor.display_name, exclude)?;
        let id = self.ports.new_id();
        self.put_ceremony(
            id,
            CEREMONY_ADD_PASSKEY,
            &state,
            Some(actor.account_id),
            Some(session_id),
        )
        .await?;
        Ok((id, ccr))
    }

    pub async fn add_passkey_finish(
        &self,
        actor: &Actor,
        ceremony: Uuid,
        credential: &RegisterPublicKeyCredential,
        label: Option<&str>,
    ) -> Result<PasskeyInfo, AccessError> {
        self.require_step_up(actor)?;
        let (record, state): (_, PasskeyRegistration) =
            self.take_ceremony(ceremony, CEREMONY_ADD_PASSKEY).await?;
        if record.session_id != actor.session_id || record.account_id != Some(actor.account_id) {
            return Err(AccessError::CeremonyFailed);
        }
        let passkey = self
            .webauthn
            .finish_passkey_registration(credential, &state)
            .map_err(|_| AccessError::CeremonyFailed)?;
        let count = self
            .ports
            .store
            .list_credentials(actor.account_id)
            .await?
            .len();
        let label = label
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.chars().count() <= 100)
            .map_or_else(|| format!("passkey {}", count + 1), str::to_string);
        let now = self.now();
        let c = self
            .store_passkey(actor.account_id, &passkey, &label, now)
            .await?;
        Ok(PasskeyInfo::from(&c))
    }

    // ---- who am I, organisations, accounts

    pub async fn me(
        &self,
        actor: &Actor,
    ) -> Result<(AccountRecord, OrganisationRecord), AccessError> {
        let account = self.ports.store.get_account(actor.account_id).await?;
        let org = self
            .ports
            .store
            .get_organisation(account.organisation_id)
            .await?;
        Ok((account, org))
    }

    /// Operators see every organisation; everyone else only their own.
    pub async fn list_organisations(
        &self,
        actor: &Actor,
    ) -> Result<Vec<OrganisationRecord>, AccessError> {
        if policy::may_see_every_organisation(actor) {
            let mut all = Vec::new();
            for kind in [
                OrganisationKind::Operator,
                OrganisationKind::Insurer,
                OrganisationKind::Practice,
            ] {
                all.extend(self.ports.store.list_organisations(kind).await?);
            }
            Ok(all)
        } else {
            Ok(vec![
                self.ports
                    .store
                    .get_organisation(actor.organisation_id)
                    .await?,
            ])
        }
    }

    /// The accounts of an organisation the actor may see (another one is `NotFound`).
    pub async fn list_accounts(
        &self,
        actor: &Actor,
        organisation_id: Uuid,
    ) -> Result<Vec<AccountRecord>, AccessError> {
        policy::may_see_organisation(actor, organisation_id)?;
        match self.ports.store.get_organisation(organisation_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => return Err(AccessError::NotFound),
            Err(e) => return Err(e.into()),
        }
        Ok(self.ports.store.list_accounts(organisation_id).await?)
    }
}

#[cfg(test)]
mod tests;
