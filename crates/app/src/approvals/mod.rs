//! Prior approval (DPEC → PEC) for optics, hearing aids and dental prostheses: a practice
//! quotes the engagement number of a rights check and the quote lines; the engine answers per
//! line the AMC amount and its steps (`domain::approvals::adjudicate_quote`), valid 3 months
//! (1 to 12 on request). The approval **reserves** the counters its lines consume (one
//! optical equipment, one hearing aid per ear, budget draws) in the same transaction, read
//! under it (`MoneyStore::record_claim`): two approvals or invoices racing for one beneficiary
//! see each other. The reservation counts until the approval's last day, and is released by a
//! cancellation ([`cancel`]) or replaced by the invoice's own counters when invoiced.
//!
//! The answer is ledgered (purpose `prior_approval`, category `approval`) before it leaves.

use crate::Ports;
use crate::accounts::Actor;
use crate::invoices::claim::{
    self, ClaimContextInfo, ClaimFailure as F, LineAnswer, LineInput, invalid,
};
use crate::invoices::store::{
    ApprovalRecord, ApprovalStatus, ClaimContext, ClaimScope, ClaimWrite,
};
use crate::ledger::{DataCategory, Ledger, Purpose};
use crate::store::StoreError;
use domain::contracts::{Adjudication, Claim};
use domain::invoices::InvoiceStatus;
use domain::rights::CareDomain;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// A prior-approval request as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub engagement: String,
    pub lines: Vec<LineInput>,
    /// 1 to 12; default 3.
    #[serde(default)]
    pub validity_months: Option<u8>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswer {
    pub number: String,
    /// `active`, `cancelled`, `invoiced`, or `expired` (active past its last day).
    pub status: String,
    /// `accepted`, `partial` or `rejected` (as for an invoice).
    pub decision: String,
    pub domain: String,
    #[serde(with = "crate::invoices::iso_date")]
    pub care_date: Date,
    #[serde(with = "crate::invoices::iso_date")]
    pub valid_until: Date,
    pub total_cents: i64,
    pub lines: Vec<LineAnswer>,
}

impl ApprovalAnswer {
    pub fn of(a: &ApprovalRecord, today: Date) -> Result<Self, F> {
        let adj: Adjudication = serde_json::from_str(&a.answer)
            .map_err(|e| F::Internal(format!("stored approval answer: {e}")))?;
        let status = match a.status {
            ApprovalStatus::Active if a.valid_until < today => "expired",
            s => s.code(),
        };
        Ok(Self {
            number: a.number.clone(),
            status: status.to_string(),
            decision: InvoiceStatus::of(&adj.lines).code().to_string(),
            domain: a.domain.clone(),
            care_date: a.care_date,
            valid_until: a.valid_until,
            total_cents: a.total_cents,
            lines: adj
                .lines
                .into_iter()
                .map(|l| LineAnswer {
                    amc_cents: l.amc.cents(),
                    rejection: l.rejection.map(|c| c.code().to_string()),
                    steps: l.steps,
                })
                .collect(),
        })
    }
}

/// A new approval number: `P` and 20 Crockford base32 characters (100 random bits).
pub fn new_number(rng: &dyn crate::SecureRandom) -> String {
    let e = crate::rights::new_engagement_number(rng);
    format!("P{}", &e[1..])
}

/// Answers a prior-approval request (see the module documentation).
pub async fn request(
    ports: &Ports,
    ledger: &Ledger,
    actor: &Actor,
    info: ClaimContextInfo,
    request: &ApprovalRequest,
) -> Result<ApprovalAnswer, F> {
    let months = request
        .validity_months
        .unwrap_or(domain::approvals::DEFAULT_VALIDITY_MONTHS);
    if !(1..=12).contains(&months) {
        return Err(invalid("validity_months", "must be 1 to 12"));
    }
    // The engagement's care date is the quote's expected care date.
    let number = request.engagement.as_str();
    let probe = claim_care_date(ports, actor, number).await?;
    let quoted = claim::quoted(ports, actor, number, probe).await?;
    let engagement = &quoted.engagement;
    let domain = engagement.domain;
    if !matches!(
        domain,
        CareDomain::Opti | CareDomain::Audi | CareDomain::Dent
    ) {
        return Err(invalid(
            "engagement",
            "prior approval is for optics (OPTI), hearing aids (AUDI) and dental prostheses (DENT)",
        ));
    }
    let lines = claim::lines(&request.lines)?;
    claim::check_domain(domain, &lines)?;
    let today = ports.clock.today();
    if today > engagement.valid_until {
        return Err(invalid("engagement", "expired: run a rights check again"));
    }
    let Some((contract_record, contract)) = quoted.contract.clone() else {
        return Err(invalid(
            "engagement",
            "no contract of the beneficiary is in effect on the care date",
        ));
    };
    let empty = domain::contracts::History::default();
    let probe_claim = Claim {
        domain,
        care_date: engagement.care_date,
        age: quoted.age,
        lines: &lines,
        history: &empty,
    };
    domain::approvals::adjudicate_quote(&contract, &probe_claim, today, months)
        .map_err(|e| invalid(e.path, e.reason))?;
    claim::ledger(
        ledger,
        actor,
        info,
        engagement,
        Purpose::PriorApproval,
        DataCategory::Approval,
    )
    .await?;
    let id = ports.new_id();
    let approval_number = new_number(ports.rng.as_ref());
    let now = ports.clock.now();
    let quoted_lines =
        serde_json::to_string(&request.lines).map_err(|e| F::Internal(e.to_string()))?;
    let decide = |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
        let history = claim::history(&ctx.counters);
        let outcome = domain::approvals::adjudicate_quote(
            &contract,
            &Claim {
                domain,
                care_date: engagement.care_date,
                age: quoted.age,
                lines: &lines,
                history: &history,
            },
            today,
            months,
        )
        .map_err(|e| e.to_string())?;
        let counters = claim::counter_rows(
            ports,
            engagement,
            domain,
            engagement.care_date,
            &outcome.adjudication.consumptions,
            Some((id, outcome.valid_until)),
            None,
        );
        let answer = serde_json::to_string(&outcome.adjudication).map_err(|e| e.to_string())?;
        Ok(ClaimWrite::Approval {
            approval: ApprovalRecord {
                id,
                number: approval_number.clone(),
                insurer_id: engagement.insurer_id,
                beneficiary_id: engagement.beneficiary_id,
                organisation_id: actor.organisation_id,
                actor_id: actor.account_id,
                engagement_id: engagement.id,
                contract_id: contract_record.id,
                domain: domain.code().to_string(),
                status: ApprovalStatus::Active,
                care_date: engagement.care_date,
                valid_until: outcome.valid_until,
                total_cents: outcome.adjudication.total.cents(),
                lines: quoted_lines.clone(),
                answer,
                created_at: now,
                closed_at: None,
            },
            counters,
        })
    };
    let scope = ClaimScope {
        insurer_id: engagement.insurer_id,
        beneficiary_id: engagement.beneficiary_id,
        organisation_id: actor.organisation_id,
        today,
        approval_number: None,
        fingerprint: None,
    };
    match ports.store.record_claim(&scope, &decide).await? {
        ClaimWrite::Approval { approval, .. } => ApprovalAnswer::of(&approval, today),
        ClaimWrite::Invoice { .. } => Err(F::Internal("the store wrote an invoice".into())),
    }
}

/// The care date of an engagement the practice holds (`NotFound` otherwise).
async fn claim_care_date(ports: &Ports, actor: &Actor, number: &str) -> Result<Date, F> {
    if actor.role != domain::accounts::Role::Professional {
        return Err(F::Forbidden);
    }
    if !crate::rights::is_engagement_number(number) {
        return Err(F::NotFound);
    }
    ports
        .store
        .find_engagement(actor.organisation_id, number)
        .await?
        .map(|e| e.care_date)
        .ok_or(F::NotFound)
}

/// An approval of the caller's practice.
pub async fn get(ports: &Ports, actor: &Actor, number: &str) -> Result<ApprovalAnswer, F> {
    if actor.role != domain::accounts::Role::Professional {
        return Err(F::NotFound);
    }
    let a = ports
        .store
        .find_approval(actor.organisation_id, number)
        .await?
        .ok_or(F::NotFound)?;
    ApprovalAnswer::of(&a, ports.clock.today())
}

/// Cancels an active approval of the caller's practice: its reservation is released.
pub async fn cancel(ports: &Ports, actor: &Actor, number: &str) -> Result<ApprovalAnswer, F> {
    if actor.role != domain::accounts::Role::Professional {
        return Err(F::NotFound);
    }
    let at: OffsetDateTime = ports.clock.now();
    match ports
        .store
        .cancel_approval(actor.organisation_id, number, at)
        .await
    {
        Ok(a) => ApprovalAnswer::of(&a, ports.clock.today()),
        Err(StoreError::NotFound) => Err(F::NotFound),
        Err(StoreError::Conflict { .. }) => Err(F::NotActive("not active")),
        Err(e) => Err(e.into()),
    }
}
