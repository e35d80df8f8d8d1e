//! The contract document: one version of a contract with its guarantee table and renewal
//! rules, read from TOML (docs/formats.md, "Contract (TOML)").
//!
//! The TOML is read into a value tree and walked by hand, so that every error names the
//! field path and the reason (`guarantees[3].formula: unknown formula "120% PMSS"`) and
//! unknown fields are refused.

use super::ContractCode;
use super::formula::{Base, Formula, Per};
use crate::beneficiaries::Validity;
use crate::rights::CareDomain;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Month};
use toml::{Table, Value};

/// What a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Frame,
    Lens,
    HearingAid,
    Prosthesis,
    Other,
}

impl LineKind {
    pub const ALL: [LineKind; 5] = [
        LineKind::Frame,
        LineKind::Lens,
        LineKind::HearingAid,
        LineKind::Prosthesis,
        LineKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LineKind::Frame => "frame",
            LineKind::Lens => "lens",
            LineKind::HearingAid => "hearing_aid",
            LineKind::Prosthesis => "prosthesis",
            LineKind::Other => "other",
        }
    }

    /// The care domain this kind belongs to; `None` for `other` (any domain).
    pub fn domain(self) -> Option<CareDomain> {
        match self {
            LineKind::Frame | LineKind::Lens => Some(CareDomain::Opti),
            LineKind::HearingAid => Some(CareDomain::Audi),
            LineKind::Prosthesis => Some(CareDomain::Dent),
            LineKind::Other => None,
        }
    }
}

/// 100% Santé class: optics A (nothing left to pay) or B (free prices); hearing I or II.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Class {
    A,
    B,
    I,
    II,
}

impl Class {
    pub fn code(self) -> &'static str {
        match self {
            Class::A => "A",
            Class::B => "B",
            Class::I => "I",
            Class::II => "II",
        }
    }

    /// The domain whose equipment has this class.
    pub fn domain(self) -> CareDomain {
        match self {
            Class::A | Class::B => CareDomain::Opti,
            Class::I | Class::II => CareDomain::Audi,
        }
    }

    fn parse(s: &str) -> Option<Class> {
        Some(match s {
            "A" => Class::A,
            "B" => Class::B,
            "I" => Class::I,
            "II" => Class::II,
            _ => return None,
        })
    }
}

/// An age band, both ends included, in whole years at the care date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeBand {
    pub min: u8,
    pub max: u8,
}

impl AgeBand {
    pub const ALL: AgeBand = AgeBand { min: 0, max: 255 };

    pub fn contains(self, age: u8) -> bool {
        (self.min..=self.max).contains(&age)
    }

    pub fn is_all(self) -> bool {
        self == AgeBand::ALL
    }

    fn overlaps(self, other: AgeBand) -> bool {
        self.min <= other.max && other.min <= self.max
    }
}

impl fmt::Display for AgeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (0, 255) => f.write_str("all ages"),
            (0, max) => write!(f, "under {}", u16::from(max) + 1),
            (min, 255) => write!(f, "from {min}"),
            (min, max) => write!(f, "{min} to {max}"),
        }
    }
}

/// One row of the guarantee table. The most specific row matching a line applies:
/// an explicit domain beats `*`, then a `kind` beats none, a `class` beats none, an age
/// band beats all ages (in that order of weight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarantee {
    /// Names the row's per-period budget in counters; required when the formula has one.
    pub id: Option<String>,
    /// `None`: every domain (`domain = "*"`).
    pub domain: Option<CareDomain>,
    pub class: Option<Class>,
    pub kind: Option<LineKind>,
    pub ages: AgeBand,
    pub formula: Formula,
}

impl Guarantee {
    fn specificity(&self) -> u8 {
        u8::from(self.domain.is_some()) * 8
            + u8::from(self.kind.is_some()) * 4
            + u8::from(self.class.is_some()) * 2
            + u8::from(!self.ages.is_all())
    }

    /// Whether this row applies to a line of `domain`, `kind`, `class` at `age`.
    pub fn matches(
        &self,
        domain: CareDomain,
        kind: LineKind,
        class: Option<Class>,
        age: u8,
    ) -> bool {
        self.domain.is_none_or(|d| d == domain)
            && self.kind.is_none_or(|k| k == kind)
            && self.class.is_none_or(|c| Some(c) == class)
            && self.ages.contains(age)
    }

    fn could_overlap(&self, other: &Guarantee) -> bool {
        fn same<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
            a.is_none() || b.is_none() || a == b
        }
        same(self.domain, other.domain)
            && same(self.kind, other.kind)
            && same(self.class, other.class)
            && self.ages.overlaps(other.ages)
    }
}

/// A renewal rule: at most `count` equipments (OPTI) or aids per ear (AUDI) per beneficiary
/// within any sliding window of `months` months, for beneficiaries in `ages` at the care date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewal {
    pub domain: CareDomain,
    pub months: u16,
    pub count: u8,
    pub ages: AgeBand,
}

/// One version of a contract, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub code: ContractCode,
    pub version: u32,
    pub label: String,
    pub responsible: bool,
    pub effective: Validity,
    pub guarantees: Vec<Guarantee>,
    pub renewals: Vec<Renewal>,
}

/// A contract file error: the field path and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ContractError {
    pub path: String,
    pub reason: String,
}

fn err<T>(path: impl Into<String>, reason: impl Into<String>) -> Result<T, ContractError> {
    Err(ContractError {
        path: path.into(),
        reason: reason.into(),
    })
}

/// Largest contract file read: 1 MiB.
pub const MAX_TOML_BYTES: usize = 1 << 20;
const MAX_ROWS: usize = 500;

impl Contract {
    /// Reads a contract version from TOML and checks it (see docs/formats.md).
    pub fn from_toml(text: &str) -> Result<Contract, ContractError> {
        if text.len() > MAX_TOML_BYTES {
            return err("contract", "file larger than 1 MiB");
        }
        let root: Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                let at = e
                    .span()
                    .map(|s| line_col(text, s.start))
                    .map(|(l, c)| format!("line {l}, column {c}"))
                    .unwrap_or_else(|| "contract".into());
                return err(at, format!("not valid TOML: {}", e.message().trim()));
            }
        };
        let top = Fields::new(&root, "");
        top.only(&[
            "format",
            "code",
            "version",
            "label",
            "responsible",
            "effective_from",
            "effective_to",
            "guarantees",
            "renewals",
        ])?;
        if let Some(v) = top.opt_int("format")?
            && v != 1
        {
            return err("format", "unsupported format (only 1)");
        }
        let code_text = top.string("code")?;
        let code = ContractCode::parse(code_text).map_err(|e| ContractError {
            path: "code".into(),
            reason: e.reason.to_string(),
        })?;
        let version = top.int("version")?;
        let version = match u32::try_from(version) {
            Ok(v) if v >= 1 => v,
            _ => return err("version", "must be a whole number from 1"),
        };
        let label = top.string("label")?.trim().to_string();
        if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
            return err(
                "label",
                "must be 1 to 200 characters without control characters",
            );
        }
        let responsible = top.bool("responsible")?;
        let from = top.date("effective_from")?;
        let to = top.opt_date("effective_to")?;
        let effective = Validity::new(from, to).map_err(|_| ContractError {
            path: "effective_to".into(),
            reason: "must not be before effective_from".into(),
        })?;

        let mut guarantees = Vec::new();
        for (i, row) in top.array_of_tables("guarantees")?.iter().enumerate() {
            guarantees.push(guarantee(row, &format!("guarantees[{i}]"), responsible)?);
        }
        if guarantees.is_empty() {
            return err("guarantees", "at least one guarantee is required");
        }
        for (j, g) in guarantees.iter().enumerate() {
            for (i, h) in guarantees[..j].iter().enumerate() {
                if g.specificity() == h.specificity() && g.could_overlap(h) {
                    return err(
                        format!("guarantees[{j}]"),
                        format!(
                            "overlaps guarantees[{i}] (same domain, kind, class and age band): which applies would be ambiguous"
                        ),
                    );
                }
                if g.id.is_some() && g.id == h.id {
                    return err(
                        format!("guarantees[{j}].id"),
                        "already used by another guarantee",
                    );
                }
            }
        }
        let mut renewals = Vec::new();
        for (i, row) in top.array_of_tables("renewals")?.iter().enumerate() {
            let path = format!("renewals[{i}]");
            let r = renewal(row, &path)?;
            if renewals
                .iter()
                .any(|o: &Renewal| o.domain == r.domain && o.ages.overlaps(r.ages))
            {
                return err(
                    path,
                    "overlaps another renewal rule of the same domain and ages",
                );
            }
            renewals.push(r);
        }
        Ok(Contract {
            code,
            version,
            label,
            responsible,
            effective,
            guarantees,
            renewals,
        })
    }

    /// The version of contract `code` in effect on `day` among `versions`: the highest
    /// version number whose effective period contains the day.
    pub fn effective_on<'a>(
        versions: &'a [Contract],
        code: &ContractCode,
        day: Date,
    ) -> Option<&'a Contract> {
        versions
            .iter()
            .filter(|c| &c.code == code && c.effective.contains(day))
            .max_by_key(|c| c.version)
    }

    /// The guarantee row applying to a line, by index, or `None` when nothing covers it.
    pub fn guarantee_for(
        &self,
        domain: CareDomain,
        kind: LineKind,
        class: Option<Class>,
        age: u8,
    ) -> Option<usize> {
        let mut best: Option<(u8, usize)> = None;
        for (i, g) in self.guarantees.iter().enumerate() {
            if g.matches(domain, kind, class, age) {
                let s = g.specificity();
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// The renewal rule for a domain at an age.
    pub fn renewal_for(&self, domain: CareDomain, age: u8) -> Option<&Renewal> {
        self.renewals
            .iter()
            .find(|r| r.domain == domain && r.ages.contains(age))
    }

    /// What a card prints per domain for this contract (OPTI and AUDI: prior approval; other
    /// domains: the rate of the row for the whole domain, 100% for `TM`/`frais réels`;
    /// nothing when no such row or a formula without a rate).
    pub fn card_regimes(&self) -> Vec<(CareDomain, crate::rights::Regime)> {
        use crate::rights::Regime;
        let mut out = Vec::new();
        for d in CareDomain::ALL {
            let Some(i) = self.guarantee_for(d, LineKind::Other, None, 30) else {
                continue;
            };
            if d.needs_prior_approval() {
                out.push((d, Regime::PriorApproval));
                continue;
            }
            match self.guarantees[i].formula.base {
                Some(Base::BrPercent(r)) => out.push((d, Regime::Rate(r))),
                Some(Base::Tm | Base::RealCost) => {
                    out.push((d, Regime::Rate(crate::money::Rate::percent(100))))
                }
                None => {}
            }
        }
        out
    }
}

fn guarantee(row: &Table, path: &str, responsible: bool) -> Result<Guarantee, ContractError> {
    let f = Fields::new(row, path);
    f.only(&[
        "id", "domain", "class", "kind", "age_min", "age_max", "formula",
    ])?;
    let id = match f.opt_string("id")? {
        Some(s) => {
            if s.is_empty()
                || s.len() > 64
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return err(f.path("id"), "must be 1 to 64 letters, digits, - or _");
            }
            Some(s.to_string())
        }
        None => None,
    };
    let domain_text = f.string("domain")?;
    let domain = if domain_text == "*" {
        None
    } else {
        Some(domain_text.parse::<CareDomain>().map_err(|_| ContractError {
            path: f.path("domain"),
            reason: format!(
                "unknown care domain \"{}\" (PHAR, MED, LABO, RAD, AUXM, SVIL, HOSP, DENT, OPTI, AUDI or *)",
                domain_text.chars().take(20).collect::<String>()
            ),
        })?)
    };
    let kind = match f.opt_string("kind")? {
        Some(k) => Some(
            LineKind::ALL
                .into_iter()
                .find(|x| x.code() == k)
                .ok_or_else(|| ContractError {
                    path: f.path("kind"),
                    reason: "must be frame, lens, hearing_aid, prosthesis or other".into(),
                })?,
        ),
        None => None,
    };
    let class = match f.opt_string("class")? {
        Some(c) => Some(Class::parse(c).ok_or_else(|| ContractError {
            path: f.path("class"),
            reason: "must be A or B (optics), I or II (hearing)".into(),
        })?),
        None => None,
    };
    if let Some(k) = kind
        && let Some(kd) = k.domain()
        && domain != Some(kd)
    {
        return err(
            f.path("kind"),
            format!("a {} line belongs to domain {kd}", k.code()),
        );
    }
    if let Some(c) = class
        && domain != Some(c.domain())
    {
        return err(
            f.path("class"),
            format!("class {} belongs to domain {}", c.code(), c.domain()),
        );
    }
    let ages = age_band(&f)?;
    let text = f.string("formula")?;
    let formula = Formula::parse(text).map_err(|reason| ContractError {
        path: f.path("formula"),
        reason,
    })?;
    for x in &formula.fixed {
        let ok = match x.per {
            Per::Line => true,
            Per::Equipment => domain == Some(CareDomain::Opti),
            Per::Ear => domain == Some(CareDomain::Audi),
            Per::Months(_) => !matches!(domain, Some(CareDomain::Opti | CareDomain::Audi) | None),
        };
        if !ok {
            let why = match x.per {
                Per::Equipment => "an amount per equipment needs domain OPTI",
                Per::Ear => "an amount per ear needs domain AUDI",
                _ => {
                    "an amount per period needs one domain other than OPTI and AUDI (their renewal rules count equipments)"
                }
            };
            return err(f.path("formula"), why);
        }
    }
    if formula.period().is_some() && id.is_none() {
        return err(
            f.path("id"),
            "required when the formula has an amount per period",
        );
    }
    if responsible && !formula.covers_tm() {
        return err(
            f.path("formula"),
            "a responsible contract covers at least the ticket modérateur (100% BR, TM or frais réels)",
        );
    }
    Ok(Guarantee {
        id,
        domain,
        class,
        kind,
        ages,
        formula,
    })
}

fn renewal(row: &Table, path: &str) -> Result<Renewal, ContractError> {
    let f = Fields::new(row, path);
    f.only(&["domain", "months", "count", "age_min", "age_max"])?;
    let domain = match f.string("domain")? {
        "OPTI" => CareDomain::Opti,
        "AUDI" => CareDomain::Audi,
        _ => {
            return err(
                f.path("domain"),
                "must be OPTI (per equipment) or AUDI (per ear)",
            );
        }
    };
    let months = match u16::try_from(f.int("months")?) {
        Ok(m) if (1..=120).contains(&m) => m,
        _ => return err(f.path("months"), "must be 1 to 120"),
    };
    let count = match f.opt_int("count")? {
        None => 1,
        Some(c) => match u8::try_from(c) {
            Ok(c) if (1..=10).contains(&c) => c,
            _ => return err(f.path("count"), "must be 1 to 10"),
        },
    };
    Ok(Renewal {
        domain,
        months,
        count,
        ages: age_band(&f)?,
    })
}

fn age_band(f: &Fields<'_>) -> Result<AgeBand, ContractError> {
    let age = |key: &str, default: u8| -> Result<u8, ContractError> {
        match f.opt_int(key)? {
            None => Ok(default),
            Some(v) => match u8::try_from(v) {
                Ok(v) if v <= 150 => Ok(v),
                _ => err(f.path(key), "must be an age from 0 to 150"),
            },
        }
    };
    let min = age("age_min", 0)?;
    let max = age("age_max", 255)?;
    if max < min {
        return err(f.path("age_max"), "must not be below age_min");
    }
    Ok(AgeBand { min, max })
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A TOML table with its path, for typed reads with path-naming errors.
struct Fields<'a> {
    table: &'a Table,
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    fn new(table: &'a Table, prefix: &'a str) -> Self {
        Self { table, prefix }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn only(&self, allowed: &[&str]) -> Result<(), ContractError> {
        for k in self.table.keys() {
            if !allowed.contains(&k.as_str()) {
                let shown: String = k.chars().take(40).collect();
                return err(
                    self.path(&shown),
                    format!("unknown field (expected one of: {})", allowed.join(", ")),
                );
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Result<&'a Value, ContractError> {
        self.table.get(key).ok_or_else(|| ContractError {
            path: self.path(key),
            reason: "missing".into(),
        })
    }

    fn string(&self, key: &str) -> Result<&'a str, ContractError> {
        match self.get(key)? {
            Value::String(s) => Ok(s),
            _ => err(self.path(key), "must be a string"),
        }
    }

    fn opt_string(&self, key: &str) -> Result<Option<&'a str>, ContractError> {
        if self.table.contains_key(key) {
            self.string(key).map(Some)
        } else {
            Ok(None)
        }
    }

    fn int(&self, key: &str) -> Result<i64, ContractError> {
        match self.get(key)? {
            Value::Integer(i) => Ok(*i),
            _ => err(self.path(key), "must be a whole number"),
        }
    }

    fn opt_int(&self, key: &str) -> Result<Option<i64>, ContractError> {
        if self.table.contains_key(key) {
            self.int(key).map(Some)
        } else {
            Ok(None)
        }
    }

    fn bool(&self, key: &str) -> Result<bool, ContractError> {
        match self.get(key)? {
            Value::Boolean(b) => Ok(*b),
            _ => err(self.path(key), "must be true or false"),
        }
    }

    fn date(&self, key: &str) -> Result<Date, ContractError> {
        let bad = || ContractError {
            path: self.path(key),
            reason: "must be a date such as 2026-01-01 (unquoted, no time)".into(),
        };
        match self.get(key)? {
            Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    let month = Month::try_from(d.month).map_err(|_| bad())?;
                    Date::from_calendar_date(i32::from(d.year), month, d.day).map_err(|_| bad())
                }
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }

    fn opt_date(&self, key: &str) -> Result<Option<Date>, ContractError> {
        if self.table.contains_key(key) {
            self.date(key).map(Some)
        } else {
            Ok(None)
        }
    }

    fn array_of_tables(&self, key: &str) -> Result<Vec<&'a Table>, ContractError> {
        let Some(v) = self.table.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = v else {
            return err(
                self.path(key),
                format!("must be an array of tables ([[{key}]])"),
            );
        };
        if items.len() > MAX_ROWS {
            return err(self.path(key), "more than 500 rows");
        }
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Table(t) => Ok(t),
                _ => err(format!("{}[{i}]", self.path(key)), "must be a table"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Rate;
    use crate::rights::Regime;
    use proptest::prelude::*;
    use time::macros::date;

    const ESSENTIEL: &str = include_str!("../../../../data/contracts/essentiel.toml");
    const CONFORT: &str = include_str!("../../../../data/contracts/confort.toml");

    const HEAD: &str = "code = \"T\"\nversion = 1\nlabel = \"Test\"\nresponsible = false\neffective_from = 2026-01-01\n";

    fn parse_err(text: &str) -> String {
        Contract::from_toml(text).unwrap_err().to_string()
    }

    fn with_rows(rows: &str) -> String {
        format!("{HEAD}{rows}")
    }

    #[test]
    fn demo_contracts_parse() {
        for (text, code, b, ii, dent) in [
            (
                ESSENTIEL,
                "ESSENTIEL",
                "TM + 150.00 € per equipment",
                "100% BR + 800.00 € per ear",
                "300% BR",
            ),
            (
                CONFORT,
                "CONFORT",
                "TM + 300.00 € per equipment",
                "100% BR + 1600.00 € per ear",
                "400% BR",
            ),
        ] {
            let c = Contract::from_toml(text).unwrap();
            assert_eq!(c.code.as_str(), code);
            assert_eq!(c.version, 1);
            assert!(c.responsible);
            assert_eq!(
                c.effective,
                Validity::new(date!(2026 - 01 - 01), None).unwrap()
            );
            let f = |d, k, cl| {
                let i = c.guarantee_for(d, k, cl, 40).unwrap();
                c.guarantees[i].formula.to_string()
            };
            assert_eq!(f(CareDomain::Phar, LineKind::Other, None), "100% BR");
            assert_eq!(
                f(CareDomain::Opti, LineKind::Frame, Some(Class::A)),
                "frais réels"
            );
            assert_eq!(f(CareDomain::Opti, LineKind::Lens, Some(Class::B)), b);
            assert_eq!(f(CareDomain::Opti, LineKind::Other, None), "100% BR");
            assert_eq!(
                f(CareDomain::Audi, LineKind::HearingAid, Some(Class::I)),
                "frais réels"
            );
            assert_eq!(
                f(CareDomain::Audi, LineKind::HearingAid, Some(Class::II)),
                ii
            );
            assert_eq!(f(CareDomain::Dent, LineKind::Prosthesis, None), dent);
            assert_eq!(f(CareDomain::Dent, LineKind::Other, None), "100% BR");
            assert_eq!(c.renewal_for(CareDomain::Opti, 16).unwrap().months, 24);
            assert_eq!(c.renewal_for(CareDomain::Opti, 15).unwrap().months, 12);
            assert_eq!(c.renewal_for(CareDomain::Audi, 90).unwrap().months, 48);
            assert!(c.renewal_for(CareDomain::Dent, 40).is_none());
            let regimes = c.card_regimes();
            assert_eq!(regimes.len(), 10);
            assert!(regimes.contains(&(CareDomain::Phar, Regime::Rate(Rate::percent(100)))));
            assert!(regimes.contains(&(CareDomain::Dent, Regime::Rate(Rate::percent(100)))));
            assert!(regimes.contains(&(CareDomain::Opti, Regime::PriorApproval)));
            assert!(regimes.contains(&(CareDomain::Audi, Regime::PriorApproval)));
        }
    }

    #[test]
    fn the_version_in_effect_on_a_day() {
        let v = |version: u32, from: &str, to: &str| {
            Contract::from_toml(&format!(
                "code = \"C\"\nversion = {version}\nlabel = \"L\"\nresponsible = false\neffective_from = {from}\n{to}[[guarantees]]\ndomain = \"*\"\nformula = \"TM\"\n"
            ))
            .unwrap()
        };
        let versions = [
            v(1, "2025-01-01", "effective_to = 2025-12-31\n"),
            v(2, "2026-01-01", ""),
            v(3, "2026-07-01", ""),
        ];
        let code = ContractCode::parse("C").unwrap();
        let on = |d| Contract::effective_on(&versions, &code, d).map(|c| c.version);
        assert_eq!(on(date!(2024 - 12 - 31)), None);
        assert_eq!(on(date!(2025 - 06 - 01)), Some(1));
        assert_eq!(on(date!(2026 - 06 - 30)), Some(2));
        assert_eq!(on(date!(2026 - 07 - 01)), Some(3));
        let other = ContractCode::parse("D").unwrap();
        assert_eq!(
            Contract::effective_on(&versions, &other, date!(2026 - 07 - 01)),
            None
        );
    }

    #[test]
    fn the_most_specific_row_applies() {
        let c = Contract::from_toml(&with_rows(
            r#"
[[guarantees]]
domain = "*"
formula = "100% BR"
[[guarantees]]
domain = "OPTI"
formula = "150% BR"
[[guarantees]]
domain = "OPTI"
class = "B"
formula = "TM + €50 per equipment"
[[guarantees]]
domain = "OPTI"
class = "B"
age_max = 15
formula = "TM + €80 per equipment"
[[guarantees]]
domain = "OPTI"
kind = "frame"
formula = "TM + €20"
"#,
        ))
        .unwrap();
        let g = |d, k, cl, age| c.guarantee_for(d, k, cl, age);
        assert_eq!(g(CareDomain::Med, LineKind::Other, None, 40), Some(0));
        assert_eq!(g(CareDomain::Opti, LineKind::Other, None, 40), Some(1));
        assert_eq!(
            g(CareDomain::Opti, LineKind::Lens, Some(Class::B), 40),
            Some(2)
        );
        assert_eq!(
            g(CareDomain::Opti, LineKind::Lens, Some(Class::B), 15),
            Some(3)
        );
        assert_eq!(
            g(CareDomain::Opti, LineKind::Frame, Some(Class::B), 15),
            Some(4)
        );
        assert_eq!(
            g(CareDomain::Opti, LineKind::Lens, Some(Class::A), 40),
            Some(1)
        );
    }

    #[test]
    fn errors_name_the_field_and_the_reason() {
        let row = |extra: &str| with_rows(&format!("[[guarantees]]\n{extra}\n"));
        let cases: Vec<(String, &str)> = vec![
            (
                with_rows(
                    "[[guarantees]]\ndomain = \"*\"\nformula = \"100% BR\"\n[[guarantees]]\ndomain = \"OPTI\"\nformula = \"100% BR\"\n[[guarantees]]\ndomain = \"AUDI\"\nformula = \"100% BR\"\n[[guarantees]]\ndomain = \"DENT\"\nformula = \"120% PMSS\"\n",
                ),
                "guarantees[3].formula: unknown formula \"120% PMSS\"",
            ),
            (row("domain = \"PHAR\"\nformla = \"100% BR\""), "guarantees[0].formla: unknown field (expected one of: id, domain, class, kind, age_min, age_max, formula)"),
            (row("domain = \"PHAR\""), "guarantees[0].formula: missing"),
            (row("domain = \"XYZ\"\nformula = \"100% BR\""), "guarantees[0].domain: unknown care domain \"XYZ\" (PHAR, MED, LABO, RAD, AUXM, SVIL, HOSP, DENT, OPTI, AUDI or *)"),
            (row("domain = \"DENT\"\nclass = \"A\"\nformula = \"100% BR\""), "guarantees[0].class: class A belongs to domain OPTI"),
            (row("domain = \"OPTI\"\nclass = \"C\"\nformula = \"100% BR\""), "guarantees[0].class: must be A or B (optics), I or II (hearing)"),
            (row("domain = \"*\"\nkind = \"frame\"\nformula = \"100% BR\""), "guarantees[0].kind: a frame line belongs to domain OPTI"),
            (row("domain = \"OPTI\"\nkind = \"glasses\"\nformula = \"100% BR\""), "guarantees[0].kind: must be frame, lens, hearing_aid, prosthesis or other"),
            (row("domain = \"DENT\"\nformula = \"TM + €150 per equipment\""), "guarantees[0].formula: an amount per equipment needs domain OPTI"),
            (row("domain = \"OPTI\"\nformula = \"TM + €150 per ear\""), "guarantees[0].formula: an amount per ear needs domain AUDI"),
            (row("domain = \"OPTI\"\nformula = \"TM + €150 per year\""), "guarantees[0].formula: an amount per period needs one domain other than OPTI and AUDI (their renewal rules count equipments)"),
            (row("domain = \"DENT\"\nformula = \"TM + €150 per year\""), "guarantees[0].id: required when the formula has an amount per period"),
            (row("id = \"a b\"\ndomain = \"DENT\"\nformula = \"TM\""), "guarantees[0].id: must be 1 to 64 letters, digits, - or _"),
            (row("domain = \"DENT\"\nage_min = 20\nage_max = 10\nformula = \"TM\""), "guarantees[0].age_max: must not be below age_min"),
            (row("domain = \"DENT\"\nage_min = -1\nformula = \"TM\""), "guarantees[0].age_min: must be an age from 0 to 150"),
            (row("domain = \"DENT\"\nformula = 100"), "guarantees[0].formula: must be a string"),
            (
                with_rows("[[guarantees]]\ndomain = \"DENT\"\nformula = \"TM\"\n[[guarantees]]\ndomain = \"DENT\"\nformula = \"200% BR\"\n"),
                "guarantees[1]: overlaps guarantees[0] (same domain, kind, class and age band): which applies would be ambiguous",
            ),
            (
                with_rows("[[guarantees]]\ndomain = \"DENT\"\nage_max = 20\nformula = \"TM\"\n[[guarantees]]\ndomain = \"DENT\"\nage_min = 20\nformula = \"200% BR\"\n"),
                "guarantees[1]: overlaps guarantees[0] (same domain, kind, class and age band): which applies would be ambiguous",
            ),
            (with_rows(""), "guarantees: at least one guarantee is required"),
            (with_rows("guarantees = 3\n"), "guarantees: must be an array of tables ([[guarantees]])"),
            (
                with_rows("[[guarantees]]\ndomain = \"DENT\"\nformula = \"TM\"\n[[renewals]]\ndomain = \"DENT\"\nmonths = 12\n"),
                "renewals[0].domain: must be OPTI (per equipment) or AUDI (per ear)",
            ),
            (
                with_rows("[[guarantees]]\ndomain = \"OPTI\"\nformula = \"TM\"\n[[renewals]]\ndomain = \"OPTI\"\nmonths = 0\n"),
                "renewals[0].months: must be 1 to 120",
            ),
            (
                with_rows("[[guarantees]]\ndomain = \"OPTI\"\nformula = \"TM\"\n[[renewals]]\ndomain = \"OPTI\"\nmonths = 24\n[[renewals]]\ndomain = \"OPTI\"\nmonths = 12\nage_max = 15\n"),
                "renewals[1]: overlaps another renewal rule of the same domain and ages",
            ),
            (
                "code = \"T\"\nversion = 1\nlabel = \"Test\"\nresponsible = true\neffective_from = 2026-01-01\n[[guarantees]]\ndomain = \"OPTI\"\nformula = \"90% BR\"\n".to_string(),
                "guarantees[0].formula: a responsible contract covers at least the ticket modérateur (100% BR, TM or frais réels)",
            ),
            ("version = 1\n".to_string(), "code: missing"),
            ("code = \"t\"\n".to_string(), "code: must be 1 to 32 upper-case letters, digits, - or _"),
            ("code = \"T\"\nversion = 0\n".to_string(), "version: must be a whole number from 1"),
            ("code = \"T\"\nversion = 1\nlabel = \"\"\n".to_string(), "label: must be 1 to 200 characters without control characters"),
            ("code = \"T\"\nversion = 1\nlabel = \"L\"\nresponsible = \"yes\"\n".to_string(), "responsible: must be true or false"),
            (
                "code = \"T\"\nversion = 1\nlabel = \"L\"\nresponsible = true\neffective_from = \"2026-01-01\"\n".to_string(),
                "effective_from: must be a date such as 2026-01-01 (unquoted, no time)",
            ),
            (
                "code = \"T\"\nversion = 1\nlabel = \"L\"\nresponsible = true\neffective_from = 2026-01-01T10:00:00\n".to_string(),
                "effective_from: must be a date such as 2026-01-01 (unquoted, no time)",
            ),
            (
                "code = \"T\"\nversion = 1\nlabel = \"L\"\nresponsible = true\neffective_from = 2026-01-01\neffective_to = 2025-12-31\n".to_string(),
                "effective_to: must not be before effective_from",
            ),
            ("format = 2\n".to_string(), "format: unsupported format (only 1)"),
            ("cod = 1\n".to_string(), "cod: unknown field (expected one of: format, code, version, label, responsible, effective_from, effective_to, guarantees, renewals)"),
        ];
        for (text, want) in cases {
            assert_eq!(parse_err(&text), want, "{text}");
        }
        let e = parse_err("code = \"T\"\nversion = = 1\n");
        assert!(e.starts_with("line 2, column "), "{e}");
        assert!(e.contains(": not valid TOML: "), "{e}");
        assert_eq!(
            parse_err(&"#".repeat(MAX_TOML_BYTES + 1)),
            "contract: file larger than 1 MiB"
        );
    }

    fn toml_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("code = \"T\"\n".to_string()),
            Just("version = 1\nlabel = \"L\"\nresponsible = true\n".to_string()),
            Just("effective_from = 2026-01-01\n".to_string()),
            Just("[[guarantees]]\n".to_string()),
            Just("[[renewals]]\n".to_string()),
            Just("[guarantees]\n".to_string()),
            Just("domain = \"OPTI\"\n".to_string()),
            Just("domain = \"*\"\n".to_string()),
            Just("class = \"B\"\n".to_string()),
            Just("kind = \"lens\"\n".to_string()),
            Just("age_min = 16\n".to_string()),
            Just("months = 24\n".to_string()),
            Just("id = \"x\"\n".to_string()),
            "formula = \"[0-9A-Za-z%€ +.]{0,30}\"\n",
            "[a-z_]{1,12} = [0-9]{1,5}\n",
            any::<String>(),
        ]
    }

    proptest! {
        #[test]
        fn from_toml_never_panics_on_arbitrary_text(s in any::<String>()) {
            let _ = Contract::from_toml(&s);
        }

        #[test]
        fn from_toml_never_panics_on_toml_like_text(pieces in proptest::collection::vec(toml_piece(), 0..20)) {
            match Contract::from_toml(&pieces.concat()) {
                Ok(c) => prop_assert!(!c.guarantees.is_empty()),
                Err(e) => prop_assert!(!e.path.is_empty() && !e.reason.is_empty()),
            }
        }
    }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    /// The full example of docs/formats.md, "Contract (TOML)", parses and means what it says.
    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("../../../../docs/formats.md");
        let section = doc.split("## Contract (TOML)").nth(1).unwrap();
        let example = section
            .split("```toml\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let c = Contract::from_toml(example).unwrap();
        assert_eq!(c.code.as_str(), "CONFORT");
        assert_eq!(c.version, 2);
        assert_eq!(c.guarantees.len(), 7);
        assert_eq!(c.renewals.len(), 3);
        let child = c
            .guarantee_for(CareDomain::Opti, LineKind::Lens, Some(Class::B), 10)
            .unwrap();
        assert_eq!(
            c.guarantees[child].formula.to_string(),
            "TM + 350.00 € per equipment"
        );
        let implants = c
            .guarantee_for(CareDomain::Dent, LineKind::Other, None, 40)
            .unwrap();
        assert_eq!(c.guarantees[implants].id.as_deref(), Some("dent_other"));
    }
}
