//! Who may do what: one function per use case, decided here and nowhere else.
//!
//! An object of another organisation is refused as `NotFound`, exactly like a missing one, so
//! that an answer never tells a caller that something exists where it may not look.

use super::{AccessError, Actor};
use domain::accounts::Role;
use uuid::Uuid;

/// Operators (administrators, analysts, auditors) see every organisation.
pub fn may_see_every_organisation(actor: &Actor) -> bool {
    actor.is_operator()
}

/// An organisation's details and accounts: operators, or members of that organisation.
pub fn may_see_organisation(actor: &Actor, organisation_id: Uuid) -> Result<(), AccessError> {
    if may_see_every_organisation(actor) || actor.organisation_id == organisation_id {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

/// Invitations: operator administrators only (and a step-up, checked by the use case).
pub fn may_invite(actor: &Actor) -> Result<(), AccessError> {
    if actor.role == Role::OperatorAdmin {
        Ok(())
    } else {
        Err(AccessError::Forbidden)
    }
}

/// Client certificates (issue, revoke): operator administrators only (and a step-up, checked
/// by the use case); other operators may list them; anyone else does not see them.
pub fn may_manage_certificates(actor: &Actor) -> Result<(), AccessError> {
    match actor.role {
        Role::OperatorAdmin => Ok(()),
        _ if actor.is_operator() => Err(AccessError::Forbidden),
        _ => Err(AccessError::NotFound),
    }
}

/// An object owned by `owner_organisation` (an insurer's contract, a practice's invoice…):
/// visible to that organisation's members only; anything else is `NotFound`.
pub fn owns(actor: &Actor, owner_organisation: Uuid) -> Result<(), AccessError> {
    if actor.organisation_id == owner_organisation {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

/// An insurer's beneficiary file: that insurer's own staff or machines only. Anyone else,
/// operators included, is `NotFound` (as for an unknown insurer).
pub fn may_import_beneficiaries(actor: &Actor, insurer_id: Uuid) -> Result<(), AccessError> {
    if actor.role == Role::InsurerStaff && actor.organisation_id == insurer_id {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

/// Moving money (a payment run, confirming or requesting any practice's IBAN change):
/// operator administrators only (and a step-up, checked by the use case); other operators
/// are `Forbidden`; anyone else does not see the operator's payment desk (`NotFound`).
pub fn may_move_money(actor: &Actor) -> Result<(), AccessError> {
    match actor.role {
        Role::OperatorAdmin => Ok(()),
        _ if actor.is_operator() => Err(AccessError::Forbidden),
        _ => Err(AccessError::NotFound),
    }
}

/// The payment runs and the IBAN changes awaiting confirmation: operators only.
pub fn may_see_payment_desk(actor: &Actor) -> Result<(), AccessError> {
    if actor.is_operator() {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}

/// The practice whose payments `actor` sees and whose IBAN it may ask to change: a
/// professional's (person or machine) own practice; nobody else has one.
pub fn own_practice(actor: &Actor) -> Result<Uuid, AccessError> {
    if actor.role == Role::Professional {
        Ok(actor.organisation_id)
    } else {
        Err(AccessError::NotFound)
    }
}

/// Asking to change practice `practice_id`'s IBAN: its own professionals, or an operator
/// administrator (a second one confirms); anyone else is `NotFound`.
pub fn may_request_iban_change(actor: &Actor, practice_id: Uuid) -> Result<(), AccessError> {
    match actor.role {
        Role::OperatorAdmin => Ok(()),
        Role::Professional if actor.organisation_id == practice_id => Ok(()),
        _ => Err(AccessError::NotFound),
    }
}

/// The insurer whose contracts and bills `actor` sees from its own pages: an insurer's staff
/// (person or machine); nobody else has one.
pub fn own_insurer(actor: &Actor) -> Result<Uuid, AccessError> {
    if actor.role == Role::InsurerStaff {
        Ok(actor.organisation_id)
    } else {
        Err(AccessError::NotFound)
    }
}
