//! The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale") and the birth
//! rank that tells apart twins attached to the same NIR.

use super::IdError;
use std::fmt;

const FIELD: &str = "nir";

/// A NIR: 13 characters (sex, year, month, department, commune, order) and a 2-digit key
/// equal to 97 − (number mod 97), where Corsica's 2A and 2B count as 19 and 18.
///
/// `Debug` never prints the value: a NIR is personal data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nir(String);

impl Nir {
    /// Parses a NIR written with or without spaces. The error names what is wrong
    /// (length, sex digit, month, department, key) and never echoes the value.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if s.len() != 15 || !s.is_ascii() {
            return Err(IdError::new(FIELD, "must be 15 characters (13 + a 2-digit key)"));
        }
        let b = s.as_bytes();
        let dept = &s[5..7];
        let corsica = dept == "2A" || dept == "2B";
        for (i, c) in b.iter().enumerate() {
            let ok = c.is_ascii_digit() || (corsica && (i == 5 || i == 6));
            if !ok {
                return Err(IdError::new(FIELD, "must contain only digits (2A/2B allowed as department)"));
            }
        }
        match b[0] {
            b'1' | b'2' | b'7' | b'8' => {}
            _ => return Err(IdError::new(FIELD, "sex digit must be 1, 2, 7 or 8")),
        }
        let month: u32 = digits_value(&s[3..5]);
        if !month_is_valid(month) {
            return Err(IdError::new(FIELD, "birth month must be 01-12, 20-42 or 50-99"));
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

    /// The key of a 13-character NIR body: 97 − (body mod 97), with 2A → 19 and 2B → 18.
    /// `None` when the body is not 13 digits (Corsican departments aside).
    pub fn compute_key(body: &str) -> Option<u32> {
        if body.len() != 13 || !body.is_ascii() {
            return None;
        }
        let numeric = match &body[5..7] {
            "2A" => format!("{}19{}", &body[..5], &body[7..]),
            "2B" => format!("{}18{}", &body[..5], &body[7..]),
            _ => body.to_string(),
        };
        if !numeric.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: u64 = numeric.parse().ok()?;
        Some(97 - (n % 97) as u32)
    }

    /// The 15 characters, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 1 (male) or 2 (female); 7 and 8 are temporary numbers.
    pub fn sex_digit(&self) -> u8 {
        self.0.as_bytes()[0] - b'0'
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

    pub fn is_temporary(&self) -> bool {
        matches!(self.sex_digit(), 7 | 8)
    }
}

fn month_is_valid(m: u32) -> bool {
    (1..=12).contains(&m) || (20..=42).contains(&m) || (50..=99).contains(&m)
}

fn digits_value(s: &str) -> u32 {
    s.bytes().fold(0, |acc, c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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

    pub fn parse(input: &str) -> Result<Self, IdError> {
        let t = input.trim();
        if t.len() != 1 {
            return Err(IdError::new("birth_rank", "must be one digit between 1 and 9"));
        }
        let rank: u8 = t.parse().map_err(|_| IdError::new("birth_rank", "must be one digit between 1 and 9"))?;
        Self::new(rank)
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
