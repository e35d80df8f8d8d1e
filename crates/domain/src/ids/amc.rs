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
            return Err(IdError::new(
                "member_number",
                "must be 1 to 20 letters or digits",
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::value::{Error, StrDeserializer};

    #[test]
    fn amc_number_of_one_to_ten_digits_is_accepted() {
        for input in ["1", "12345678", "0123456789"] {
            assert_eq!(AmcNumber::parse(input).unwrap().as_str(), input);
        }
        assert_eq!(AmcNumber::parse(" 12345678 ").unwrap().as_str(), "12345678");
    }

    #[test]
    fn amc_number_keeps_leading_zeros_as_an_opaque_string() {
        assert_eq!(AmcNumber::parse("0001").unwrap().to_string(), "0001");
    }

    #[test]
    fn amc_number_empty_too_long_or_not_digits_is_refused() {
        for input in ["", "   ", "12345678901", "1234A", "12 34", "１２"] {
            let e = AmcNumber::parse(input).unwrap_err();
            assert_eq!(
                (e.field, e.reason.as_str()),
                ("amc", "must be 1 to 10 digits")
            );
        }
    }

    #[test]
    fn member_number_is_stored_upper_case() {
        let m = MemberNumber::parse(" ab12cd ").unwrap();
        assert_eq!(m.as_str(), "AB12CD");
    }

    #[test]
    fn member_number_empty_too_long_or_with_symbols_is_refused() {
        let too_long = "A".repeat(21);
        for input in ["", "AB-12", "AB 12", "ÉCOLE", too_long.as_str()] {
            let e = MemberNumber::parse(input).unwrap_err();
            assert_eq!(
                (e.field, e.reason.as_str()),
                ("member_number", "must be 1 to 20 letters or digits")
            );
        }
        assert!(MemberNumber::parse(&"A".repeat(20)).is_ok());
    }

    #[test]
    fn member_number_debug_never_shows_the_value() {
        let m = MemberNumber::parse("SECRET42").unwrap();
        assert_eq!(format!("{m:?}"), "MemberNumber(<redacted>)");
        assert!(!format!("{m:#?}").contains("SECRET42"));
    }

    #[test]
    fn member_number_error_never_echoes_the_value() {
        let e = MemberNumber::parse("SECRET-42").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("SECRET"));
    }

    #[test]
    fn amc_and_member_numbers_deserialize_only_valid_values() {
        let amc = AmcNumber::deserialize(StrDeserializer::<Error>::new("12345")).unwrap();
        assert_eq!(String::from(amc), "12345");
        assert!(AmcNumber::deserialize(StrDeserializer::<Error>::new("x")).is_err());
        let m = MemberNumber::deserialize(StrDeserializer::<Error>::new("ab1")).unwrap();
        assert_eq!(String::from(m), "AB1");
        assert!(MemberNumber::try_from(String::new()).is_err());
    }

    proptest! {
        #[test]
        fn amc_number_round_trips(n in "[0-9]{1,10}") {
            let parsed = AmcNumber::parse(&n).unwrap();
            prop_assert_eq!(parsed.as_str(), n.as_str());
        }

        #[test]
        fn member_number_round_trips(n in "[A-Z0-9]{1,20}") {
            let parsed = MemberNumber::parse(&n).unwrap();
            prop_assert_eq!(parsed.as_str(), n.as_str());
        }

        #[test]
        fn amc_and_member_parsers_never_panic(s in any::<String>()) {
            let _ = AmcNumber::parse(&s);
            let _ = MemberNumber::parse(&s);
        }
    }
}
