//! Adjudication engine throughput on one core: `bench/adjudication.sh` (docs/benchmarks.md,
//! "Adjudication engine").
//!
//! Builds a deterministic mix of claims under the two demo contracts (pharmacy, consultations,
//! optics, hearing aids, dental), then adjudicates them in a loop on the calling thread for
//! `--seconds` seconds after a one-second warm-up, and prints lines/s. Every answer is built in
//! full (steps with their texts, consumptions), as the app will store it.

use domain::contracts::{
    Claim, Class, Complexity, Contract, Ear, History, Line, LineKind, PastEquipment, adjudicate,
};
use domain::rights::CareDomain;
use std::hint::black_box;
use std::time::{Duration, Instant};
use time::macros::date;

const ESSENTIEL: &str = include_str!("../../../data/contracts/essentiel.toml");
const CONFORT: &str = include_str!("../../../data/contracts/confort.toml");

/// xorshift64*: a deterministic, dependency-free generator for the mix (not for secrets).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn cents(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo).unwrap_or(1).max(1))).unwrap_or(0)
    }
}

struct Case {
    contract: usize,
    domain: CareDomain,
    age: u8,
    lines: Vec<Line>,
    history: History,
}

fn complexity(m: &mut Mix) -> Complexity {
    match m.below(10) {
        0..=5 => Complexity::Simple,
        6..=8 => Complexity::Complex,
        _ => Complexity::VeryComplex,
    }
}

fn case(m: &mut Mix) -> Case {
    let contract = usize::from(m.below(2) == 1);
    let age = u8::try_from(m.below(90)).unwrap_or(40);
    let mut history = History::default();
    let roll = m.below(100);
    let (domain, lines) = match roll {
        // Pharmacy: 1 to 4 lines, AMO at 65 %.
        0..=39 => {
            let n = 1 + m.below(4);
            let lines = (0..n)
                .map(|_| {
                    let p = m.cents(150, 8_000);
                    Line::new(LineKind::Other, p, p, p * 65 / 100)
                })
                .collect();
            (CareDomain::Phar, lines)
        }
        // Consultations, labs, radiology: one line at 70 %, sometimes above the BR.
        40..=59 => {
            let d = [CareDomain::Med, CareDomain::Labo, CareDomain::Rad][m.below(3) as usize];
            let br = m.cents(2_500, 6_000);
            let p = if m.below(4) == 0 {
                br + m.cents(500, 3_000)
            } else {
                br
            };
            (d, vec![Line::new(LineKind::Other, p, br, br * 70 / 100)])
        }
        // Optics: frame and lenses, class A or B, sometimes a recent equipment.
        60..=79 => {
            let class = if m.below(4) == 0 { Class::A } else { Class::B };
            let mut lines = Vec::with_capacity(3);
            let (fp, fbr) = if class == Class::A {
                (3_000, 3_000)
            } else {
                (m.cents(6_000, 25_000), 5)
            };
            lines.push(Line::new(LineKind::Frame, fp, fbr, fbr * 60 / 100).class(class));
            for _ in 0..2 {
                let (p, br) = if class == Class::A {
                    (7_500, 7_500)
                } else {
                    (m.cents(6_000, 40_000), 5)
                };
                lines.push(
                    Line::new(LineKind::Lens, p, br, br * 60 / 100)
                        .class(class)
                        .complexity(complexity(m)),
                );
            }
            if m.below(10) == 0 {
                history.equipments.push(PastEquipment {
                    domain: CareDomain::Opti,
                    ear: None,
                    date: date!(2025 - 09 - 01),
                });
            }
            (CareDomain::Opti, lines)
        }
        // Hearing aids: both ears, class I or II.
        80..=84 => {
            let class = if m.below(3) == 0 { Class::I } else { Class::II };
            let p = if class == Class::I {
                95_000
            } else {
                m.cents(120_000, 250_000)
            };
            let lines = [Ear::Left, Ear::Right]
                .into_iter()
                .map(|e| {
                    Line::new(LineKind::HearingAid, p, 40_000, 24_000)
                        .class(class)
                        .ear(e)
                })
                .collect();
            (CareDomain::Audi, lines)
        }
        // Dental: a prosthesis and a consultation.
        _ => {
            let br = 10_750;
            let lines = vec![
                Line::new(
                    LineKind::Prosthesis,
                    m.cents(30_000, 90_000),
                    br,
                    br * 70 / 100,
                ),
                Line::new(LineKind::Other, 3_000, 3_000, 2_100),
            ];
            (CareDomain::Dent, lines)
        }
    };
    Case {
        contract,
        domain,
        age,
        lines,
        history,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut seconds = 5u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--seconds" {
            seconds = args.next().ok_or("--seconds needs a value")?.parse()?;
        }
    }
    let contracts = [
        Contract::from_toml(ESSENTIEL)?,
        Contract::from_toml(CONFORT)?,
    ];
    let mut m = Mix(0x9E37_79B9_7F4A_7C15);
    let cases: Vec<Case> = (0..20_000).map(|_| case(&mut m)).collect();
    let care_date = date!(2026 - 06 - 15);
    let lines_per_pass: usize = cases.iter().map(|c| c.lines.len()).sum();

    let run = |budget: Duration| -> Result<(u64, u64, Duration, i64), Box<dyn std::error::Error>> {
        let start = Instant::now();
        let (mut lines, mut claims, mut amc) = (0u64, 0u64, 0i64);
        while start.elapsed() < budget {
            for c in &cases {
                let claim = Claim {
                    domain: c.domain,
                    care_date,
                    age: c.age,
                    lines: &c.lines,
                    history: &c.history,
                };
                let adj = adjudicate(&contracts[c.contract], black_box(&claim))?;
                amc += adj.total.cents();
                lines += c.lines.len() as u64;
                claims += 1;
                black_box(adj);
            }
        }
        Ok((lines, claims, start.elapsed(), amc))
    };
    run(Duration::from_secs(1))?;
    let (lines, claims, elapsed, amc) = run(Duration::from_secs(seconds))?;
    let secs = elapsed.as_secs_f64();
    println!(
        "mix: {} claims, {} lines per pass (pharmacy 40%, consultations 20%, optics 20%, hearing 5%, dental 15% of claims)",
        cases.len(),
        lines_per_pass
    );
    println!("adjudicated {lines} lines ({claims} claims) in {secs:.2} s on one thread");
    println!(
        "{:.0} lines/s, {:.0} claims/s, {:.0} ns per line (checksum {amc})",
        lines as f64 / secs,
        claims as f64 / secs,
        secs * 1e9 / lines as f64
    );
    Ok(())
}
