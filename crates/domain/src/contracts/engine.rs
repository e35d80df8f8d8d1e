//! The adjudication engine: a contract version, the lines of one claim (a quote or an
//! invoice), the beneficiary's age and history → per line the AMC amount with every step
//! that produced it, the counters the claim consumes, and line rejections.
//!
//! Pure and deterministic: no clock (the care date comes in), no I/O, no allocation beyond
//! the answer. `approvals` and `invoices` wrap it for quotes and invoices.
//!
//! # Order of the steps on a line
//!
//! 1. Checks: AMO consistent (0 ≤ AMO ≤ BR and AMO ≤ price), a guarantee row covers the
//!    line, the renewal period is reached (OPTI: one equipment, AUDI: one aid per ear).
//! 2. The formula: the AMO-inclusive base (`x% BR − AMO`, `TM`, `frais réels − AMO`, never
//!    below zero), then `x% BR hors RO`, the amount per line, per ear.
//! 3. The line limit: at most price − AMO (and at most €100 for a class B frame of a
//!    responsible contract).
//! 4. Optics: the amounts per equipment are poured into the equipment's lines of the same
//!    class (see "Allocation"); responsible contracts then apply the class B ceiling and floor
//!    of the lens pair to the class B lines, and class A lines get price − AMO.
//! 5. Other domains: the per-period budget (what is left of it), then, for a responsible
//!    contract, hearing class I gets price − AMO and class II is capped so that AMO + AMC ≤
//!    €1,700.
//!
//! Always 0 ≤ AMC ≤ price − AMO.
//!
//! # Rounding
//!
//! Only `x% BR` terms round: `Money::apply_rate`, half up to the cent, once per term and
//! line, before the AMO is deducted. Everything else is exact cent arithmetic.
//!
//! # Allocation within an optical equipment
//!
//! The lines of one optics claim with the same class form one equipment part. Pouring order:
//! frames, then lenses, then other lines, each group in line order. An amount per equipment
//! is poured into the lines in that order, each line taking what fits under its limit;
//! what no line can take is not paid. A class B ceiling removes the excess from the lines in
//! the reverse order (last lens first); a class B floor adds to the lines in pouring order,
//! within their limits.

use super::formula::{Base, Per};
use super::responsible::{Complexity, FRAME_LIMIT, HEARING_II_CAP, LensPair};
use super::table::{Class, Contract, LineKind};
use crate::invoices::RejectionCode;
use crate::money::Money;
use crate::rights::CareDomain;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::Date;

/// Largest price, BR or AMO amount of a line: €1,000,000. With at most 64 lines and rates
/// of at most 2,000 %, no sum in the engine can overflow an i64 of cents.
pub const MAX_LINE_CENTS: i64 = 100_000_000;
/// Most lines in one claim.
pub const MAX_LINES: usize = 64;

/// Which ear a hearing aid is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ear {
    Left,
    Right,
}

impl Ear {
    pub fn code(self) -> &'static str {
        match self {
            Ear::Left => "left",
            Ear::Right => "right",
        }
    }
}

/// One line of a quote or an invoice. `price`, `br` and `amo` are for the whole line (a
/// pair of lenses of one complexity may be one line of `quantity` 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub class: Option<Class>,
    pub complexity: Option<Complexity>,
    pub ear: Option<Ear>,
    /// Lenses: 1 or 2; every other kind: 1.
    pub quantity: u8,
    pub price: Money,
    pub br: Money,
    pub amo: Money,
}

impl Line {
    /// A line of `kind` with its amounts, quantity 1, no class, complexity or ear.
    pub fn new(kind: LineKind, price_cents: i64, br_cents: i64, amo_cents: i64) -> Line {
        Line {
            kind,
            class: None,
            complexity: None,
            ear: None,
            quantity: 1,
            price: Money::from_cents(price_cents),
            br: Money::from_cents(br_cents),
            amo: Money::from_cents(amo_cents),
        }
    }

    pub fn class(mut self, c: Class) -> Line {
        self.class = Some(c);
        self
    }

    pub fn complexity(mut self, c: Complexity) -> Line {
        self.complexity = Some(c);
        self
    }

    pub fn ear(mut self, e: Ear) -> Line {
        self.ear = Some(e);
        self
    }

    pub fn quantity(mut self, q: u8) -> Line {
        self.quantity = q;
        self
    }

    /// What is left once the AMO has paid: the most the AMC may pay.
    pub fn remainder(&self) -> Money {
        Money::from_cents(self.price.cents() - self.amo.cents()).floor_zero()
    }
}

/// An equipment (OPTI) or hearing aid (AUDI, one ear) delivered before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastEquipment {
    pub domain: CareDomain,
    pub ear: Option<Ear>,
    pub date: Date,
}

/// An amount paid before from a per-period budget (the guarantee row's `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastBudgetUse {
    pub budget: String,
    pub amount: Money,
    pub date: Date,
}

/// The beneficiary's counters as the store keeps them: what was delivered or paid (or
/// reserved by a live prior approval) before this claim.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    pub equipments: Vec<PastEquipment>,
    pub budgets: Vec<PastBudgetUse>,
}

/// One claim: the lines of a quote or an invoice for one beneficiary, domain and care date.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub domain: CareDomain,
    pub care_date: Date,
    /// Age in whole years at the care date.
    pub age: u8,
    pub lines: &'a [Line],
    pub history: &'a History,
}

/// The rule a step applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The AMO-inclusive base of the formula.
    Formula,
    /// `x% BR hors RO`.
    OnTop,
    PerLine,
    PerEar,
    PerEquipment,
    PerPeriod,
    /// At most price − AMO.
    PriceLimit,
    /// Class B frame at most €100 (responsible).
    FrameLimit,
    ClassBCeiling,
    ClassBFloor,
    /// 100% Santé optics class A: AMC = price − AMO (responsible).
    ClassAInFull,
    /// 100% Santé hearing class I: AMC = price − AMO (responsible).
    ClassIInFull,
    /// Hearing class II: AMO + AMC ≤ €1,700 per ear (responsible).
    #[serde(rename = "class_ii_cap")]
    ClassIICap,
    /// Invoice: at most the amount of the prior approval.
    ApprovalLimit,
    /// Degraded-mode invoice: at most the card's printed rate × BR − AMO.
    CardRateLimit,
    /// The line is rejected; its AMC is zero.
    Rejected,
}

impl Rule {
    pub fn code(self) -> &'static str {
        match self {
            Rule::Formula => "formula",
            Rule::OnTop => "on_top",
            Rule::PerLine => "per_line",
            Rule::PerEar => "per_ear",
            Rule::PerEquipment => "per_equipment",
            Rule::PerPeriod => "per_period",
            Rule::PriceLimit => "price_limit",
            Rule::FrameLimit => "frame_limit",
            Rule::ClassBCeiling => "class_b_ceiling",
            Rule::ClassBFloor => "class_b_floor",
            Rule::ClassAInFull => "class_a_in_full",
            Rule::ClassIInFull => "class_i_in_full",
            Rule::ClassIICap => "class_ii_cap",
            Rule::ApprovalLimit => "approval_limit",
            Rule::CardRateLimit => "card_rate_limit",
            Rule::Rejected => "rejected",
        }
    }
}

/// One step of a line's computation: the AMC before and after it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub rule: Rule,
    pub before: Money,
    pub after: Money,
    pub text: String,
}

/// The outcome of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineResult {
    pub amc: Money,
    /// Index of the guarantee row applied (in `Contract::guarantees`).
    pub guarantee: Option<usize>,
    pub rejection: Option<RejectionCode>,
    pub steps: Vec<Step>,
}

/// A counter the claim consumes once accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "counter", rename_all = "snake_case")]
pub enum Consumption {
    /// One equipment (OPTI, `ear` None) or one hearing aid for `ear` (AUDI), dated the care
    /// date; counted by the renewal rules.
    Equipment {
        domain: CareDomain,
        ear: Option<Ear>,
    },
    /// An amount taken from a per-period budget by line `line`; `limit` is the budget's
    /// amount per period.
    Budget {
        line: usize,
        budget: String,
        amount: Money,
        months: u16,
        limit: Money,
    },
}

/// The engine's answer for one claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjudication {
    pub lines: Vec<LineResult>,
    /// Sum of the lines' AMC.
    pub total: Money,
    pub consumptions: Vec<Consumption>,
}

/// A malformed claim (the caller's input is wrong, not a rejection): field path and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ClaimError {
    pub path: String,
    pub reason: String,
}

fn claim_err<T>(path: impl Into<String>, reason: impl Into<String>) -> Result<T, ClaimError> {
    Err(ClaimError {
        path: path.into(),
        reason: reason.into(),
    })
}

/// Adds `months` calendar months, keeping the day or the month's last day.
pub fn add_months(d: Date, months: i32) -> Option<Date> {
    let m0 = d.year() * 12 + i32::from(u8::from(d.month())) - 1 + months;
    let year = m0.div_euclid(12);
    let month = time::Month::try_from(u8::try_from(m0.rem_euclid(12) + 1).ok()?).ok()?;
    let day = d.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).ok()
}

struct Work {
    amc: i64,
    steps: Vec<Step>,
}

impl Work {
    fn step(&mut self, rule: Rule, after: i64, text: String) {
        self.steps.push(Step {
            rule,
            before: Money::from_cents(self.amc),
            after: Money::from_cents(after),
            text,
        });
        self.amc = after;
    }
}

fn eur(cents: i64) -> Money {
    Money::from_cents(cents)
}

fn validate(contract: &Contract, claim: &Claim<'_>) -> Result<(), ClaimError> {
    if claim.lines.is_empty() {
        return claim_err("lines", "at least one line is required");
    }
    if claim.lines.len() > MAX_LINES {
        return claim_err("lines", "at most 64 lines");
    }
    if !contract.effective.contains(claim.care_date) {
        return claim_err(
            "care_date",
            "outside the effective period of this contract version",
        );
    }
    let (mut frames, mut lenses) = (0u32, 0u32);
    for (i, l) in claim.lines.iter().enumerate() {
        let p = |f: &str| format!("lines[{i}].{f}");
        for (name, m) in [
            ("price_cents", l.price),
            ("br_cents", l.br),
            ("amo_cents", l.amo),
        ] {
            if !(0..=MAX_LINE_CENTS).contains(&m.cents()) {
                return claim_err(p(name), "must be 0 to 100000000 cents");
            }
        }
        if let Some(d) = l.kind.domain()
            && d != claim.domain
        {
            return claim_err(
                p("kind"),
                format!("a {} line belongs to domain {d}", l.kind.code()),
            );
        }
        match (l.class, l.kind) {
            (None, LineKind::Frame | LineKind::Lens | LineKind::HearingAid) => {
                return claim_err(p("class"), "required for frames, lenses and hearing aids");
            }
            (Some(c), _) if c.domain() != claim.domain => {
                return claim_err(
                    p("class"),
                    format!("class {} belongs to domain {}", c.code(), c.domain()),
                );
            }
            _ => {}
        }
        match (l.kind, l.complexity) {
            (LineKind::Lens, None) => return claim_err(p("complexity"), "required for lenses"),
            (LineKind::Lens, Some(_)) | (_, None) => {}
            (_, Some(_)) => return claim_err(p("complexity"), "only for lenses"),
        }
        match (l.kind, l.ear) {
            (LineKind::HearingAid, None) => {
                return claim_err(p("ear"), "required for hearing aids");
            }
            (LineKind::HearingAid, Some(_)) | (_, None) => {}
            (_, Some(_)) => return claim_err(p("ear"), "only for hearing aids"),
        }
        let max_q = if l.kind == LineKind::Lens { 2 } else { 1 };
        if !(1..=max_q).contains(&l.quantity) {
            return claim_err(
                p("quantity"),
                if max_q == 2 {
                    "must be 1 or 2 for lenses"
                } else {
                    "must be 1 except for lenses"
                },
            );
        }
        match l.kind {
            LineKind::Frame => frames += 1,
            LineKind::Lens => lenses += u32::from(l.quantity),
            _ => {}
        }
    }
    if frames > 1 || lenses > 2 {
        return claim_err(
            "lines",
            "an optics claim is one equipment: at most one frame and two lenses",
        );
    }
    Ok(())
}

/// Adjudicates one claim under one contract version. See the module documentation.
pub fn adjudicate(contract: &Contract, claim: &Claim<'_>) -> Result<Adjudication, ClaimError> {
    validate(contract, claim)?;
    let n = claim.lines.len();
    let mut work: Vec<Work> = (0..n)
        .map(|_| Work {
            amc: 0,
            steps: Vec::with_capacity(6),
        })
        .collect();
    let mut guarantee: Vec<Option<usize>> = vec![None; n];
    let mut rejection: Vec<Option<RejectionCode>> = vec![None; n];
    let mut consumptions = Vec::new();

    // 1. Checks.
    for (i, l) in claim.lines.iter().enumerate() {
        if l.amo > l.br || l.amo > l.price {
            rejection[i] = Some(RejectionCode::InconsistentAmo);
            work[i].step(
                Rule::Rejected,
                0,
                format!(
                    "inconsistent AMO amount: AMO {} € is above the BR {} € or the price {} €",
                    l.amo, l.br, l.price
                ),
            );
            continue;
        }
        guarantee[i] = contract.guarantee_for(claim.domain, l.kind, l.class, claim.age);
        if guarantee[i].is_none() {
            rejection[i] = Some(RejectionCode::NotCovered);
            work[i].step(
                Rule::Rejected,
                0,
                format!(
                    "not covered: no guarantee of the contract for this {} line",
                    l.kind.code()
                ),
            );
        }
    }
    renewals(
        contract,
        claim,
        &mut work,
        &mut rejection,
        &mut consumptions,
    );

    // 2–3. Formula and line limit on every accepted line.
    let responsible = contract.responsible;
    for (i, l) in claim.lines.iter().enumerate() {
        let (None, Some(g)) = (rejection[i], guarantee[i]) else {
            continue;
        };
        let f = &contract.guarantees[g].formula;
        let w = &mut work[i];
        let (price, br, amo) = (l.price.cents(), l.br.cents(), l.amo.cents());
        if let Some(base) = f.base {
            let (label, gross) = match base {
                Base::BrPercent(r) if r.basis_points() == 10_000 => ("100% BR".to_string(), br),
                Base::BrPercent(r) => (format!("{r} BR"), rate(l.br, r)?),
                Base::Tm => ("TM = BR".to_string(), br),
                Base::RealCost => ("frais réels = price".to_string(), price),
            };
            let net = (gross - amo).max(0);
            let floor_note = if gross < amo {
                " (never below zero)"
            } else {
                ""
            };
            w.step(
                Rule::Formula,
                net,
                format!(
                    "{label} − AMO = {} − {} = {} €{floor_note}",
                    eur(gross),
                    eur(amo),
                    eur(net)
                ),
            );
        }
        if let Some(r) = f.on_top {
            let x = rate(l.br, r)?;
            w.step(
                Rule::OnTop,
                w.amc + x,
                format!("+ {r} BR hors RO = {} €", eur(x)),
            );
        }
        if let Some(x) = f.fixed_per(Per::Line) {
            w.step(
                Rule::PerLine,
                w.amc + x.cents(),
                format!("+ {x} € per line"),
            );
        }
        if l.kind == LineKind::HearingAid
            && let Some(x) = f.fixed_per(Per::Ear)
        {
            w.step(Rule::PerEar, w.amc + x.cents(), format!("+ {x} € per ear"));
        }
        let limit = line_limit(responsible, l);
        if w.amc > limit {
            if limit < price - amo {
                w.step(
                    Rule::FrameLimit,
                    limit,
                    format!("class B frame limited to {} €", FRAME_LIMIT),
                );
            } else {
                w.step(
                    Rule::PriceLimit,
                    limit,
                    format!(
                        "at most price − AMO = {} − {} = {} €",
                        eur(price),
                        eur(amo),
                        eur(limit)
                    ),
                );
            }
        }
    }

    // 4. Optics equipment, per class.
    if claim.domain == CareDomain::Opti {
        for class in [Class::A, Class::B] {
            optics_part(contract, claim, class, &guarantee, &rejection, &mut work)?;
        }
    }

    // 5. Per-period budgets and hearing rules.
    let mut budget_taken: Vec<(usize, i64)> = Vec::new();
    for (i, l) in claim.lines.iter().enumerate() {
        let (None, Some(g)) = (rejection[i], guarantee[i]) else {
            continue;
        };
        let row = &contract.guarantees[g];
        let w = &mut work[i];
        let limit = l.remainder().cents();
        if let (Some((amount, months)), Some(id)) = (row.formula.period(), row.id.as_ref()) {
            let since = add_months(claim.care_date, -i32::from(months));
            let past: i64 = claim
                .history
                .budgets
                .iter()
                .filter(|u| {
                    &u.budget == id && u.date <= claim.care_date && since.is_none_or(|s| u.date > s)
                })
                .map(|u| u.amount.cents().max(0))
                .sum();
            let here: i64 = budget_taken
                .iter()
                .filter(|(gg, _)| *gg == g)
                .map(|(_, a)| a)
                .sum();
            let left = (amount.cents() - past - here).max(0);
            let take = left.min((limit - w.amc).max(0));
            if left == 0 && w.amc == 0 {
                rejection[i] = Some(RejectionCode::CeilingReached);
                w.step(
                    Rule::Rejected,
                    0,
                    format!(
                        "ceiling reached: the {amount} € {} of this guarantee are used up",
                        Per::Months(months)
                    ),
                );
                continue;
            }
            w.step(
                Rule::PerPeriod,
                w.amc + take,
                format!(
                    "+ {amount} € {}: {} € left, {} € here",
                    Per::Months(months),
                    eur(left),
                    eur(take)
                ),
            );
            if take > 0 {
                budget_taken.push((g, take));
                consumptions.push(Consumption::Budget {
                    line: i,
                    budget: id.clone(),
                    amount: eur(take),
                    months,
                    limit: amount,
                });
            }
        }
        if responsible && l.kind == LineKind::HearingAid {
            match l.class {
                Some(Class::I) => w.step(
                    Rule::ClassIInFull,
                    limit,
                    format!(
                        "100% Santé class I: nothing left to pay, AMC = price − AMO = {} − {} = {} €",
                        l.price,
                        l.amo,
                        eur(limit)
                    ),
                ),
                Some(Class::II) => {
                    let cap = (HEARING_II_CAP.cents() - l.amo.cents()).max(0);
                    if w.amc > cap {
                        w.step(
                            Rule::ClassIICap,
                            cap,
                            format!(
                                "class II: AMO + AMC at most {HEARING_II_CAP} € per ear, AMC at most {HEARING_II_CAP} − {} = {} €",
                                l.amo,
                                eur(cap)
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    let mut total = 0i64;
    let lines = work
        .into_iter()
        .zip(guarantee)
        .zip(rejection)
        .map(|((w, g), r)| {
            total += w.amc;
            LineResult {
                amc: eur(w.amc),
                guarantee: g,
                rejection: r,
                steps: w.steps,
            }
        })
        .collect();
    Ok(Adjudication {
        lines,
        total: eur(total),
        consumptions,
    })
}

fn rate(m: Money, r: crate::money::Rate) -> Result<i64, ClaimError> {
    m.apply_rate(r).map(Money::cents).map_err(|_| ClaimError {
        path: "lines".into(),
        reason: "amount overflows".into(),
    })
}

/// The most a line may get: price − AMO, and €100 for a class B frame (responsible).
fn line_limit(responsible: bool, l: &Line) -> i64 {
    let r = l.remainder().cents();
    if responsible && l.kind == LineKind::Frame && l.class == Some(Class::B) {
        r.min(FRAME_LIMIT.cents())
    } else {
        r
    }
}

fn renewals(
    contract: &Contract,
    claim: &Claim<'_>,
    work: &mut [Work],
    rejection: &mut [Option<RejectionCode>],
    consumptions: &mut Vec<Consumption>,
) {
    let rule = contract.renewal_for(claim.domain, claim.age);
    // Delivered equipments within `months` on either side of the care date, and the latest.
    let count_near = |ear: Option<Ear>, months: u16| -> (usize, Option<Date>) {
        let mut count = 0;
        let mut latest: Option<Date> = None;
        for e in &claim.history.equipments {
            if e.domain != claim.domain || e.ear != ear {
                continue;
            }
            let m = i32::from(months);
            let after = add_months(e.date, m).is_none_or(|end| claim.care_date < end);
            let before = add_months(claim.care_date, m).is_none_or(|end| e.date < end);
            if after && before {
                count += 1;
                latest = latest.max(Some(e.date));
            }
        }
        (count, latest)
    };
    let refuse = |w: &mut Work, months: u16, count: u8, latest: Option<Date>, what: &str| {
        let next = latest
            .and_then(|d| add_months(d, i32::from(months)))
            .map(|d| format!(", renewal from {d}"))
            .unwrap_or_default();
        let last = latest.map(|d| format!(": last on {d}")).unwrap_or_default();
        w.step(
            Rule::Rejected,
            0,
            format!("renewal period not reached: {count} {what} per {months} months{last}{next}"),
        );
    };
    match claim.domain {
        CareDomain::Opti => {
            let equipment: Vec<usize> = claim
                .lines
                .iter()
                .enumerate()
                .filter(|(i, l)| {
                    rejection[*i].is_none() && matches!(l.kind, LineKind::Frame | LineKind::Lens)
                })
                .map(|(i, _)| i)
                .collect();
            if equipment.is_empty() {
                return;
            }
            if let Some(r) = rule {
                let (count, latest) = count_near(None, r.months);
                if count >= usize::from(r.count) {
                    for i in equipment {
                        rejection[i] = Some(RejectionCode::RenewalPeriodNotReached);
                        refuse(&mut work[i], r.months, r.count, latest, "equipment");
                    }
                    return;
                }
            }
            consumptions.push(Consumption::Equipment {
                domain: CareDomain::Opti,
                ear: None,
            });
        }
        CareDomain::Audi => {
            let mut taken: Vec<Ear> = Vec::new();
            for (i, l) in claim.lines.iter().enumerate() {
                let (None, LineKind::HearingAid, Some(ear)) = (rejection[i], l.kind, l.ear) else {
                    continue;
                };
                if let Some(r) = rule {
                    let (past, latest) = count_near(Some(ear), r.months);
                    let here = taken.iter().filter(|e| **e == ear).count();
                    if past + here >= usize::from(r.count) {
                        rejection[i] = Some(RejectionCode::RenewalPeriodNotReached);
                        let what = format!("hearing aid ({} ear)", ear.code());
                        refuse(&mut work[i], r.months, r.count, latest, &what);
                        continue;
                    }
                }
                taken.push(ear);
                consumptions.push(Consumption::Equipment {
                    domain: CareDomain::Audi,
                    ear: Some(ear),
                });
            }
        }
        _ => {}
    }
}

fn optics_part(
    contract: &Contract,
    claim: &Claim<'_>,
    class: Class,
    guarantee: &[Option<usize>],
    rejection: &[Option<RejectionCode>],
    work: &mut [Work],
) -> Result<(), ClaimError> {
    let rank = |k: LineKind| match k {
        LineKind::Frame => 0,
        LineKind::Lens => 1,
        _ => 2,
    };
    let mut order: Vec<usize> = (0..claim.lines.len())
        .filter(|i| rejection[*i].is_none() && claim.lines[*i].class == Some(class))
        .collect();
    if order.is_empty() {
        return Ok(());
    }
    order.sort_by_key(|i| (rank(claim.lines[*i].kind), *i));
    let responsible = contract.responsible;
    let limit = |i: usize| line_limit(responsible, &claim.lines[i]);

    // Amount per equipment: once per distinct guarantee row of the part.
    let mut rows: Vec<usize> = order.iter().filter_map(|i| guarantee[*i]).collect();
    rows.sort_unstable();
    rows.dedup();
    let per_equipment: i64 = rows
        .iter()
        .filter_map(|g| contract.guarantees[*g].formula.fixed_per(Per::Equipment))
        .map(Money::cents)
        .sum();
    if per_equipment > 0 {
        let mut left = per_equipment;
        for &i in &order {
            let w = &mut work[i];
            let room = (limit(i) - w.amc).max(0);
            let share = left.min(room);
            left -= share;
            let framed = share == room && left > 0 && limit(i) < claim.lines[i].remainder().cents();
            let note = if framed {
                format!(", frame limited to {FRAME_LIMIT} €")
            } else {
                String::new()
            };
            w.step(
                Rule::PerEquipment,
                w.amc + share,
                format!(
                    "+ {} € per equipment: {} € on this line{note}, {} € left",
                    eur(per_equipment),
                    eur(share),
                    eur(left)
                ),
            );
        }
    }

    if !responsible {
        return Ok(());
    }
    match class {
        Class::A => {
            for &i in &order {
                let l = &claim.lines[i];
                let r = l.remainder().cents();
                work[i].step(
                    Rule::ClassAInFull,
                    r,
                    format!(
                        "100% Santé class A: nothing left to pay, AMC = price − AMO = {} − {} = {} €",
                        l.price,
                        l.amo,
                        eur(r)
                    ),
                );
            }
        }
        Class::B => {
            let mut lenses: Vec<Complexity> = Vec::with_capacity(2);
            let mut b_lenses = false;
            for l in claim.lines.iter().filter(|l| l.kind == LineKind::Lens) {
                for _ in 0..l.quantity {
                    if let Some(c) = l.complexity {
                        lenses.push(c);
                    }
                }
                b_lenses |= l.class == Some(Class::B);
            }
            let pair = LensPair::of(&lenses);
            let (floor, ceiling) = pair.limits();
            let total: i64 = order.iter().map(|i| work[*i].amc).sum();
            if total > ceiling.cents() {
                let mut excess = total - ceiling.cents();
                for &i in order.iter().rev() {
                    let w = &mut work[i];
                    let cut = excess.min(w.amc);
                    excess -= cut;
                    w.step(
                        Rule::ClassBCeiling,
                        w.amc - cut,
                        format!(
                            "class B ceiling for {pair}: {ceiling} €, equipment total {} € → −{} € on this line",
                            eur(total),
                            eur(cut)
                        ),
                    );
                }
            } else {
                for &i in &order {
                    let w = &mut work[i];
                    w.step(
                        Rule::ClassBCeiling,
                        w.amc,
                        format!(
                            "class B ceiling for {pair}: {ceiling} €, equipment total {} € within it",
                            eur(total)
                        ),
                    );
                }
            }
            if b_lenses && total < floor.cents() {
                let mut missing = floor.cents() - total;
                for &i in &order {
                    let w = &mut work[i];
                    let add = missing.min((limit(i) - w.amc).max(0));
                    missing -= add;
                    w.step(
                        Rule::ClassBFloor,
                        w.amc + add,
                        format!(
                            "class B floor for {pair}: {floor} €, equipment total {} € → +{} € on this line",
                            eur(total),
                            eur(add)
                        ),
                    );
                }
            }
        }
        _ => {}
    }
    Ok(())
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} → {}: {}",
            self.rule.code(),
            self.before,
            self.after,
            self.text
        )
    }
}
