//! Property tests of the engine over arbitrary valid claims and generated contracts.

use super::engine::*;
use super::responsible::{Complexity, FRAME_LIMIT, HEARING_II_CAP, LensPair};
use super::table::{Class, Contract, LineKind};
use crate::invoices::{InvoiceStatus, adjudicate_invoice};
use crate::money::Money;
use crate::rights::CareDomain;
use proptest::prelude::*;
use time::{Date, Duration};

const ESSENTIEL: &str = include_str!("../../../../data/contracts/essentiel.toml");
const CONFORT: &str = include_str!("../../../../data/contracts/confort.toml");

const BASES: [&str; 6] = [
    "100% BR",
    "TM",
    "frais réels",
    "250% BR",
    "100.5% BR",
    "100% BR + 20% BR hors RO",
];
const NON_RESPONSIBLE_BASES: [&str; 3] = ["30% BR", "€40", "15% BR hors RO"];

/// A generated contract: a base per row, optional fixed amounts, responsible or not.
fn contract() -> impl Strategy<Value = Contract> {
    let base = |responsible: bool| {
        if responsible {
            proptest::sample::select(BASES.to_vec()).boxed()
        } else {
            proptest::sample::select([BASES.to_vec(), NON_RESPONSIBLE_BASES.to_vec()].concat())
                .boxed()
        }
    };
    any::<bool>().prop_flat_map(move |responsible| {
        (
            Just(responsible),
            proptest::collection::vec(base(responsible), 6),
            proptest::collection::vec(proptest::option::of(1i64..=2_000), 4),
        )
            .prop_map(|(responsible, b, extra)| {
                let plus = |i: usize, per: &str| {
                    extra[i]
                        .map(|e| format!(" + €{e} {per}"))
                        .unwrap_or_default()
                };
                let text = format!(
                    r#"
code = "GEN"
version = 1
label = "Generated"
responsible = {responsible}
effective_from = 2020-01-01
[[guarantees]]
domain = "*"
formula = "{}"
[[guarantees]]
domain = "OPTI"
class = "A"
formula = "{}{}"
[[guarantees]]
domain = "OPTI"
class = "B"
formula = "{}{}"
[[guarantees]]
domain = "AUDI"
class = "II"
formula = "{}{}"
[[guarantees]]
id = "dent"
domain = "DENT"
formula = "{}{}"
[[guarantees]]
domain = "AUDI"
class = "I"
formula = "{}"
[[renewals]]
domain = "OPTI"
months = 24
age_min = 16
[[renewals]]
domain = "OPTI"
months = 12
age_max = 15
[[renewals]]
domain = "AUDI"
months = 48
"#,
                    b[0],
                    b[1],
                    plus(0, "per equipment"),
                    b[2],
                    plus(1, "per equipment"),
                    b[3],
                    plus(2, "per ear"),
                    b[4],
                    plus(3, "per year"),
                    b[5],
                );
                Contract::from_toml(&text).unwrap()
            })
    })
}

fn any_contract() -> impl Strategy<Value = Contract> {
    prop_oneof![
        Just(Contract::from_toml(ESSENTIEL).unwrap()),
        Just(Contract::from_toml(CONFORT).unwrap()),
        contract(),
    ]
}

/// Amounts: price, BR and AMO (AMO at most the BR and the price, most of the time).
fn amounts() -> impl Strategy<Value = (i64, i64, i64)> {
    (0i64..=400_000, 0i64..=200_000, 0u32..=110).prop_map(|(price, br, pct)| {
        let amo = br * i64::from(pct) / 100;
        (price, br, amo)
    })
}

fn class_of(domain: CareDomain) -> impl Strategy<Value = Class> {
    let choices = if domain == CareDomain::Opti {
        vec![Class::A, Class::B]
    } else {
        vec![Class::I, Class::II]
    };
    proptest::sample::select(choices)
}

fn complexity() -> impl Strategy<Value = Complexity> {
    proptest::sample::select(vec![
        Complexity::Simple,
        Complexity::Complex,
        Complexity::VeryComplex,
    ])
}

/// A valid claim's lines for `domain`.
fn lines(domain: CareDomain) -> BoxedStrategy<Vec<Line>> {
    match domain {
        CareDomain::Opti => (
            proptest::option::of((class_of(domain), amounts())),
            proptest::collection::vec((class_of(domain), complexity(), 1u8..=2, amounts()), 0..=2),
            proptest::option::of(amounts()),
        )
            .prop_map(|(frame, lenses, other)| {
                let mut v = Vec::new();
                if let Some((c, (p, b, a))) = frame {
                    v.push(Line::new(LineKind::Frame, p, b, a).class(c));
                }
                let mut count = 0;
                for (c, cx, q, (p, b, a)) in lenses {
                    let q = q.min(2 - count);
                    if q == 0 {
                        break;
                    }
                    count += q;
                    v.push(
                        Line::new(LineKind::Lens, p, b, a)
                            .class(c)
                            .complexity(cx)
                            .quantity(q),
                    );
                }
                if v.is_empty() || other.is_some() {
                    let (p, b, a) = other.unwrap_or((1_000, 1_000, 600));
                    v.push(Line::new(LineKind::Other, p, b, a));
                }
                v
            })
            .boxed(),
        CareDomain::Audi => proptest::collection::vec(
            (
                class_of(domain),
                proptest::sample::select(vec![Ear::Left, Ear::Right]),
                amounts(),
                any::<bool>(),
            ),
            1..=3,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(c, ear, (p, b, a), aid)| {
                    if aid {
                        Line::new(LineKind::HearingAid, p, b, a).class(c).ear(ear)
                    } else {
                        Line::new(LineKind::Other, p, b, a)
                    }
                })
                .collect()
        })
        .boxed(),
        _ => proptest::collection::vec((any::<bool>(), amounts()), 1..=5)
            .prop_map(move |v| {
                v.into_iter()
                    .map(|(prosthesis, (p, b, a))| {
                        let kind = if prosthesis && domain == CareDomain::Dent {
                            LineKind::Prosthesis
                        } else {
                            LineKind::Other
                        };
                        Line::new(kind, p, b, a)
                    })
                    .collect()
            })
            .boxed(),
    }
}

fn claim_input() -> impl Strategy<Value = (CareDomain, Vec<Line>, u8, i64)> {
    proptest::sample::select(vec![
        CareDomain::Opti,
        CareDomain::Audi,
        CareDomain::Dent,
        CareDomain::Phar,
        CareDomain::Med,
    ])
    .prop_flat_map(|d| (Just(d), lines(d), 0u8..=99, 0i64..=700))
}

fn care_date(offset: i64) -> Date {
    time::macros::date!(2026 - 01 - 01) + Duration::days(offset)
}

/// Every invariant of one adjudication.
fn check(contract: &Contract, domain: CareDomain, lines: &[Line], adj: &Adjudication) {
    assert_eq!(adj.lines.len(), lines.len());
    let sum: i64 = adj.lines.iter().map(|l| l.amc.cents()).sum();
    assert_eq!(adj.total.cents(), sum, "sum of lines = total");
    let mut class_b = 0;
    let mut lens_cx = Vec::new();
    for (l, r) in lines.iter().zip(&adj.lines) {
        let amc = r.amc.cents();
        assert!(amc >= 0, "AMC never negative");
        assert!(amc <= l.remainder().cents(), "AMC ≤ price − AMO");
        if r.rejection.is_some() {
            assert_eq!(amc, 0, "a rejected line pays nothing");
        }
        // The steps chain from 0 to the AMC.
        let mut at = 0;
        for s in &r.steps {
            assert_eq!(s.before.cents(), at, "{:?}", r.steps);
            at = s.after.cents();
        }
        assert_eq!(at, amc);
        if l.kind == LineKind::Lens {
            for _ in 0..l.quantity {
                lens_cx.extend(l.complexity);
            }
        }
        if !contract.responsible || r.rejection.is_some() {
            continue;
        }
        match (domain, l.kind, l.class) {
            (CareDomain::Opti, LineKind::Frame, Some(Class::B)) => {
                assert!(amc <= FRAME_LIMIT.cents(), "class B frame ≤ 100 €");
                class_b += amc;
            }
            (CareDomain::Opti, _, Some(Class::B)) => class_b += amc,
            (CareDomain::Opti, _, Some(Class::A))
            | (CareDomain::Audi, LineKind::HearingAid, Some(Class::I)) => {
                assert_eq!(amc, l.remainder().cents(), "nothing left to pay")
            }
            (CareDomain::Audi, LineKind::HearingAid, Some(Class::II)) => assert!(
                amc <= (HEARING_II_CAP.cents() - l.amo.cents()).max(0),
                "AMO + AMC ≤ 1700 € per ear"
            ),
            _ => {}
        }
    }
    if contract.responsible {
        let (_, ceiling) = LensPair::of(&lens_cx).limits();
        assert!(class_b <= ceiling.cents(), "class B ceiling");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn amc_is_within_price_minus_amo_and_the_responsible_limits(
        contract in any_contract(),
        (domain, lines, age, day) in claim_input(),
    ) {
        let history = History::default();
        let claim = Claim { domain, care_date: care_date(day), age, lines: &lines, history: &history };
        let adj = adjudicate(&contract, &claim).unwrap();
        check(&contract, domain, &lines, &adj);
        // The invoice wrapper keeps the sum and says partial only with both kinds of line.
        let out = adjudicate_invoice(&contract, &claim, None).unwrap();
        let sum: i64 = out.adjudication.lines.iter().map(|l| l.amc.cents()).sum();
        prop_assert_eq!(out.adjudication.total.cents(), sum);
        let rejected = out.adjudication.lines.iter().filter(|l| l.rejection.is_some()).count();
        let want = match rejected {
            0 => InvoiceStatus::Accepted,
            n if n == lines.len() => InvoiceStatus::Rejected,
            _ => InvoiceStatus::Partial,
        };
        prop_assert_eq!(out.status, want);
        // Deterministic.
        prop_assert_eq!(adjudicate(&contract, &claim).unwrap(), adj);
    }

    /// A beneficiary's claims over time, each one's consumptions fed back into the history:
    /// the renewal counters never exceed one per window, budgets never go negative or above
    /// their amount per period.
    #[test]
    fn counters_never_negative_nor_above_their_ceiling(
        contract in any_contract(),
        claims in proptest::collection::vec((claim_input(), 0i64..=200), 1..12),
    ) {
        let mut history = History::default();
        let mut day = 0i64;
        for ((domain, lines, _, _), gap) in claims {
            day += gap;
            let date = care_date(day);
            let claim = Claim { domain, care_date: date, age: 40, lines: &lines, history: &history };
            let adj = adjudicate(&contract, &claim).unwrap();
            check(&contract, domain, &lines, &adj);
            for c in adj.consumptions {
                match c {
                    Consumption::Equipment { domain, ear } => {
                        history.equipments.push(PastEquipment { domain, ear, date })
                    }
                    Consumption::Budget { budget, amount, months, limit, .. } => {
                        prop_assert!(amount > Money::ZERO && amount <= limit);
                        history.budgets.push(PastBudgetUse { budget, amount, date });
                        // Within the window ending today, the uses stay within the limit.
                        let since = add_months(date, -i32::from(months)).unwrap();
                        let used: i64 = history
                            .budgets
                            .iter()
                            .filter(|u| u.date > since && u.date <= date)
                            .map(|u| u.amount.cents())
                            .sum();
                        prop_assert!(used <= limit.cents(), "budget used {used} > {limit}");
                    }
                }
            }
        }
        // Renewal: no two equipments of a domain/ear closer than the adult window (age 40).
        for (i, a) in history.equipments.iter().enumerate() {
            for b in &history.equipments[..i] {
                if a.domain == b.domain && a.ear == b.ear {
                    let months = if a.domain == CareDomain::Opti { 24 } else { 48 };
                    prop_assert!(add_months(b.date, months).unwrap() <= a.date, "{b:?} then {a:?}");
                }
            }
        }
    }
}
