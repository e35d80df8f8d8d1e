use super::*;
use proptest::prelude::*;
use std::collections::{BTreeSet, HashSet};

fn config(seed: u64) -> Config {
    Config {
        seed,
        insurer: Some("123456789".into()),
        year: 2026,
    }
}

fn is_male(b: &Beneficiary) -> bool {
    b.identity.nir.sex_digit() == 1
}

/// Every rule a generated family must follow.
fn check_family(f: &Family, year: i32) {
    let m = &f.members;
    assert!(!m.is_empty());
    assert_eq!(m[0].quality, Quality::Assure, "the assuré comes first");
    assert_eq!(m.iter().filter(|b| b.quality == Quality::Assure).count(), 1);
    let partners: Vec<_> = m
        .iter()
        .filter(|b| matches!(b.quality, Quality::Conjoint | Quality::Concubin))
        .collect();
    assert!(partners.len() <= 1);
    for p in &partners {
        let expected: &[MaritalStatus] = if p.quality == Quality::Conjoint {
            &[MaritalStatus::Marie, MaritalStatus::Pacse]
        } else {
            &[MaritalStatus::Concubinage]
        };
        assert!(expected.contains(&p.identity.marital_status));
        assert_eq!(
            m[0].identity.marital_status, p.identity.marital_status,
            "partners share their status"
        );
    }
    if partners.is_empty() {
        assert!(!matches!(
            m[0].identity.marital_status,
            MaritalStatus::Marie | MaritalStatus::Pacse | MaritalStatus::Concubinage
        ));
    }
    let children: Vec<_> = m.iter().filter(|b| b.quality == Quality::Enfant).collect();
    assert!(children.len() <= 4);
    assert!(m.iter().filter(|b| b.quality == Quality::Autre).count() <= 1);
    let reference = Date::from_calendar_date(year - 1, Month::December, 31).unwrap();
    for parent in std::iter::once(&m[0]).chain(partners.iter().copied()) {
        for c in &children {
            let gap =
                c.identity.birth_date.to_julian_day() - parent.identity.birth_date.to_julian_day();
            assert!(
                gap >= 18 * 365,
                "a child is at least 18 years younger than a parent"
            );
        }
        let age_days = reference.to_julian_day() - parent.identity.birth_date.to_julian_day();
        assert!(age_days >= 18 * 365, "adults are adults");
    }
    let youngest_parent = std::iter::once(&m[0])
        .chain(partners.iter().copied())
        .map(|p| p.identity.birth_date)
        .max()
        .unwrap();
    for c in &children {
        let gap = c.identity.birth_date.to_julian_day() - youngest_parent.to_julian_day();
        assert!(gap <= 45 * 366, "born before the youngest parent was 46");
        assert_eq!(c.identity.marital_status, MaritalStatus::Celibataire);
        let age_days = reference.to_julian_day() - c.identity.birth_date.to_julian_day();
        assert!((0..25 * 366).contains(&age_days));
        let same_day: Vec<_> = children
            .iter()
            .filter(|o| o.identity.birth_date == c.identity.birth_date)
            .collect();
        match same_day.len() {
            1 => assert_eq!(c.identity.birth_rank.get(), 1),
            2 => {
                let ranks: BTreeSet<u8> = same_day
                    .iter()
                    .map(|o| o.identity.birth_rank.get())
                    .collect();
                assert_eq!(ranks, BTreeSet::from([1, 2]), "twins have ranks 1 and 2");
            }
            n => panic!("{n} children born the same day"),
        }
    }
    for b in m {
        assert_eq!(b.member_number, f.member_number);
        assert_eq!(b.contract_code, f.contract_code);
        assert!(CONTRACT_CODES.contains(&b.contract_code.as_str()));
        assert!(b.identity.birth_date <= reference);
        assert_eq!(
            (b.validity.from.month(), b.validity.from.day()),
            (Month::January, 1)
        );
        assert!(b.validity.from.year() <= year);
        if let Some(to) = b.validity.to {
            assert_eq!((to.month(), to.day()), (Month::December, 31));
            assert!(to >= b.validity.from);
        }
        if b.quality != Quality::Enfant {
            assert_eq!(b.identity.birth_rank.get(), 1);
        }
        check_nir(b);
    }
}

fn check_nir(b: &Beneficiary) {
    let nir = Nir::parse(b.identity.nir.as_str()).expect("parses");
    assert!(!nir.is_temporary());
    let d = b.identity.birth_date;
    assert_eq!(nir.birth_year_2(), d.year().rem_euclid(100) as u32);
    assert_eq!(nir.birth_month_code(), u32::from(u8::from(d.month())));
    let dept = nir.department();
    if dept == "2A" || dept == "2B" {
        assert!(d.year() >= 1976, "2A/2B only from 1976");
    }
    if dept == "20" {
        assert!(d.year() < 1976, "20 only before 1976");
    }
    if ["91", "92", "93", "94", "95"].contains(&dept) {
        assert!(d.year() >= 1968);
    }
    let s = nir.as_str();
    if dept == "97" {
        assert!(
            matches!(&s[7..8], "1" | "2" | "3" | "4" | "5" | "6"),
            "97x overseas department"
        );
    }
    assert_ne!(&s[10..13], "000", "order number 001-999");
}

#[test]
fn every_nir_is_valid_and_matches_the_person() {
    let mut population = Population::new(&config(42));
    let families: Vec<Family> = population.by_ref().take(5_000).collect();
    assert_eq!(population.rejected(), 0);
    for f in &families {
        check_family(f, 2026);
        for b in &f.members {
            let male_names: HashSet<&str> =
                names::MALE.iter().flat_map(|l| l.iter().copied()).collect();
            if is_male(b) {
                assert!(male_names.contains(b.identity.first_name.as_str()));
            }
        }
    }
}

#[test]
fn the_population_looks_like_france() {
    let people: Vec<Beneficiary> = beneficiaries(&config(3)).take(40_000).collect();
    let count = |pred: &dyn Fn(&Beneficiary) -> bool| people.iter().filter(|b| pred(b)).count();
    let dept = |b: &Beneficiary| b.identity.nir.department().to_string();
    assert!(
        count(&|b| dept(b) == "2A" || dept(b) == "2B") > 0,
        "Corsica 2A/2B"
    );
    assert!(count(&|b| dept(b) == "20") > 0, "Corsica before 1976");
    assert!(count(&|b| dept(b) == "97") > 200, "overseas");
    assert!(count(&|b| dept(b) == "99") > 500, "born abroad");
    assert!(count(&|b| dept(b) == "75") > 500, "Paris");
    let males = count(&|b| is_male(b));
    assert!((16_000..24_000).contains(&males));
    for q in [
        Quality::Assure,
        Quality::Conjoint,
        Quality::Concubin,
        Quality::Enfant,
        Quality::Autre,
    ] {
        assert!(count(&|b| b.quality == q) > 100, "{q} present");
    }
    assert!(
        count(&|b| b.identity.birth_rank.get() == 2) > 10,
        "some twins"
    );
    assert!(count(&|b| b.validity.to.is_none()) > 10_000);
    assert!(
        count(&|b| !b.identity.first_name.is_ascii()) > 100,
        "accents"
    );
    let essentiel = count(&|b| b.contract_code == "ESSENTIEL");
    assert!(essentiel > 15_000 && essentiel < 35_000);
}

#[test]
fn name_lists_are_large_enough() {
    let surnames: HashSet<_> = names::SURNAMES.iter().collect();
    assert!(surnames.len() >= 100);
    let male: HashSet<_> = names::MALE.iter().flat_map(|l| l.iter()).collect();
    let female: HashSet<_> = names::FEMALE.iter().flat_map(|l| l.iter()).collect();
    assert!(
        male.len() >= 60 && female.len() >= 60,
        "{} {}",
        male.len(),
        female.len()
    );
}

#[test]
fn same_seed_same_people_other_seed_other_people() {
    let a: Vec<[String; 11]> = beneficiaries(&config(9))
        .take(2_000)
        .map(|b| csv_record(&b))
        .collect();
    let b: Vec<[String; 11]> = beneficiaries(&config(9))
        .take(2_000)
        .map(|b| csv_record(&b))
        .collect();
    let c: Vec<[String; 11]> = beneficiaries(&config(10))
        .take(2_000)
        .map(|b| csv_record(&b))
        .collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn the_insurer_changes_member_numbers_only() {
    let a: Vec<Beneficiary> = beneficiaries(&config(9)).take(500).collect();
    let b: Vec<Beneficiary> = beneficiaries(&Config {
        insurer: Some("987654".into()),
        ..config(9)
    })
    .take(500)
    .collect();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.identity, y.identity);
        assert_ne!(x.member_number, y.member_number);
    }
}

#[test]
fn member_numbers_are_unique() {
    let mut seen = HashSet::new();
    for f in Population::new(&config(5)).take(50_000) {
        assert!(seen.insert(f.member_number.as_str().to_string()));
        assert_eq!(f.member_number.as_str().len(), 12);
    }
}

#[test]
fn csv_record_follows_the_header() {
    let b = beneficiaries(&config(1)).next().unwrap();
    let r = csv_record(&b);
    assert_eq!(r.len(), CSV_HEADER.len());
    assert_eq!(r[1], b.identity.nir.as_str());
    assert_eq!(r[5], iso_date(b.identity.birth_date));
    assert_eq!(r[7], "assure");
    assert_eq!(
        iso_date(Date::from_calendar_date(1976, Month::March, 5).unwrap()),
        "1976-03-05"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_seed_and_year_gives_valid_families(seed in any::<u64>(), year in 2000i32..2040) {
        let mut population = Population::new(&Config { seed, insurer: None, year });
        for f in population.by_ref().take(200) {
            check_family(&f, year);
        }
        prop_assert_eq!(population.rejected(), 0);
    }
}
