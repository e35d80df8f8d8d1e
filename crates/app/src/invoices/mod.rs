//! Invoices: a practice quotes the engagement number of a rights check (and the prior
//! approval's number where one is needed), the care date and the lines with the AMO amount
//! actually paid; every line is adjudicated (`domain::invoices::adjudicate_invoice`) and the
//! answer is `accepted`, `partial` or `rejected`, with per line the AMC amount and every step.
//!
//! Order: the caller must be a practice (403) that obtained the engagement (404 otherwise, also
//! for another practice's); malformed lines are 422. Then the app's own rejections, every line
//! with one code: `rights_closed` (the care date outside the engagement's span — from its care
//! date to its last day — or the beneficiary's rights closed that day, or no contract version
//! in effect), `late_submission` (`domain::invoices::is_late`, 730 days), then under the
//! store's transaction (`MoneyStore::record_claim`): `duplicate_invoice` (a non-rejected
//! invoice of the practice with the same engagement, care date and lines), the named approval
//! (`approval_missing` when unknown or for another beneficiary, `approval_expired` when
//! cancelled, `duplicate_invoice` when already invoiced), then the engine with the
//! beneficiary's counters read under that transaction. The counters the invoice consumes are
//! written in the same transaction; an approval used by the invoice gives its reservation up.
//! The disclosure is ledgered (purpose `invoice`, category `payment`) before the answer leaves;
//! a ledger failure fails the request.
//!
//! A suspended professional never gets here: the web layer's `Authenticated` refuses them (403).
//!
//! **Degraded mode** ([`degraded`]): while lookups were switched off for the practice on the
//! care date, the invoice carries the card's token, the patient and the domain instead of an
//! engagement number; it is matched like a rights check, gets an engagement, and every line
//! is held to the card's printed rate (`card_rate_limit`).

pub mod claim;
pub mod degraded;
pub mod store;

pub use claim::{ClaimContextInfo, ClaimFailure, LineAnswer, LineInput};
pub use store::{
    ApprovalRecord, ApprovalStatus, ClaimContext, ClaimScope, ClaimWrite, CounterRecord,
    InvoiceLineRecord, InvoiceRecord, MoneyStore,
};

use crate::Ports;
use crate::accounts::Actor;
use crate::ledger::{DataCategory, Ledger, Purpose};
use crate::store::StoreError;
use claim::{ClaimFailure as F, invalid};
use domain::approvals::{ApprovalTerms, ApprovedLine};
use domain::contracts::{Adjudication, Claim, Line};
use domain::invoices::{InvoiceOutcome, InvoiceStatus, RejectionCode, reject_all};
use domain::money::Money;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::Date;
use uuid::Uuid;

// `YYYY-MM-DD` on the wire (time's default would be a `[year, ordinal]` pair).
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

/// The card of a degraded-mode invoice: its datamatrix token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardTokenBody {
    pub token: String,
}

/// The patient of a degraded-mode invoice, as in a rights check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientBody {
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    pub birth_rank: u8,
}

/// An invoice as sent: the engagement number of a rights check, or in degraded mode (lookups
/// switched off for the practice on the care date) the card, the patient and the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardTokenBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default)]
    pub approval: Option<String>,
    #[serde(with = "iso_date")]
    pub care_date: Date,
    pub lines: Vec<LineInput>,
}

/// The answer to an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceAnswer {
    pub id: Uuid,
    /// `accepted`, `partial` or `rejected`.
    pub status: String,
    pub domain: String,
    pub contract: String,
    #[serde(with = "iso_date")]
    pub care_date: Date,
    pub total_cents: i64,
    pub lines: Vec<LineAnswer>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl InvoiceAnswer {
    pub fn of(record: &InvoiceRecord) -> Result<Self, F> {
        let lines = record
            .lines
            .iter()
            .map(|l| {
                Ok(LineAnswer {
                    amc_cents: l.amc_cents,
                    rejection: l.rejection.clone(),
                    steps: serde_json::from_str(&l.steps)
                        .map_err(|e| F::Internal(format!("stored steps: {e}")))?,
                })
            })
            .collect::<Result<Vec<_>, F>>()?;
        Ok(Self {
            id: record.id,
            status: record.status.clone(),
            domain: record.domain.clone(),
            contract: record.contract_code.clone(),
            care_date: record.care_date,
            total_cents: record.total_cents,
            lines,
            created_at: record.created_at,
        })
    }
}

/// The duplicate marker: SHA-256 of the engagement (in degraded mode: the card token, the
/// patient and the domain), the care date and the lines.
pub fn fingerprint(request: &InvoiceRequest) -> String {
    let mut h = Sha256::new();
    h.update(b"rempart/invoice/v1\0");
    match (&request.engagement, &request.card) {
        (Some(e), _) => h.update(e.as_bytes()),
        (None, card) => {
            h.update(b"card\0");
            h.update(card.as_ref().map_or("", |c| c.token.as_str()).as_bytes());
            h.update([0]);
            if let Some(p) = &request.patient {
                h.update(p.birth_date.to_string().as_bytes());
                h.update([p.birth_rank]);
            }
            h.update([0]);
            h.update(request.domain.as_deref().unwrap_or("").as_bytes());
        }
    }
    h.update([0]);
    h.update(request.care_date.to_string().as_bytes());
    h.update([0]);
    h.update(
        serde_json::to_string(&request.lines)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The terms an approval holds an invoice to.
pub fn approval_terms(a: &ApprovalRecord) -> Result<ApprovalTerms, String> {
    let quoted: Vec<LineInput> =
        serde_json::from_str(&a.lines).map_err(|e| format!("stored approval lines: {e}"))?;
    let answer: Adjudication =
        serde_json::from_str(&a.answer).map_err(|e| format!("stored approval answer: {e}"))?;
    Ok(ApprovalTerms {
        valid_until: a.valid_until,
        lines: quoted
            .iter()
            .zip(&answer.lines)
            .map(|(q, r)| ApprovedLine {
                price: Money::from_cents(q.price_cents),
                amc: r.amc,
            })
            .collect(),
    })
}

/// The status of an invoice's answer (created), as kept for its `Idempotency-Key`.
pub const KEPT_STATUS: u16 = 201;

/// The JSON bytes of an answer, as sent and as kept for its `Idempotency-Key`.
pub fn answer_body(answer: &InvoiceAnswer) -> Result<Vec<u8>, F> {
    serde_json::to_vec(answer).map_err(|e| F::Internal(e.to_string()))
}

/// Adjudicates and records an invoice (see the module documentation). With `keep` (the
/// request's running `Idempotency-Key` record), the answer — [`answer_body`] with
/// [`KEPT_STATUS`] — is kept in the invoice's own transaction.
pub async fn submit(
    ports: &Ports,
    ledger: &Ledger,
    guard: &crate::guard::Guard,
    actor: &Actor,
    info: ClaimContextInfo,
    request: &InvoiceRequest,
    keep: Option<&crate::idempotency::Keep>,
) -> Result<InvoiceAnswer, F> {
    let (quoted, card_rate) = match (&request.engagement, &request.card) {
        (Some(number), None) if request.patient.is_none() && request.domain.is_none() => (
            claim::quoted(ports, actor, number, request.care_date).await?,
            None,
        ),
        (None, Some(card)) => {
            if actor.role != domain::accounts::Role::Professional {
                return Err(F::Forbidden);
            }
            degraded::quote(ports, guard, actor, request, card, info).await?
        }
        _ => {
            return Err(invalid(
                "engagement",
                "give the engagement number of a rights check, or in degraded mode (lookups switched off) the card, the patient and the domain instead",
            ));
        }
    };
    let lines = claim::lines(&request.lines)?;
    let engagement = &quoted.engagement;
    let domain = engagement.domain;
    claim::check_domain(domain, &lines)?;
    if let Some(n) = &request.approval
        && (n.len() != 21 || !n.starts_with('P'))
    {
        return Err(invalid("approval", "not a prior-approval number"));
    }
    let today = ports.clock.today();
    let b = &quoted.beneficiary;
    let in_rights = request.care_date >= engagement.care_date
        && request.care_date <= engagement.valid_until
        && b.valid_from <= request.care_date
        && b.valid_to.is_none_or(|to| request.care_date <= to);
    // Malformed lines are an error whatever the answer: check them with the engine first.
    if let Some((_, contract)) = &quoted.contract {
        let empty = domain::contracts::History::default();
        domain::contracts::adjudicate(
            contract,
            &Claim {
                domain,
                care_date: request.care_date,
                age: quoted.age,
                lines: &lines,
                history: &empty,
            },
        )
        .map_err(|e| invalid(e.path, e.reason))?;
    }
    let early = if !in_rights || quoted.contract.is_none() {
        Some((RejectionCode::RightsClosed, "no rights on that care date"))
    } else if domain::invoices::is_late(
        request.care_date,
        today,
        domain::invoices::DEFAULT_SUBMISSION_DAYS,
    ) {
        Some((
            RejectionCode::LateSubmission,
            "received more than 730 days after the care date",
        ))
    } else {
        None
    };
    claim::ledger(
        ledger,
        actor,
        info,
        engagement,
        Purpose::Invoice,
        DataCategory::Payment,
    )
    .await?;
    let invoice_id = ports.new_id();
    let now = ports.clock.now();
    let fingerprint = fingerprint(request);
    let (contract_id, contract_code) = match &quoted.contract {
        Some((r, _)) => (Some(r.id), r.code.as_str().to_string()),
        None => (None, String::new()),
    };
    let record_of = |outcome: &InvoiceOutcome, approval_id: Option<Uuid>| InvoiceRecord {
        id: invoice_id,
        insurer_id: engagement.insurer_id,
        organisation_id: actor.organisation_id,
        actor_id: actor.account_id,
        engagement_id: engagement.id,
        beneficiary_id: engagement.beneficiary_id,
        approval_id,
        contract_id,
        contract_code: contract_code.clone(),
        domain: domain.code().to_string(),
        care_date: request.care_date,
        status: outcome.status.code().to_string(),
        total_cents: outcome.adjudication.total.cents(),
        fingerprint: fingerprint.clone(),
        created_at: now,
        lines: line_records(&request.lines, &lines, &outcome.adjudication),
    };
    let decision = |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
        let whole = |code: RejectionCode, text: &str| {
            let outcome = reject_all(lines.len(), code, text);
            ClaimWrite::Invoice {
                invoice: record_of(&outcome, None),
                counters: Vec::new(),
                consume_approval: None,
                kept: None,
            }
        };
        if let Some((code, text)) = early {
            return Ok(whole(code, text));
        }
        if ctx.duplicate {
            return Ok(whole(
                RejectionCode::DuplicateInvoice,
                "the same invoice was already accepted",
            ));
        }
        let Some((_, contract)) = &quoted.contract else {
            return Ok(whole(RejectionCode::RightsClosed, "no contract in effect"));
        };
        let approval = match (&request.approval, &ctx.approval) {
            (None, _) => None,
            (Some(_), None) => {
                return Ok(whole(
                    RejectionCode::ApprovalMissing,
                    "no such prior approval for this practice",
                ));
            }
            (Some(_), Some(a)) => {
                if a.beneficiary_id != engagement.beneficiary_id || a.domain != domain.code() {
                    return Ok(whole(
                        RejectionCode::ApprovalMissing,
                        "the prior approval is for another patient or domain",
                    ));
                }
                match a.status {
                    ApprovalStatus::Cancelled => {
                        return Ok(whole(
                            RejectionCode::ApprovalExpired,
                            "the prior approval was cancelled",
                        ));
                    }
                    ApprovalStatus::Invoiced => {
                        return Ok(whole(
                            RejectionCode::DuplicateInvoice,
                            "the prior approval was already invoiced",
                        ));
                    }
                    ApprovalStatus::Active => Some(a),
                }
            }
        };
        let terms = approval.map(approval_terms).transpose()?;
        let history = claim::history(&ctx.counters);
        let claim = Claim {
            domain,
            care_date: request.care_date,
            age: quoted.age,
            lines: &lines,
            history: &history,
        };
        let outcome = domain::invoices::adjudicate_invoice(contract, &claim, terms.as_ref())
            .map_err(|e| e.to_string())?;
        // Degraded mode: honoured up to the card's printed rate.
        let outcome = match card_rate {
            Some(rate) => domain::invoices::hold_to_card_rate(&claim, outcome, rate)
                .map_err(|e| e.to_string())?,
            None => outcome,
        };
        let counters = claim::counter_rows(
            ports,
            engagement,
            domain,
            request.care_date,
            &outcome.adjudication.consumptions,
            None,
            Some(invoice_id),
        );
        let consume = approval
            .filter(|_| outcome.status != InvoiceStatus::Rejected)
            .map(|a| a.id);
        Ok(ClaimWrite::Invoice {
            invoice: record_of(&outcome, approval.map(|a| a.id)),
            counters,
            consume_approval: consume,
            kept: None,
        })
    };
    // Every invoice written is a 201 answer: with a key, that answer is kept in the same
    // transaction (the bytes the caller sends: `answer_body`).
    let decide = |ctx: &ClaimContext| -> Result<ClaimWrite, String> {
        let mut write = decision(ctx)?;
        if let (Some(keep), ClaimWrite::Invoice { invoice, kept, .. }) = (keep, &mut write) {
            let answer = InvoiceAnswer::of(invoice).map_err(|e| e.to_string())?;
            let body = answer_body(&answer).map_err(|e| e.to_string())?;
            *kept = Some(
                crate::idempotency::seal_answer(ports, keep, KEPT_STATUS, &body)
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok(write)
    };
    let scope = ClaimScope {
        insurer_id: engagement.insurer_id,
        beneficiary_id: engagement.beneficiary_id,
        organisation_id: actor.organisation_id,
        today,
        approval_number: request.approval.clone(),
        fingerprint: Some(fingerprint.clone()),
    };
    let written = ports.store.record_claim(&scope, &decide).await?;
    match written {
        ClaimWrite::Invoice { invoice, .. } => InvoiceAnswer::of(&invoice),
        ClaimWrite::Approval { .. } => Err(F::Internal("the store wrote an approval".into())),
    }
}

/// The stored lines of an answer.
pub fn line_records(
    input: &[LineInput],
    lines: &[Line],
    adjudication: &Adjudication,
) -> Vec<InvoiceLineRecord> {
    input
        .iter()
        .zip(lines)
        .zip(&adjudication.lines)
        .enumerate()
        .map(|(i, ((inp, l), r))| InvoiceLineRecord {
            line_no: u32::try_from(i).unwrap_or(u32::MAX),
            kind: l.kind.code().to_string(),
            class: inp.class.clone(),
            complexity: inp.complexity.clone(),
            ear: inp.ear.clone(),
            quantity: l.quantity,
            price_cents: l.price.cents(),
            br_cents: l.br.cents(),
            amo_cents: l.amo.cents(),
            amc_cents: r.amc.cents(),
            rejection: r.rejection.map(|c| c.code().to_string()),
            steps: serde_json::to_string(&r.steps).unwrap_or_else(|_| "[]".into()),
            paid_run_id: None,
        })
        .collect()
}

/// An invoice of the caller's practice (`NotFound` for another practice's).
pub async fn get(ports: &Ports, actor: &Actor, id: Uuid) -> Result<InvoiceAnswer, F> {
    if actor.role != domain::accounts::Role::Professional {
        return Err(F::NotFound);
    }
    match ports.store.get_invoice(actor.organisation_id, id).await {
        Ok(r) => InvoiceAnswer::of(&r),
        Err(StoreError::NotFound) => Err(F::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// The caller's practice's latest invoices.
pub async fn list(ports: &Ports, actor: &Actor, limit: u32) -> Result<Vec<InvoiceAnswer>, F> {
    if actor.role != domain::accounts::Role::Professional {
        return Err(F::Forbidden);
    }
    ports
        .store
        .list_invoices(actor.organisation_id, limit.min(200))
        .await?
        .iter()
        .map(InvoiceAnswer::of)
        .collect()
}
