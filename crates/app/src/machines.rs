//! Machines (practice software, insurer systems): mutual TLS with a client certificate of the
//! platform CA. A certificate maps to exactly one organisation and role; the web layer hands
//! over the SHA-256 fingerprint of the verified peer certificate and gets the same [`Actor`]
//! a passkey session gives, with the certificate as its credential and no session (so no
//! step-up: sensitive actions stay with people).
//!
//! The store is read on every request, so a revocation takes effect on the next request,
//! without a restart.

use crate::accounts::{AccessError, Actor};
use crate::store::{ClientCertificateRecord, Store, StoreError};
use domain::accounts::{OrganisationKind, Role};
use domain::ids::{AmNumber, AmcNumber};
use time::OffsetDateTime;
use uuid::Uuid;

/// The actor of a verified peer certificate: `Unauthenticated` when the fingerprint is
/// unknown, revoked, or outside its validity period.
pub async fn authenticate(
    store: &dyn Store,
    now: OffsetDateTime,
    fingerprint: &[u8],
) -> Result<Actor, AccessError> {
    let cert = store
        .find_client_certificate(fingerprint)
        .await?
        .ok_or(AccessError::Unauthenticated)?;
    if cert.revoked_at.is_some() || now < cert.not_before || now >= cert.not_after {
        return Err(AccessError::Unauthenticated);
    }
    Ok(Actor {
        account_id: cert.id,
        organisation_id: cert.organisation_id,
        role: cert.role,
        display_name: cert.display_name,
        session_id: None,
        credential_id: Some(cert.id),
        last_uv_at: None,
    })
}

/// The organisation named on the command line: its id, an insurer's AMC number or a
/// practice's AM number.
pub async fn resolve_organisation(store: &dyn Store, text: &str) -> Result<Uuid, AccessError> {
    let text = text.trim();
    if let Ok(id) = Uuid::parse_str(text) {
        return match store.get_organisation(id).await {
            Ok(org) => Ok(org.id),
            Err(StoreError::NotFound) => Err(AccessError::NotFound),
            Err(e) => Err(e.into()),
        };
    }
    if let Ok(am) = AmNumber::parse(text)
        && let Some(practice) = store.find_practice_by_am_number(&am).await?
    {
        return Ok(practice.id);
    }
    if let Ok(amc) = AmcNumber::parse(text)
        && let Some(insurer) = store.find_insurer_by_amc(&amc).await?
    {
        return Ok(insurer.id);
    }
    Err(AccessError::NotFound)
}

/// The role a machine of that organisation gets by default: `insurer_staff` for an insurer,
/// `professional` for a practice (the operator's machines must name their role).
pub fn default_role(kind: OrganisationKind) -> Option<Role> {
    match kind {
        OrganisationKind::Insurer => Some(Role::InsurerStaff),
        OrganisationKind::Practice => Some(Role::Professional),
        OrganisationKind::Operator => None,
    }
}

/// Records an issued certificate after checking that the role belongs to that kind of
/// organisation.
pub async fn record(
    store: &dyn Store,
    certificate: &ClientCertificateRecord,
) -> Result<(), AccessError> {
    let org = match store.get_organisation(certificate.organisation_id).await {
        Ok(org) => org,
        Err(StoreError::NotFound) => return Err(AccessError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if certificate.role.organisation_kind() != org.kind {
        return Err(AccessError::Invalid(format!(
            "the role {} does not belong to an organisation of kind {}",
            certificate.role.code(),
            org.kind
        )));
    }
    store.insert_client_certificate(certificate).await?;
    Ok(())
}

/// What the platform CA signs: a new key pair and its certificate. The private key is in the
/// answer once and never kept.
#[derive(Clone)]
pub struct Signed {
    /// The certificate's serial number, hex.
    pub serial: String,
    /// SHA-256 of the certificate (DER).
    pub fingerprint: Vec<u8>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA certificate (for the machine's trust store).
    pub ca_pem: String,
}

impl std::fmt::Debug for Signed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("serial", &self.serial)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The platform CA (the server implements it with rcgen over the CA key).
pub trait CertificateAuthority: Send + Sync {
    /// Signs a client certificate `id` (its serial derives from it) for `name`, a machine of
    /// `organisation_name` with `role`, valid from `now` for `days`.
    fn sign(
        &self,
        id: Uuid,
        organisation_name: &str,
        role: Role,
        name: &str,
        now: OffsetDateTime,
        days: u32,
    ) -> Result<Signed, String>;
}

/// What to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    pub organisation_id: Uuid,
    /// Default: `insurer_staff` for an insurer, `professional` for a practice.
    pub role: Option<Role>,
    pub display_name: String,
    pub days: u32,
}

/// An issued certificate: its record and the bundle to hand over once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub record: ClientCertificateRecord,
    pub signed: Signed,
}

/// Issues a client certificate. `by`: an operator administrator who stepped up (the console);
/// `None`: the command line (the local operator).
pub async fn issue(
    ports: &crate::Ports,
    ca: &dyn CertificateAuthority,
    by: Option<&Actor>,
    step_up_window: time::Duration,
    request: &IssueRequest,
) -> Result<Issued, AccessError> {
    if let Some(actor) = by {
        crate::accounts::policy::may_manage_certificates(actor)?;
        crate::accounts::require_step_up(actor, ports.clock.now(), step_up_window)?;
    }
    let name = request.display_name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AccessError::Invalid(
            "the name must be 1 to 100 printable characters".into(),
        ));
    }
    if !(1..=825).contains(&request.days) {
        return Err(AccessError::Invalid(
            "the validity must be 1 to 825 days".into(),
        ));
    }
    let store = ports.store.as_ref();
    let org = match store.get_organisation(request.organisation_id).await {
        Ok(org) => org,
        Err(StoreError::NotFound) => return Err(AccessError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let role = match request.role {
        Some(role) => role,
        None => default_role(org.kind).ok_or_else(|| {
            AccessError::Invalid("a machine of the operator needs its role".into())
        })?,
    };
    let id = ports.new_id();
    let now = ports.clock.now();
    let signed = ca
        .sign(id, &org.name, role, name, now, request.days)
        .map_err(AccessError::Internal)?;
    let record = ClientCertificateRecord {
        id,
        organisation_id: org.id,
        role,
        display_name: name.to_string(),
        serial: signed.serial.clone(),
        fingerprint: signed.fingerprint.clone(),
        not_before: signed.not_before,
        not_after: signed.not_after,
        created_at: now,
        revoked_at: None,
    };
    self::record(store, &record).await?;
    tracing::info!(certificate = %id, organisation = %org.id, role = %role, "client certificate issued");
    Ok(Issued { record, signed })
}

/// Every client certificate (operators only).
pub async fn list(
    store: &dyn Store,
    actor: &Actor,
) -> Result<Vec<ClientCertificateRecord>, AccessError> {
    if !actor.is_operator() {
        return Err(AccessError::NotFound);
    }
    Ok(store.list_client_certificates().await?)
}

/// Revokes a certificate (an operator administrator who stepped up); refused from its next
/// request.
pub async fn revoke(
    ports: &crate::Ports,
    actor: &Actor,
    step_up_window: time::Duration,
    id: Uuid,
) -> Result<(), AccessError> {
    crate::accounts::policy::may_manage_certificates(actor)?;
    crate::accounts::require_step_up(actor, ports.clock.now(), step_up_window)?;
    match ports
        .store
        .revoke_client_certificate(id, ports.clock.now())
        .await
    {
        Ok(()) => {
            tracing::info!(certificate = %id, "client certificate revoked");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(AccessError::NotFound),
        Err(e) => Err(e.into()),
    }
}
