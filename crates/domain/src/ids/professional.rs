//! Identifiers of professionals and their practices: RPPS, ADELI, FINESS, SIRET, numéro AM.

use super::{IdError, all_digits, luhn_valid};
use std::fmt;

macro_rules! digits_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $len:literal, luhn = $luhn:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let s = input.trim();
                if s.len() != $len || !all_digits(s) {
                    return Err(IdError::new($field, concat!("must be ", stringify!($len), " digits")));
                }
                if $luhn && !luhn_valid(s) {
                    return Err(IdError::new($field, "check digit (Luhn) does not match"));
                }
                Ok(Self(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::parse(value)
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

digits_id!(
    /// RPPS number of a health professional: 11 digits, the last a Luhn key.
    Rpps, "rpps", 11, luhn = true
);
digits_id!(
    /// ADELI number (opticians, audio prosthetists still migrating to RPPS): 9 digits.
    Adeli, "adeli", 9, luhn = false
);
digits_id!(
    /// FINESS number of a health establishment: 9 digits, the last a Luhn key.
    Finess, "finess", 9, luhn = true
);
digits_id!(
    /// SIRET number of a business site: 14 digits, Luhn.
    Siret, "siret", 14, luhn = true
);
digits_id!(
    /// Numéro AM: the billing number of a professional's activity or site, 9 digits.
    AmNumber, "am_number", 9, luhn = false
);
