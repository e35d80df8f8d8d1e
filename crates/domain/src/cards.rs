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
