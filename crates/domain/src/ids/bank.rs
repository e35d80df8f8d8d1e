//! Bank identifiers: IBAN (ISO 13616, mod-97 check, length per country) and BIC (ISO 9362).

use super::IdError;
use std::fmt;

/// IBAN lengths of the SEPA countries and their territories (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AT", 20), ("BE", 16), ("BG", 22), ("CH", 21), ("CY", 28), ("CZ", 24),
    ("DE", 22), ("DK", 18), ("EE", 20), ("ES", 24), ("FI", 18), ("FO", 18), ("FR", 27),
    ("GB", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("HR", 21), ("HU", 28), ("IE", 22),
    ("IS", 26), ("IT", 27), ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21), ("MC", 27),
    ("MT", 31), ("NL", 18), ("NO", 15), ("PL", 28), ("PT", 25), ("RO", 24), ("SE", 24),
    ("SI", 19), ("SK", 24), ("SM", 27), ("VA", 22),
];

/// An IBAN, stored without spaces in upper case. `Debug` and `Display` mask it: an IBAN is
/// personal data (professionals' bank details were stolen in 2024).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s: String = input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if s.len() < 5 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::new("iban", "must be letters and digits, country code first"));
        }
        let country = &s[..2];
        let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
            return Err(IdError::new("iban", "country is not a SEPA country"));
        };
        if s.len() != len {
            return Err(IdError::new("iban", format!("must be {len} characters for this country")));
        }
        if !s.as_bytes()[2].is_ascii_digit() || !s.as_bytes()[3].is_ascii_digit() {
            return Err(IdError::new("iban", "check digits must be digits"));
        }
        if Self::mod97(&s) != Some(1) {
            return Err(IdError::new("iban", "check digits do not match (mod 97)"));
        }
        Ok(Self(s))
    }

    /// ISO 7064 mod 97-10 of the rearranged IBAN (letters as 10..35). `None` on a bad char.
    fn mod97(s: &str) -> Option<u32> {
        let rearranged = s[4..].bytes().chain(s[..4].bytes());
        let mut rem: u32 = 0;
        for c in rearranged {
            let v = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => return None,
            };
            rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
        }
        Some(rem)
    }

    /// Builds a valid IBAN from a country code and a BBAN, computing the check digits.
    pub fn from_bban(country: &str, bban: &str) -> Result<Self, IdError> {
        let probe = format!("{country}00{bban}");
        let rem = Self::mod97(&probe.to_ascii_uppercase()).ok_or_else(|| IdError::new("iban", "must be letters and digits"))?;
        Self::parse(&format!("{country}{:02}{bban}", 98 - rem))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Masked form for screens and statements: country, check digits and last 4 characters.
    pub fn masked(&self) -> String {
        format!("{}…{}", &self.0[..4], &self.0[self.0.len() - 4..])
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iban(<redacted>)")
    }
}

/// A BIC (ISO 9362): 4 letters (bank), 2 letters (country), 2 letters or digits (location),
/// optionally 3 letters or digits (branch).
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
            return Err(IdError::new("bic", "bank and country codes must be letters"));
        }
        if !b[6..].iter().all(u8::is_ascii_alphanumeric) {
            return Err(IdError::new("bic", "location and branch codes must be letters or digits"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Bic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bic({})", self.0)
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
