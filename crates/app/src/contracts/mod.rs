//! Contracts as data: an insurer's contract versions, loaded from their TOML text
//! (`domain::contracts::Contract::from_toml`, docs/formats.md "Contract (TOML)"), stored with
//! that text (`MoneyStore::insert_contract_document`) and read back for adjudication.
//!
//! - Loading is idempotent: the same version again is a no-op (also when only comments or
//!   layout differ); a version already stored with different content is refused, naming the
//!   first field that differs (`guarantees`, `effective_from`…): a version never changes once
//!   loaded, a change is a new version.
//! - The contract record's `guarantees` JSON (what cards print, `cards::domains_from_guarantees`)
//!   is derived from the TOML (`Contract::card_regimes`), so a card and its contract always agree.
//! - [`in_effect`] picks the version of a code in effect on a care date (the highest version
//!   whose period contains it) and parses its text once per process (versions never change).

use crate::Ports;
use crate::store::{ContractRecord, StoreError};
use domain::contracts::Contract;
use domain::rights::Regime;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use time::Date;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ContractLoadError {
    /// The TOML is not a valid contract: the field path and the reason.
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    /// That version exists with other content.
    #[error(
        "{field}: version {version} of {code} is already loaded with another value; load a new version"
    )]
    Changed {
        code: String,
        version: u32,
        field: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub contract: ContractRecord,
    /// `false`: that version was already loaded with the same content (nothing written).
    pub created: bool,
}

/// The first field in which two versions differ, if any.
pub fn first_difference(a: &Contract, b: &Contract) -> Option<&'static str> {
    if a.label != b.label {
        Some("label")
    } else if a.responsible != b.responsible {
        Some("responsible")
    } else if a.effective.from != b.effective.from {
        Some("effective_from")
    } else if a.effective.to != b.effective.to {
        Some("effective_to")
    } else if a.guarantees != b.guarantees {
        Some("guarantees")
    } else if a.renewals != b.renewals {
        Some("renewals")
    } else {
        None
    }
}

/// The card-facing guarantee table (docs/formats.md, "Contract guarantees") of a contract: one
/// whole-domain line per domain the card prints.
pub fn card_guarantees_json(contract: &Contract) -> Result<String, ContractLoadError> {
    let mut lines = Vec::new();
    for (domain, regime) in contract.card_regimes() {
        let formula = match regime {
            Regime::PriorApproval => serde_json::json!({"kind": "in_full"}),
            Regime::Rate(r) => {
                let bp = r.basis_points();
                if bp % 100 != 0 {
                    return Err(ContractLoadError::Invalid {
                        path: "guarantees".into(),
                        reason: format!(
                            "the whole-domain rate of {} must be a whole percentage to be printed on cards",
                            domain.code()
                        ),
                    });
                }
                serde_json::json!({"kind": "br_percent", "percent": bp / 100})
            }
        };
        lines.push(serde_json::json!({"domain": domain.code(), "item": "*", "formula": formula}));
    }
    Ok(
        serde_json::json!({"format": 1, "contract": contract.code.as_str(), "lines": lines})
            .to_string(),
    )
}

/// Loads a contract version of `insurer_id` from its TOML text.
pub async fn load(
    ports: &Ports,
    insurer_id: Uuid,
    toml: &str,
) -> Result<Loaded, ContractLoadError> {
    let contract = Contract::from_toml(toml).map_err(|e| ContractLoadError::Invalid {
        path: e.path,
        reason: e.reason,
    })?;
    let existing = ports
        .store
        .list_contracts(insurer_id)
        .await?
        .into_iter()
        .find(|c| c.code == contract.code && c.version == contract.version);
    if let Some(record) = existing {
        let changed = |field| ContractLoadError::Changed {
            code: contract.code.as_str().to_string(),
            version: contract.version,
            field,
        };
        let stored = ports
            .store
            .find_contract_document(insurer_id, record.id)
            .await?;
        let Some(text) = stored else {
            // Loaded earlier as a JSON guarantee table only: not comparable.
            return Err(changed("guarantees"));
        };
        if text == toml {
            return Ok(Loaded {
                contract: record,
                created: false,
            });
        }
        let before = Contract::from_toml(&text)
            .map_err(|e| StoreError::Corrupt(format!("stored contract document: {e:?}")))?;
        return match first_difference(&before, &contract) {
            None => Ok(Loaded {
                contract: record,
                created: false,
            }),
            Some(field) => Err(changed(field)),
        };
    }
    let record = ContractRecord {
        id: ports.new_id(),
        insurer_id,
        code: contract.code.clone(),
        version: contract.version,
        label: contract.label.clone(),
        responsible: contract.responsible,
        effective_from: contract.effective.from,
        effective_to: contract.effective.to,
        guarantees: card_guarantees_json(&contract)?,
        created_at: ports.clock.now(),
    };
    match ports.store.insert_contract_document(&record, toml).await {
        Ok(()) => {}
        // Loaded at the same moment by someone else: answer as a second load would.
        Err(StoreError::Conflict { constraint }) if constraint == "contracts_version" => {
            return Box::pin(load(ports, insurer_id, toml)).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Loaded {
        contract: record,
        created: true,
    })
}

static PARSED: LazyLock<Mutex<HashMap<Uuid, Arc<Contract>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The parsed contract of a stored version (`None` when it has no TOML document).
pub async fn parsed(
    ports: &Ports,
    record: &ContractRecord,
) -> Result<Option<Arc<Contract>>, StoreError> {
    if let Some(c) = PARSED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&record.id)
    {
        return Ok(Some(c.clone()));
    }
    let Some(text) = ports
        .store
        .find_contract_document(record.insurer_id, record.id)
        .await?
    else {
        return Ok(None);
    };
    let contract = Arc::new(
        Contract::from_toml(&text)
            .map_err(|e| StoreError::Corrupt(format!("stored contract document: {e:?}")))?,
    );
    PARSED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(record.id, contract.clone());
    Ok(Some(contract))
}

/// The version of the contract `contract_id` belongs to (same code) in effect on `day`, with
/// its parsed table; `None` when no version with a document covers the day.
pub async fn in_effect(
    ports: &Ports,
    insurer_id: Uuid,
    contract_id: Uuid,
    day: Date,
) -> Result<Option<(ContractRecord, Arc<Contract>)>, StoreError> {
    // One read: the insurer's versions, among them the beneficiary's own.
    let all = ports.store.list_contracts(insurer_id).await?;
    let code = all
        .iter()
        .find(|c| c.id == contract_id)
        .ok_or(StoreError::NotFound)?
        .code
        .clone();
    let mut versions: Vec<ContractRecord> = all
        .into_iter()
        .filter(|c| {
            c.code == code && c.effective_from <= day && c.effective_to.is_none_or(|to| day <= to)
        })
        .collect();
    versions.sort_by_key(|c| std::cmp::Reverse(c.version));
    for record in versions {
        if let Some(parsed) = parsed(ports, &record).await? {
            return Ok(Some((record, parsed)));
        }
    }
    Ok(None)
}

/// An insurer's contract versions, by code then version.
pub async fn list(ports: &Ports, insurer_id: Uuid) -> Result<Vec<ContractRecord>, StoreError> {
    let mut all = ports.store.list_contracts(insurer_id).await?;
    all.sort_by(|a, b| (a.code.as_str(), a.version).cmp(&(b.code.as_str(), b.version)));
    Ok(all)
}

/// Every contract version of the caller's own insurer (its staff), by code then version.
pub async fn list_own(
    ports: &Ports,
    actor: &crate::accounts::Actor,
) -> Result<Vec<ContractRecord>, crate::accounts::AccessError> {
    let insurer = crate::accounts::policy::own_insurer(actor)?;
    Ok(list(ports, insurer).await?)
}
