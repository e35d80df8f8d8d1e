//! Care domains (the codes printed on the tiers-payant card) and what a card grants in each.

use crate::money::Rate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Care domain codes of the Inter-AMC card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CareDomain {
    Phar,
    Med,
    Labo,
    Rad,
    Auxm,
    Svil,
    Hosp,
    Dent,
    Opti,
    Audi,
}

impl CareDomain {
    pub const ALL: [CareDomain; 10] = [
        CareDomain::Phar,
        CareDomain::Med,
        CareDomain::Labo,
        CareDomain::Rad,
        CareDomain::Auxm,
        CareDomain::Svil,
        CareDomain::Hosp,
        CareDomain::Dent,
        CareDomain::Opti,
        CareDomain::Audi,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CareDomain::Phar => "PHAR",
            CareDomain::Med => "MED",
            CareDomain::Labo => "LABO",
            CareDomain::Rad => "RAD",
            CareDomain::Auxm => "AUXM",
            CareDomain::Svil => "SVIL",
            CareDomain::Hosp => "HOSP",
            CareDomain::Dent => "DENT",
            CareDomain::Opti => "OPTI",
            CareDomain::Audi => "AUDI",
        }
    }

    /// Domains where tiers payant needs a prior approval (PEC) rather than a printed rate.
    pub fn needs_prior_approval(self) -> bool {
        matches!(self, CareDomain::Opti | CareDomain::Audi)
    }
}

impl fmt::Display for CareDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("domain: unknown care domain code")]
pub struct UnknownDomain;

impl FromStr for CareDomain {
    type Err = UnknownDomain;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CareDomain::ALL
            .into_iter()
            .find(|d| d.code() == s.trim())
            .ok_or(UnknownDomain)
    }
}

/// What the card prints for a domain: a rate (e.g. `PHAR 100%`) or `PEC` (prior approval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rate_bp", rename_all = "snake_case")]
pub enum Regime {
    Rate(Rate),
    PriorApproval,
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Regime::Rate(r) => write!(f, "{r}"),
            Regime::PriorApproval => f.write_str("PEC"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn care_domain_code_and_display_parse_back() {
        for d in CareDomain::ALL {
            assert_eq!(d.code().parse::<CareDomain>(), Ok(d));
            assert_eq!(d.to_string(), d.code());
        }
        assert_eq!(" OPTI ".parse::<CareDomain>(), Ok(CareDomain::Opti));
    }

    #[test]
    fn unknown_care_domain_is_refused() {
        for input in ["", "opti", "CURE", "PH7"] {
            assert_eq!(input.parse::<CareDomain>(), Err(UnknownDomain));
        }
        assert_eq!(
            UnknownDomain.to_string(),
            "domain: unknown care domain code"
        );
    }

    #[test]
    fn only_optics_and_audiology_need_prior_approval() {
        let pec: Vec<CareDomain> = CareDomain::ALL
            .into_iter()
            .filter(|d| d.needs_prior_approval())
            .collect();
        assert_eq!(pec, [CareDomain::Opti, CareDomain::Audi]);
    }

    #[test]
    fn regime_displays_as_printed_on_the_card() {
        assert_eq!(Regime::Rate(Rate::percent(100)).to_string(), "100%");
        assert_eq!(Regime::Rate(Rate::percent(300)).to_string(), "300%");
        assert_eq!(Regime::PriorApproval.to_string(), "PEC");
    }
}
