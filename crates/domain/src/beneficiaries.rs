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
            _ => return Err(ParseEnumError { field: "quality", reason: "must be assure, conjoint, concubin, enfant or autre" }),
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
            return Err(ParseEnumError { field: "valid_to", reason: "must not be before valid_from" });
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
