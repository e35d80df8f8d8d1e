//! Bank identifiers: IBAN (ISO 13616, mod-97 check, length per country) and BIC (ISO 9362).

use super::IdError;
use std::fmt;

/// IBAN lengths of the SEPA countries and their territories (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("VA", 22),
];

const FIELD: &str = "iban";

/// An IBAN, stored without spaces in upper case.
///
/// Accepted: a SEPA country code of the ISO 13616 registry, the length of
/// that country, check digits between `02` and `98`, letters and digits only, and the
/// ISO 7064 mod 97-10 check (the rearranged number mod 97 equals 1).
///
/// `Debug` is redacted and `Display` shows only the [masked](Iban::masked) form: an IBAN is
/// personal data (professionals' bank details were stolen in 2024). Use
/// [`Iban::as_str`] where the full value is really needed (a SEPA file).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let mut s = String::with_capacity(34);
        for c in input.chars().filter(|c| !c.is_whitespace()) {
            if !c.is_ascii_alphanumeric() {
                return Err(IdError::new(FIELD, CHARS_REASON));
            }
            if s.len() == 34 {
                return Err(IdError::new(FIELD, "must be at most 34 characters"));
            }
            s.push(c.to_ascii_uppercase());
        }
        if s.len() < 5 {
            return Err(IdError::new(FIELD, CHARS_REASON));
        }
        let Some(len) = country_length(&s[..2]) else {
            return Err(IdError::new(FIELD, "country is not a SEPA country"));
        };
        if s.len() != len {
            return Err(IdError::new(
                FIELD,
                format!("must be {len} characters for this country"),
            ));
        }
        let check = &s.as_bytes()[2..4];
        if !check.iter().all(u8::is_ascii_digit) {
            return Err(IdError::new(FIELD, "check digits must be digits"));
        }
        if matches!(&s[2..4], "00" | "01" | "99") {
            return Err(IdError::new(
                FIELD,
                "check digits must be between 02 and 98",
            ));
        }
        if Self::mod97(&s) != Some(1) {
            return Err(IdError::new(FIELD, "check digits do not match (mod 97)"));
        }
        Ok(Self(s))
    }

    /// ISO 7064 mod 97-10 of the rearranged IBAN (letters as 10..35). `None` on a bad
    /// character or when `s` is shorter than 4 characters.
    fn mod97(s: &str) -> Option<u32> {
        let (head, tail) = (s.get(..4)?, s.get(4..)?);
        let mut rem: u32 = 0;
        for c in tail.bytes().chain(head.bytes()) {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => return None,
            };
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        Some(rem)
    }

    /// Builds a valid IBAN from a country code and a BBAN (spaces allowed, either case),
    /// computing the check digits; every rule of [`Iban::parse`] applies.
    pub fn from_bban(country: &str, bban: &str) -> Result<Self, IdError> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(IdError::new(FIELD, "country must be two letters"));
        }
        let bban: String = bban
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if bban.is_empty() || !bban.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::new(FIELD, CHARS_REASON));
        }
        let rem = Self::mod97(&format!("{country}00{bban}"))
            .ok_or_else(|| IdError::new(FIELD, CHARS_REASON))?;
        Self::parse(&format!("{country}{:02}{bban}", 98 - rem))
    }

    /// The full IBAN, without spaces, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country code (`FR`, `DE`, …).
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Masked form for screens and statements: country, check digits and last 4 characters.
    pub fn masked(&self) -> String {
        format!("{}…{}", &self.0[..4], &self.0[self.0.len() - 4..])
    }
}

const CHARS_REASON: &str = "must be letters and digits, country code first";

fn country_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|&(_, len)| len)
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iban(<redacted>)")
    }
}

/// The masked form only (see [`Iban::masked`]).
impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl TryFrom<&str> for Iban {
    type Error = IdError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

/// A BIC (ISO 9362): 4 letters (bank), 2 letters (country), 2 letters or digits (location),
/// optionally 3 letters or digits (branch). Stored upper case.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Bic(String);

impl Bic {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() != 8 && s.len() != 11 {
            return Err(IdError::new("bic", "must be 8 or 11 characters"));
        }
        let b = s.as_bytes();
        if !b[..6].iter().all(u8::is_ascii_uppercase) {
            return Err(IdError::new(
                "bic",
                "bank and country codes must be letters",
            ));
        }
        if !b[6..].iter().all(u8::is_ascii_alphanumeric) {
            return Err(IdError::new(
                "bic",
                "location and branch codes must be letters or digits",
            ));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 3166 country code (characters 5 and 6).
    pub fn country(&self) -> &str {
        &self.0[4..6]
    }
}

impl fmt::Display for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bic({})", self.0)
    }
}

impl TryFrom<&str> for Bic {
    type Error = IdError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for Bic {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Bic> for String {
    fn from(v: Bic) -> String {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::value::{Error, StrDeserializer};

    /// Published example IBANs (ECBS / bank documentation).
    const EXAMPLES: &[&str] = &[
        "FR1420041010050500013M02606",
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "BE68539007547034",
        "NL91ABNA0417164300",
        "CH9300762011623852957",
        "NO9386011117947",
        "MT84MALT011000012345MTLCAST001S",
    ];

    fn iban_reason(input: &str) -> String {
        let e = Iban::parse(input).unwrap_err();
        assert_eq!(e.field, "iban");
        e.reason
    }

    fn bic_reason(input: &str) -> String {
        let e = Bic::parse(input).unwrap_err();
        assert_eq!(e.field, "bic");
        e.reason
    }

    /// mod 97 computed on the whole decimal expansion with u128 chunks, as a reference.
    fn reference_is_valid(iban: &str) -> bool {
        let rearranged = format!("{}{}", &iban[4..], &iban[..4]);
        let digits: String = rearranged
            .chars()
            .map(|c| c.to_digit(36).unwrap().to_string())
            .collect();
        let mut rem: u128 = 0;
        for chunk in digits.as_bytes().chunks(20) {
            let chunk = std::str::from_utf8(chunk).unwrap();
            let shift = 10u128.pow(chunk.len() as u32);
            rem = (rem * shift + chunk.parse::<u128>().unwrap()) % 97;
        }
        rem == 1
    }

    fn valid_iban() -> impl Strategy<Value = String> {
        prop::sample::select(IBAN_LENGTHS.to_vec()).prop_flat_map(|(country, len)| {
            prop::collection::vec(
                prop::sample::select(
                    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        .chars()
                        .collect::<Vec<_>>(),
                ),
                len - 4,
            )
            .prop_map(move |bban| {
                let bban: String = bban.into_iter().collect();
                Iban::from_bban(country, &bban)
                    .unwrap()
                    .as_str()
                    .to_string()
            })
        })
    }

    #[test]
    fn published_example_ibans_are_accepted() {
        for example in EXAMPLES {
            let iban = Iban::parse(example).unwrap();
            assert_eq!(iban.as_str(), *example);
            assert!(reference_is_valid(example));
        }
    }

    #[test]
    fn iban_written_in_groups_and_lower_case_is_normalised() {
        let iban = Iban::parse("fr14 2004 1010 0505 0001 3m02 606").unwrap();
        assert_eq!(iban.as_str(), "FR1420041010050500013M02606");
        assert_eq!(iban.country(), "FR");
    }

    #[test]
    fn iban_from_bban_computes_the_published_check_digits() {
        assert_eq!(
            Iban::from_bban("FR", "20041010050500013M02606")
                .unwrap()
                .as_str(),
            "FR1420041010050500013M02606"
        );
        assert_eq!(
            Iban::from_bban("de", "3704 0044 0532 0130 00")
                .unwrap()
                .as_str(),
            "DE89370400440532013000"
        );
        assert_eq!(
            Iban::from_bban("GB", "WEST12345698765432")
                .unwrap()
                .as_str(),
            "GB82WEST12345698765432"
        );
    }

    #[test]
    fn iban_from_bban_refuses_odd_input_without_panicking() {
        assert_eq!(
            Iban::from_bban("", "").unwrap_err().reason,
            "country must be two letters"
        );
        assert_eq!(
            Iban::from_bban("aaaé", "1").unwrap_err().reason,
            "country must be two letters"
        );
        assert_eq!(
            Iban::from_bban("F1", "123").unwrap_err().reason,
            "country must be two letters"
        );
        assert_eq!(Iban::from_bban("FR", "").unwrap_err().reason, CHARS_REASON);
        assert_eq!(
            Iban::from_bban("FR", "2004-1010").unwrap_err().reason,
            CHARS_REASON
        );
        assert_eq!(
            Iban::from_bban("US", "123456").unwrap_err().reason,
            "country is not a SEPA country"
        );
        assert_eq!(
            Iban::from_bban("FR", "2004101005").unwrap_err().reason,
            "must be 27 characters for this country"
        );
    }

    #[test]
    fn iban_with_a_wrong_check_is_refused() {
        assert_eq!(
            iban_reason("FR1520041010050500013M02606"),
            "check digits do not match (mod 97)"
        );
        assert_eq!(
            iban_reason("GB82WEST12345698765433"),
            "check digits do not match (mod 97)"
        );
    }

    #[test]
    fn iban_with_check_digits_00_01_or_99_is_refused() {
        for check in ["00", "01", "99"] {
            assert_eq!(
                iban_reason(&format!("DE{check}370400440532013000")),
                "check digits must be between 02 and 98"
            );
        }
    }

    #[test]
    fn iban_whose_check_is_an_alias_mod_97_is_refused() {
        // Search a BBAN whose check digits are 97, so "00" also satisfies mod 97.
        let bban = (0u64..)
            .map(|n| format!("{n:018}"))
            .find(|b| Iban::mod97(&format!("DE00{b}")) == Some(1))
            .unwrap();
        assert_eq!(
            Iban::from_bban("DE", &bban).unwrap().as_str(),
            format!("DE97{bban}")
        );
        assert_eq!(Iban::mod97(&format!("DE00{bban}")), Some(1));
        assert_eq!(
            iban_reason(&format!("DE00{bban}")),
            "check digits must be between 02 and 98"
        );
    }

    #[test]
    fn iban_of_a_non_sepa_country_is_refused() {
        assert_eq!(
            iban_reason("US12345678901234"),
            "country is not a SEPA country"
        );
        assert_eq!(iban_reason("1234567890"), "country is not a SEPA country");
    }

    #[test]
    fn iban_of_the_wrong_length_for_its_country_is_refused() {
        assert_eq!(
            iban_reason("DE8937040044053201300"),
            "must be 22 characters for this country"
        );
        assert_eq!(
            iban_reason("FR1420041010050500013M026060"),
            "must be 27 characters for this country"
        );
    }

    #[test]
    fn iban_longer_than_34_characters_is_refused() {
        assert_eq!(
            iban_reason(&format!("FR14{}", "1".repeat(40))),
            "must be at most 34 characters"
        );
    }

    #[test]
    fn iban_too_short_or_with_symbols_is_refused() {
        for input in [
            "",
            "FR",
            "FR14",
            "FR14-2004-1010-0505-0001-3M02-606",
            "FR14 2004 1010 0505 0001 3M02 60é",
        ] {
            assert_eq!(iban_reason(input), CHARS_REASON);
        }
    }

    #[test]
    fn iban_with_letters_as_check_digits_is_refused() {
        assert_eq!(
            iban_reason("DEAB370400440532013000"),
            "check digits must be digits"
        );
    }

    #[test]
    fn iban_error_never_echoes_the_value() {
        for input in [
            "FR1520041010050500013M02606",
            "DE8937040044053201300",
            "US12345678901234",
        ] {
            let e = Iban::parse(input).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(&input[4..]), "{shown}");
        }
    }

    #[test]
    fn iban_debug_never_shows_the_value_and_display_is_masked() {
        let iban = Iban::parse("FR1420041010050500013M02606").unwrap();
        assert_eq!(format!("{iban:?}"), "Iban(<redacted>)");
        assert!(!format!("{iban:#?}").contains("20041"));
        assert_eq!(iban.to_string(), "FR14…2606");
        assert_eq!(iban.masked(), "FR14…2606");
        assert!(!iban.to_string().contains("20041010"));
    }

    #[test]
    fn bic_of_8_or_11_characters_is_accepted() {
        assert_eq!(Bic::parse("BNPAFRPP").unwrap().as_str(), "BNPAFRPP");
        let bic = Bic::parse(" bnpafrppxxx ").unwrap();
        assert_eq!(bic.as_str(), "BNPAFRPPXXX");
        assert_eq!(bic.country(), "FR");
        assert_eq!(bic.to_string(), "BNPAFRPPXXX");
        assert_eq!(Bic::parse("DEUTDEFF500").unwrap().as_str(), "DEUTDEFF500");
    }

    #[test]
    fn bic_of_the_wrong_length_is_refused() {
        for input in ["", "BNPAFRP", "BNPAFRPPX", "BNPAFRPPXXXX", "BNPAFRPÉ"] {
            assert_eq!(bic_reason(input), "must be 8 or 11 characters", "{input}");
        }
    }

    #[test]
    fn bic_with_digits_in_bank_or_country_code_is_refused() {
        for input in ["BNP1FRPP", "BNPAF1PP", "ÉÉÉPP"] {
            assert_eq!(
                bic_reason(input),
                "bank and country codes must be letters",
                "{input}"
            );
        }
    }

    #[test]
    fn bic_with_symbols_in_location_or_branch_is_refused() {
        for input in ["BNPAFRP-", "BNPAFRPPXX-"] {
            assert_eq!(
                bic_reason(input),
                "location and branch codes must be letters or digits"
            );
        }
    }

    #[test]
    fn bic_deserializes_only_valid_values() {
        let bic = Bic::deserialize(StrDeserializer::<Error>::new("BNPAFRPP")).unwrap();
        assert_eq!(String::from(bic), "BNPAFRPP");
        assert!(Bic::deserialize(StrDeserializer::<Error>::new("BNP")).is_err());
        assert!(Bic::try_from("BNPAFRPP").is_ok());
    }

    proptest! {
        #[test]
        fn iban_built_from_a_bban_round_trips(iban in valid_iban()) {
            let parsed = Iban::parse(&iban).unwrap();
            prop_assert_eq!(parsed.as_str(), iban.as_str());
            prop_assert!(reference_is_valid(&iban));
            let check: u32 = iban[2..4].parse().unwrap();
            prop_assert!((2..=98).contains(&check));
        }

        #[test]
        fn iban_with_a_changed_digit_is_rejected(iban in valid_iban()) {
            // Every digit position (check digits and BBAN), every other digit.
            for changed in crate::ids::tests::single_digit_changes(&iban) {
                prop_assert!(Iban::parse(&changed).is_err());
            }
        }

        #[test]
        fn iban_mod97_agrees_with_the_reference(iban in valid_iban(), position in 4usize..34, c in "[0-9A-Z]") {
            let mut s = iban.clone();
            if position < s.len() {
                s.replace_range(position..=position, &c);
            }
            prop_assert_eq!(Iban::mod97(&s) == Some(1), reference_is_valid(&s));
        }

        #[test]
        fn bic_round_trips(bic in "[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?") {
            let parsed = Bic::parse(&bic).unwrap();
            prop_assert_eq!(parsed.as_str(), bic.as_str());
        }

        #[test]
        fn bank_parsers_never_panic(s in any::<String>(), country in any::<String>()) {
            let _ = Iban::parse(&s);
            let _ = Iban::from_bban(&country, &s);
            let _ = Iban::mod97(&s);
            let _ = Bic::parse(&s);
        }

        #[test]
        fn bank_parsers_never_panic_on_iban_like_input(s in "[A-Za-z0-9 é]{0,40}") {
            let _ = Iban::parse(&s);
            let _ = Iban::from_bban("FR", &s);
            let _ = Bic::parse(&s);
        }
    }
}
