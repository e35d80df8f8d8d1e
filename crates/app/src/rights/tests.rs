use super::*;
use crate::demo::tests::{MemStore, ports};
use crate::ledger::{LedgerConfig, LedgerStore};
use crate::store::{ContractRecord, InsurerRecord, OrganisationRecord, PracticeRecord};
use crypto::SeededRandom;
use crypto::cards::CardClaims;
use domain::accounts::OrganisationKind;
use domain::beneficiaries::{Beneficiary, Identity, MaritalStatus, Quality, Validity};
use domain::contracts::ContractCode;
use domain::ids::{AmNumber, Nir};
use domain::money::Rate;
use std::sync::Arc;
use time::macros::date;

const GUARANTEES: &str = r#"{"format":1,"contract":"CONFORT","lines":[
  {"domain":"PHAR","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"MED","item":"*","formula":{"kind":"br_percent","percent":150}},
  {"domain":"DENT","item":"*","formula":{"kind":"br_percent","percent":125}},
  {"domain":"OPTI","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"AUDI","item":"class_ii","formula":{"kind":"br_percent_plus","percent":100,"amount_cents":160000,"per":"ear"}}
]}"#;

struct Person {
    body: &'static str,
    rank: u8,
    born: Date,
    quality: Quality,
    until: Option<Date>,
}

struct World {
    ports: Ports,
    ledger: Ledger,
    guard: crate::guard::Guard,
    store: Arc<MemStore>,
    insurer: InsurerRecord,
    optician: Actor,
    token: String,
    code: String,
    card: CardRecord,
    /// Family ids in the order of `FAMILY`.
    ids: Vec<Uuid>,
}

/// A member family: the holder; a child; twins (same date, ranks 1 and 2); a spouse whose
/// rights closed at the end of March.
const FAMILY: [Person; 5] = [
    Person {
        body: "1570175123456",
        rank: 1,
        born: date!(1957 - 01 - 04),
        quality: Quality::Assure,
        until: None,
    },
    Person {
        body: "1570175123456",
        rank: 1,
        born: date!(2012 - 09 - 14),
        quality: Quality::Enfant,
        until: None,
    },
    Person {
        body: "1570175123456",
        rank: 1,
        born: date!(2015 - 06 - 30),
        quality: Quality::Enfant,
        until: None,
    },
    Person {
        body: "1570175123456",
        rank: 2,
        born: date!(2015 - 06 - 30),
        quality: Quality::Enfant,
        until: None,
    },
    Person {
        body: "2600375123457",
        rank: 1,
        born: date!(1960 - 03 - 02),
        quality: Quality::Conjoint,
        until: Some(date!(2026 - 03 - 31)),
    },
];

fn today(w: &World) -> Date {
    w.ports.clock.today()
}

async fn world() -> World {
    let store = Arc::new(MemStore::default());
    let ports = ports(store.clone());
    let now = ports.clock.now();
    let insurer_id = ports.new_id();
    ports
        .store
        .insert_organisation(&OrganisationRecord {
            id: insurer_id,
            kind: OrganisationKind::Insurer,
            name: "Mutuelle".into(),
            created_at: now,
        })
        .await
        .unwrap();
    let insurer = InsurerRecord {
        id: insurer_id,
        amc: AmcNumber::parse("880000011").unwrap(),
        name: "Mutuelle".into(),
        created_at: now,
    };
    ports.store.insert_insurer(&insurer).await.unwrap();
    ports.vault.ensure_scope(&ports, insurer.id).await.unwrap();
    let contract = ContractRecord {
        id: ports.new_id(),
        insurer_id,
        code: ContractCode::parse("CONFORT").unwrap(),
        version: 1,
        label: "Confort".into(),
        responsible: true,
        effective_from: date!(2026 - 01 - 01),
        effective_to: None,
        guarantees: GUARANTEES.into(),
        created_at: now,
    };
    ports.store.insert_contract(&contract).await.unwrap();
    let member = MemberNumber::parse("0012345678").unwrap();
    let mut rows = Vec::new();
    for p in &FAMILY {
        let b = Beneficiary {
            member_number: member.clone(),
            identity: Identity {
                nir: Nir::from_body(p.body).unwrap(),
                birth_rank: BirthRank::new(p.rank).unwrap(),
                last_name: "Martin".into(),
                first_name: "Camille".into(),
                birth_date: p.born,
                marital_status: MaritalStatus::Inconnu,
            },
            quality: p.quality,
            contract_code: "CONFORT".into(),
            validity: Validity::new(date!(2026 - 01 - 01), p.until).unwrap(),
        };
        rows.push(
            crate::beneficiaries::new_record(
                &ports.vault,
                ports.new_id(),
                insurer_id,
                contract.id,
                &b,
                now,
            )
            .unwrap(),
        );
    }
    ports.store.insert_beneficiaries(&rows).await.unwrap();
    // The printed family does not matter here (it is not stored).
    let printed = [crate::cards::CardBeneficiary {
        first_name: "Camille".into(),
        birth_date: date!(1957 - 01 - 04),
        birth_rank: BirthRank::new(1).unwrap(),
    }];
    let issued = crate::cards::issue(
        &ports,
        &insurer,
        &member,
        &printed,
        &contract,
        (date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
    )
    .unwrap();
    ports
        .store
        .insert_cards(std::slice::from_ref(&issued.record))
        .await
        .unwrap();
    let practice_id = ports.new_id();
    ports
        .store
        .insert_organisation(&OrganisationRecord {
            id: practice_id,
            kind: OrganisationKind::Practice,
            name: "Optique du Port".into(),
            created_at: now,
        })
        .await
        .unwrap();
    ports
        .store
        .insert_practice(&PracticeRecord {
            id: practice_id,
            name: "Optique du Port".into(),
            profession: Profession::Optician,
            am_number: AmNumber::parse("751234567").unwrap(),
            finess: None,
            siret: None,
            iban_sealed: vec![0],
            created_at: now,
        })
        .await
        .unwrap();
    let optician = Actor {
        account_id: ports.new_id(),
        organisation_id: practice_id,
        role: Role::Professional,
        display_name: "Camille".into(),
        session_id: Some(ports.new_id()),
        credential_id: Some(ports.new_id()),
        last_uv_at: Some(now),
    };
    let ledger = Ledger::new(ports.clone(), LedgerConfig::default());
    let guard = crate::guard::Guard::from_ports(&ports, crate::guard::GuardConfig::default());
    World {
        ids: rows.iter().map(|r| r.id).collect(),
        ports,
        ledger,
        guard,
        store,
        insurer,
        optician,
        token: issued.token,
        code: issued.code.as_str().to_string(),
        card: issued.record,
    }
}

fn hint(born: Date, rank: u8) -> BeneficiaryHint {
    BeneficiaryHint {
        birth_date: born,
        birth_rank: BirthRank::new(rank).unwrap(),
    }
}

fn by_token(w: &World, patient: BeneficiaryHint, domain: CareDomain) -> RightsRequest {
    RightsRequest {
        card: CardProof::Token(w.token.clone()),
        patient,
        domain,
        care_date: today(w),
    }
}

fn typed(w: &World, code: &str, patient: BeneficiaryHint) -> RightsRequest {
    RightsRequest {
        card: CardProof::Typed {
            amc: w.insurer.amc.clone(),
            member_number: w.card.member_number.clone(),
            verification_code: code.to_string(),
        },
        patient,
        domain: CareDomain::Opti,
        care_date: today(w),
    }
}

fn context(w: &World) -> RequestContext {
    RequestContext {
        request_id: w.ports.new_id(),
        client_addr: None,
    }
}

async fn run(w: &World, r: &RightsRequest) -> RightsOutcome {
    RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .check(&w.optician, context(w), r)
        .await
        .unwrap()
}

async fn reason(w: &World, r: &RightsRequest) -> Option<NoMatchReason> {
    match RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .evaluate(r)
        .await
        .unwrap()
    {
        Evaluation::Matched(_) => None,
        Evaluation::NoMatch(reason) => Some(reason),
    }
}

async fn ledger_size(w: &World) -> u64 {
    w.store.ledger_size().await.unwrap()
}

#[tokio::test]
async fn the_token_and_the_birth_date_find_exactly_one_beneficiary_and_answer_optics() {
    let w = world().await;
    let r = by_token(&w, hint(date!(2012 - 09 - 14), 1), CareDomain::Opti);
    match RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .evaluate(&r)
        .await
        .unwrap()
    {
        Evaluation::Matched(m) => assert_eq!(m.beneficiary.id, w.ids[1]),
        other => panic!("{other:?}"),
    }
    let RightsOutcome::Answered(a) = run(&w, &r).await else {
        panic!("no answer")
    };
    assert!(a.covered);
    assert_eq!(a.domain, CareDomain::Opti);
    assert_eq!(a.care_date, today(&w));
    assert_eq!(a.regime, Some(Regime::PriorApproval));
    assert_eq!(
        a.valid_until,
        Some(today(&w) + Duration::days(ENGAGEMENT_VALID_DAYS))
    );
    let number = a.engagement.unwrap();
    assert!(is_engagement_number(&number));
    let stored = w
        .ports
        .store
        .find_engagement(w.optician.organisation_id, &number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.beneficiary_id, w.ids[1]);
    assert_eq!(stored.card_id, w.card.id);
    assert_eq!(stored.domain, CareDomain::Opti);
    // Exactly one ledger entry, about that beneficiary, for a rights check.
    assert_eq!(ledger_size(&w).await, 1);
    let entries = w.store.list_ledger_entries(0, 10).await.unwrap();
    assert_eq!(
        entries[0].pseudonym,
        w.ports.vault.pseudonym(w.insurer.id, w.ids[1]).to_vec()
    );
    assert_eq!(entries[0].categories, "coverage,guarantees,engagement");
    assert_eq!(entries[0].purpose, "rights_check");
    assert_eq!(entries[0].organisation_id, w.optician.organisation_id);
}

#[tokio::test]
async fn twins_are_told_apart_by_their_birth_rank() {
    let w = world().await;
    for (rank, index) in [(1u8, 2usize), (2, 3)] {
        let r = by_token(&w, hint(date!(2015 - 06 - 30), rank), CareDomain::Opti);
        match RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .evaluate(&r)
            .await
            .unwrap()
        {
            Evaluation::Matched(m) => assert_eq!(m.beneficiary.id, w.ids[index]),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn the_typed_card_and_its_code_work_like_the_token() {
    let w = world().await;
    let r = typed(&w, &w.code.to_lowercase(), hint(date!(1957 - 01 - 04), 1));
    let RightsOutcome::Answered(a) = run(&w, &r).await else {
        panic!("no answer")
    };
    assert!(a.covered);
    assert_eq!(ledger_size(&w).await, 1);
}

#[tokio::test]
async fn every_kind_of_non_match_is_the_same_answer_and_leaves_no_trace() {
    // Without the guard: its non-match signal would stop this account before the end.
    let mut w = world().await;
    w.guard = crate::guard::Guard::from_ports(
        &w.ports,
        crate::guard::GuardConfig {
            enabled: false,
            ..crate::guard::GuardConfig::default()
        },
    );
    let born = date!(1957 - 01 - 04);
    let mut cases: Vec<(RightsRequest, NoMatchReason)> = Vec::new();
    // Bad tokens.
    let mut tampered = w.token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for token in ["", "RP1.", "not a token", tampered.as_str()] {
        let mut r = by_token(&w, hint(born, 1), CareDomain::Opti);
        r.card = CardProof::Token(token.to_string());
        cases.push((r, NoMatchReason::BadToken));
    }
    // A token signed by a key that is not published.
    let rogue = CardSigningKey::generate(77, &SeededRandom::new(5));
    let claims = CardClaims {
        card_id: w.card.id,
        amc_number: "880000011".into(),
        member_number: "0012345678".into(),
        valid_from: 20_454,
        valid_to: 20_818,
        domains: vec![],
    };
    let mut r = by_token(&w, hint(born, 1), CareDomain::Opti);
    r.card = CardProof::Token(rogue.sign(&claims).unwrap());
    cases.push((r, NoMatchReason::BadToken));
    // A genuine token for a card that is not stored.
    let mut unknown = claims.clone();
    unknown.card_id = Uuid::from_u128(99);
    let mut r = by_token(&w, hint(born, 1), CareDomain::Opti);
    r.card = CardProof::Token(w.ports.vault.card_signer().sign(&unknown).unwrap());
    cases.push((r, NoMatchReason::UnknownCard));
    // The card is not valid on the care date (expired, not yet valid).
    for care_date in [date!(2025 - 12 - 31), date!(2027 - 01 - 01)] {
        let w2 = world_at(care_date).await;
        let mut r = by_token(&w2, hint(born, 1), CareDomain::Opti);
        r.care_date = care_date;
        assert_eq!(reason(&w2, &r).await, Some(NoMatchReason::CardNotValid));
        assert_eq!(run(&w2, &r).await, RightsOutcome::NoMatch);
        assert_eq!(ledger_size(&w2).await, 0);
    }
    // Typed: bad code, malformed code, unknown AMC, unknown member.
    cases.push((
        typed(&w, "0000-0000", hint(born, 1)),
        NoMatchReason::BadCode,
    ));
    cases.push((typed(&w, "?", hint(born, 1)), NoMatchReason::BadCode));
    let mut r = typed(&w, &w.code, hint(born, 1));
    r.card = CardProof::Typed {
        amc: AmcNumber::parse("880000029").unwrap(),
        member_number: w.card.member_number.clone(),
        verification_code: w.code.clone(),
    };
    cases.push((r, NoMatchReason::UnknownCard));
    let mut r = typed(&w, &w.code, hint(born, 1));
    r.card = CardProof::Typed {
        amc: w.insurer.amc.clone(),
        member_number: MemberNumber::parse("0099999999").unwrap(),
        verification_code: w.code.clone(),
    };
    cases.push((r, NoMatchReason::BadCode));
    // Wrong birth date, wrong rank, an ambiguous pair.
    cases.push((
        by_token(&w, hint(date!(1957 - 01 - 05), 1), CareDomain::Opti),
        NoMatchReason::NoBeneficiary,
    ));
    cases.push((
        by_token(&w, hint(born, 3), CareDomain::Opti),
        NoMatchReason::NoBeneficiary,
    ));
    // Another profession's domain: matched, then refused the same way.
    let pharmacy = by_token(&w, hint(born, 1), CareDomain::Phar);
    assert_eq!(reason(&w, &pharmacy).await, None);
    assert_eq!(run(&w, &pharmacy).await, RightsOutcome::NoMatch);

    for (r, expected) in &cases {
        assert_eq!(reason(&w, r).await, Some(*expected), "{r:?}");
        assert_eq!(run(&w, r).await, RightsOutcome::NoMatch, "{r:?}");
    }
    assert_eq!(ledger_size(&w).await, 0);
}

/// The same world, with the clock on `day` (the card stays 2026).
async fn world_at(day: Date) -> World {
    let w = world().await;
    let now = w.ports.clock.now();
    let shift = day - now.date();
    let clock = crate::ManualClock::new(now + shift);
    let ports = Ports {
        clock: Arc::new(clock),
        ..w.ports.clone()
    };
    World {
        ledger: Ledger::new(ports.clone(), LedgerConfig::default()),
        guard: crate::guard::Guard::from_ports(&ports, crate::guard::GuardConfig::default()),
        ports,
        ..w
    }
}

#[tokio::test]
async fn two_beneficiaries_with_the_same_date_and_rank_are_no_match() {
    let w = world().await;
    // A second holder-like row: same birth date and rank as the holder.
    let mut family = w
        .ports
        .store
        .find_member(w.insurer.id, &w.card.member_number)
        .await
        .unwrap();
    let mut copy = family.remove(0);
    let identity = crate::beneficiaries::open_identity(&w.ports.vault, &copy).unwrap();
    copy.id = w.ports.new_id();
    let sealed =
        crate::beneficiaries::seal_identity(&w.ports.vault, w.insurer.id, copy.id, &identity)
            .unwrap();
    copy.nir_sealed = sealed.nir;
    copy.last_name_sealed = sealed.last_name;
    copy.first_name_sealed = sealed.first_name;
    copy.birth_date_sealed = sealed.birth_date;
    copy.marital_status_sealed = sealed.marital_status;
    w.ports.store.insert_beneficiaries(&[copy]).await.unwrap();
    let r = by_token(&w, hint(date!(1957 - 01 - 04), 1), CareDomain::Opti);
    assert_eq!(reason(&w, &r).await, Some(NoMatchReason::Ambiguous));
    assert_eq!(run(&w, &r).await, RightsOutcome::NoMatch);
}

#[tokio::test]
async fn closed_rights_are_not_covered_and_still_ledgered() {
    let w = world().await;
    // The spouse's rights closed on 2026-03-31; the check is on the clock's day (May 2026).
    assert!(today(&w) > date!(2026 - 03 - 31));
    let r = by_token(&w, hint(date!(1960 - 03 - 02), 1), CareDomain::Opti);
    let RightsOutcome::Answered(a) = run(&w, &r).await else {
        panic!("no answer")
    };
    assert_eq!(
        a,
        RightsAnswer {
            covered: false,
            domain: CareDomain::Opti,
            care_date: today(&w),
            regime: None,
            engagement: None,
            valid_until: None,
        }
    );
    let entries = w.store.list_ledger_entries(0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].categories, "coverage");
}

#[tokio::test]
async fn a_domain_the_card_does_not_print_is_not_covered() {
    let w = world().await;
    // An audio prosthetist: AUDI is printed (PEC); a physician: MED at 150 %.
    let cases = [
        (
            Profession::AudioProsthetist,
            CareDomain::Audi,
            Some(Regime::PriorApproval),
        ),
        (
            Profession::Physician,
            CareDomain::Med,
            Some(Regime::Rate(Rate::percent(150))),
        ),
        (Profession::Laboratory, CareDomain::Labo, None),
    ];
    for (n, (profession, domain, regime)) in cases.into_iter().enumerate() {
        let actor = practice_actor(&w, profession, n).await;
        let r = by_token(&w, hint(date!(1957 - 01 - 04), 1), domain);
        let RightsOutcome::Answered(a) = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .check(&actor, context(&w), &r)
            .await
            .unwrap()
        else {
            panic!("no answer for {domain}")
        };
        assert_eq!(a.covered, regime.is_some(), "{domain}");
        assert_eq!(a.regime, regime, "{domain}");
    }
    assert_eq!(ledger_size(&w).await, 3);
}

async fn practice_actor(w: &World, profession: Profession, n: usize) -> Actor {
    let id = w.ports.new_id();
    let now = w.ports.clock.now();
    w.ports
        .store
        .insert_organisation(&OrganisationRecord {
            id,
            kind: OrganisationKind::Practice,
            name: format!("Cabinet {n}"),
            created_at: now,
        })
        .await
        .unwrap();
    w.ports
        .store
        .insert_practice(&PracticeRecord {
            id,
            name: format!("Cabinet {n}"),
            profession,
            am_number: AmNumber::parse(&format!("75000000{n}")).unwrap(),
            finess: None,
            siret: None,
            iban_sealed: vec![0],
            created_at: now,
        })
        .await
        .unwrap();
    Actor {
        organisation_id: id,
        credential_id: None,
        session_id: None,
        ..w.optician.clone()
    }
}

#[tokio::test]
async fn insurer_staff_and_operators_may_not_run_rights_checks() {
    let w = world().await;
    let r = by_token(&w, hint(date!(1957 - 01 - 04), 1), CareDomain::Opti);
    for role in [
        Role::InsurerStaff,
        Role::OperatorAdmin,
        Role::OperatorAnalyst,
        Role::Auditor,
    ] {
        let actor = Actor {
            role,
            organisation_id: w.insurer.id,
            ..w.optician.clone()
        };
        let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .check(&actor, context(&w), &r)
            .await;
        assert!(matches!(e, Err(RightsError::Forbidden)), "{role:?}");
    }
    assert_eq!(ledger_size(&w).await, 0);
}

#[tokio::test]
async fn care_dates_far_from_today_are_refused_naming_the_field() {
    let w = world().await;
    for days in [-366i64, 91] {
        let mut r = by_token(&w, hint(date!(1957 - 01 - 04), 1), CareDomain::Opti);
        r.care_date = today(&w) + Duration::days(days);
        let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .check(&w.optician, context(&w), &r)
            .await;
        assert!(
            matches!(
                e,
                Err(RightsError::Invalid {
                    field: "care_date",
                    ..
                })
            ),
            "{days}"
        );
    }
}

#[test]
fn engagement_numbers_are_e_and_20_crockford_characters_and_differ() {
    let rng = SeededRandom::new(3);
    let a = new_engagement_number(&rng);
    let b = new_engagement_number(&rng);
    assert!(is_engagement_number(&a), "{a}");
    assert!(is_engagement_number(&b), "{b}");
    assert_ne!(a, b);
    assert!(!is_engagement_number("E0000"));
    assert!(!is_engagement_number("X00000000000000000000"));
    assert!(!is_engagement_number("E0000000000000000000U"));
}

#[test]
fn credentials_name_the_passkey_or_the_certificate() {
    let id = Uuid::from_u128(7);
    let person = Actor {
        account_id: Uuid::from_u128(1),
        organisation_id: Uuid::from_u128(2),
        role: Role::Professional,
        display_name: String::new(),
        session_id: Some(Uuid::from_u128(3)),
        credential_id: Some(id),
        last_uv_at: None,
    };
    assert_eq!(credential(&person), format!("passkey:{id}"));
    let machine = Actor {
        session_id: None,
        ..person
    };
    assert_eq!(credential(&machine), format!("cert:{id}"));
}

// ---- the guard in the rights check

#[tokio::test]
async fn a_domain_switched_off_refuses_before_any_lookup_and_ledgers_nothing() {
    let w = world().await;
    w.guard
        .switch_off(None, crate::guard::Scope::Domain("OPTI".into()), None)
        .await
        .unwrap();
    let r = by_token(&w, hint(date!(2012 - 09 - 14), 1), CareDomain::Opti);
    let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .check(&w.optician, context(&w), &r)
        .await
        .unwrap_err();
    assert!(
        matches!(e, RightsError::Refused(Refusal::SwitchedOff { .. })),
        "{e:?}"
    );
    assert_eq!(ledger_size(&w).await, 0);
    // Another domain's switch does not stop optics.
    w.guard
        .switch_on(None, crate::guard::Scope::Domain("OPTI".into()))
        .await
        .unwrap();
    w.guard
        .switch_off(None, crate::guard::Scope::Domain("PHAR".into()), None)
        .await
        .unwrap();
    assert!(matches!(run(&w, &r).await, RightsOutcome::Answered(_)));
    assert_eq!(ledger_size(&w).await, 1);
}

#[tokio::test]
async fn the_insurer_switch_applies_to_typed_cards_and_tokens_alike() {
    let w = world().await;
    w.guard
        .switch_off(
            None,
            crate::guard::Scope::Insurer(w.insurer.amc.as_str().to_string()),
            None,
        )
        .await
        .unwrap();
    for r in [
        by_token(&w, hint(date!(2012 - 09 - 14), 1), CareDomain::Opti),
        typed(&w, &w.code, hint(date!(1957 - 01 - 04), 1)),
    ] {
        let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .check(&w.optician, context(&w), &r)
            .await
            .unwrap_err();
        assert!(
            matches!(e, RightsError::Refused(Refusal::SwitchedOff { .. })),
            "{e:?}"
        );
    }
    assert_eq!(ledger_size(&w).await, 0);
}

#[tokio::test]
async fn non_matches_lead_to_a_suspension_and_then_nothing_is_answered() {
    let w = world().await;
    let bad = typed(&w, "AAAA-AAAA", hint(date!(1957 - 01 - 04), 1));
    let limit = crate::guard::GuardConfig::default().non_match_suspend;
    let mut suspended_after = None;
    for i in 1..=limit + 2 {
        match RightsCheck::new(&w.ports, &w.ledger, &w.guard)
            .check(&w.optician, context(&w), &bad)
            .await
        {
            Ok(RightsOutcome::NoMatch) => {}
            Err(RightsError::Refused(Refusal::Suspended { .. })) => {
                suspended_after = Some(i - 1);
                break;
            }
            // A person is asked for a fresh passkey first; refusing it counts too.
            Err(RightsError::Refused(Refusal::StepUpRequired)) => {}
            other => panic!("{other:?}"),
        }
    }
    let n = suspended_after.expect("the account was never suspended");
    assert!(n <= limit, "suspended only after {n} requests");
    // Suspended: even the right card gets nothing now.
    let good = by_token(&w, hint(date!(2012 - 09 - 14), 1), CareDomain::Opti);
    let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .check(&w.optician, context(&w), &good)
        .await
        .unwrap_err();
    assert!(matches!(e, RightsError::Refused(Refusal::Suspended { .. })));
    assert_eq!(ledger_size(&w).await, 0);
    let stored = w.ports.store.list_active_suspensions().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].subject_id, w.optician.account_id);
}

#[tokio::test]
async fn a_decoy_card_suspends_the_account_at_its_first_lookup() {
    let w = world().await;
    let decoys = crate::guard::decoys::issue(&w.ports, &w.insurer, 1)
        .await
        .unwrap();
    let r = RightsRequest {
        card: CardProof::Token(decoys[0].token.clone()),
        patient: hint(date!(1970 - 01 - 01), 1),
        domain: CareDomain::Opti,
        care_date: today(&w),
    };
    assert_eq!(run(&w, &r).await, RightsOutcome::NoMatch);
    let stored = w.ports.store.list_active_suspensions().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].signal, "decoy");
    let good = by_token(&w, hint(date!(2012 - 09 - 14), 1), CareDomain::Opti);
    let e = RightsCheck::new(&w.ports, &w.ledger, &w.guard)
        .check(&w.optician, context(&w), &good)
        .await
        .unwrap_err();
    assert!(matches!(e, RightsError::Refused(Refusal::Suspended { .. })));
}
