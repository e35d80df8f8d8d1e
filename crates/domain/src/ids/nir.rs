//! The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale") and the birth
//! rank that tells apart twins attached to the same NIR.

use super::IdError;
use std::fmt;

const FIELD: &str = "nir";

/// A NIR: 13 characters and a 2-digit key.
///
/// | positions | content | accepted here |
/// |---|---|---|
/// | 1 | sex | `1`, `2`; `7`, `8` for temporary numbers |
/// | 2–3 | birth year | `00`–`99` |
/// | 4–5 | birth month | `01`–`12`; `20`–`42` (fictitious month) and `50`–`99` (incomplete civil record); `00`, `13`–`19` and `43`–`49` are refused |
/// | 6–7 | department | `01`–`99` (`97`/`98` overseas, `99` born abroad); `2A` or `2B` for Corsica; `00` is refused |
/// | 8–10 | commune (or country code when born abroad) | any 3 digits |
/// | 11–13 | order number | any 3 digits |
/// | 14–15 | key | `01`–`97`, equal to 97 − (the 13-digit number mod 97) |
///
/// Letters are accepted only as the Corsican departments `2A` and `2B` (in either case,
/// stored upper case), and only at the department position; for the key they count as
/// `19` and `18`. Department `20` (Corsica before the 1976 split) is still accepted: the
/// two-digit year does not say which century, so the split date cannot be checked.
///
/// `Debug` never prints the value and there is no `Display`: a NIR is personal data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nir(String);

impl Nir {
    /// Parses a NIR written with or without spaces. The error names what is wrong
    /// (characters, length, sex digit, month, department, key) and never echoes the value.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let mut s = String::with_capacity(15);
        for c in input.chars().filter(|c| !c.is_whitespace()) {
            if !c.is_ascii_alphanumeric() {
                return Err(IdError::new(
                    FIELD,
                    "must contain only digits, with 2A or 2B as department",
                ));
            }
            if s.len() == 15 {
                return Err(IdError::new(FIELD, LENGTH_REASON));
            }
            s.push(c.to_ascii_uppercase());
        }
        if s.len() != 15 {
            return Err(IdError::new(FIELD, LENGTH_REASON));
        }
        let b = s.as_bytes();
        let dept = &s[5..7];
        let corsica = dept == "2A" || dept == "2B";
        let letters_ok = b
            .iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (corsica && i == 6));
        if !letters_ok {
            return Err(IdError::new(
                FIELD,
                "letters are allowed only as department 2A or 2B",
            ));
        }
        if !matches!(b[0], b'1' | b'2' | b'7' | b'8') {
            return Err(IdError::new(FIELD, "sex digit must be 1, 2, 7 or 8"));
        }
        if !month_is_valid(digits_value(&s[3..5])) {
            return Err(IdError::new(
                FIELD,
                "birth month must be 01-12, 20-42 or 50-99",
            ));
        }
        if dept == "00" {
            return Err(IdError::new(FIELD, "department 00 does not exist"));
        }
        let key = digits_value(&s[13..15]);
        if !(1..=97).contains(&key) {
            return Err(IdError::new(FIELD, "key must be between 01 and 97"));
        }
        if Self::compute_key(&s[..13]) != Some(key) {
            return Err(IdError::new(FIELD, "key does not match the number"));
        }
        Ok(Self(s))
    }

    /// Builds a NIR from its 13-character body (spaces allowed), appending the computed
    /// key; every other rule of [`Nir::parse`] applies.
    pub fn from_body(body: &str) -> Result<Self, IdError> {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let key = Self::compute_key(&compact).ok_or_else(|| {
            IdError::new(
                FIELD,
                "body must be 13 characters, digits with 2A or 2B as department",
            )
        })?;
        Self::parse(&format!("{compact}{key:02}"))
    }

    /// The key of a 13-character NIR body: 97 − (body mod 97), with 2A → 19 and 2B → 18
    /// (either case). `None` when the body is not 13 digits (Corsican departments aside).
    /// The key is always between 1 and 97.
    pub fn compute_key(body: &str) -> Option<u32> {
        if body.len() != 13 || !body.is_ascii() {
            return None;
        }
        let upper = body.to_ascii_uppercase();
        let numeric = match &upper[5..7] {
            "2A" => format!("{}19{}", &upper[..5], &upper[7..]),
            "2B" => format!("{}18{}", &upper[..5], &upper[7..]),
            _ => upper,
        };
        if !numeric.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: u64 = numeric.parse().ok()?;
        u32::try_from(n % 97).ok().map(|r| 97 - r)
    }

    /// The 15 characters, without spaces, letters upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 1 (male) or 2 (female); 7 and 8 are temporary numbers.
    pub fn sex_digit(&self) -> u8 {
        self.0.as_bytes()[0].wrapping_sub(b'0')
    }

    /// Two-digit birth year as written.
    pub fn birth_year_2(&self) -> u32 {
        digits_value(&self.0[1..3])
    }

    /// Birth month as written (01–12, or a special range when the civil record is incomplete).
    pub fn birth_month_code(&self) -> u32 {
        digits_value(&self.0[3..5])
    }

    /// Department of birth as written (`75`, `2A`, `97`, `99` for born abroad).
    pub fn department(&self) -> &str {
        &self.0[5..7]
    }

    /// The two-digit key.
    pub fn key(&self) -> u32 {
        digits_value(&self.0[13..15])
    }

    pub fn is_temporary(&self) -> bool {
        matches!(self.sex_digit(), 7 | 8)
    }
}

const LENGTH_REASON: &str = "must be 15 characters (13 + a 2-digit key)";

fn month_is_valid(m: u32) -> bool {
    (1..=12).contains(&m) || (20..=42).contains(&m) || (50..=99).contains(&m)
}

/// Value of a string of ASCII digits (only called on validated slices).
fn digits_value(s: &str) -> u32 {
    s.bytes()
        .fold(0, |acc, c| acc * 10 + u32::from(c.wrapping_sub(b'0')) % 10)
}

impl fmt::Debug for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nir(<redacted>)")
    }
}

impl TryFrom<&str> for Nir {
    type Error = IdError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

/// Birth rank (rang de naissance): 1–9, separates twins attached to the same NIR.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct BirthRank(u8);

impl BirthRank {
    pub fn new(rank: u8) -> Result<Self, IdError> {
        if (1..=9).contains(&rank) {
            Ok(Self(rank))
        } else {
            Err(IdError::new("birth_rank", "must be between 1 and 9"))
        }
    }

    /// Parses one digit between 1 and 9 (surrounding spaces allowed).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        match input.trim().as_bytes() {
            [d @ b'0'..=b'9'] => Self::new(d - b'0'),
            _ => Err(IdError::new(
                "birth_rank",
                "must be one digit between 1 and 9",
            )),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for BirthRank {
    type Error = IdError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<BirthRank> for u8 {
    fn from(r: BirthRank) -> u8 {
        r.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    /// domain.md §2: "2 55 08 14 168 025" has key 38.
    const EXAMPLE: &str = "255081416802538";

    fn reason(input: &str) -> String {
        let e = Nir::parse(input).unwrap_err();
        assert_eq!(e.field, "nir");
        e.reason
    }

    /// Key computed the other way round: by long division on the decimal digits.
    fn reference_key(body: &str) -> u32 {
        let numeric = body.replace("2A", "19").replace("2B", "18");
        let rem = numeric
            .chars()
            .fold(0u32, |r, c| (r * 10 + c.to_digit(10).unwrap()) % 97);
        97 - rem
    }

    fn valid_body() -> impl Strategy<Value = String> {
        let sex = prop::sample::select(vec!['1', '2', '7', '8']);
        let month = prop_oneof![1u32..=12, 20u32..=42, 50u32..=99];
        let dept = prop_oneof![
            (1u32..=99).prop_map(|d| format!("{d:02}")),
            Just("2A".to_string()),
            Just("2B".to_string()),
        ];
        (sex, 0u32..=99, month, dept, 0u32..=999, 0u32..=999).prop_map(
            |(sex, year, month, dept, commune, order)| {
                format!("{sex}{year:02}{month:02}{dept}{commune:03}{order:03}")
            },
        )
    }

    fn valid_nir() -> impl Strategy<Value = String> {
        valid_body().prop_map(|body| {
            let key = reference_key(&body);
            format!("{body}{key:02}")
        })
    }

    #[test]
    fn nir_worked_example_from_the_reference_has_key_38() {
        assert_eq!(Nir::compute_key("2550814168025"), Some(38));
        let nir = Nir::parse("2 55 08 14 168 025 38").unwrap();
        assert_eq!(nir.as_str(), EXAMPLE);
        assert_eq!(nir.key(), 38);
    }

    #[test]
    fn nir_accessors_read_the_parts_as_written() {
        let nir = Nir::parse(EXAMPLE).unwrap();
        assert_eq!(nir.sex_digit(), 2);
        assert_eq!(nir.birth_year_2(), 55);
        assert_eq!(nir.birth_month_code(), 8);
        assert_eq!(nir.department(), "14");
        assert!(!nir.is_temporary());
    }

    #[test]
    fn nir_with_spaces_tabs_and_newlines_is_compacted() {
        let nir = Nir::parse(" 2 55 08\t14 168\n025 38 ").unwrap();
        assert_eq!(nir.as_str(), EXAMPLE);
    }

    #[test]
    fn nir_try_from_str_is_parse() {
        assert_eq!(
            Nir::try_from(EXAMPLE).unwrap(),
            Nir::parse(EXAMPLE).unwrap()
        );
    }

    #[test]
    fn nir_from_body_appends_the_key() {
        assert_eq!(
            Nir::from_body("2 55 08 14 168 025").unwrap().as_str(),
            EXAMPLE
        );
    }

    #[test]
    fn nir_from_body_refuses_a_short_body() {
        let e = Nir::from_body("255081416802").unwrap_err();
        assert_eq!(e.field, "nir");
        assert!(e.reason.contains("13 characters"));
    }

    #[test]
    fn nir_from_body_still_checks_the_sex_digit() {
        let e = Nir::from_body("3550814168025").unwrap_err();
        assert_eq!(e.reason, "sex digit must be 1, 2, 7 or 8");
    }

    #[test]
    fn corsican_nir_counts_2a_as_19_and_2b_as_18() {
        let body_2a = "185072A123456";
        let body_2b = "185072B123456";
        assert_eq!(Nir::compute_key(body_2a), Nir::compute_key("1850719123456"));
        assert_eq!(Nir::compute_key(body_2b), Nir::compute_key("1850718123456"));
        assert_ne!(Nir::compute_key(body_2a), Nir::compute_key(body_2b));
        let a = Nir::from_body(body_2a).unwrap();
        assert_eq!(a.department(), "2A");
        let b = Nir::from_body(body_2b).unwrap();
        assert_eq!(b.department(), "2B");
    }

    #[test]
    fn corsican_nir_in_lower_case_is_stored_upper_case() {
        let upper = Nir::from_body("185072A123456").unwrap();
        let lower = Nir::parse(&upper.as_str().to_ascii_lowercase()).unwrap();
        assert_eq!(lower, upper);
        assert_eq!(
            Nir::compute_key("185072a123456"),
            Nir::compute_key("185072A123456")
        );
    }

    #[test]
    fn temporary_nir_is_accepted_and_flagged() {
        let nir = Nir::from_body("7550899123025").unwrap();
        assert!(nir.is_temporary());
        assert_eq!(nir.sex_digit(), 7);
        assert!(Nir::from_body("8550899123025").unwrap().is_temporary());
    }

    #[test]
    fn nir_with_special_months_is_accepted() {
        for month in [1, 12, 20, 30, 31, 42, 50, 99] {
            let body = format!("155{month:02}75123456");
            assert!(Nir::from_body(&body).is_ok(), "month {month}");
        }
    }

    #[test]
    fn nir_with_an_impossible_month_is_refused() {
        for month in [0, 13, 19, 43, 49] {
            let body = format!("155{month:02}75123456");
            let nir = format!("{body}{:02}", Nir::compute_key(&body).unwrap());
            assert_eq!(reason(&nir), "birth month must be 01-12, 20-42 or 50-99");
        }
    }

    #[test]
    fn nir_with_department_00_is_refused() {
        let body = "1550800123456";
        let nir = format!("{body}{:02}", Nir::compute_key(body).unwrap());
        assert_eq!(reason(&nir), "department 00 does not exist");
    }

    #[test]
    fn nir_born_abroad_or_overseas_is_accepted() {
        assert!(Nir::from_body("1550899352123").is_ok());
        assert!(Nir::from_body("2550897412123").is_ok());
    }

    #[test]
    fn nir_with_an_invalid_sex_digit_is_refused() {
        for sex in ['0', '3', '4', '5', '6', '9'] {
            let body = format!("{sex}550814168025");
            let nir = format!("{body}{:02}", Nir::compute_key(&body).unwrap());
            assert_eq!(reason(&nir), "sex digit must be 1, 2, 7 or 8");
        }
    }

    #[test]
    fn nir_of_the_wrong_length_is_refused() {
        for input in [
            "",
            "2",
            "25508141680253",
            "2550814168025380",
            "2550814168025381234",
        ] {
            assert_eq!(reason(input), LENGTH_REASON);
        }
    }

    #[test]
    fn nir_with_punctuation_or_non_ascii_is_refused() {
        for input in [
            "2-55-08-14-168-025-38",
            "255081416802538é",
            "２55081416802538",
        ] {
            assert_eq!(
                reason(input),
                "must contain only digits, with 2A or 2B as department"
            );
        }
    }

    #[test]
    fn nir_with_a_letter_outside_the_department_is_refused() {
        for input in [
            "A55081416802538",
            "2550814168025AB",
            "25508142A802538",
            "255082C16802538",
        ] {
            assert_eq!(
                reason(input),
                "letters are allowed only as department 2A or 2B"
            );
        }
    }

    #[test]
    fn nir_with_a_letter_before_the_corsican_a_is_refused() {
        // "A2" is not Corsica; only "2A"/"2B" are.
        assert_eq!(
            reason("1550A2123456789"),
            "letters are allowed only as department 2A or 2B"
        );
    }

    #[test]
    fn nir_with_key_00_or_above_97_is_refused() {
        for key in ["00", "98", "99"] {
            assert_eq!(
                reason(&format!("2550814168025{key}")),
                "key must be between 01 and 97"
            );
        }
    }

    #[test]
    fn nir_with_a_wrong_key_is_refused() {
        assert_eq!(reason("255081416802539"), "key does not match the number");
    }

    #[test]
    fn nir_error_never_echoes_the_value() {
        for input in ["255081416802539", "2550814168025", "955081416802538"] {
            let e = Nir::parse(input).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(input));
            assert!(!shown.contains("2550814168"));
        }
    }

    #[test]
    fn nir_debug_never_shows_the_value() {
        let nir = Nir::parse(EXAMPLE).unwrap();
        let shown = format!("{nir:?} {nir:#?}");
        assert_eq!(format!("{nir:?}"), "Nir(<redacted>)");
        assert!(!shown.contains("2550814"));
        assert!(!shown.contains("38"));
    }

    #[test]
    fn birth_rank_accepts_1_to_9() {
        for r in 1..=9u8 {
            assert_eq!(BirthRank::new(r).unwrap().get(), r);
            assert_eq!(BirthRank::parse(&format!(" {r} ")).unwrap().get(), r);
            assert_eq!(u8::from(BirthRank::try_from(r).unwrap()), r);
        }
    }

    #[test]
    fn birth_rank_outside_1_to_9_is_refused() {
        for r in [0u8, 10, 255] {
            let e = BirthRank::new(r).unwrap_err();
            assert_eq!(
                (e.field, e.reason.as_str()),
                ("birth_rank", "must be between 1 and 9")
            );
        }
        assert_eq!(
            BirthRank::parse("0").unwrap_err().reason,
            "must be between 1 and 9"
        );
    }

    #[test]
    fn birth_rank_that_is_not_one_digit_is_refused() {
        for input in ["", "10", "+1", "a", "é", "١"] {
            let e = BirthRank::parse(input).unwrap_err();
            assert_eq!(e.field, "birth_rank");
            assert_eq!(e.reason, "must be one digit between 1 and 9");
        }
    }

    #[test]
    fn birth_rank_deserializes_only_valid_ranks() {
        use serde::de::value::{Error, U8Deserializer};
        let ok = BirthRank::deserialize(U8Deserializer::<Error>::new(2)).unwrap();
        assert_eq!(ok.get(), 2);
        assert!(BirthRank::deserialize(U8Deserializer::<Error>::new(0)).is_err());
    }

    proptest! {
        #[test]
        fn nir_round_trips_through_parse(nir in valid_nir()) {
            let parsed = Nir::parse(&nir).unwrap();
            prop_assert_eq!(parsed.as_str(), nir.as_str());
        }

        #[test]
        fn nir_body_with_its_computed_key_always_parses(body in valid_body()) {
            let key = Nir::compute_key(&body).unwrap();
            prop_assert!((1..=97).contains(&key));
            prop_assert_eq!(key, reference_key(&body));
            let nir = Nir::parse(&format!("{body}{key:02}")).unwrap();
            prop_assert_eq!(nir.key(), key);
            prop_assert_eq!(Nir::from_body(&body).unwrap(), nir);
        }

        #[test]
        fn nir_with_a_changed_digit_is_rejected(nir in valid_nir()) {
            // Every digit position, every other digit.
            for changed in crate::ids::tests::single_digit_changes(&nir) {
                prop_assert!(Nir::parse(&changed).is_err());
            }
        }

        #[test]
        fn nir_with_any_other_key_is_rejected(body in valid_body(), key in 0u32..=99) {
            prop_assume!(Some(key) != Nir::compute_key(&body));
            let nir = format!("{body}{key:02}");
            prop_assert!(Nir::parse(&nir).is_err());
        }

        #[test]
        fn nir_parse_never_panics(s in any::<String>()) {
            let _ = Nir::parse(&s);
            let _ = Nir::from_body(&s);
            let _ = Nir::compute_key(&s);
        }

        #[test]
        fn nir_parse_never_panics_on_nir_like_input(s in "[0-9ABab2 ]{10,20}") {
            let _ = Nir::parse(&s);
            let _ = Nir::from_body(&s);
            let _ = Nir::compute_key(&s);
        }

        #[test]
        fn birth_rank_parse_never_panics(s in any::<String>()) {
            let _ = BirthRank::parse(&s);
        }
    }
}
