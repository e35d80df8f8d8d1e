//! What prior approvals and invoices share: the quoted engagement, the beneficiary's age and
//! contract, the lines as sent, the counters as history, the answer's shape, the ledger entry.

use crate::Ports;
use crate::accounts::Actor;
use crate::invoices::store::CounterRecord;
use crate::ledger::{DataCategory, Disclosure, Ledger, Purpose};
use crate::rights::EngagementRecord;
use crate::store::{BeneficiaryRecord, ContractRecord, StoreError};
use domain::accounts::Role;
use domain::contracts::{
    Class, Complexity, Consumption, Contract, Ear, History, Line, LineKind, PastBudgetUse,
    PastEquipment, Step,
};
use domain::money::Money;
use domain::rights::CareDomain;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;
use time::Date;
use uuid::Uuid;

/// Why a prior-approval request or an invoice could not be answered (a business rejection is
/// an answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ClaimFailure {
    /// Only a practice (its people or its software) sends claims (403).
    #[error("only practices send prior-approval requests and invoices")]
    Forbidden,
    /// No such engagement, approval or invoice for this practice (404; another practice's is
    /// answered the same).
    #[error("not found")]
    NotFound,
    /// Malformed input: the field path and the reason (422).
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    /// The approval cannot be cancelled (not active) (409).
    #[error("the prior approval is {0}")]
    NotActive(&'static str),
    /// The ledger could not record the disclosure: nothing was answered (503).
    #[error("the ledger could not record the disclosure: {0}")]
    Ledger(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> ClaimFailure {
    ClaimFailure::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

/// A quote or invoice line as sent (amounts in cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// `frame`, `lens`, `hearing_aid`, `prosthesis` or `other`.
    pub kind: String,
    /// `A`/`B` (optics) or `I`/`II` (hearing aids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Lenses: `simple`, `complex` or `very_complex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<String>,
    /// Hearing aids: `left` or `right`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ear: Option<String>,
    /// Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u8>,
    pub price_cents: i64,
    pub br_cents: i64,
    pub amo_cents: i64,
}

impl LineInput {
    /// The engine's line; errors name `lines[i].<field>`.
    pub fn to_line(&self, i: usize) -> Result<Line, ClaimFailure> {
        let path = |f: &str| format!("lines[{i}].{f}");
        let kind = LineKind::ALL
            .into_iter()
            .find(|k| k.code() == self.kind)
            .ok_or_else(|| {
                invalid(
                    path("kind"),
                    "must be frame, lens, hearing_aid, prosthesis or other",
                )
            })?;
        let mut line = Line::new(kind, self.price_cents, self.br_cents, self.amo_cents);
        if let Some(c) = &self.class {
            let class = [Class::A, Class::B, Class::I, Class::II]
                .into_iter()
                .find(|x| x.code() == c)
                .ok_or_else(|| invalid(path("class"), "must be A, B, I or II"))?;
            line = line.class(class);
        }
        if let Some(c) = &self.complexity {
            let complexity = [
                Complexity::Simple,
                Complexity::Complex,
                Complexity::VeryComplex,
            ]
            .into_iter()
            .find(|x| x.code() == c)
            .ok_or_else(|| {
                invalid(
                    path("complexity"),
                    "must be simple, complex or very_complex",
                )
            })?;
            line = line.complexity(complexity);
        }
        if let Some(e) = &self.ear {
            let ear = [Ear::Left, Ear::Right]
                .into_iter()
                .find(|x| x.code() == e)
                .ok_or_else(|| invalid(path("ear"), "must be left or right"))?;
            line = line.ear(ear);
        }
        if let Some(q) = self.quantity {
            if q == 0 {
                return Err(invalid(path("quantity"), "must be at least 1"));
            }
            line = line.quantity(q);
        }
        Ok(line)
    }
}

/// The lines of a request, checked.
pub fn lines(input: &[LineInput]) -> Result<Vec<Line>, ClaimFailure> {
    if input.is_empty() {
        return Err(invalid("lines", "at least one line"));
    }
    if input.len() > domain::contracts::engine::MAX_LINES {
        return Err(invalid("lines", "at most 64 lines"));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, l)| l.to_line(i))
        .collect()
}

/// One line of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAnswer {
    pub amc_cents: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    pub steps: Vec<Step>,
}

/// The counters' history as the engine reads it.
pub fn history(counters: &[CounterRecord]) -> History {
    let mut h = History::default();
    for c in counters {
        let Ok(domain) = c.domain.parse::<CareDomain>() else {
            continue;
        };
        match c.counter.as_str() {
            "equipment" => h.equipments.push(PastEquipment {
                domain,
                ear: c.ear.as_deref().and_then(|e| match e {
                    "left" => Some(Ear::Left),
                    "right" => Some(Ear::Right),
                    _ => None,
                }),
                date: c.on,
            }),
            "budget" => h.budgets.push(PastBudgetUse {
                budget: c.budget.clone().unwrap_or_default(),
                amount: Money::from_cents(c.amount_cents),
                date: c.on,
            }),
            _ => {}
        }
    }
    h
}

/// The counter rows of an answer's consumptions.
pub fn counter_rows(
    ports: &Ports,
    engagement: &EngagementRecord,
    domain: CareDomain,
    on: Date,
    consumptions: &[Consumption],
    approval: Option<(Uuid, Date)>,
    invoice: Option<Uuid>,
) -> Vec<CounterRecord> {
    consumptions
        .iter()
        .map(|c| {
            let (counter, dom, ear, budget, amount) = match c {
                Consumption::Equipment { domain, ear } => (
                    "equipment",
                    *domain,
                    ear.map(|e| e.code().to_string()),
                    None,
                    0,
                ),
                Consumption::Budget { budget, amount, .. } => {
                    ("budget", domain, None, Some(budget.clone()), amount.cents())
                }
            };
            CounterRecord {
                id: ports.new_id(),
                insurer_id: engagement.insurer_id,
                beneficiary_id: engagement.beneficiary_id,
                counter: counter.to_string(),
                domain: dom.code().to_string(),
                ear,
                budget,
                amount_cents: amount,
                on,
                approval_id: approval.map(|a| a.0),
                invoice_id: invoice,
                expires_on: approval.map(|a| a.1),
            }
        })
        .collect()
}

/// Whole years between `birth` and `on`.
pub fn age_on(birth: Date, on: Date) -> u8 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    u8::try_from(years.max(0)).unwrap_or(u8::MAX)
}

/// Where a claim comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimContextInfo {
    pub request_id: Uuid,
    pub client_addr: Option<IpAddr>,
}

/// The engagement quoted by the practice, its beneficiary and contract.
pub struct Quoted {
    pub engagement: EngagementRecord,
    pub beneficiary: BeneficiaryRecord,
    /// The version in effect on the care date and its table (`None`: nothing in effect).
    pub contract: Option<(ContractRecord, Arc<Contract>)>,
    pub age: u8,
}

/// Checks the caller is a practice and reads the engagement it quotes (`NotFound` when the
/// practice did not obtain it).
pub async fn quoted(
    ports: &Ports,
    actor: &Actor,
    engagement_number: &str,
    care_date: Date,
) -> Result<Quoted, ClaimFailure> {
    if actor.role != Role::Professional {
        return Err(ClaimFailure::Forbidden);
    }
    if !crate::rights::is_engagement_number(engagement_number) {
        return Err(ClaimFailure::NotFound);
    }
    let engagement = ports
        .store
        .find_engagement(actor.organisation_id, engagement_number)
        .await?
        .ok_or(ClaimFailure::NotFound)?;
    let beneficiary = ports
        .store
        .get_beneficiary(engagement.insurer_id, engagement.beneficiary_id)
        .await
        .map_err(|e| match e {
            // Erased since the rights check: nothing to pay.
            StoreError::NotFound => ClaimFailure::NotFound,
            e => e.into(),
        })?;
    let birth = crate::beneficiaries::open_birth_date(&ports.vault, &beneficiary)
        .map_err(|e| ClaimFailure::Internal(e.to_string()))?;
    let contract = crate::contracts::in_effect(
        ports,
        beneficiary.insurer_id,
        beneficiary.contract_id,
        care_date,
    )
    .await?;
    Ok(Quoted {
        age: age_on(birth, care_date),
        engagement,
        beneficiary,
        contract,
    })
}

/// The credential text of the ledger entry.
pub fn credential(actor: &Actor) -> String {
    match actor.credential_id {
        Some(c) => format!("passkey:{c}"),
        None => format!("cert:{}", actor.account_id),
    }
}

/// Records the disclosure of an answer about the engagement's beneficiary.
pub async fn ledger(
    ledger: &Ledger,
    actor: &Actor,
    info: ClaimContextInfo,
    engagement: &EngagementRecord,
    purpose: Purpose,
    category: DataCategory,
) -> Result<(), ClaimFailure> {
    ledger
        .record(Disclosure {
            account_id: actor.credential_id.map(|_| actor.account_id),
            organisation_id: actor.organisation_id,
            credential: credential(actor),
            insurer_id: engagement.insurer_id,
            beneficiary_id: engagement.beneficiary_id,
            categories: vec![category],
            purpose,
            request_id: info.request_id.to_string(),
            client_addr: info.client_addr,
        })
        .await
        .map(|_| ())
        .map_err(|e| ClaimFailure::Ledger(e.to_string()))
}

/// The engine's domain of a set of lines must be the engagement's.
pub fn check_domain(domain: CareDomain, lines: &[Line]) -> Result<(), ClaimFailure> {
    for (i, l) in lines.iter().enumerate() {
        if let Some(d) = l.kind.domain()
            && d != domain
        {
            return Err(invalid(
                format!("lines[{i}].kind"),
                format!("not a line of {} (the engagement's domain)", domain.code()),
            ));
        }
    }
    Ok(())
}
