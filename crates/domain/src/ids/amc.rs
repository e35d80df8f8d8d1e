//! AMC (complementary insurer) number and member number, as printed on the tiers-payant card.

use super::{IdError, all_digits};
use std::fmt;

/// Numéro AMC: opaque, 1 to 10 digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AmcNumber(String);

impl AmcNumber {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if s.is_empty() || s.len() > 10 || !all_digits(s) {
            return Err(IdError::new("amc", "must be 1 to 10 digits"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Numéro d'adhérent: the member number printed on the card, 1 to 20 letters or digits.
/// It is not identifying on its own (it is an insurer reference), but it is never logged.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberNumber(String);

impl MemberNumber {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::new("member_number", "must be 1 to 20 letters or digits"));
        }
        Ok(Self(s.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_impls {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}
string_impls!(AmcNumber);
string_impls!(MemberNumber);

impl fmt::Debug for AmcNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmcNumber({})", self.0)
    }
}

impl fmt::Debug for MemberNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemberNumber(<redacted>)")
    }
}
