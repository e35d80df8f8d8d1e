//! Prior approval (DPEC → PEC) of quote lines: the engine run on the quote, a validity
//! (3 months by default), and the terms an invoice is later held to.
//!
//! The app stores the approval with its lines' AMC and reserves the answer's consumptions
//! (renewal counters, budgets) until the approval is invoiced, expires or is cancelled.

use crate::contracts::engine::{Adjudication, Claim, ClaimError, Line, adjudicate};
use crate::contracts::table::{Contract, LineKind};
use crate::money::Money;
use crate::rights::CareDomain;
use time::Date;

/// Validity of an approval unless the insurer says otherwise: 3 months.
pub const DEFAULT_VALIDITY_MONTHS: u8 = 3;

/// Whether care in `domain` with these lines needs a prior approval: optics, hearing aids
/// and dental prostheses.
pub fn needs_approval(domain: CareDomain, lines: &[Line]) -> bool {
    match domain {
        CareDomain::Opti | CareDomain::Audi => true,
        CareDomain::Dent => lines.iter().any(|l| l.kind == LineKind::Prosthesis),
        _ => false,
    }
}

/// The last day (included) an approval issued on `issued_on` is valid: the same day
/// `months` later, or that month's last day; 2026-01-31 + 3 months → 2026-04-30.
pub fn valid_until(issued_on: Date, months: u8) -> Option<Date> {
    crate::contracts::engine::add_months(issued_on, i32::from(months))
}

/// An approved line: the quoted price and the AMC granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovedLine {
    pub price: Money,
    pub amc: Money,
}

/// What an invoice is held to: the approval's validity and its lines, in quote order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalTerms {
    pub valid_until: Date,
    pub lines: Vec<ApprovedLine>,
}

/// The engine's answer to a quote, with the approval's validity and terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalOutcome {
    pub adjudication: Adjudication,
    pub valid_until: Date,
    /// Accepted lines keep their AMC; rejected lines are approved at zero.
    pub terms: ApprovalTerms,
}

/// Adjudicates a quote. `claim.care_date` is the expected care date (the quote's date);
/// `issued_on` the day of the decision, from which the validity runs.
pub fn adjudicate_quote(
    contract: &Contract,
    claim: &Claim<'_>,
    issued_on: Date,
    validity_months: u8,
) -> Result<ApprovalOutcome, ClaimError> {
    if !needs_approval(claim.domain, claim.lines) {
        return Err(ClaimError {
            path: "domain".into(),
            reason: "prior approval is for optics, hearing aids and dental prostheses".into(),
        });
    }
    if !(1..=12).contains(&validity_months) {
        return Err(ClaimError {
            path: "validity_months".into(),
            reason: "must be 1 to 12".into(),
        });
    }
    let adjudication = adjudicate(contract, claim)?;
    let valid_until = valid_until(issued_on, validity_months).ok_or_else(|| ClaimError {
        path: "issued_on".into(),
        reason: "out of range".into(),
    })?;
    let lines = claim
        .lines
        .iter()
        .zip(&adjudication.lines)
        .map(|(l, r)| ApprovedLine {
            price: l.price,
            amc: r.amc,
        })
        .collect();
    Ok(ApprovalOutcome {
        adjudication,
        valid_until,
        terms: ApprovalTerms { valid_until, lines },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn validity_is_three_months_by_default() {
        assert_eq!(
            valid_until(date!(2026 - 03 - 15), DEFAULT_VALIDITY_MONTHS),
            Some(date!(2026 - 06 - 15))
        );
        assert_eq!(
            valid_until(date!(2026 - 01 - 31), 3),
            Some(date!(2026 - 04 - 30))
        );
        assert_eq!(
            valid_until(date!(2026 - 11 - 30), 3),
            Some(date!(2027 - 02 - 28))
        );
    }

    #[test]
    fn which_care_needs_approval() {
        let l = |k| Line::new(k, 100, 100, 60);
        assert!(needs_approval(CareDomain::Opti, &[l(LineKind::Other)]));
        assert!(needs_approval(CareDomain::Audi, &[l(LineKind::Other)]));
        assert!(needs_approval(CareDomain::Dent, &[l(LineKind::Prosthesis)]));
        assert!(!needs_approval(CareDomain::Dent, &[l(LineKind::Other)]));
        assert!(!needs_approval(CareDomain::Phar, &[l(LineKind::Other)]));
    }
}
