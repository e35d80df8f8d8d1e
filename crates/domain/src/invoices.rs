//! Invoices adjudicated line by line, and the rejection code list.
//!
//! `adjudicate_invoice` runs the engine (`contracts::engine`) on the invoice's lines and then
//! holds them to their prior approval: a domain that needs one without it is rejected
//! (`approval_missing`), an approval past its validity is `approval_expired`, a line priced
//! above its approved price is `amount_above_approval`, and an accepted line never gets more
//! than its approved AMC. The decisions that need the store (rights on the care date,
//! duplicates, the professional's status, lateness) are the app's; their codes are here
//! so that every rejection comes from one list, and `reject_all` builds their answer.

use crate::approvals::{self, ApprovalTerms};
use crate::contracts::engine::{
    Adjudication, Claim, ClaimError, LineResult, Rule, Step, adjudicate,
};
use crate::contracts::table::Contract;
use crate::money::{Money, MoneyError, Rate};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Duration};

/// Why a line (or a whole invoice or approval request) is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// The beneficiary has no rights on the care date (card or membership closed, or the
    /// engagement number does not cover that date). App.
    RightsClosed,
    /// The domain needs a prior approval (OPTI, AUDI, DENT prostheses) and none was given,
    /// or the line is not part of the approval. Engine (`invoices`).
    ApprovalMissing,
    /// The approval's validity ended before the care date, or it was cancelled. Engine/app.
    ApprovalExpired,
    /// The invoiced price of a line is above the approved price. Engine (`invoices`).
    AmountAboveApproval,
    /// The renewal period is not reached (OPTI: one equipment per 24 months, 12 under 16;
    /// AUDI: one aid per ear per 48 months). Engine.
    RenewalPeriodNotReached,
    /// The per-period budget of the guarantee is used up. Engine.
    CeilingReached,
    /// The same invoice was already received (same professional, invoice number or the same
    /// beneficiary, care date and lines). App.
    DuplicateInvoice,
    /// The professional is not known to the platform. App.
    ProfessionalUnknown,
    /// The professional or their organisation is suspended (containment). App.
    ProfessionalSuspended,
    /// The AMO amount is not consistent: negative, above the BR or above the price. Engine.
    InconsistentAmo,
    /// Received after the submission delay from the care date (`is_late`). App.
    LateSubmission,
    /// No guarantee row of the contract covers the line. Engine.
    NotCovered,
}

impl RejectionCode {
    pub const ALL: [RejectionCode; 12] = [
        RejectionCode::RightsClosed,
        RejectionCode::ApprovalMissing,
        RejectionCode::ApprovalExpired,
        RejectionCode::AmountAboveApproval,
        RejectionCode::RenewalPeriodNotReached,
        RejectionCode::CeilingReached,
        RejectionCode::DuplicateInvoice,
        RejectionCode::ProfessionalUnknown,
        RejectionCode::ProfessionalSuspended,
        RejectionCode::InconsistentAmo,
        RejectionCode::LateSubmission,
        RejectionCode::NotCovered,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RejectionCode::RightsClosed => "rights_closed",
            RejectionCode::ApprovalMissing => "approval_missing",
            RejectionCode::ApprovalExpired => "approval_expired",
            RejectionCode::AmountAboveApproval => "amount_above_approval",
            RejectionCode::RenewalPeriodNotReached => "renewal_period_not_reached",
            RejectionCode::CeilingReached => "ceiling_reached",
            RejectionCode::DuplicateInvoice => "duplicate_invoice",
            RejectionCode::ProfessionalUnknown => "professional_unknown",
            RejectionCode::ProfessionalSuspended => "professional_suspended",
            RejectionCode::InconsistentAmo => "inconsistent_amo",
            RejectionCode::LateSubmission => "late_submission",
            RejectionCode::NotCovered => "not_covered",
        }
    }

    /// The meaning, as shown to the professional.
    pub fn meaning(self) -> &'static str {
        match self {
            RejectionCode::RightsClosed => "no rights on the care date",
            RejectionCode::ApprovalMissing => "a prior approval is required",
            RejectionCode::ApprovalExpired => "the prior approval has expired",
            RejectionCode::AmountAboveApproval => "amount above the prior approval",
            RejectionCode::RenewalPeriodNotReached => "renewal period not reached",
            RejectionCode::CeilingReached => "ceiling reached",
            RejectionCode::DuplicateInvoice => "duplicate invoice",
            RejectionCode::ProfessionalUnknown => "professional unknown",
            RejectionCode::ProfessionalSuspended => "professional suspended",
            RejectionCode::InconsistentAmo => "inconsistent AMO amount",
            RejectionCode::LateSubmission => "late submission",
            RejectionCode::NotCovered => "not covered by the contract",
        }
    }

    pub fn parse(s: &str) -> Option<RejectionCode> {
        RejectionCode::ALL.into_iter().find(|c| c.code() == s)
    }
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The answer to an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Every line accepted.
    Accepted,
    /// Some lines accepted, some rejected.
    Partial,
    /// Every line rejected.
    Rejected,
}

impl InvoiceStatus {
    pub fn of(lines: &[LineResult]) -> InvoiceStatus {
        let rejected = lines.iter().filter(|l| l.rejection.is_some()).count();
        if rejected == 0 {
            InvoiceStatus::Accepted
        } else if rejected == lines.len() {
            InvoiceStatus::Rejected
        } else {
            InvoiceStatus::Partial
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            InvoiceStatus::Accepted => "accepted",
            InvoiceStatus::Partial => "partial",
            InvoiceStatus::Rejected => "rejected",
        }
    }
}

/// The invoice's adjudication: the engine's answer held to the approval, and its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceOutcome {
    pub status: InvoiceStatus,
    pub adjudication: Adjudication,
}

/// Adjudicates an invoice. `approval`: the prior approval named by the invoice, if any (the
/// history in `claim` must not hold that approval's own reservation: the answer's
/// consumptions are what the reservation becomes).
pub fn adjudicate_invoice(
    contract: &Contract,
    claim: &Claim<'_>,
    approval: Option<&ApprovalTerms>,
) -> Result<InvoiceOutcome, ClaimError> {
    let needs = approvals::needs_approval(claim.domain, claim.lines);
    let whole = match approval {
        None if needs => Some((
            RejectionCode::ApprovalMissing,
            "a prior approval is required for this care".to_string(),
        )),
        Some(a) if claim.care_date > a.valid_until => Some((
            RejectionCode::ApprovalExpired,
            format!("the prior approval was valid until {}", a.valid_until),
        )),
        _ => None,
    };
    if let Some((code, text)) = whole {
        // Still validate the input: a malformed invoice is an error, not a rejection.
        adjudicate(contract, claim)?;
        return Ok(reject_all(claim.lines.len(), code, &text));
    }
    let mut adj = adjudicate(contract, claim)?;
    if let Some(a) = approval {
        let mut cut = vec![0i64; adj.lines.len()];
        for (i, line) in adj.lines.iter_mut().enumerate() {
            if line.rejection.is_some() {
                continue;
            }
            let before = line.amc;
            let reject = |line: &mut LineResult, code: RejectionCode, text: String| {
                line.rejection = Some(code);
                line.amc = Money::ZERO;
                line.steps.push(Step {
                    rule: Rule::Rejected,
                    before,
                    after: Money::ZERO,
                    text,
                });
            };
            match a.lines.get(i) {
                None => reject(
                    line,
                    RejectionCode::ApprovalMissing,
                    format!("line {} is not part of the prior approval", i + 1),
                ),
                Some(ap) if claim.lines[i].price > ap.price => reject(
                    line,
                    RejectionCode::AmountAboveApproval,
                    format!(
                        "price {} € is above the approved {} €",
                        claim.lines[i].price, ap.price
                    ),
                ),
                Some(ap) if line.amc > ap.amc => {
                    cut[i] = line.amc.cents() - ap.amc.cents();
                    line.amc = ap.amc;
                    line.steps.push(Step {
                        rule: Rule::ApprovalLimit,
                        before,
                        after: ap.amc,
                        text: format!("at most the approved {} €", ap.amc),
                    });
                }
                Some(_) => {}
            }
        }
        let total = adj.lines.iter().map(|l| l.amc.cents()).sum();
        adj.total = Money::from_cents(total);
        keep_consumptions_of_accepted_lines(claim, &mut adj, &cut);
    }
    Ok(InvoiceOutcome {
        status: InvoiceStatus::of(&adj.lines),
        adjudication: adj,
    })
}

/// Degraded mode (care given under a genuine card while lookups were switched off): each
/// accepted line's AMC is held to at most the card's printed `rate` × BR − AMO (never below
/// zero), with a `card_rate_limit` step; the consumptions follow the reduced lines.
pub fn hold_to_card_rate(
    claim: &Claim<'_>,
    mut outcome: InvoiceOutcome,
    rate: Rate,
) -> Result<InvoiceOutcome, MoneyError> {
    let adj = &mut outcome.adjudication;
    let mut cut = vec![0i64; adj.lines.len()];
    for (i, line) in adj.lines.iter_mut().enumerate() {
        let Some(l) = claim.lines.get(i) else {
            continue;
        };
        if line.rejection.is_some() {
            continue;
        }
        let limit = l.br.apply_rate(rate)?.checked_sub(l.amo)?.max(Money::ZERO);
        if line.amc > limit {
            let before = line.amc;
            cut[i] = before.cents() - limit.cents();
            line.amc = limit;
            line.steps.push(Step {
                rule: Rule::CardRateLimit,
                before,
                after: limit,
                text: format!(
                    "degraded mode: at most the card's {rate} of BR − AMO = {} − {} = {} €",
                    l.br.apply_rate(rate)?,
                    l.amo,
                    limit
                ),
            });
        }
    }
    adj.total = Money::from_cents(adj.lines.iter().map(|l| l.amc.cents()).sum());
    keep_consumptions_of_accepted_lines(claim, adj, &cut);
    outcome.status = InvoiceStatus::of(&adj.lines);
    Ok(outcome)
}

/// After the approval checks rejected or reduced lines: the equipment counters only for what
/// is still accepted (OPTI: a frame or a lens; AUDI: one per accepted aid and ear), and the
/// budget draws of rejected lines dropped, those of reduced lines reduced (the budget is used
/// last, so a reduction comes off it first).
fn keep_consumptions_of_accepted_lines(claim: &Claim<'_>, adj: &mut Adjudication, cut: &[i64]) {
    use crate::contracts::engine::{Consumption, Ear};
    use crate::contracts::table::LineKind;
    use crate::rights::CareDomain;
    let accepted = |i: usize| adj.lines.get(i).is_some_and(|l| l.rejection.is_none());
    let optics = claim
        .lines
        .iter()
        .enumerate()
        .any(|(i, l)| accepted(i) && matches!(l.kind, LineKind::Frame | LineKind::Lens));
    let mut ears: Vec<Ear> = claim
        .lines
        .iter()
        .enumerate()
        .filter(|(i, l)| accepted(*i) && l.kind == LineKind::HearingAid)
        .filter_map(|(_, l)| l.ear)
        .collect();
    let kept: Vec<bool> = (0..adj.lines.len()).map(accepted).collect();
    adj.consumptions.retain_mut(|c| match c {
        Consumption::Equipment {
            domain: CareDomain::Opti,
            ..
        } => optics,
        Consumption::Equipment {
            domain: CareDomain::Audi,
            ear: Some(e),
        } => match ears.iter().position(|x| x == e) {
            Some(p) => {
                ears.remove(p);
                true
            }
            None => false,
        },
        Consumption::Equipment { .. } => true,
        Consumption::Budget { line, amount, .. } => {
            let left = amount.cents() - cut.get(*line).copied().unwrap_or(0);
            *amount = Money::from_cents(left.max(0));
            kept.get(*line).copied().unwrap_or(false) && left > 0
        }
    });
}

/// Every line rejected with one code (the app's decisions: rights closed, duplicate,
/// professional unknown or suspended, late submission).
pub fn reject_all(lines: usize, code: RejectionCode, text: &str) -> InvoiceOutcome {
    let lines = (0..lines)
        .map(|_| LineResult {
            amc: Money::ZERO,
            guarantee: None,
            rejection: Some(code),
            steps: vec![Step {
                rule: Rule::Rejected,
                before: Money::ZERO,
                after: Money::ZERO,
                text: format!("{}: {text}", code.meaning()),
            }],
        })
        .collect();
    InvoiceOutcome {
        status: InvoiceStatus::Rejected,
        adjudication: Adjudication {
            lines,
            total: Money::ZERO,
            consumptions: Vec::new(),
        },
    }
}

/// Default submission delay: an invoice received more than this many days after the care
/// date is `late_submission` (the Inter-AMC practice is two years; an insurer may set less).
pub const DEFAULT_SUBMISSION_DAYS: i64 = 730;

/// Whether an invoice received on `received_on` for care on `care_date` is late.
pub fn is_late(care_date: Date, received_on: Date, max_days: i64) -> bool {
    received_on - care_date > Duration::days(max_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        for c in RejectionCode::ALL {
            assert_eq!(RejectionCode::parse(c.code()), Some(c));
            assert_eq!(c.to_string(), c.code());
            assert!(!c.meaning().is_empty());
        }
        assert_eq!(RejectionCode::parse("nope"), None);
    }

    #[test]
    fn late_after_the_delay() {
        use time::macros::date;
        assert!(!is_late(date!(2026 - 01 - 01), date!(2027 - 12 - 31), 730));
        assert!(is_late(date!(2026 - 01 - 01), date!(2028 - 01 - 02), 730));
    }

    #[test]
    fn a_degraded_mode_invoice_is_held_to_the_card_rate() {
        use crate::contracts::engine::{History, Line};
        use crate::contracts::table::LineKind;
        use crate::rights::CareDomain;
        use time::macros::date;
        // PHAR at 100% BR under ESSENTIEL; the card prints PHAR 80%.
        let contract =
            Contract::from_toml(include_str!("../../../data/contracts/essentiel.toml")).unwrap();
        let lines = [
            Line::new(LineKind::Other, 1_000, 1_000, 650),
            Line::new(LineKind::Other, 3_000, 3_000, 2_700),
        ];
        let history = History::default();
        let claim = Claim {
            domain: CareDomain::Phar,
            care_date: date!(2026 - 03 - 02),
            age: 40,
            lines: &lines,
            history: &history,
        };
        let free = adjudicate_invoice(&contract, &claim, None).unwrap();
        let held = hold_to_card_rate(&claim, free.clone(), Rate::from_basis_points(8_000)).unwrap();
        // Line 1: the contract pays 100% × 10.00 − 6.50 = 3.50 €; the card 80% × 10.00 − 6.50
        // = 1.50 €.
        assert_eq!(free.adjudication.lines[0].amc.cents(), 350);
        assert_eq!(held.adjudication.lines[0].amc.cents(), 150);
        let last = held.adjudication.lines[0].steps.last().unwrap();
        assert_eq!(last.rule, Rule::CardRateLimit);
        assert_eq!((last.before.cents(), last.after.cents()), (350, 150));
        // Line 2: 80% × 30.00 = 24.00 < 27.00 AMO: nothing.
        assert_eq!(free.adjudication.lines[1].amc.cents(), 300);
        assert_eq!(held.adjudication.lines[1].amc.cents(), 0);
        assert_eq!(held.adjudication.total.cents(), 150);
        assert_eq!(held.status, free.status);
        // A rate at or above the contract's changes nothing.
        let same =
            hold_to_card_rate(&claim, free.clone(), Rate::from_basis_points(10_000)).unwrap();
        assert_eq!(same, free);
    }
}
