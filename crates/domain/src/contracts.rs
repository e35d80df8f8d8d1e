//! Contracts: versioned, effective-dated guarantee tables of an insurer. The guarantee
//! formulas themselves arrive with the money path; here is the envelope they live in.

use crate::beneficiaries::Validity;
use serde::{Deserialize, Serialize};

/// A contract code such as `ESSENTIEL`: 1–32 upper-case letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContractCode(String);

impl ContractCode {
    pub fn parse(input: &str) -> Result<Self, crate::IdError> {
        let s = input.trim();
        if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(crate::IdError::new("contract_code", "must be 1 to 32 upper-case letters, digits, - or _"));
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
