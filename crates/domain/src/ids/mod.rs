//! Identifiers, parsed not validated: each type can only hold a valid value, built by
//! `parse` (or `TryFrom<&str>`), and its error names the field and the reason without
//! echoing the value (identifiers such as the NIR are personal data).

mod amc;
mod bank;
mod nir;
mod professional;

pub use amc::{AmcNumber, MemberNumber};
pub use bank::{Bic, Iban};
pub use nir::{BirthRank, Nir};
pub use professional::{Adeli, AmNumber, Finess, Rpps, Siret};

/// Why an identifier was refused. `field` is the logical field name (`nir`, `rpps`, …),
/// `reason` says what is wrong; neither ever contains the refused value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct IdError {
    pub field: &'static str,
    pub reason: String,
}

impl IdError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// The Luhn check used by RPPS, FINESS and SIRET numbers.
pub(crate) fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
