//! Identifiers of professionals and their practices: RPPS, ADELI, FINESS, SIRET, numéro AM.
//!
//! These numbers are public (the RPPS directory, the FINESS and SIRENE registries), so their
//! `Debug` shows the value; their errors still never echo a refused value.

use super::{IdError, all_digits, luhn_valid};
use std::fmt;

macro_rules! digits_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $len:literal, check = $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the number; surrounding spaces are ignored, inner ones are not.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let s = input.trim();
                if s.len() != $len || !all_digits(s) {
                    return Err(IdError::new(
                        $field,
                        concat!("must be ", stringify!($len), " digits"),
                    ));
                }
                let check: fn(&str) -> Result<(), &'static str> = $check;
                check(s).map_err(|reason| IdError::new($field, reason))?;
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

const LUHN_REASON: &str = "check digit (Luhn) does not match";

fn no_check(_: &str) -> Result<(), &'static str> {
    Ok(())
}

fn luhn_check(s: &str) -> Result<(), &'static str> {
    if luhn_valid(s) {
        Ok(())
    } else {
        Err(LUHN_REASON)
    }
}

/// A SIRET is a SIREN (9 digits, Luhn) and a site number (NIC, 5 digits); the whole 14
/// digits also pass Luhn.
fn siret_check(s: &str) -> Result<(), &'static str> {
    luhn_check(s)?;
    if !luhn_valid(&s[..9]) {
        return Err("SIREN part (first 9 digits) check digit (Luhn) does not match");
    }
    Ok(())
}

digits_id!(
    /// RPPS number of a health professional: 11 digits, the last a Luhn key
    /// (e.g. `10003879623`).
    Rpps, "rpps", 11, check = luhn_check
);
digits_id!(
    /// ADELI number (opticians, audio prosthetists still migrating to RPPS): 9 digits, no
    /// check digit is verified.
    Adeli, "adeli", 9, check = no_check
);
digits_id!(
    /// FINESS number of a health establishment (legal entity or site): 9 digits, the last
    /// a Luhn key (e.g. `750712184`). Corsican FINESS numbers, which start with `2A`/`2B`,
    /// are not accepted yet.
    Finess, "finess", 9, check = luhn_check
);
digits_id!(
    /// SIRET number of a business site: 14 digits, Luhn over the 14 digits, and the SIREN
    /// (first 9 digits) Luhn too (e.g. `73282932000074`). La Poste's sites, whose SIRETs
    /// use another key, are not health practices and are refused.
    Siret, "siret", 14, check = siret_check
);
digits_id!(
    /// Numéro AM: the billing number of a professional's activity or site, 9 digits; no
    /// check digit is verified.
    AmNumber, "am_number", 9, check = no_check
);

impl Siret {
    /// The SIREN: the first 9 digits, identifying the legal entity.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::luhn_check_digit;
    use crate::ids::tests::single_digit_changes;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::value::{Error, StrDeserializer};

    fn with_luhn(body: &str) -> String {
        format!("{body}{}", luhn_check_digit(body).unwrap())
    }

    fn valid_siret() -> impl Strategy<Value = String> {
        ("[0-9]{8}", "[0-9]{4}").prop_map(|(siren_body, nic_body)| {
            let siren = with_luhn(&siren_body);
            with_luhn(&format!("{siren}{nic_body}"))
        })
    }

    fn assert_refused<T: fmt::Debug>(r: Result<T, IdError>, field: &str, reason: &str) {
        let e = r.unwrap_err();
        assert_eq!((e.field, e.reason.as_str()), (field, reason));
    }

    #[test]
    fn rpps_published_example_is_accepted() {
        let rpps = Rpps::parse("10003879623").unwrap();
        assert_eq!(rpps.as_str(), "10003879623");
        assert_eq!(rpps.to_string(), "10003879623");
        assert_eq!(format!("{rpps:?}"), "Rpps(10003879623)");
    }

    #[test]
    fn rpps_with_surrounding_spaces_is_trimmed() {
        assert_eq!(
            Rpps::parse(" 10003879623\n").unwrap().as_str(),
            "10003879623"
        );
    }

    #[test]
    fn rpps_with_a_wrong_luhn_key_is_refused() {
        assert_refused(Rpps::parse("10003879624"), "rpps", LUHN_REASON);
    }

    #[test]
    fn rpps_of_the_wrong_length_or_with_letters_is_refused() {
        for input in [
            "",
            "1000387962",
            "100038796230",
            "1000387962a",
            "1000 879623",
            "١٠٠٠٣٨٧٩٦٢٣",
        ] {
            assert_refused(Rpps::parse(input), "rpps", "must be 11 digits");
        }
    }

    #[test]
    fn adeli_is_nine_digits_without_a_key() {
        assert_eq!(Adeli::parse("751234567").unwrap().as_str(), "751234567");
        assert_eq!(Adeli::parse("751234568").unwrap().as_str(), "751234568");
        for input in ["75123456", "7512345678", "75123456x"] {
            assert_refused(Adeli::parse(input), "adeli", "must be 9 digits");
        }
    }

    #[test]
    fn am_number_is_nine_digits_without_a_key() {
        assert_eq!(AmNumber::parse("751234567").unwrap().as_str(), "751234567");
        for input in ["", "75123456", "7512345678", "75-234567"] {
            assert_refused(AmNumber::parse(input), "am_number", "must be 9 digits");
        }
    }

    #[test]
    fn finess_published_example_is_accepted() {
        assert_eq!(Finess::parse("750712184").unwrap().as_str(), "750712184");
    }

    #[test]
    fn finess_with_a_wrong_luhn_key_is_refused() {
        assert_refused(Finess::parse("750712185"), "finess", LUHN_REASON);
    }

    #[test]
    fn finess_of_the_wrong_length_is_refused() {
        for input in ["75071218", "7507121840", "2A0000001"] {
            assert_refused(Finess::parse(input), "finess", "must be 9 digits");
        }
    }

    #[test]
    fn siret_published_example_is_accepted() {
        let siret = Siret::parse("73282932000074").unwrap();
        assert_eq!(siret.as_str(), "73282932000074");
        assert_eq!(siret.siren(), "732829320");
    }

    #[test]
    fn siret_with_a_wrong_luhn_key_is_refused() {
        assert_refused(Siret::parse("73282932000075"), "siret", LUHN_REASON);
    }

    #[test]
    fn siret_whose_siren_fails_luhn_is_refused() {
        // The whole 14 digits pass Luhn, but not the first 9.
        let siret = with_luhn("7328293210007");
        assert!(luhn_valid(&siret));
        assert_refused(
            Siret::parse(&siret),
            "siret",
            "SIREN part (first 9 digits) check digit (Luhn) does not match",
        );
    }

    #[test]
    fn siret_of_the_wrong_length_is_refused() {
        for input in ["7328293200007", "732829320000740", "732 829 320 00074"] {
            assert_refused(Siret::parse(input), "siret", "must be 14 digits");
        }
    }

    #[test]
    fn professional_errors_never_echo_the_value() {
        let e = Rpps::parse("10003879624").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("10003879624"));
        let e = Siret::parse("73282932000075").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("7328293200007"));
    }

    #[test]
    fn professional_ids_deserialize_only_valid_values() {
        let ok = Rpps::deserialize(StrDeserializer::<Error>::new("10003879623")).unwrap();
        assert_eq!(ok.as_str(), "10003879623");
        assert!(Rpps::deserialize(StrDeserializer::<Error>::new("10003879624")).is_err());
        assert!(Finess::deserialize(StrDeserializer::<Error>::new("750712185")).is_err());
        assert!(Siret::deserialize(StrDeserializer::<Error>::new("7328293200007")).is_err());
    }

    #[test]
    fn professional_ids_convert_to_and_from_string() {
        let rpps = Rpps::try_from("10003879623".to_string()).unwrap();
        assert_eq!(String::from(rpps), "10003879623");
        assert_eq!(Adeli::try_from("751234567").unwrap().as_str(), "751234567");
    }

    proptest! {
        #[test]
        fn rpps_with_its_luhn_key_round_trips(body in "[0-9]{10}") {
            let rpps = with_luhn(&body);
            let parsed = Rpps::parse(&rpps).unwrap();
            prop_assert_eq!(parsed.as_str(), rpps.as_str());
        }

        #[test]
        fn rpps_with_a_changed_digit_is_rejected(body in "[0-9]{10}") {
            for changed in single_digit_changes(&with_luhn(&body)) {
                prop_assert!(Rpps::parse(&changed).is_err());
            }
        }

        #[test]
        fn finess_with_its_luhn_key_round_trips(body in "[0-9]{8}") {
            let finess = with_luhn(&body);
            let parsed = Finess::parse(&finess).unwrap();
            prop_assert_eq!(parsed.as_str(), finess.as_str());
        }

        #[test]
        fn finess_with_a_changed_digit_is_rejected(body in "[0-9]{8}") {
            for changed in single_digit_changes(&with_luhn(&body)) {
                prop_assert!(Finess::parse(&changed).is_err());
            }
        }

        #[test]
        fn siret_with_its_luhn_keys_round_trips(siret in valid_siret()) {
            let parsed = Siret::parse(&siret).unwrap();
            prop_assert_eq!(parsed.as_str(), siret.as_str());
            prop_assert_eq!(parsed.siren(), &siret[..9]);
        }

        #[test]
        fn siret_with_a_changed_digit_is_rejected(siret in valid_siret()) {
            for changed in single_digit_changes(&siret) {
                prop_assert!(Siret::parse(&changed).is_err());
            }
        }

        #[test]
        fn adeli_and_am_number_round_trip(n in "[0-9]{9}") {
            let parsed = Adeli::parse(&n).unwrap();
            prop_assert_eq!(parsed.as_str(), n.as_str());
            let parsed = AmNumber::parse(&n).unwrap();
            prop_assert_eq!(parsed.as_str(), n.as_str());
        }

        #[test]
        fn professional_parsers_never_panic(s in any::<String>()) {
            let _ = Rpps::parse(&s);
            let _ = Adeli::parse(&s);
            let _ = Finess::parse(&s);
            let _ = Siret::parse(&s);
            let _ = AmNumber::parse(&s);
        }
    }
}
