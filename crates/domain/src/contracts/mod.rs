//! Contracts: versioned, effective-dated guarantee tables of an insurer, read from TOML
//! (`table`), their formulas (`formula`), the contrat-responsable limits (`responsible`) and
//! the adjudication engine that applies them to quote and invoice lines (`engine`).

pub mod engine;
pub mod formula;
pub mod responsible;
pub mod table;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod prop_tests;

pub use engine::{
    Adjudication, Claim, ClaimError, Consumption, Ear, History, Line, LineResult, PastBudgetUse,
    PastEquipment, Rule, Step, adjudicate,
};
pub use formula::{Base, Fixed, Formula, Per};
pub use responsible::{Complexity, LensPair};
pub use table::{AgeBand, Class, Contract, ContractError, Guarantee, LineKind, Renewal};

use crate::beneficiaries::Validity;
use serde::{Deserialize, Serialize};

/// A contract code such as `ESSENTIEL`: 1–32 upper-case letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContractCode(String);

impl ContractCode {
    pub fn parse(input: &str) -> Result<Self, crate::IdError> {
        let s = input.trim();
        if s.is_empty()
            || s.len() > 32
            || !s
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(crate::IdError::new(
                "contract_code",
                "must be 1 to 32 upper-case letters, digits, - or _",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ContractCode {
    type Error = crate::IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ContractCode> for String {
    fn from(v: ContractCode) -> String {
        v.0
    }
}

/// One version of a contract, effective over `effective`. `responsible` marks a "contrat
/// responsable" (art. R871-2 CSS). `guarantees` is the guarantee table as a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractVersion {
    pub code: ContractCode,
    pub version: u32,
    pub label: String,
    pub responsible: bool,
    pub effective: Validity,
    pub guarantees_json: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn contract_code_of_upper_case_letters_digits_dash_and_underscore_is_accepted() {
        for input in ["ESSENTIEL", "A", "CONFORT-2025_B", &"X".repeat(32)] {
            assert_eq!(ContractCode::parse(input).unwrap().as_str(), input);
        }
        assert_eq!(
            ContractCode::parse(" ESSENTIEL ").unwrap().as_str(),
            "ESSENTIEL"
        );
    }

    #[test]
    fn contract_code_empty_too_long_or_lower_case_is_refused() {
        for input in ["", "essentiel", "ESSENTIEL PLUS", "ÉCO", &"X".repeat(33)] {
            let e = ContractCode::parse(input).unwrap_err();
            assert_eq!(e.field, "contract_code");
            assert_eq!(
                e.reason,
                "must be 1 to 32 upper-case letters, digits, - or _"
            );
        }
    }

    #[test]
    fn contract_code_converts_to_and_from_string() {
        let code = ContractCode::try_from("CONFORT".to_string()).unwrap();
        assert_eq!(String::from(code), "CONFORT");
        assert!(ContractCode::try_from(String::new()).is_err());
    }

    proptest! {
        #[test]
        fn contract_code_round_trips(code in "[A-Z0-9_-]{1,32}") {
            let parsed = ContractCode::parse(&code).unwrap();
            prop_assert_eq!(parsed.as_str(), code.as_str());
        }

        #[test]
        fn contract_code_parse_never_panics(s in any::<String>()) {
            let _ = ContractCode::parse(&s);
        }
    }
}
