//! Tiers-payant cards (attestations): the Inter-AMC fields and the domain rates printed on them.

use crate::beneficiaries::Validity;
use crate::ids::{AmcNumber, MemberNumber};
use crate::rights::{CareDomain, Regime};

/// Type de convention printed on the card (e.g. `TP` for standard tiers payant, a network code).
pub type ConventionType = String;

/// What a card states, field by field (Inter-AMC harmonised block plus the domain rates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFace {
    pub amc: AmcNumber,
    pub convention_type: ConventionType,
    pub routing_criterion: String,
    pub member_number: MemberNumber,
    pub validity: Validity,
    pub domains: Vec<(CareDomain, Regime)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rate;
    use time::macros::date;

    #[test]
    fn card_face_debug_never_shows_the_member_number() {
        let card = CardFace {
            amc: AmcNumber::parse("12345678").unwrap(),
            convention_type: "TP".into(),
            routing_criterion: String::new(),
            member_number: MemberNumber::parse("ADH987654").unwrap(),
            validity: Validity::new(date!(2025 - 01 - 01), Some(date!(2025 - 12 - 31))).unwrap(),
            domains: vec![
                (CareDomain::Phar, Regime::Rate(Rate::percent(100))),
                (CareDomain::Opti, Regime::PriorApproval),
            ],
        };
        let shown = format!("{card:?}");
        assert!(!shown.contains("ADH987654"));
        assert!(shown.contains("MemberNumber(<redacted>)"));
    }
}
