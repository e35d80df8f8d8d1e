//! Beneficiaries: the people an insurer covers, attached to a member (adhérent) and a contract.

use crate::ids::{BirthRank, MemberNumber, Nir};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;

/// Qualité of a beneficiary within a membership (codes of the AMO: 00 assuré, 02 conjoint,
/// 04 concubin, 06 enfant, 09 autre ayant droit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    Assure,
    Conjoint,
    Concubin,
    Enfant,
    Autre,
}

impl Quality {
    pub fn code(self) -> &'static str {
        match self {
            Quality::Assure => "assure",
            Quality::Conjoint => "conjoint",
            Quality::Concubin => "concubin",
            Quality::Enfant => "enfant",
            Quality::Autre => "autre",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseEnumError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl FromStr for Quality {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "assure" | "00" => Quality::Assure,
            "conjoint" | "02" => Quality::Conjoint,
            "concubin" | "04" => Quality::Concubin,
            "enfant" | "06" => Quality::Enfant,
            "autre" | "09" => Quality::Autre,
            _ => {
                return Err(ParseEnumError {
                    field: "quality",
                    reason: "must be assure, conjoint, concubin, enfant or autre",
                });
            }
        })
    }
}

/// Marital status (état civil). Sealed at rest like every identifying field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaritalStatus {
    Celibataire,
    Marie,
    Pacse,
    Concubinage,
    Divorce,
    Veuf,
    Inconnu,
}

impl MaritalStatus {
    pub fn code(self) -> &'static str {
        match self {
            MaritalStatus::Celibataire => "celibataire",
            MaritalStatus::Marie => "marie",
            MaritalStatus::Pacse => "pacse",
            MaritalStatus::Concubinage => "concubinage",
            MaritalStatus::Divorce => "divorce",
            MaritalStatus::Veuf => "veuf",
            MaritalStatus::Inconnu => "inconnu",
        }
    }
}

impl fmt::Display for MaritalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for MaritalStatus {
    type Err = ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "celibataire" => MaritalStatus::Celibataire,
            "marie" => MaritalStatus::Marie,
            "pacse" => MaritalStatus::Pacse,
            "concubinage" => MaritalStatus::Concubinage,
            "divorce" => MaritalStatus::Divorce,
            "veuf" => MaritalStatus::Veuf,
            "inconnu" | "" => MaritalStatus::Inconnu,
            _ => {
                return Err(ParseEnumError {
                    field: "marital_status",
                    reason: "must be celibataire, marie, pacse, concubinage, divorce, veuf or inconnu",
                });
            }
        })
    }
}

/// A validity period, both ends included; `to = None` means open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    pub from: Date,
    pub to: Option<Date>,
}

impl Validity {
    pub fn new(from: Date, to: Option<Date>) -> Result<Self, ParseEnumError> {
        if let Some(to) = to
            && to < from
        {
            return Err(ParseEnumError {
                field: "valid_to",
                reason: "must not be before valid_from",
            });
        }
        Ok(Self { from, to })
    }

    pub fn contains(&self, day: Date) -> bool {
        day >= self.from && self.to.is_none_or(|to| day <= to)
    }
}

/// The identifying part of a beneficiary, in clear. It only exists in memory: at rest every
/// field is sealed. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    pub nir: Nir,
    pub birth_rank: BirthRank,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Date,
    pub marital_status: MaritalStatus,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

/// A beneficiary as the insurer's file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    pub member_number: MemberNumber,
    pub identity: Identity,
    pub quality: Quality,
    pub contract_code: String,
    pub validity: Validity,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const ALL_QUALITIES: [Quality; 5] = [
        Quality::Assure,
        Quality::Conjoint,
        Quality::Concubin,
        Quality::Enfant,
        Quality::Autre,
    ];

    const ALL_STATUSES: [MaritalStatus; 7] = [
        MaritalStatus::Celibataire,
        MaritalStatus::Marie,
        MaritalStatus::Pacse,
        MaritalStatus::Concubinage,
        MaritalStatus::Divorce,
        MaritalStatus::Veuf,
        MaritalStatus::Inconnu,
    ];

    fn identity() -> Identity {
        Identity {
            nir: Nir::parse("255081416802538").unwrap(),
            birth_rank: BirthRank::new(1).unwrap(),
            last_name: "Dupontel".into(),
            first_name: "Albertine".into(),
            birth_date: date!(1955 - 08 - 17),
            marital_status: MaritalStatus::Veuf,
        }
    }

    #[test]
    fn quality_code_and_display_parse_back() {
        for q in ALL_QUALITIES {
            assert_eq!(q.code().parse::<Quality>(), Ok(q));
            assert_eq!(q.to_string(), q.code());
        }
    }

    #[test]
    fn quality_parses_the_amo_numeric_codes() {
        let codes = [
            ("00", Quality::Assure),
            ("02", Quality::Conjoint),
            ("04", Quality::Concubin),
        ];
        for (code, q) in codes
            .into_iter()
            .chain([("06", Quality::Enfant), ("09", Quality::Autre)])
        {
            assert_eq!(code.parse::<Quality>(), Ok(q));
        }
    }

    #[test]
    fn unknown_quality_is_refused_naming_the_field() {
        for input in ["", "01", "child", "ASSURE"] {
            let e = input.parse::<Quality>().unwrap_err();
            assert_eq!(e.field, "quality");
            assert_eq!(e.to_string(), format!("quality: {}", e.reason));
        }
    }

    #[test]
    fn marital_status_code_and_display_parse_back() {
        for m in ALL_STATUSES {
            assert_eq!(m.code().parse::<MaritalStatus>(), Ok(m));
            assert_eq!(m.to_string(), m.code());
        }
    }

    #[test]
    fn empty_marital_status_is_unknown() {
        assert_eq!("".parse::<MaritalStatus>(), Ok(MaritalStatus::Inconnu));
        assert_eq!(" veuf ".parse::<MaritalStatus>(), Ok(MaritalStatus::Veuf));
    }

    #[test]
    fn unknown_marital_status_is_refused_naming_the_field() {
        let e = "married".parse::<MaritalStatus>().unwrap_err();
        assert_eq!(e.field, "marital_status");
        assert!(!e.to_string().contains("married"));
    }

    #[test]
    fn validity_includes_both_ends() {
        let v = Validity::new(date!(2025 - 01 - 01), Some(date!(2025 - 12 - 31))).unwrap();
        assert!(v.contains(date!(2025 - 01 - 01)));
        assert!(v.contains(date!(2025 - 12 - 31)));
        assert!(!v.contains(date!(2024 - 12 - 31)));
        assert!(!v.contains(date!(2026 - 01 - 01)));
    }

    #[test]
    fn open_ended_validity_has_no_end() {
        let v = Validity::new(date!(2025 - 01 - 01), None).unwrap();
        assert!(v.contains(date!(2099 - 01 - 01)));
        assert!(!v.contains(date!(2024 - 12 - 31)));
    }

    #[test]
    fn validity_of_a_single_day_is_accepted() {
        let day = date!(2025 - 03 - 01);
        assert!(Validity::new(day, Some(day)).unwrap().contains(day));
    }

    #[test]
    fn validity_ending_before_it_starts_is_refused() {
        let e = Validity::new(date!(2025 - 01 - 02), Some(date!(2025 - 01 - 01))).unwrap_err();
        assert_eq!(
            (e.field, e.reason),
            ("valid_to", "must not be before valid_from")
        );
    }

    #[test]
    fn identity_debug_never_shows_a_field() {
        let shown = format!("{:?} {:#?}", identity(), identity());
        assert!(shown.starts_with("Identity(<redacted>)"));
        for secret in ["2550814", "Dupontel", "Albertine", "1955", "Veuf", "veuf"] {
            assert!(!shown.contains(secret), "{secret}");
        }
    }

    #[test]
    fn beneficiary_debug_hides_identity_and_member_number() {
        let b = Beneficiary {
            member_number: MemberNumber::parse("ADH123456").unwrap(),
            identity: identity(),
            quality: Quality::Assure,
            contract_code: "ESSENTIEL".into(),
            validity: Validity::new(date!(2025 - 01 - 01), None).unwrap(),
        };
        let shown = format!("{b:?}");
        for secret in ["ADH123456", "2550814", "Dupontel", "Albertine"] {
            assert!(!shown.contains(secret), "{secret}");
        }
        assert!(shown.contains("ESSENTIEL"));
    }
}
