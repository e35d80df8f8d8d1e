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
