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
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The Luhn check used by RPPS, FINESS and SIRET numbers. `false` for an empty string or
/// any character that is not an ASCII digit.
pub(crate) fn luhn_valid(digits: &str) -> bool {
    all_digits(digits) && luhn_sum(digits.bytes().rev(), false).is_multiple_of(10)
}

/// The Luhn check digit to append to `body` (ASCII digits) so that the whole number passes
/// the Luhn check; `None` when `body` is empty or holds anything but ASCII digits. Meant
/// for building valid RPPS, FINESS or SIRET numbers (synthetic data, tests).
pub fn luhn_check_digit(body: &str) -> Option<char> {
    if !all_digits(body) {
        return None;
    }
    // The check digit will sit at position 0 from the right, so the body's last digit is
    // doubled.
    let sum = luhn_sum(body.bytes().rev(), true);
    let digit = (10 - sum % 10) % 10;
    char::from_digit(digit, 10)
}

/// Luhn sum over digits given from the right; `double_first` doubles the first one.
fn luhn_sum(digits_from_right: impl Iterator<Item = u8>, double_first: bool) -> u32 {
    let mut sum = 0u32;
    for (i, c) in digits_from_right.enumerate() {
        let mut d = u32::from(c.wrapping_sub(b'0')) % 10;
        if (i % 2 == 1) != double_first {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum
}

pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every string obtained from `s` by replacing one ASCII digit with another digit.
    pub(crate) fn single_digit_changes(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, b) in s.bytes().enumerate() {
            if !b.is_ascii_digit() {
                continue;
            }
            for d in b'0'..=b'9' {
                if d != b {
                    let mut bytes = s.as_bytes().to_vec();
                    bytes[i] = d;
                    out.push(String::from_utf8(bytes).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn single_digit_changes_lists_nine_variants_per_digit() {
        let changes = single_digit_changes("1A2");
        assert_eq!(changes.len(), 18);
        assert!(changes.contains(&"0A2".to_string()));
        assert!(changes.contains(&"1A9".to_string()));
        assert!(!changes.contains(&"1A2".to_string()));
    }

    /// Luhn written the textbook way, to check the implementation against.
    fn reference_luhn(digits: &str) -> bool {
        let values: Vec<u32> = digits.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let n = values.len();
        let total: u32 = values
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if (n - 1 - i) % 2 == 1 {
                    let x = d * 2;
                    x / 10 + x % 10
                } else {
                    d
                }
            })
            .sum();
        total.is_multiple_of(10)
    }

    #[test]
    fn luhn_accepts_the_published_rpps_example() {
        assert!(luhn_valid("10003879623"));
    }

    #[test]
    fn luhn_refuses_an_empty_string() {
        assert!(!luhn_valid(""));
    }

    #[test]
    fn luhn_refuses_non_digits_without_panicking() {
        assert!(!luhn_valid("1000387962a"));
        assert!(!luhn_valid("１２３"));
        assert!(!luhn_valid(" 0"));
    }

    #[test]
    fn luhn_check_digit_completes_the_published_rpps_example() {
        assert_eq!(luhn_check_digit("1000387962"), Some('3'));
    }

    #[test]
    fn luhn_check_digit_is_none_for_a_body_that_is_not_digits() {
        assert_eq!(luhn_check_digit(""), None);
        assert_eq!(luhn_check_digit("12x"), None);
    }

    #[test]
    fn id_error_displays_field_and_reason() {
        let e = IdError::new("rpps", "must be 11 digits");
        assert_eq!(e.to_string(), "rpps: must be 11 digits");
    }

    proptest! {
        #[test]
        fn luhn_agrees_with_the_textbook_algorithm(digits in "[0-9]{1,20}") {
            prop_assert_eq!(luhn_valid(&digits), reference_luhn(&digits));
        }

        #[test]
        fn a_body_with_its_luhn_check_digit_always_passes(body in "[0-9]{1,20}") {
            let check = luhn_check_digit(&body).unwrap();
            let number = format!("{body}{check}");
            prop_assert!(luhn_valid(&number));
        }

        #[test]
        fn exactly_one_check_digit_completes_a_body(body in "[0-9]{1,20}") {
            let valid: Vec<u32> = (0..10)
                .filter(|d| luhn_valid(&format!("{body}{d}")))
                .collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn luhn_never_panics(s in any::<String>()) {
            let _ = luhn_valid(&s);
            let _ = luhn_check_digit(&s);
        }
    }
}
