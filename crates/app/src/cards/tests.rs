use super::*;
use crate::demo::tests::{MemStore, ports};
use crypto::cards::verify;
use crypto::{CardVerifyingKeys, SeededRandom};
use domain::contracts::ContractCode;
use domain::ids::AmcNumber;
use std::sync::Arc;
use time::OffsetDateTime;
use time::macros::date;
use uuid::Uuid;

const GUARANTEES: &str = r#"{"format":1,"contract":"CONFORT","lines":[
  {"domain":"PHAR","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"MED","item":"*","formula":{"kind":"br_percent","percent":150}},
  {"domain":"LABO","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"RAD","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"AUXM","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"SVIL","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"HOSP","item":"*","formula":{"kind":"br_percent","percent":200}},
  {"domain":"DENT","item":"*","formula":{"kind":"br_percent","percent":125}},
  {"domain":"DENT","item":"prosthesis","formula":{"kind":"br_percent","percent":400}},
  {"domain":"OPTI","item":"*","formula":{"kind":"br_percent","percent":100}},
  {"domain":"OPTI","item":"class_a","formula":{"kind":"in_full"}},
  {"domain":"AUDI","item":"class_ii","formula":{"kind":"br_percent_plus","percent":100,"amount_cents":160000,"per":"ear"}}
]}"#;

fn issuer(seed: u64, kid: u32) -> CardIssuer {
    let rng = SeededRandom::new(seed);
    CardIssuer::new(
        Arc::new(CardSigningKey::generate(kid, &rng)),
        CodeHasher::new([9u8; 32]),
    )
}

fn published(issuer: &CardIssuer) -> CardVerifyingKeys {
    let json = serde_json::to_string(&[issuer.signer.published()]).unwrap();
    CardVerifyingKeys::from_json(&json).unwrap()
}

fn insurer() -> InsurerRecord {
    InsurerRecord {
        id: Uuid::from_u128(1),
        amc: AmcNumber::parse("880000011").unwrap(),
        name: "Mutuelle des Tilleuls".into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn contract(insurer: &InsurerRecord) -> ContractRecord {
    ContractRecord {
        id: Uuid::from_u128(2),
        insurer_id: insurer.id,
        code: ContractCode::parse("CONFORT").unwrap(),
        version: 1,
        label: "Confort".into(),
        responsible: true,
        effective_from: date!(2026 - 01 - 01),
        effective_to: None,
        guarantees: GUARANTEES.into(),
        created_at: OffsetDateTime::UNIX_EPOCH,
    }
}

fn family() -> Vec<CardBeneficiary> {
    vec![
        CardBeneficiary {
            first_name: "Hélène".into(),
            birth_date: date!(1957 - 01 - 04),
            birth_rank: BirthRank::new(1).unwrap(),
        },
        CardBeneficiary {
            first_name: "Léa".into(),
            birth_date: date!(2015 - 06 - 30),
            birth_rank: BirthRank::new(2).unwrap(),
        },
    ]
}

fn issue_one(issuer: &CardIssuer) -> (Ports, IssuedCard) {
    let ports = ports(Arc::new(MemStore::default()));
    let ins = insurer();
    let card = issuer
        .issue(
            &ports,
            &ins,
            &MemberNumber::parse("100569608635").unwrap(),
            &family(),
            &contract(&ins),
            (date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
        )
        .unwrap();
    (ports, card)
}

#[test]
fn token_verifies_with_published_keys_and_carries_the_contract_rates() {
    let issuer = issuer(1, 3);
    let (_, card) = issue_one(&issuer);
    let claims = verify(&card.token, &published(&issuer)).unwrap();
    assert_eq!(claims.card_id, card.record.id);
    assert_eq!(claims.amc_number, "880000011");
    assert_eq!(claims.member_number, "100569608635");
    assert_eq!(
        date_from_days(claims.valid_from),
        Some(date!(2026 - 01 - 01))
    );
    assert_eq!(date_from_days(claims.valid_to), Some(date!(2026 - 12 - 31)));
    let regimes: Vec<(String, String)> = claims
        .domains
        .iter()
        .map(|d| (d.code.clone(), token_regime_text(d.regime)))
        .collect();
    let expected = [
        ("PHAR", "100%"),
        ("MED", "150%"),
        ("LABO", "100%"),
        ("RAD", "100%"),
        ("AUXM", "100%"),
        ("SVIL", "100%"),
        ("HOSP", "200%"),
        ("DENT", "125%"),
        ("OPTI", "PEC"),
        ("AUDI", "PEC"),
    ];
    assert_eq!(
        regimes,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(card.record.signing_kid, 3);
    assert_eq!(card.record.convention_type, "TP");
    assert_eq!(card.record.routing_criterion, "MDT");
    assert_eq!(parse_domains(&card.record.domains).unwrap().len(), 10);
    assert_eq!(card.beneficiaries, family());
    // The token holds no name nor date of birth.
    assert!(!card.token.contains("Hélène") && !card.token.contains("1957"));
}

#[test]
fn token_of_an_unknown_key_or_tampered_is_refused() {
    let issuer_a = issuer(1, 1);
    let issuer_b = issuer(2, 1);
    let (_, card) = issue_one(&issuer_a);
    // Same kid, other key.
    assert_eq!(
        verify(&card.token, &published(&issuer_b)),
        Err(TokenError::BadSignature)
    );
    // Unknown kid.
    let other_kid = issuer(1, 7);
    assert_eq!(
        verify(&card.token, &published(&other_kid)),
        Err(TokenError::UnknownKey(1))
    );
    // Any changed character is refused.
    let keys = published(&issuer_a);
    for i in [5, 30, 60, card.token.len() - 3] {
        let mut t = card.token.clone().into_bytes();
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(t).unwrap();
        assert!(verify(&t, &keys).is_err(), "position {i}");
    }
}

#[test]
fn verification_accepts_every_published_kid() {
    let old = issuer(1, 1);
    let new = issuer(2, 2);
    let (_, a) = issue_one(&old);
    let (_, b) = issue_one(&new);
    let json = serde_json::to_string(&[old.signer.published(), new.signer.published()]).unwrap();
    let keys = CardVerifyingKeys::from_json(&json).unwrap();
    assert!(verify(&a.token, &keys).is_ok());
    assert!(verify(&b.token, &keys).is_ok());
}

#[test]
fn code_hash_verifies_wrong_code_fails_and_code_is_never_stored() {
    let issuer = issuer(1, 1);
    let (ports, card) = issue_one(&issuer);
    let hasher = issuer.code_hasher();
    assert_eq!(card.record.code_hash.len(), 32);
    assert!(code_matches(hasher, &card.record, card.code.as_str()));
    assert!(code_matches(
        hasher,
        &card.record,
        &card.code.as_str().to_lowercase().replace('-', " ")
    ));
    assert!(!code_matches(hasher, &card.record, "0000-0000"));
    assert!(!code_matches(hasher, &card.record, "not a code"));
    // Bound to the card: the same code on another card does not match.
    let mut other = card.record.clone();
    other.id = Uuid::from_u128(99);
    assert!(!code_matches(hasher, &other, card.code.as_str()));
    // The code appears nowhere in the record.
    let plain = card.code.as_str().replace('-', "");
    let shown = format!("{:?}", card.record);
    assert!(!shown.contains(&plain) && !shown.contains(card.code.as_str()));
    assert!(
        !card
            .record
            .code_hash
            .windows(plain.len())
            .any(|w| w == plain.as_bytes())
    );
    assert!(!format!("{card:?}").contains(card.code.as_str()));

    // Re-issuing gives a new code; the old one no longer matches the new hash.
    let ins = insurer();
    let again = issuer.reissue(&ports, &ins, &card.record).unwrap();
    assert_eq!(again.record.id, card.record.id);
    assert!(code_matches(hasher, &again.record, again.code.as_str()));
    assert!(!code_matches(hasher, &again.record, card.code.as_str()));
    let claims = verify(&again.token, &published(&issuer)).unwrap();
    assert_eq!(claims, verify(&card.token, &published(&issuer)).unwrap());
}

#[test]
fn issuance_refuses_inconsistent_input() {
    let issuer = issuer(1, 1);
    let ports = ports(Arc::new(MemStore::default()));
    let ins = insurer();
    let member = MemberNumber::parse("M1").unwrap();
    let c = contract(&ins);
    let year = (date!(2026 - 01 - 01), date!(2026 - 12 - 31));
    assert!(issuer.issue(&ports, &ins, &member, &[], &c, year).is_err());
    let backwards = (year.1, year.0);
    assert!(
        issuer
            .issue(&ports, &ins, &member, &family(), &c, backwards)
            .is_err()
    );
    let mut foreign = c.clone();
    foreign.insurer_id = Uuid::from_u128(42);
    assert!(
        issuer
            .issue(&ports, &ins, &member, &family(), &foreign, year)
            .is_err()
    );
    let mut bad = c;
    bad.id = Uuid::from_u128(43);
    bad.guarantees = "{".into();
    assert!(matches!(
        issuer.issue(&ports, &ins, &member, &family(), &bad, year),
        Err(CardError::Guarantees(_))
    ));
}

#[test]
fn regimes_parse_as_printed() {
    assert_eq!(parse_regime("PEC"), Some(Regime::PriorApproval));
    assert_eq!(parse_regime("100%"), Some(Regime::Rate(Rate::percent(100))));
    assert_eq!(
        parse_regime("12.50%"),
        Some(Regime::Rate(Rate::from_basis_points(1250)))
    );
    for bad in ["", "%", "100", "1.5%", "-1%", "SP", "x%"] {
        assert_eq!(parse_regime(bad), None, "{bad}");
    }
    let d = domains_from_guarantees(GUARANTEES).unwrap();
    assert_eq!(parse_domains(&domains_text(&d)).unwrap(), d);
}

#[test]
fn card_domains_are_stored_as_compact_text() {
    let d = domains_from_guarantees(GUARANTEES).unwrap();
    let text = domains_text(&d);
    assert!(text.starts_with("PHAR=100%;MED=150%;"), "{text}");
    assert!(text.ends_with(";OPTI=PEC;AUDI=PEC"), "{text}");
    assert_eq!(text.split(';').count(), 10);
    assert_eq!(parse_domains("").unwrap(), Vec::new());
    assert_eq!(
        parse_domains("DENT=12.50%").unwrap(),
        vec![(
            CareDomain::Dent,
            Regime::Rate(Rate::from_basis_points(1250))
        )]
    );
    let err = |t: &str| parse_domains(t).unwrap_err().to_string();
    assert!(err("PHAR").contains("has no regime"));
    assert!(err("XXXX=100%").contains("unknown domain code"));
    assert!(err("PHAR=100").contains("domain PHAR: bad regime"));
    assert!(err("PHAR=100%;").contains("has no regime"));
    // The JSON of earlier releases is not read: migration 0032 rewrote it.
    assert!(parse_domains(r#"[{"domain":"PHAR","regime":"100%"}]"#).is_err());
}

#[test]
fn issue_uses_the_vault_current_key_and_code_hasher() {
    let ports = ports(Arc::new(MemStore::default()));
    let ins = insurer();
    let card = issue(
        &ports,
        &ins,
        &MemberNumber::parse("M1").unwrap(),
        &family(),
        &contract(&ins),
        (date!(2026 - 01 - 01), date!(2026 - 12 - 31)),
    )
    .unwrap();
    let keys = ports.vault.card_keys();
    let claims = verify(&card.token, &keys).unwrap();
    assert_eq!(claims.card_id, card.record.id);
    assert_eq!(card.record.signing_kid, ports.vault.card_signer().kid());
    assert!(code_matches(
        ports.vault.code_hasher(),
        &card.record,
        card.code.as_str()
    ));
    let again = reissue(&ports, &ins, &card.record).unwrap();
    assert!(verify(&again.token, &keys).is_ok());
    assert!(!code_matches(
        ports.vault.code_hasher(),
        &again.record,
        card.code.as_str()
    ));
}

#[test]
fn an_unprinted_card_is_the_printed_record_without_a_token_and_export_can_print_it() {
    let issuer = issuer(1, 3);
    let (ports, printed) = issue_one(&issuer);
    let ins = insurer();
    let c = contract(&ins);
    let member = MemberNumber::parse("100569608635").unwrap();
    let validity = (date!(2026 - 01 - 01), date!(2026 - 12 - 31));
    let domains = card_domains_text(&c).unwrap();
    let card = issuer
        .issue_unprinted(&ports, &ins, &member, 2, &c, validity, &domains)
        .unwrap();
    // The same record as a printed card's, but for its id, time and code.
    assert_eq!(
        CardRecord {
            id: printed.record.id,
            created_at: printed.record.created_at,
            code_hash: printed.record.code_hash.clone(),
            ..card.clone()
        },
        printed.record
    );
    assert_ne!(card.id, printed.record.id);
    // No code until it is printed: no code matches it.
    assert!(card.code_hash.is_empty());
    let code = crypto::cards::generate_verification_code(ports.rng.as_ref());
    assert!(!code_matches(issuer.code_hasher(), &card, code.as_str()));
    // Printing signs a token for it with the contract's rates.
    let again = issuer.reissue(&ports, &ins, &card).unwrap();
    let claims = verify(&again.token, &published(&issuer)).unwrap();
    assert_eq!(claims.card_id, card.id);
    assert_eq!(claims.domains.len(), 10);
    // The checks every card passes.
    let err = |r: Result<CardRecord, CardError>| r.unwrap_err().to_string();
    assert!(
        err(issuer.issue_unprinted(&ports, &ins, &member, 0, &c, validity, &domains))
            .contains("at least one beneficiary")
    );
    let backwards = (validity.1, validity.0);
    assert!(
        err(issuer.issue_unprinted(&ports, &ins, &member, 2, &c, backwards, &domains))
            .contains("ends before it starts")
    );
    let other = InsurerRecord {
        id: Uuid::from_u128(9),
        ..insurer()
    };
    assert!(
        err(issuer.issue_unprinted(&ports, &other, &member, 2, &c, validity, &domains))
            .contains("another insurer")
    );
}
