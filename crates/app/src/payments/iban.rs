//! A practice's IBAN change: requested (by the professional, or by an operator), confirmed by
//! a SECOND, different operator, effective only once a cooling-off delay has passed after the
//! confirmation. Until then the old IBAN is the one paid. Each step keeps who and when; the
//! professional sees the change (masked) on the portal; logs carry ids only, never an IBAN.

use super::PaymentsError;
use super::store::{IbanChangeRecord, IbanChangeStatus};
use crate::Ports;
use crate::store::StoreError;
use crypto::envelope::PLATFORM_SCOPE;
use crypto::{FieldRef, Sealer};
use domain::ids::Iban;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The cooling-off delay by default: 72 hours.
pub const DEFAULT_COOLING_OFF: Duration = Duration::hours(72);

/// A change as screens show it: the new IBAN masked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IbanChangeView {
    pub id: Uuid,
    pub practice_id: Uuid,
    pub iban_masked: String,
    pub status: &'static str,
    pub requested_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub confirmed_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub effective_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub applied_at: Option<OffsetDateTime>,
}

fn vault_err(_: impl std::fmt::Debug) -> PaymentsError {
    PaymentsError::Vault {
        what: "an IBAN change".into(),
    }
}

/// `FR76 **** … 1234`: country and check digits, then the last four characters.
pub fn mask(iban: &Iban) -> String {
    let s = iban.as_str();
    let tail = s.get(s.len().saturating_sub(4)..).unwrap_or("");
    format!("{} **** … {tail}", s.get(..4).unwrap_or(""))
}

fn view(ports: &Ports, c: &IbanChangeRecord) -> Result<IbanChangeView, PaymentsError> {
    let sealer = ports.vault.sealer(PLATFORM_SCOPE).map_err(vault_err)?;
    let clear = sealer
        .open_string(&FieldRef::new("iban_changes", "iban", c.id), &c.iban_sealed)
        .map_err(vault_err)?;
    let iban = Iban::parse(&clear).map_err(vault_err)?;
    Ok(IbanChangeView {
        id: c.id,
        practice_id: c.practice_id,
        iban_masked: mask(&iban),
        status: c.status.code(),
        requested_by: c.requested_by,
        requested_at: c.requested_at,
        confirmed_by: c.confirmed_by,
        confirmed_at: c.confirmed_at,
        effective_at: c.effective_at,
        applied_at: c.applied_at,
    })
}

/// Records a change request. The IBAN is checked (`iban`: the reason, never the value) and
/// sealed at once; `Invalid { field: "practice" }` when the practice already has one in
/// progress.
pub async fn request(
    ports: &Ports,
    practice_id: Uuid,
    new_iban: &str,
    requested_by: Uuid,
) -> Result<IbanChangeView, PaymentsError> {
    let iban = Iban::parse(new_iban).map_err(|e| PaymentsError::Invalid {
        field: "iban",
        reason: e.reason,
    })?;
    match ports.store.get_practice(practice_id).await {
        Err(StoreError::NotFound) => return Err(PaymentsError::NotFound),
        other => other?,
    };
    let id = ports.new_id();
    let sealed = ports
        .vault
        .sealer(PLATFORM_SCOPE)
        .map_err(vault_err)?
        .seal(
            &FieldRef::new("iban_changes", "iban", id),
            iban.as_str().as_bytes(),
        )
        .map_err(vault_err)?;
    let now = ports.clock.now();
    let record = IbanChangeRecord {
        id,
        practice_id,
        iban_sealed: sealed,
        status: IbanChangeStatus::Requested,
        requested_by,
        requested_at: now,
        confirmed_by: None,
        confirmed_at: None,
        effective_at: None,
        applied_at: None,
        cancelled_by: None,
        cancelled_at: None,
    };
    match ports.store.insert_iban_change(&record).await {
        Err(StoreError::Conflict { constraint }) if constraint == "iban_changes_open" => {
            return Err(PaymentsError::Invalid {
                field: "practice",
                reason: "already has an IBAN change in progress".into(),
            });
        }
        other => other?,
    }
    tracing::info!(
        event = "iban_change_requested",
        change_id = %id,
        practice_id = %practice_id,
        requested_by = %requested_by,
        "IBAN change requested; it needs a second operator's confirmation and the cooling-off delay"
    );
    let stored = ports.store.get_iban_change(id).await?;
    view(ports, &stored)
}

/// A second operator confirms: effective `cooling_off` later. The requester cannot confirm
/// (`Invalid { field: "confirmed_by" }`), nor can a change be confirmed twice.
pub async fn confirm(
    ports: &Ports,
    change_id: Uuid,
    by: Uuid,
    cooling_off: Duration,
) -> Result<IbanChangeView, PaymentsError> {
    let change = match ports.store.get_iban_change(change_id).await {
        Err(StoreError::NotFound) => return Err(PaymentsError::NotFound),
        other => other?,
    };
    if change.requested_by == by {
        return Err(PaymentsError::Invalid {
            field: "confirmed_by",
            reason: "must be a second operator, not the person who requested the change".into(),
        });
    }
    if change.status != IbanChangeStatus::Requested {
        return Err(PaymentsError::Invalid {
            field: "status",
            reason: format!(
                "the change is {}, not awaiting confirmation",
                change.status.code()
            ),
        });
    }
    let now = ports.clock.now();
    let effective = now + cooling_off;
    match ports
        .store
        .confirm_iban_change(change_id, by, now, effective)
        .await
    {
        Err(StoreError::Conflict { .. }) => {
            return Err(PaymentsError::Invalid {
                field: "status",
                reason: "the change is no longer awaiting confirmation".into(),
            });
        }
        other => other?,
    }
    tracing::info!(
        event = "iban_change_confirmed",
        change_id = %change_id,
        practice_id = %change.practice_id,
        confirmed_by = %by,
        "IBAN change confirmed; the professional is told on the portal; the old IBAN stays in use until the cooling-off ends"
    );
    let stored = ports.store.get_iban_change(change_id).await?;
    view(ports, &stored)
}

/// Applies every confirmed change whose cooling-off has passed (the new IBAN re-sealed for
/// the practice row). Called before each payment run.
pub async fn apply_due(ports: &Ports) -> Result<usize, PaymentsError> {
    let sealer = ports.vault.sealer(PLATFORM_SCOPE).map_err(vault_err)?;
    let reseal = move |c: &IbanChangeRecord| -> Result<Vec<u8>, StoreError> {
        let clear = sealer
            .open(&FieldRef::new("iban_changes", "iban", c.id), &c.iban_sealed)
            .map_err(|_| StoreError::Other("cannot open a sealed IBAN change".into()))?;
        sealer
            .seal(&FieldRef::new("practices", "iban", c.practice_id), &clear)
            .map_err(|_| StoreError::Other("cannot seal an IBAN".into()))
    };
    let applied = ports
        .store
        .apply_due_iban_changes(ports.clock.now(), &reseal)
        .await?;
    for c in &applied {
        tracing::info!(
            event = "iban_change_applied",
            change_id = %c.id,
            practice_id = %c.practice_id,
            "IBAN change in effect"
        );
    }
    Ok(applied.len())
}

/// Every change of a practice (for its portal notice), newest first, masked.
pub async fn list_for_practice(
    ports: &Ports,
    practice_id: Uuid,
) -> Result<Vec<IbanChangeView>, PaymentsError> {
    let changes = ports.store.list_iban_changes(Some(practice_id)).await?;
    changes.iter().map(|c| view(ports, c)).collect()
}

/// The changes awaiting a confirmation or their cooling-off (operators' page), masked.
pub async fn list_open(ports: &Ports) -> Result<Vec<IbanChangeView>, PaymentsError> {
    let changes = ports.store.list_iban_changes(None).await?;
    changes.iter().map(|c| view(ports, c)).collect()
}

/// The practice's current IBAN, masked (for its own page).
pub async fn current_masked(ports: &Ports, practice_id: Uuid) -> Result<String, PaymentsError> {
    let practice = match ports.store.get_practice(practice_id).await {
        Err(StoreError::NotFound) => return Err(PaymentsError::NotFound),
        other => other?,
    };
    let clear = ports
        .vault
        .sealer(PLATFORM_SCOPE)
        .map_err(vault_err)?
        .open_string(
            &FieldRef::new("practices", "iban", practice_id),
            &practice.iban_sealed,
        )
        .map_err(vault_err)?;
    Ok(mask(&Iban::parse(&clear).map_err(vault_err)?))
}

/// `actor` asks to change practice `practice_id`'s IBAN: its own professionals, or an
/// operator administrator, with a passkey check at most `step_up` old (a machine has none:
/// IBANs are changed by people); then as [`request`].
pub async fn request_as(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    step_up: Duration,
    practice_id: Uuid,
    new_iban: &str,
) -> Result<IbanChangeView, PaymentsError> {
    crate::accounts::policy::may_request_iban_change(actor, practice_id)?;
    crate::accounts::require_step_up(actor, ports.clock.now(), step_up)?;
    request(ports, practice_id, new_iban, actor.account_id).await
}

/// `actor` confirms a change: operator administrators only, never the requester, with a
/// passkey check at most `step_up` old; then as [`confirm`].
pub async fn confirm_as(
    ports: &Ports,
    actor: &crate::accounts::Actor,
    step_up: Duration,
    change_id: Uuid,
    cooling_off: Duration,
) -> Result<IbanChangeView, PaymentsError> {
    crate::accounts::policy::may_move_money(actor)?;
    crate::accounts::require_step_up(actor, ports.clock.now(), step_up)?;
    confirm(ports, change_id, actor.account_id, cooling_off).await
}

/// The changes `actor` may see: its own practice's, or for operators every change.
pub async fn list_for(
    ports: &Ports,
    actor: &crate::accounts::Actor,
) -> Result<Vec<IbanChangeView>, PaymentsError> {
    if crate::accounts::policy::may_see_payment_desk(actor).is_ok() {
        return list_open(ports).await;
    }
    let practice = crate::accounts::policy::own_practice(actor)?;
    list_for_practice(ports, practice).await
}

/// The caller's own practice's current IBAN, masked.
pub async fn current_for(
    ports: &Ports,
    actor: &crate::accounts::Actor,
) -> Result<String, PaymentsError> {
    let practice = crate::accounts::policy::own_practice(actor)?;
    current_masked(ports, practice).await
}
