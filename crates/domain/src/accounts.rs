//! Organisations (the operator, insurers, practices), professionals and accounts.

use crate::ids::{Adeli, Rpps};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Operator,
    Insurer,
    Practice,
}

impl OrganisationKind {
    pub fn code(self) -> &'static str {
        match self {
            OrganisationKind::Operator => "operator",
            OrganisationKind::Insurer => "insurer",
            OrganisationKind::Practice => "practice",
        }
    }
}

impl fmt::Display for OrganisationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for OrganisationKind {
    type Err = crate::beneficiaries::ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "operator" => OrganisationKind::Operator,
            "insurer" => OrganisationKind::Insurer,
            "practice" => OrganisationKind::Practice,
            _ => {
                return Err(crate::beneficiaries::ParseEnumError {
                    field: "kind",
                    reason: "must be operator, insurer or practice",
                });
            }
        })
    }
}

/// The professions that use tiers payant, and the care domains each may ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Optician,
    AudioProsthetist,
    Pharmacist,
    Dentist,
    Laboratory,
    Physician,
    Radiologist,
    Nurse,
    Midwife,
    Hospital,
}

impl Profession {
    pub const ALL: [Profession; 10] = [
        Profession::Optician,
        Profession::AudioProsthetist,
        Profession::Pharmacist,
        Profession::Dentist,
        Profession::Laboratory,
        Profession::Physician,
        Profession::Radiologist,
        Profession::Nurse,
        Profession::Midwife,
        Profession::Hospital,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Profession::Optician => "optician",
            Profession::AudioProsthetist => "audio_prosthetist",
            Profession::Pharmacist => "pharmacist",
            Profession::Dentist => "dentist",
            Profession::Laboratory => "laboratory",
            Profession::Physician => "physician",
            Profession::Radiologist => "radiologist",
            Profession::Nurse => "nurse",
            Profession::Midwife => "midwife",
            Profession::Hospital => "hospital",
        }
    }

    /// The care domains this profession may check and bill.
    pub fn domains(self) -> &'static [crate::rights::CareDomain] {
        use crate::rights::CareDomain::*;
        match self {
            Profession::Optician => &[Opti],
            Profession::AudioProsthetist => &[Audi],
            Profession::Pharmacist => &[Phar],
            Profession::Dentist => &[Dent],
            Profession::Laboratory => &[Labo],
            Profession::Physician => &[Med],
            Profession::Radiologist => &[Rad],
            Profession::Nurse => &[Auxm],
            Profession::Midwife => &[Svil],
            Profession::Hospital => &[Hosp],
        }
    }
}

impl fmt::Display for Profession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Profession {
    type Err = crate::beneficiaries::ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profession::ALL.into_iter().find(|p| p.code() == s).ok_or(
            crate::beneficiaries::ParseEnumError {
                field: "profession",
                reason: "unknown profession",
            },
        )
    }
}

/// The national identifier of a professional person: RPPS, or ADELI for professions
/// (opticians, audio prosthetists) still migrating.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProfessionalId {
    Rpps(Rpps),
    Adeli(Adeli),
}

impl ProfessionalId {
    pub fn kind(&self) -> &'static str {
        match self {
            ProfessionalId::Rpps(_) => "rpps",
            ProfessionalId::Adeli(_) => "adeli",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            ProfessionalId::Rpps(r) => r.as_str(),
            ProfessionalId::Adeli(a) => a.as_str(),
        }
    }

    pub fn parse(kind: &str, value: &str) -> Result<Self, crate::IdError> {
        match kind {
            "rpps" => Rpps::parse(value).map(ProfessionalId::Rpps),
            "adeli" => Adeli::parse(value).map(ProfessionalId::Adeli),
            _ => Err(crate::IdError::new(
                "professional_id_kind",
                "must be rpps or adeli",
            )),
        }
    }
}

/// Roles of accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    OperatorAdmin,
    OperatorAnalyst,
    InsurerStaff,
    Professional,
    Auditor,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "operator_admin",
            Role::OperatorAnalyst => "operator_analyst",
            Role::InsurerStaff => "insurer_staff",
            Role::Professional => "professional",
            Role::Auditor => "auditor",
        }
    }

    /// The kind of organisation an account of this role belongs to.
    pub fn organisation_kind(self) -> OrganisationKind {
        match self {
            Role::OperatorAdmin | Role::OperatorAnalyst | Role::Auditor => {
                OrganisationKind::Operator
            }
            Role::InsurerStaff => OrganisationKind::Insurer,
            Role::Professional => OrganisationKind::Practice,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = crate::beneficiaries::ParseEnumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "operator_admin" => Role::OperatorAdmin,
            "operator_analyst" => Role::OperatorAnalyst,
            "insurer_staff" => Role::InsurerStaff,
            "professional" => Role::Professional,
            "auditor" => Role::Auditor,
            _ => {
                return Err(crate::beneficiaries::ParseEnumError {
                    field: "role",
                    reason: "must be operator_admin, operator_analyst, insurer_staff, professional or auditor",
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_ROLES: [Role; 5] = [
        Role::OperatorAdmin,
        Role::OperatorAnalyst,
        Role::InsurerStaff,
        Role::Professional,
        Role::Auditor,
    ];

    #[test]
    fn organisation_kind_code_parses_back() {
        for k in [
            OrganisationKind::Operator,
            OrganisationKind::Insurer,
            OrganisationKind::Practice,
        ] {
            assert_eq!(k.code().parse::<OrganisationKind>(), Ok(k));
            assert_eq!(k.to_string(), k.code());
        }
    }

    #[test]
    fn unknown_organisation_kind_is_refused_naming_the_field() {
        let e = "hospital".parse::<OrganisationKind>().unwrap_err();
        assert_eq!(e.field, "kind");
    }

    #[test]
    fn profession_code_and_display_parse_back() {
        for p in Profession::ALL {
            assert_eq!(p.code().parse::<Profession>(), Ok(p));
            assert_eq!(p.to_string(), p.code());
        }
    }

    #[test]
    fn unknown_profession_is_refused_naming_the_field() {
        let e = "Optician".parse::<Profession>().unwrap_err();
        assert_eq!((e.field, e.reason), ("profession", "unknown profession"));
    }

    #[test]
    fn every_profession_has_at_least_one_care_domain() {
        for p in Profession::ALL {
            assert!(!p.domains().is_empty(), "{p}");
        }
    }

    #[test]
    fn an_optician_sees_optics_only() {
        assert_eq!(
            Profession::Optician.domains(),
            &[crate::rights::CareDomain::Opti]
        );
    }

    #[test]
    fn role_code_parses_back_and_belongs_to_one_organisation_kind() {
        for r in ALL_ROLES {
            assert_eq!(r.code().parse::<Role>(), Ok(r));
            assert_eq!(r.to_string(), r.code());
        }
        assert_eq!(
            Role::Professional.organisation_kind(),
            OrganisationKind::Practice
        );
        assert_eq!(
            Role::InsurerStaff.organisation_kind(),
            OrganisationKind::Insurer
        );
        assert_eq!(
            Role::Auditor.organisation_kind(),
            OrganisationKind::Operator
        );
    }

    #[test]
    fn unknown_role_is_refused_naming_the_field() {
        let e = "admin".parse::<Role>().unwrap_err();
        assert_eq!(e.field, "role");
    }

    #[test]
    fn professional_id_parses_rpps_and_adeli() {
        let rpps = ProfessionalId::parse("rpps", "10003879623").unwrap();
        assert_eq!((rpps.kind(), rpps.value()), ("rpps", "10003879623"));
        let adeli = ProfessionalId::parse("adeli", "751234567").unwrap();
        assert_eq!((adeli.kind(), adeli.value()), ("adeli", "751234567"));
    }

    #[test]
    fn professional_id_with_a_bad_value_or_kind_is_refused() {
        assert_eq!(
            ProfessionalId::parse("rpps", "10003879624")
                .unwrap_err()
                .field,
            "rpps"
        );
        assert_eq!(
            ProfessionalId::parse("adeli", "1").unwrap_err().field,
            "adeli"
        );
        let e = ProfessionalId::parse("siret", "73282932000074").unwrap_err();
        assert_eq!(
            (e.field, e.reason.as_str()),
            ("professional_id_kind", "must be rpps or adeli")
        );
    }
}
