//! Golden tests: the worked examples of reference/domain.md §3 and, for each demo contract
//! (data/contracts/*.toml), a case per domain, class and ceiling — every amount to the cent,
//! every step asserted.

use super::engine::*;
use super::responsible::Complexity::{self, *};
use super::table::{Class, Contract, LineKind};
use crate::invoices::{InvoiceStatus, RejectionCode, adjudicate_invoice};
use crate::rights::CareDomain;
use time::Date;
use time::macros::date;

const ESSENTIEL: &str = include_str!("../../../../data/contracts/essentiel.toml");
const CONFORT: &str = include_str!("../../../../data/contracts/confort.toml");

fn essentiel() -> Contract {
    Contract::from_toml(ESSENTIEL).unwrap()
}

fn confort() -> Contract {
    Contract::from_toml(CONFORT).unwrap()
}

/// A responsible contract with one formula for optics class B (the worked example's).
fn optics_b_contract(formula: &str) -> Contract {
    Contract::from_toml(&format!(
        r#"
code = "EXAMPLE"
version = 1
label = "Worked example"
responsible = true
effective_from = 2026-01-01
[[guarantees]]
domain = "OPTI"
class = "B"
formula = "{formula}"
"#
    ))
    .unwrap()
}

const CARE: Date = date!(2026 - 05 - 04);

fn run(contract: &Contract, domain: CareDomain, age: u8, lines: &[Line]) -> Adjudication {
    run_with(contract, domain, age, lines, &History::default())
}

fn run_with(
    contract: &Contract,
    domain: CareDomain,
    age: u8,
    lines: &[Line],
    history: &History,
) -> Adjudication {
    adjudicate(
        contract,
        &Claim {
            domain,
            care_date: CARE,
            age,
            lines,
            history,
        },
    )
    .unwrap()
}

/// `steps`: (rule, before cents, after cents, text) of each step.
fn assert_line(adj: &Adjudication, i: usize, amc: i64, steps: &[(Rule, i64, i64, &str)]) {
    let line = &adj.lines[i];
    let got: Vec<(Rule, i64, i64, &str)> = line
        .steps
        .iter()
        .map(|s| (s.rule, s.before.cents(), s.after.cents(), s.text.as_str()))
        .collect();
    let want: Vec<(Rule, i64, i64, &str)> = steps.to_vec();
    assert_eq!(got, want, "steps of line {i}");
    assert_eq!(line.amc.cents(), amc, "AMC of line {i}");
    if let Some(last) = line.steps.last() {
        assert_eq!(last.after, line.amc, "last step ends at the AMC");
    }
}

fn frame(class: Class, price: i64, br: i64, amo: i64) -> Line {
    Line::new(LineKind::Frame, price, br, amo).class(class)
}

fn lenses(class: Class, c: Complexity, q: u8, price: i64, br: i64, amo: i64) -> Line {
    Line::new(LineKind::Lens, price, br, amo)
        .class(class)
        .complexity(c)
        .quantity(q)
}

fn aid(class: Class, ear: Ear, price: i64, br: i64, amo: i64) -> Line {
    Line::new(LineKind::HearingAid, price, br, amo)
        .class(class)
        .ear(ear)
}

// ---- reference/domain.md §3, worked examples ----

#[test]
fn worked_example_optics_class_b_tm_plus_200_per_equipment() {
    let c = optics_b_contract("TM + €200 per equipment");
    let adj = run(
        &c,
        CareDomain::Opti,
        40,
        &[
            frame(Class::B, 15_000, 5, 3),
            lenses(Class::B, Simple, 2, 24_000, 10, 6),
        ],
    );
    assert_line(
        &adj,
        0,
        10_000,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                10_000,
                "+ 200.00 € per equipment: 99.98 € on this line, frame limited to 100.00 €, 100.02 € left",
            ),
            (
                Rule::ClassBCeiling,
                10_000,
                10_000,
                "class B ceiling for 2 simple lenses: 420.00 €, equipment total 200.06 € within it",
            ),
        ],
    );
    assert_line(
        &adj,
        1,
        10_006,
        &[
            (Rule::Formula, 0, 4, "TM = BR − AMO = 0.10 − 0.06 = 0.04 €"),
            (
                Rule::PerEquipment,
                4,
                10_006,
                "+ 200.00 € per equipment: 100.02 € on this line, 0.00 € left",
            ),
            (
                Rule::ClassBCeiling,
                10_006,
                10_006,
                "class B ceiling for 2 simple lenses: 420.00 €, equipment total 200.06 € within it",
            ),
        ],
    );
    assert_eq!(adj.total.cents(), 20_006);
    // The patient pays 390.00 − 0.09 − 200.06 = 189.85.
    assert_eq!(39_000 - 9 - adj.total.cents(), 18_985);
    assert_eq!(
        adj.consumptions,
        vec![Consumption::Equipment {
            domain: CareDomain::Opti,
            ear: None
        }]
    );
}

#[test]
fn worked_example_hearing_class_ii_capped_at_1700_per_ear() {
    // Contract 100% BR + €1,600 per ear = the CONFORT demo contract.
    let adj = run(
        &confort(),
        CareDomain::Audi,
        60,
        &[aid(Class::II, Ear::Left, 200_000, 40_000, 24_000)],
    );
    assert_line(
        &adj,
        0,
        146_000,
        &[
            (
                Rule::Formula,
                0,
                16_000,
                "100% BR − AMO = 400.00 − 240.00 = 160.00 €",
            ),
            (Rule::PerEar, 16_000, 176_000, "+ 1600.00 € per ear"),
            (
                Rule::ClassIICap,
                176_000,
                146_000,
                "class II: AMO + AMC at most 1700.00 € per ear, AMC at most 1700.00 − 240.00 = 1460.00 €",
            ),
        ],
    );
    // The patient pays 2,000 − 240 − 1,460 = 300.
    assert_eq!(200_000 - 24_000 - adj.total.cents(), 30_000);
}

#[test]
fn worked_example_hearing_class_i_nothing_left_to_pay() {
    for c in [essentiel(), confort()] {
        let adj = run(
            &c,
            CareDomain::Audi,
            60,
            &[aid(Class::I, Ear::Right, 95_000, 40_000, 24_000)],
        );
        assert_line(
            &adj,
            0,
            71_000,
            &[
                (
                    Rule::Formula,
                    0,
                    71_000,
                    "frais réels = price − AMO = 950.00 − 240.00 = 710.00 €",
                ),
                (
                    Rule::ClassIInFull,
                    71_000,
                    71_000,
                    "100% Santé class I: nothing left to pay, AMC = price − AMO = 950.00 − 240.00 = 710.00 €",
                ),
            ],
        );
    }
}

// ---- demo contracts: every domain at 100% BR ----

#[test]
fn demo_every_domain_at_100_percent_br() {
    for c in [essentiel(), confort()] {
        for d in [
            CareDomain::Phar,
            CareDomain::Med,
            CareDomain::Labo,
            CareDomain::Rad,
            CareDomain::Auxm,
            CareDomain::Svil,
            CareDomain::Hosp,
            CareDomain::Dent,
        ] {
            // Consultation at 30.00 €, BR 30.00, AMO 70% = 21.00 → TM 9.00.
            let adj = run(
                &c,
                d,
                40,
                &[Line::new(LineKind::Other, 3_000, 3_000, 2_100)],
            );
            assert_line(
                &adj,
                0,
                900,
                &[(
                    Rule::Formula,
                    0,
                    900,
                    "100% BR − AMO = 30.00 − 21.00 = 9.00 €",
                )],
            );
            assert!(adj.consumptions.is_empty());
        }
        // A fee above the BR: 100% BR covers the TM only, not the overrun.
        let adj = run(
            &c,
            CareDomain::Med,
            40,
            &[Line::new(LineKind::Other, 5_000, 3_000, 2_000)],
        );
        assert_line(
            &adj,
            0,
            1_000,
            &[(
                Rule::Formula,
                0,
                1_000,
                "100% BR − AMO = 30.00 − 20.00 = 10.00 €",
            )],
        );
        // Pharmacy at 65%: 12.34 € → AMO 8.02, TM 4.32.
        let adj = run(
            &c,
            CareDomain::Phar,
            40,
            &[Line::new(LineKind::Other, 1_234, 1_234, 802)],
        );
        assert_eq!(adj.total.cents(), 432);
    }
}

// ---- demo contracts: optics ----

#[test]
fn demo_optics_class_a_in_full() {
    for c in [essentiel(), confort()] {
        let adj = run(
            &c,
            CareDomain::Opti,
            30,
            &[
                frame(Class::A, 3_000, 3_000, 1_800),
                lenses(Class::A, Simple, 2, 7_500, 7_500, 4_500),
            ],
        );
        assert_line(
            &adj,
            0,
            1_200,
            &[
                (
                    Rule::Formula,
                    0,
                    1_200,
                    "frais réels = price − AMO = 30.00 − 18.00 = 12.00 €",
                ),
                (
                    Rule::ClassAInFull,
                    1_200,
                    1_200,
                    "100% Santé class A: nothing left to pay, AMC = price − AMO = 30.00 − 18.00 = 12.00 €",
                ),
            ],
        );
        assert_line(
            &adj,
            1,
            3_000,
            &[
                (
                    Rule::Formula,
                    0,
                    3_000,
                    "frais réels = price − AMO = 75.00 − 45.00 = 30.00 €",
                ),
                (
                    Rule::ClassAInFull,
                    3_000,
                    3_000,
                    "100% Santé class A: nothing left to pay, AMC = price − AMO = 75.00 − 45.00 = 30.00 €",
                ),
            ],
        );
        assert_eq!(adj.total.cents(), 4_200);
    }
}

#[test]
fn demo_optics_class_b_simple_lenses_per_equipment_and_frame_limit() {
    let frame_b = frame(Class::B, 15_000, 5, 3);
    let pair = lenses(Class::B, Simple, 2, 24_000, 10, 6);
    let ceiling =
        "class B ceiling for 2 simple lenses: 420.00 €, equipment total 150.06 € within it";
    let adj = run(&essentiel(), CareDomain::Opti, 30, &[frame_b, pair]);
    assert_line(
        &adj,
        0,
        10_000,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                10_000,
                "+ 150.00 € per equipment: 99.98 € on this line, frame limited to 100.00 €, 50.02 € left",
            ),
            (Rule::ClassBCeiling, 10_000, 10_000, ceiling),
        ],
    );
    assert_line(
        &adj,
        1,
        5_006,
        &[
            (Rule::Formula, 0, 4, "TM = BR − AMO = 0.10 − 0.06 = 0.04 €"),
            (
                Rule::PerEquipment,
                4,
                5_006,
                "+ 150.00 € per equipment: 50.02 € on this line, 0.00 € left",
            ),
            (Rule::ClassBCeiling, 5_006, 5_006, ceiling),
        ],
    );
    assert_eq!(adj.total.cents(), 15_006);

    let ceiling =
        "class B ceiling for 2 simple lenses: 420.00 €, equipment total 300.06 € within it";
    let adj = run(&confort(), CareDomain::Opti, 30, &[frame_b, pair]);
    assert_line(
        &adj,
        0,
        10_000,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                10_000,
                "+ 300.00 € per equipment: 99.98 € on this line, frame limited to 100.00 €, 200.02 € left",
            ),
            (Rule::ClassBCeiling, 10_000, 10_000, ceiling),
        ],
    );
    assert_line(
        &adj,
        1,
        20_006,
        &[
            (Rule::Formula, 0, 4, "TM = BR − AMO = 0.10 − 0.06 = 0.04 €"),
            (
                Rule::PerEquipment,
                4,
                20_006,
                "+ 300.00 € per equipment: 200.02 € on this line, 0.00 € left",
            ),
            (Rule::ClassBCeiling, 20_006, 20_006, ceiling),
        ],
    );
    assert_eq!(adj.total.cents(), 30_006);
}

#[test]
fn demo_optics_class_b_cheap_frame_leaves_more_for_the_lenses() {
    // Frame at 60.00: it takes 59.97 − 0.02 of the €150, the lenses the rest.
    let adj = run(
        &essentiel(),
        CareDomain::Opti,
        30,
        &[
            lenses(Class::B, Complex, 1, 20_000, 5, 3),
            frame(Class::B, 6_000, 5, 3),
            lenses(Class::B, Complex, 1, 20_000, 5, 3),
        ],
    );
    // Pouring order: the frame (line 1) first, then the lenses in line order.
    let within =
        "class B ceiling for 2 complex lenses: 700.00 €, equipment total 150.06 € within it";
    let floor = |add: &str| {
        format!(
            "class B floor for 2 complex lenses: 200.00 €, equipment total 150.06 € → +{add} € on this line"
        )
    };
    let floor0 = floor("0.00");
    let floor1 = floor("49.94");
    assert_line(
        &adj,
        1,
        5_997,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                5_997,
                "+ 150.00 € per equipment: 59.95 € on this line, 90.05 € left",
            ),
            (Rule::ClassBCeiling, 5_997, 5_997, within),
            (Rule::ClassBFloor, 5_997, 5_997, floor0.as_str()),
        ],
    );
    assert_line(
        &adj,
        0,
        14_001,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                9_007,
                "+ 150.00 € per equipment: 90.05 € on this line, 0.00 € left",
            ),
            (Rule::ClassBCeiling, 9_007, 9_007, within),
            (Rule::ClassBFloor, 9_007, 14_001, floor1.as_str()),
        ],
    );
    assert_line(
        &adj,
        2,
        2,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                2,
                "+ 150.00 € per equipment: 0.00 € on this line, 0.00 € left",
            ),
            (Rule::ClassBCeiling, 2, 2, within),
            (Rule::ClassBFloor, 2, 2, floor0.as_str()),
        ],
    );
    assert_eq!(adj.total.cents(), 20_000);
}

#[test]
fn demo_optics_class_b_floor_for_two_complex_lenses() {
    // ESSENTIEL gives TM + €150 = 150.06 €, below the 200 € floor of two complex lenses.
    let adj = run(
        &essentiel(),
        CareDomain::Opti,
        30,
        &[
            frame(Class::B, 12_000, 5, 3),
            lenses(Class::B, Complex, 2, 60_000, 10, 6),
        ],
    );
    let within =
        "class B ceiling for 2 complex lenses: 700.00 €, equipment total 150.06 € within it";
    assert_line(
        &adj,
        0,
        10_000,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                10_000,
                "+ 150.00 € per equipment: 99.98 € on this line, frame limited to 100.00 €, 50.02 € left",
            ),
            (Rule::ClassBCeiling, 10_000, 10_000, within),
            (
                Rule::ClassBFloor,
                10_000,
                10_000,
                "class B floor for 2 complex lenses: 200.00 €, equipment total 150.06 € → +0.00 € on this line",
            ),
        ],
    );
    assert_line(
        &adj,
        1,
        10_000,
        &[
            (Rule::Formula, 0, 4, "TM = BR − AMO = 0.10 − 0.06 = 0.04 €"),
            (
                Rule::PerEquipment,
                4,
                5_006,
                "+ 150.00 € per equipment: 50.02 € on this line, 0.00 € left",
            ),
            (Rule::ClassBCeiling, 5_006, 5_006, within),
            (
                Rule::ClassBFloor,
                5_006,
                10_000,
                "class B floor for 2 complex lenses: 200.00 €, equipment total 150.06 € → +49.94 € on this line",
            ),
        ],
    );
    assert_eq!(adj.total.cents(), 20_000);
    // CONFORT's €300 is above every floor: no floor step.
    let adj = run(
        &confort(),
        CareDomain::Opti,
        30,
        &[
            frame(Class::B, 12_000, 5, 3),
            lenses(Class::B, Complex, 2, 60_000, 10, 6),
        ],
    );
    assert_eq!(adj.total.cents(), 30_006);
    assert!(
        adj.lines
            .iter()
            .all(|l| l.steps.iter().all(|s| s.rule != Rule::ClassBFloor))
    );
}

#[test]
fn demo_optics_mixed_classes_a_frame_b_lenses() {
    // Classes A and B can be mixed in one equipment: the A frame in full, the B lenses with
    // the €150 and the class B ceiling of their pair.
    let adj = run(
        &confort(),
        CareDomain::Opti,
        30,
        &[
            frame(Class::A, 3_000, 3_000, 1_800),
            lenses(Class::B, Simple, 1, 9_000, 5, 3),
            lenses(Class::B, VeryComplex, 1, 30_000, 5, 3),
        ],
    );
    assert_eq!(adj.lines[0].amc.cents(), 1_200);
    assert_line(
        &adj,
        1,
        8_997,
        &[
            (Rule::Formula, 0, 2, "TM = BR − AMO = 0.05 − 0.03 = 0.02 €"),
            (
                Rule::PerEquipment,
                2,
                8_997,
                "+ 300.00 € per equipment: 89.95 € on this line, 210.05 € left",
            ),
            (
                Rule::ClassBCeiling,
                8_997,
                8_997,
                "class B ceiling for simple + very complex lens: 610.00 €, equipment total 300.04 € within it",
            ),
        ],
    );
    assert_eq!(adj.lines[2].amc.cents(), 21_007);
    assert_eq!(adj.total.cents(), 1_200 + 8_997 + 21_007);
    assert_eq!(adj.consumptions.len(), 1, "one equipment");
}

#[test]
fn class_b_ceiling_per_lens_pair_and_frame_limit_with_frais_reels() {
    // A responsible contract paying "frais réels" on class B: the ceilings bind.
    let c = optics_b_contract("frais réels");
    let cases = [
        (Simple, Simple, 42_000, "2 simple lenses"),
        (Simple, Complex, 56_000, "simple + complex lens"),
        (Complex, Complex, 70_000, "2 complex lenses"),
        (Simple, VeryComplex, 61_000, "simple + very complex lens"),
        (Complex, VeryComplex, 75_000, "complex + very complex lens"),
        (VeryComplex, VeryComplex, 80_000, "2 very complex lenses"),
    ];
    for (a, b, ceiling, name) in cases {
        let adj = run(
            &c,
            CareDomain::Opti,
            30,
            &[
                frame(Class::B, 20_000, 5, 3),
                lenses(Class::B, a, 1, 50_000, 5, 3),
                lenses(Class::B, b, 1, 50_000, 5, 3),
            ],
        );
        assert_eq!(adj.total.cents(), ceiling, "{name}");
        // Frame: 199.97 limited to 100.00, kept (the ceiling cuts the last lens first).
        assert_eq!(adj.lines[0].amc.cents(), 10_000);
        assert_eq!(adj.lines[0].steps[1].rule, Rule::FrameLimit);
        assert_eq!(
            adj.lines[0].steps[1].text,
            "class B frame limited to 100.00 €"
        );
        let total = 10_000 + 49_997 * 2;
        let cut_last = (total - ceiling).min(49_997);
        let cut_first = total - ceiling - cut_last;
        assert_eq!(adj.lines[2].amc.cents(), 49_997 - cut_last, "{name}");
        assert_eq!(adj.lines[1].amc.cents(), 49_997 - cut_first, "{name}");
        let step = adj.lines[2].steps.last().unwrap();
        assert_eq!(step.rule, Rule::ClassBCeiling);
        assert_eq!(
            step.text,
            format!(
                "class B ceiling for {name}: {}.00 €, equipment total {} € → −{} € on this line",
                ceiling / 100,
                crate::Money::from_cents(total),
                crate::Money::from_cents(cut_last)
            )
        );
    }
}

#[test]
fn demo_optics_renewal_one_equipment_per_24_months_12_under_16() {
    let history = History {
        equipments: vec![PastEquipment {
            domain: CareDomain::Opti,
            ear: None,
            date: date!(2025 - 03 - 10),
        }],
        budgets: vec![],
    };
    let lines = [
        frame(Class::B, 15_000, 5, 3),
        lenses(Class::B, Simple, 2, 24_000, 10, 6),
    ];
    // Adult: the last equipment is 14 months old.
    let adj = run_with(&essentiel(), CareDomain::Opti, 40, &lines, &history);
    for i in 0..2 {
        assert_eq!(
            adj.lines[i].rejection,
            Some(RejectionCode::RenewalPeriodNotReached)
        );
        assert_line(
            &adj,
            i,
            0,
            &[(
                Rule::Rejected,
                0,
                0,
                "renewal period not reached: 1 equipment per 24 months: last on 2025-03-10, renewal from 2027-03-10",
            )],
        );
    }
    assert!(adj.consumptions.is_empty());
    assert_eq!(adj.total.cents(), 0);
    // Under 16: one per 12 months, so a new equipment is allowed.
    let adj = run_with(&essentiel(), CareDomain::Opti, 15, &lines, &history);
    assert_eq!(adj.total.cents(), 15_006);
    assert_eq!(adj.consumptions.len(), 1);
    // Adult, 24 months later to the day: allowed.
    let old = History {
        equipments: vec![PastEquipment {
            domain: CareDomain::Opti,
            ear: None,
            date: date!(2024 - 05 - 04),
        }],
        budgets: vec![],
    };
    assert_eq!(
        run_with(&essentiel(), CareDomain::Opti, 40, &lines, &old)
            .total
            .cents(),
        15_006
    );
}

// ---- demo contracts: hearing aids ----

#[test]
fn demo_hearing_class_ii_per_ear_below_the_cap() {
    let adj = run(
        &essentiel(),
        CareDomain::Audi,
        70,
        &[aid(Class::II, Ear::Left, 150_000, 40_000, 24_000)],
    );
    assert_line(
        &adj,
        0,
        96_000,
        &[
            (
                Rule::Formula,
                0,
                16_000,
                "100% BR − AMO = 400.00 − 240.00 = 160.00 €",
            ),
            (Rule::PerEar, 16_000, 96_000, "+ 800.00 € per ear"),
        ],
    );
    // A cheaper aid: price − AMO binds.
    let adj = run(
        &essentiel(),
        CareDomain::Audi,
        70,
        &[aid(Class::II, Ear::Left, 100_000, 40_000, 24_000)],
    );
    assert_line(
        &adj,
        0,
        76_000,
        &[
            (
                Rule::Formula,
                0,
                16_000,
                "100% BR − AMO = 400.00 − 240.00 = 160.00 €",
            ),
            (Rule::PerEar, 16_000, 96_000, "+ 800.00 € per ear"),
            (
                Rule::PriceLimit,
                96_000,
                76_000,
                "at most price − AMO = 1000.00 − 240.00 = 760.00 €",
            ),
        ],
    );
}

#[test]
fn demo_hearing_two_ears_and_renewal_per_ear() {
    let lines = [
        aid(Class::II, Ear::Left, 200_000, 40_000, 24_000),
        aid(Class::II, Ear::Right, 200_000, 40_000, 24_000),
    ];
    let adj = run(&confort(), CareDomain::Audi, 70, &lines);
    assert_eq!(adj.total.cents(), 2 * 146_000);
    assert_eq!(
        adj.consumptions,
        vec![
            Consumption::Equipment {
                domain: CareDomain::Audi,
                ear: Some(Ear::Left)
            },
            Consumption::Equipment {
                domain: CareDomain::Audi,
                ear: Some(Ear::Right)
            },
        ]
    );
    // Left ear fitted 2023-01-15: less than 48 months ago.
    let history = History {
        equipments: vec![PastEquipment {
            domain: CareDomain::Audi,
            ear: Some(Ear::Left),
            date: date!(2023 - 01 - 15),
        }],
        budgets: vec![],
    };
    let adj = run_with(&confort(), CareDomain::Audi, 70, &lines, &history);
    assert_line(
        &adj,
        0,
        0,
        &[(
            Rule::Rejected,
            0,
            0,
            "renewal period not reached: 1 hearing aid (left ear) per 48 months: last on 2023-01-15, renewal from 2027-01-15",
        )],
    );
    assert_eq!(adj.lines[1].amc.cents(), 146_000);
    assert_eq!(
        adj.consumptions,
        vec![Consumption::Equipment {
            domain: CareDomain::Audi,
            ear: Some(Ear::Right)
        }]
    );
    // Two aids for the same ear in one claim: the second waits 48 months.
    let same = [lines[0], lines[0]];
    let adj = run(&confort(), CareDomain::Audi, 70, &same);
    assert_eq!(adj.lines[0].rejection, None);
    assert_eq!(
        adj.lines[1].rejection,
        Some(RejectionCode::RenewalPeriodNotReached)
    );
}

// ---- demo contracts: dental prostheses ----

#[test]
fn demo_dental_prosthesis_300_and_400_percent_br() {
    // Crown: BR 107.50, AMO 70% = 75.25, price 500.00.
    let crown = Line::new(LineKind::Prosthesis, 50_000, 10_750, 7_525);
    let adj = run(&essentiel(), CareDomain::Dent, 50, &[crown]);
    assert_line(
        &adj,
        0,
        24_725,
        &[(
            Rule::Formula,
            0,
            24_725,
            "300% BR − AMO = 322.50 − 75.25 = 247.25 €",
        )],
    );
    let adj = run(&confort(), CareDomain::Dent, 50, &[crown]);
    assert_line(
        &adj,
        0,
        35_475,
        &[(
            Rule::Formula,
            0,
            35_475,
            "400% BR − AMO = 430.00 − 75.25 = 354.75 €",
        )],
    );
    // Crown at 300.00: price − AMO binds.
    let cheap = Line::new(LineKind::Prosthesis, 30_000, 10_750, 7_525);
    let adj = run(&confort(), CareDomain::Dent, 50, &[cheap]);
    assert_line(
        &adj,
        0,
        22_475,
        &[
            (
                Rule::Formula,
                0,
                35_475,
                "400% BR − AMO = 430.00 − 75.25 = 354.75 €",
            ),
            (
                Rule::PriceLimit,
                35_475,
                22_475,
                "at most price − AMO = 300.00 − 75.25 = 224.75 €",
            ),
        ],
    );
    // Rounding half up: 300% of 0.05 = 0.15 exactly; 333.33% of 10.01 = 33.3663… → 33.37.
    let c = Contract::from_toml(
        r#"
code = "R"
version = 1
label = "Rounding"
responsible = false
effective_from = 2026-01-01
[[guarantees]]
domain = "DENT"
formula = "333.33% BR"
"#,
    )
    .unwrap();
    let adj = run(
        &c,
        CareDomain::Dent,
        50,
        &[Line::new(LineKind::Other, 10_000, 1_001, 0)],
    );
    assert_eq!(adj.total.cents(), 3_337);
}

// ---- rejections, budgets, invoices ----

#[test]
fn inconsistent_amo_and_not_covered_are_line_rejections() {
    let adj = run(
        &essentiel(),
        CareDomain::Dent,
        50,
        &[
            Line::new(LineKind::Other, 3_000, 3_000, 3_100),
            Line::new(LineKind::Other, 3_000, 3_000, 2_100),
        ],
    );
    assert_eq!(adj.lines[0].rejection, Some(RejectionCode::InconsistentAmo));
    assert_line(
        &adj,
        0,
        0,
        &[(
            Rule::Rejected,
            0,
            0,
            "inconsistent AMO amount: AMO 31.00 € is above the BR 30.00 € or the price 30.00 €",
        )],
    );
    assert_eq!(adj.total.cents(), 900);

    let c = optics_b_contract("TM");
    let adj = run(
        &c,
        CareDomain::Opti,
        30,
        &[frame(Class::A, 3_000, 3_000, 1_800)],
    );
    assert_eq!(adj.lines[0].rejection, Some(RejectionCode::NotCovered));
    assert_eq!(
        adj.lines[0].steps[0].text,
        "not covered: no guarantee of the contract for this frame line"
    );
}

#[test]
fn per_period_budget_is_drawn_then_ceiling_reached() {
    let c = Contract::from_toml(
        r#"
code = "IMPLANTS"
version = 1
label = "Budget"
responsible = true
effective_from = 2026-01-01
[[guarantees]]
id = "dent_other"
domain = "DENT"
kind = "other"
formula = "100% BR + €500 per year"
"#,
    )
    .unwrap();
    let implant = Line::new(LineKind::Other, 120_000, 0, 0);
    let history = History {
        equipments: vec![],
        budgets: vec![
            PastBudgetUse {
                budget: "dent_other".into(),
                amount: crate::Money::from_cents(30_000),
                date: date!(2025 - 12 - 01),
            },
            // Older than 12 months: not counted.
            PastBudgetUse {
                budget: "dent_other".into(),
                amount: crate::Money::from_cents(50_000),
                date: date!(2025 - 05 - 04),
            },
        ],
    };
    let adj = run_with(&c, CareDomain::Dent, 50, &[implant, implant], &history);
    assert_line(
        &adj,
        0,
        20_000,
        &[
            (Rule::Formula, 0, 0, "100% BR − AMO = 0.00 − 0.00 = 0.00 €"),
            (
                Rule::PerPeriod,
                0,
                20_000,
                "+ 500.00 € per year: 200.00 € left, 200.00 € here",
            ),
        ],
    );
    assert_eq!(adj.lines[1].rejection, Some(RejectionCode::CeilingReached));
    assert_line(
        &adj,
        1,
        0,
        &[
            (Rule::Formula, 0, 0, "100% BR − AMO = 0.00 − 0.00 = 0.00 €"),
            (
                Rule::Rejected,
                0,
                0,
                "ceiling reached: the 500.00 € per year of this guarantee are used up",
            ),
        ],
    );
    assert_eq!(
        adj.consumptions,
        vec![Consumption::Budget {
            line: 0,
            budget: "dent_other".into(),
            amount: crate::Money::from_cents(20_000),
            months: 12,
            limit: crate::Money::from_cents(50_000)
        }]
    );
}

#[test]
fn invoice_status_and_approval_terms() {
    use crate::approvals::{ApprovalTerms, ApprovedLine, adjudicate_quote};
    let c = confort();
    let history = History::default();
    let quote = [
        frame(Class::B, 15_000, 5, 3),
        lenses(Class::B, Simple, 2, 24_000, 10, 6),
    ];
    let claim = Claim {
        domain: CareDomain::Opti,
        care_date: CARE,
        age: 40,
        lines: &quote,
        history: &history,
    };
    let approval = adjudicate_quote(&c, &claim, CARE, 3).unwrap();
    assert_eq!(approval.valid_until, date!(2026 - 08 - 04));
    assert_eq!(
        approval.terms.lines,
        vec![
            ApprovedLine {
                price: crate::Money::from_cents(15_000),
                amc: crate::Money::from_cents(10_000)
            },
            ApprovedLine {
                price: crate::Money::from_cents(24_000),
                amc: crate::Money::from_cents(20_006)
            },
        ]
    );

    // Invoice as quoted: accepted, same amounts.
    let out = adjudicate_invoice(&c, &claim, Some(&approval.terms)).unwrap();
    assert_eq!(out.status, InvoiceStatus::Accepted);
    assert_eq!(out.adjudication.total.cents(), 30_006);

    // Without the approval: rejected, approval missing.
    let out = adjudicate_invoice(&c, &claim, None).unwrap();
    assert_eq!(out.status, InvoiceStatus::Rejected);
    assert!(
        out.adjudication
            .lines
            .iter()
            .all(|l| l.rejection == Some(RejectionCode::ApprovalMissing))
    );
    assert_eq!(out.adjudication.total.cents(), 0);

    // After the validity: expired.
    let late = Claim {
        care_date: date!(2026 - 08 - 05),
        ..claim
    };
    let out = adjudicate_invoice(&c, &late, Some(&approval.terms)).unwrap();
    assert!(
        out.adjudication
            .lines
            .iter()
            .all(|l| l.rejection == Some(RejectionCode::ApprovalExpired))
    );

    // The lenses invoiced dearer than quoted: that line is rejected, the frame paid.
    let dearer = [quote[0], lenses(Class::B, Simple, 2, 26_000, 10, 6)];
    let out = adjudicate_invoice(
        &c,
        &Claim {
            lines: &dearer,
            ..claim
        },
        Some(&approval.terms),
    )
    .unwrap();
    assert_eq!(out.status, InvoiceStatus::Partial);
    assert_eq!(
        out.adjudication.lines[1].rejection,
        Some(RejectionCode::AmountAboveApproval)
    );
    assert_eq!(out.adjudication.total.cents(), 10_000);

    // An approval granting less than the engine would now: held to the approval.
    let terms = ApprovalTerms {
        valid_until: date!(2026 - 08 - 04),
        lines: vec![
            ApprovedLine {
                price: crate::Money::from_cents(15_000),
                amc: crate::Money::from_cents(9_000),
            },
            ApprovedLine {
                price: crate::Money::from_cents(24_000),
                amc: crate::Money::from_cents(20_006),
            },
        ],
    };
    let out = adjudicate_invoice(&c, &claim, Some(&terms)).unwrap();
    let last = out.adjudication.lines[0].steps.last().unwrap();
    assert_eq!(
        (last.rule, last.before.cents(), last.after.cents()),
        (Rule::ApprovalLimit, 10_000, 9_000)
    );
    assert_eq!(last.text, "at most the approved 90.00 €");
    assert_eq!(out.adjudication.total.cents(), 29_006);

    // Pharmacy needs no approval.
    let pharmacy = [Line::new(LineKind::Other, 1_000, 1_000, 650)];
    let out = adjudicate_invoice(
        &c,
        &Claim {
            domain: CareDomain::Phar,
            lines: &pharmacy,
            ..claim
        },
        None,
    )
    .unwrap();
    assert_eq!(out.status, InvoiceStatus::Accepted);
    assert_eq!(out.adjudication.total.cents(), 350);
}

#[test]
fn malformed_claims_are_errors_naming_the_field() {
    let c = essentiel();
    let e = |domain, lines: &[Line]| {
        adjudicate(
            &c,
            &Claim {
                domain,
                care_date: CARE,
                age: 30,
                lines,
                history: &History::default(),
            },
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        e(CareDomain::Opti, &[]),
        "lines: at least one line is required"
    );
    assert_eq!(
        e(CareDomain::Dent, &[frame(Class::B, 1, 1, 1)]),
        "lines[0].kind: a frame line belongs to domain OPTI"
    );
    assert_eq!(
        e(CareDomain::Opti, &[Line::new(LineKind::Frame, 1, 1, 1)]),
        "lines[0].class: required for frames, lenses and hearing aids"
    );
    assert_eq!(
        e(
            CareDomain::Opti,
            &[Line::new(LineKind::Lens, 1, 1, 1).class(Class::B)]
        ),
        "lines[0].complexity: required for lenses"
    );
    assert_eq!(
        e(
            CareDomain::Audi,
            &[Line::new(LineKind::HearingAid, 1, 1, 1).class(Class::I)]
        ),
        "lines[0].ear: required for hearing aids"
    );
    assert_eq!(
        e(CareDomain::Opti, &[frame(Class::I, 1, 1, 1)]),
        "lines[0].class: class I belongs to domain AUDI"
    );
    assert_eq!(
        e(CareDomain::Opti, &[lenses(Class::B, Simple, 3, 1, 1, 1)]),
        "lines[0].quantity: must be 1 or 2 for lenses"
    );
    assert_eq!(
        e(CareDomain::Opti, &[frame(Class::B, -1, 1, 1)]),
        "lines[0].price_cents: must be 0 to 100000000 cents"
    );
    assert_eq!(
        e(
            CareDomain::Opti,
            &[frame(Class::B, 1, 1, 1), frame(Class::B, 1, 1, 1)]
        ),
        "lines: an optics claim is one equipment: at most one frame and two lenses"
    );
    let old = adjudicate(
        &c,
        &Claim {
            domain: CareDomain::Phar,
            care_date: date!(2025 - 12 - 31),
            age: 30,
            lines: &[Line::new(LineKind::Other, 1, 1, 1)],
            history: &History::default(),
        },
    )
    .unwrap_err();
    assert_eq!(
        old.to_string(),
        "care_date: outside the effective period of this contract version"
    );
}

#[test]
fn demo_hearing_class_ii_table_of_docs_demo() {
    // docs/demo.md: class II at 1,500.00 and 2,000.00 (BR 400.00, AMO 240.00).
    for (contract, price, amc, last) in [
        (essentiel(), 150_000, 96_000, Rule::PerEar),
        (essentiel(), 200_000, 96_000, Rule::PerEar),
        (confort(), 150_000, 126_000, Rule::PriceLimit),
        (confort(), 200_000, 146_000, Rule::ClassIICap),
    ] {
        let adj = run(
            &contract,
            CareDomain::Audi,
            70,
            &[aid(Class::II, Ear::Right, price, 40_000, 24_000)],
        );
        assert_eq!(
            adj.total.cents(),
            amc,
            "{} at {price}",
            contract.code.as_str()
        );
        assert_eq!(adj.lines[0].steps.last().unwrap().rule, last);
    }
}

#[test]
fn invoice_consumptions_follow_the_lines_the_approval_leaves() {
    use crate::approvals::{ApprovalTerms, ApprovedLine};
    let m = crate::Money::from_cents;
    let history = History::default();
    // Two ears approved; the right one invoiced above its approved price.
    let quote = [
        aid(Class::II, Ear::Left, 200_000, 40_000, 24_000),
        aid(Class::II, Ear::Right, 200_000, 40_000, 24_000),
    ];
    let invoiced = [
        quote[0],
        aid(Class::II, Ear::Right, 210_000, 40_000, 24_000),
    ];
    let terms = ApprovalTerms {
        valid_until: date!(2026 - 08 - 04),
        lines: vec![
            ApprovedLine {
                price: m(200_000),
                amc: m(146_000),
            },
            ApprovedLine {
                price: m(200_000),
                amc: m(146_000),
            },
        ],
    };
    let claim = Claim {
        domain: CareDomain::Audi,
        care_date: CARE,
        age: 70,
        lines: &invoiced,
        history: &history,
    };
    let out = adjudicate_invoice(&confort(), &claim, Some(&terms)).unwrap();
    assert_eq!(out.status, InvoiceStatus::Partial);
    assert_eq!(
        out.adjudication.consumptions,
        vec![Consumption::Equipment {
            domain: CareDomain::Audi,
            ear: Some(Ear::Left)
        }]
    );

    // A dental budget line held to a lower approved amount draws less from the budget.
    let c = Contract::from_toml(
        r#"
code = "IMPLANTS"
version = 1
label = "Budget"
responsible = true
effective_from = 2026-01-01
[[guarantees]]
id = "dent"
domain = "DENT"
formula = "100% BR + €500 per year"
"#,
    )
    .unwrap();
    let lines = [
        Line::new(LineKind::Prosthesis, 120_000, 10_000, 7_000),
        Line::new(LineKind::Prosthesis, 120_000, 10_000, 7_000),
    ];
    let terms = ApprovalTerms {
        valid_until: date!(2026 - 08 - 04),
        lines: vec![
            ApprovedLine {
                price: m(120_000),
                amc: m(23_000),
            },
            ApprovedLine {
                price: m(100_000),
                amc: m(23_000),
            },
        ],
    };
    let claim = Claim {
        domain: CareDomain::Dent,
        lines: &lines,
        ..claim
    };
    let out = adjudicate_invoice(&c, &claim, Some(&terms)).unwrap();
    // Line 0: 30.00 + 500.00 = 530.00, held to 230.00; line 1 priced above its approval.
    assert_eq!(out.adjudication.lines[0].amc.cents(), 23_000);
    assert_eq!(
        out.adjudication.lines[1].rejection,
        Some(RejectionCode::AmountAboveApproval)
    );
    assert_eq!(
        out.adjudication.consumptions,
        vec![Consumption::Budget {
            line: 0,
            budget: "dent".into(),
            amount: m(20_000),
            months: 12,
            limit: m(50_000)
        }]
    );
}
