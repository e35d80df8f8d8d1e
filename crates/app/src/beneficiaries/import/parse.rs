//! Reading the beneficiary CSV (docs/formats.md): the header check and the parsing of one row
//! into a [`Beneficiary`]. Every refusal names the field and the reason, never the value.

use crate::synthetic::CSV_HEADER;
use domain::beneficiaries::{Beneficiary, Identity, MaritalStatus, Quality, Validity};
use domain::ids::{BirthRank, MemberNumber, Nir};
use serde::Serialize;
use time::{Date, Month};

/// Longest name accepted (characters).
const MAX_NAME_CHARS: usize = 100;

/// A refused row: its line in the file (1 = the header), the field, and why. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub field: &'static str,
    pub reason: String,
}

/// Why a field was refused (the line is added by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    pub fn at(self, line: u64) -> RowError {
        RowError {
            line,
            field: self.field,
            reason: self.reason,
        }
    }
}

/// Checks the header line against [`CSV_HEADER`]. The error names the first missing column,
/// else the first unknown one (only when it looks like a column name: a data line given as a
/// header must not be echoed), else says the order is wrong.
pub fn check_header(fields: &[&[u8]]) -> Result<(), String> {
    let names: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let s = String::from_utf8_lossy(f);
            // A UTF-8 byte order mark is tolerated on the first column.
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}').to_string()
            } else {
                s.to_string()
            };
            s.trim().to_string()
        })
        .collect();
    if names
        .iter()
        .map(String::as_str)
        .eq(CSV_HEADER.iter().copied())
    {
        return Ok(());
    }
    if let Some(missing) = CSV_HEADER.iter().find(|c| !names.iter().any(|n| n == *c)) {
        return Err(format!(
            "the header has no column \"{missing}\"; expected: {}",
            CSV_HEADER.join(",")
        ));
    }
    if let Some((i, unknown)) = names
        .iter()
        .enumerate()
        .find(|(_, n)| !CSV_HEADER.contains(&n.as_str()))
    {
        let looks_like_a_name = !unknown.is_empty()
            && unknown.len() <= 40
            && unknown
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        return Err(if looks_like_a_name {
            format!(
                "the header has an unknown column \"{unknown}\"; expected: {}",
                CSV_HEADER.join(",")
            )
        } else {
            format!(
                "the header's column {} is not a column name; expected: {}",
                i + 1,
                CSV_HEADER.join(",")
            )
        });
    }
    Err(format!(
        "the header repeats or reorders columns; expected exactly: {}",
        CSV_HEADER.join(",")
    ))
}

/// Parses `YYYY-MM-DD`; `field` names the column in the error.
pub fn parse_date(field: &'static str, s: &str) -> Result<Date, FieldError> {
    let b = s.trim().as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(FieldError::new(field, "must be a date YYYY-MM-DD"));
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    let year = i32::try_from(num(0..4)).unwrap_or(0);
    let month = u8::try_from(num(5..7))
        .ok()
        .and_then(|m| Month::try_from(m).ok());
    let day = u8::try_from(num(8..10)).unwrap_or(0);
    month
        .and_then(|m| Date::from_calendar_date(year, m, day).ok())
        .filter(|_| year >= 1850)
        .ok_or_else(|| FieldError::new(field, "impossible date"))
}

fn parse_name(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(field, "longer than 100 characters"));
    }
    Ok(s.to_string())
}

/// The NIR's birth year (YY) and month must match the date of birth when the month is a real
/// month (01–12); fictitious months (20–42, 50–99) and temporary numbers are not checked.
fn nir_matches_birth(nir: &Nir, birth: Date) -> bool {
    if nir.is_temporary() {
        return true;
    }
    let month = nir.birth_month_code();
    if !(1..=12).contains(&month) {
        return true;
    }
    let yy = u32::try_from(birth.year().rem_euclid(100)).unwrap_or(u32::MAX);
    nir.birth_year_2() == yy && month == u32::from(u8::from(birth.month()))
}

/// Parses one data row (fields in [`CSV_HEADER`] order). `on` is the file's date: a birth
/// after it is impossible.
pub fn parse_row(fields: &[&str], on: Date) -> Result<Beneficiary, FieldError> {
    if fields.len() != CSV_HEADER.len() {
        return Err(FieldError::new(
            "line",
            format!("has {} fields, expected {}", fields.len(), CSV_HEADER.len()),
        ));
    }
    let member_number =
        MemberNumber::parse(fields[0]).map_err(|e| FieldError::new(e.field, e.reason))?;
    let nir = Nir::parse(fields[1]).map_err(|e| FieldError::new("nir", e.reason))?;
    let birth_rank =
        BirthRank::parse(fields[2]).map_err(|e| FieldError::new("birth_rank", e.reason))?;
    let last_name = parse_name("last_name", fields[3])?;
    let first_name = parse_name("first_name", fields[4])?;
    let birth_date = parse_date("birth_date", fields[5])?;
    if birth_date > on {
        return Err(FieldError::new("birth_date", "is after the file's date"));
    }
    if !nir_matches_birth(&nir, birth_date) {
        return Err(FieldError::new(
            "nir",
            "birth year or month does not match birth_date",
        ));
    }
    let marital_status: MaritalStatus = fields[6]
        .parse()
        .map_err(|e: domain::beneficiaries::ParseEnumError| FieldError::new(e.field, e.reason))?;
    let quality: Quality = fields[7]
        .parse()
        .map_err(|e: domain::beneficiaries::ParseEnumError| FieldError::new(e.field, e.reason))?;
    let contract_code = domain::contracts::ContractCode::parse(fields[8])
        .map_err(|e| FieldError::new("contract_code", e.reason))?;
    let valid_from = parse_date("valid_from", fields[9])?;
    let valid_to = match fields[10].trim() {
        "" => None,
        s => Some(parse_date("valid_to", s)?),
    };
    let validity =
        Validity::new(valid_from, valid_to).map_err(|e| FieldError::new(e.field, e.reason))?;
    Ok(Beneficiary {
        member_number,
        identity: Identity {
            nir,
            birth_rank,
            last_name,
            first_name,
            birth_date,
            marital_status,
        },
        quality,
        contract_code: contract_code.as_str().to_string(),
        validity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const ON: Date = date!(2026 - 06 - 01);
    const GOOD: [&str; 11] = [
        "100569608635",
        "157018100407628",
        "1",
        "Duval",
        "Daniel",
        "1957-01-04",
        "marie",
        "assure",
        "ESSENTIEL",
        "2016-01-01",
        "2026-12-31",
    ];

    fn with(i: usize, value: &str) -> Vec<&str> {
        let mut v: Vec<&str> = GOOD.to_vec();
        v[i] = value;
        v
    }

    #[test]
    fn the_documented_example_parses() {
        let b = parse_row(&GOOD, ON).unwrap();
        assert_eq!(b.member_number.as_str(), "100569608635");
        assert_eq!(b.identity.birth_date, date!(1957 - 01 - 04));
        assert_eq!(b.quality, Quality::Assure);
        assert_eq!(b.validity.to, Some(date!(2026 - 12 - 31)));
        let open = parse_row(&with(10, ""), ON).unwrap();
        assert_eq!(open.validity.to, None);
        assert_eq!(
            parse_row(&with(7, "00"), ON).unwrap().quality,
            Quality::Assure
        );
    }

    #[test]
    fn each_bad_field_is_named_without_its_value() {
        let cases: [(usize, &str, &str); 12] = [
            (0, "100-569", "member_number"),
            (1, "157018100407629", "nir"),
            (1, "257018100407628", "nir"),
            (2, "0", "birth_rank"),
            (3, " ", "last_name"),
            (5, "1957-02-30", "birth_date"),
            (5, "04/01/1957", "birth_date"),
            (5, "2027-01-01", "birth_date"),
            (6, "married", "marital_status"),
            (7, "child", "quality"),
            (9, "2016-13-01", "valid_from"),
            (10, "2015-12-31", "valid_to"),
        ];
        for (i, value, field) in cases {
            let e = parse_row(&with(i, value), ON).unwrap_err();
            assert_eq!(e.field, field, "{i} {value}");
            if !value.trim().is_empty() {
                assert!(!e.reason.contains(value), "{} echoes the value", e.reason);
            }
        }
        let e = parse_row(&GOOD[..10], ON).unwrap_err();
        assert_eq!(
            (e.field, e.reason.as_str()),
            ("line", "has 10 fields, expected 11")
        );
    }

    #[test]
    fn a_nir_whose_birth_month_disagrees_is_refused() {
        let e = parse_row(&with(5, "1957-02-04"), ON).unwrap_err();
        assert_eq!(e.field, "nir");
        assert!(e.reason.contains("birth_date"));
    }

    #[test]
    fn the_header_must_be_exact() {
        let good: Vec<&[u8]> = CSV_HEADER.iter().map(|s| s.as_bytes()).collect();
        assert!(check_header(&good).is_ok());
        let mut missing = good.clone();
        missing.remove(1);
        assert!(
            check_header(&missing)
                .unwrap_err()
                .contains("no column \"nir\"")
        );
        let mut unknown = good.clone();
        unknown.push(b"iban");
        assert!(
            check_header(&unknown)
                .unwrap_err()
                .contains("unknown column \"iban\"")
        );
        let mut swapped = good.clone();
        swapped.swap(0, 1);
        assert!(check_header(&swapped).unwrap_err().contains("order"));
        // A data line given as the header is not echoed.
        let data: Vec<&[u8]> = GOOD.iter().map(|s| s.as_bytes()).collect();
        let e = check_header(&data).unwrap_err();
        assert!(
            !e.contains("157018100407628") && !e.contains("Duval"),
            "{e}"
        );
    }
}
