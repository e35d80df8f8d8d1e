use super::billing::{self, BillingPeriod};
use super::sepa_text::is_sepa_text;
use super::*;
use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use time::macros::{date, datetime};

const INSURERS: [&str; 3] = ["880000011", "880000029", "123"];
const CONTRACTS: [&str; 2] = ["ESSENTIEL", "CONFORT"];

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn iban(n: u64) -> Iban {
    Iban::from_bban("FR", &format!("{n:023}")).unwrap()
}

fn payee(n: u128) -> Payee {
    let bic = n
        .is_multiple_of(2)
        .then(|| Bic::parse("BNPAFRPPXXX").unwrap());
    Payee::new(
        uuid(0xA000 + n),
        &format!("Optique Hélène n°{n} & Fils"),
        iban(n as u64 + 1),
        bic,
    )
    .unwrap()
}

fn line(id: u128, professional: u128, cents: i64) -> PayableLine {
    PayableLine {
        line_id: uuid(id),
        invoice_ref: format!("F2026-{:04}", id / 3),
        line_no: (id % 3) as u32 + 1,
        professional_id: uuid(0xA000 + professional),
        insurer: AmcNumber::parse(INSURERS[(id % 3) as usize]).unwrap(),
        domain: CareDomain::ALL[(id % 10) as usize],
        contract: ContractCode::parse(CONTRACTS[(id % 2) as usize]).unwrap(),
        amount: Money::from_cents(cents),
        care_date: date!(2026 - 11 - 02),
    }
}

fn params() -> RunParams {
    RunParams {
        run_id: Uuid::parse_str("019ac9a2-7c00-7000-8000-000000000001").unwrap(),
        created_at: datetime!(2026-11-28 17:30:05 +01:00),
        execution_date: date!(2026 - 11 - 30),
    }
}

fn debtor() -> Debtor {
    Debtor::parse(
        "Rempart Règlements",
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )
    .unwrap()
}

fn payees(n: u128) -> Vec<Payee> {
    (0..n).map(payee).collect()
}

fn small_run() -> PaymentRun {
    let lines = vec![
        line(1, 1, 12_345),
        line(2, 0, 500),
        line(3, 1, 1),
        line(4, 0, 99_999),
        line(5, 2, 7_050),
    ];
    build_run(params(), payees(3), lines).unwrap()
}

fn line_err(r: Result<PaymentRun, PaymentError>) -> (Uuid, &'static str, String) {
    match r {
        Err(PaymentError::Line {
            line_id,
            field,
            reason,
        }) => (line_id, field, reason),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn one_transfer_per_professional_with_the_sum_of_its_lines() {
    let run = small_run();
    assert_eq!(run.transfers().len(), 3);
    let amounts: Vec<i64> = run.transfers().iter().map(|t| t.amount().cents()).collect();
    // Ordered by professional id: 0xA000, 0xA001, 0xA002.
    assert_eq!(amounts, [100_499, 12_346, 7_050]);
    assert_eq!(run.total(), Money::from_cents(119_895));
    assert_eq!(run.line_count(), 5);
    let t = run.transfer_for(uuid(0xA001)).unwrap();
    assert_eq!(t.seq(), 2);
    assert_eq!(
        t.lines().iter().map(|l| l.line_id).collect::<Vec<_>>(),
        [uuid(1), uuid(3)],
        "ordered by invoice reference, then line number"
    );
    assert_eq!(run.transfer_for(uuid(0xA009)), None);
    assert_eq!(run.paid_line_ids(), (1..=5).map(uuid).collect::<Vec<_>>());
}

#[test]
fn references_link_the_transfer_to_its_statement() {
    let run = small_run();
    assert_eq!(
        run.reference(),
        sepa_text::crockford_base32(params().run_id.as_u128())
    );
    assert_eq!(run.reference().len(), 26);
    let t = &run.transfers()[1];
    assert_eq!(t.statement_id(), format!("{}-2", run.reference()));
    assert_eq!(
        t.remittance(),
        format!(
            "REMPART RELEVE {}-2 LIGNES 2 DU 2026-11-30",
            run.reference()
        )
    );
    assert!(is_sepa_text(t.remittance()));
    assert_eq!(t.payee().name(), "Optique Helene ndeg1 + Fils");
}

#[test]
fn a_line_that_is_not_positive_is_refused_naming_the_field() {
    for cents in [0, -1, i64::MIN] {
        let r = build_run(params(), payees(1), vec![line(1, 0, 10), line(7, 0, cents)]);
        let (id, field, reason) = line_err(r);
        assert_eq!((id, field), (uuid(7), "amc_amount"));
        assert_eq!(reason, "must be more than zero");
    }
}

#[test]
fn a_line_given_twice_is_refused() {
    let r = build_run(params(), payees(1), vec![line(1, 0, 10), line(1, 0, 10)]);
    assert_eq!(line_err(r).1, "line_id");
}

#[test]
fn a_line_without_payee_is_refused() {
    let r = build_run(params(), payees(1), vec![line(1, 5, 10)]);
    let (id, field, _) = line_err(r);
    assert_eq!((id, field), (uuid(1), "professional_id"));
}

#[test]
fn two_payees_for_one_professional_are_refused() {
    let r = build_run(params(), vec![payee(0), payee(0)], vec![line(1, 0, 10)]);
    assert!(matches!(
        r,
        Err(PaymentError::Payee {
            field: "professional_id",
            ..
        })
    ));
}

#[test]
fn invoice_references_outside_the_format_are_refused() {
    for bad in ["", "-F1", "F 1", "F1;", "Fé", "=1+1", &"F".repeat(36)] {
        let mut l = line(1, 0, 10);
        l.invoice_ref = bad.to_string();
        let (_, field, _) = line_err(build_run(params(), payees(1), vec![l]));
        assert_eq!(field, "invoice_reference", "{bad:?}");
    }
    let mut l = line(1, 0, 10);
    l.invoice_ref = "A/2026.11-0001".into();
    assert!(build_run(params(), payees(1), vec![l]).is_ok());
}

#[test]
fn a_transfer_above_the_sepa_maximum_is_refused() {
    let ok = build_run(
        params(),
        payees(1),
        vec![line(1, 0, MAX_TRANSFER.cents() - 1), line(2, 0, 1)],
    )
    .unwrap();
    assert_eq!(ok.total(), MAX_TRANSFER);
    let r = build_run(
        params(),
        payees(1),
        vec![line(1, 0, MAX_TRANSFER.cents()), line(2, 0, 1)],
    );
    assert!(matches!(
        r,
        Err(PaymentError::Payee {
            field: "transfer_amount",
            ..
        })
    ));
}

#[test]
fn sums_that_overflow_are_an_error_not_a_wrap() {
    let r = build_run(
        params(),
        payees(1),
        vec![line(1, 0, i64::MAX), line(2, 0, i64::MAX)],
    );
    assert_eq!(
        r,
        Err(PaymentError::Overflow {
            field: "transfer_amount"
        })
    );
}

#[test]
fn a_run_total_beyond_the_control_sum_is_refused() {
    let below = Money::from_cents(MAX_RUN_TOTAL.cents() - MAX_TRANSFER.cents());
    assert_eq!(add_to_run_total(below, MAX_TRANSFER), Ok(MAX_RUN_TOTAL));
    assert!(matches!(
        add_to_run_total(below, Money::from_cents(MAX_TRANSFER.cents() + 1)),
        Err(PaymentError::Invalid {
            field: "run_total",
            ..
        })
    ));
    assert_eq!(
        add_to_run_total(Money::from_cents(i64::MAX), Money::from_cents(1)),
        Err(PaymentError::Overflow { field: "run_total" })
    );
    // 18 digits: the largest control sum still fits the XSD's totalDigits.
    assert_eq!(MAX_RUN_TOTAL.to_string().replace('.', "").len(), 18);
}

#[test]
fn bank_details_are_parsed_naming_the_field_without_echoing_them() {
    let id = uuid(1);
    let bad_iban = Payee::parse(id, "Dr Martin", "FR7630006000011234567890188", None);
    match bad_iban {
        Err(
            e @ PaymentError::Payee {
                field: "payee_iban",
                ..
            },
        ) => {
            let text = format!("{e} {e:?}");
            assert!(!text.contains("30006000011234567890188"), "{text}");
            assert!(!text.contains("Martin"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Payee::parse(id, "Dr Martin", "FR7630006000011234567890189", Some("BNPA")),
        Err(PaymentError::Payee {
            field: "payee_bic",
            ..
        })
    ));
    assert!(matches!(
        Payee::parse(id, " ;; ", "FR7630006000011234567890189", None),
        Err(PaymentError::Payee {
            field: "payee_name",
            ..
        })
    ));
    let p = Payee::parse(
        id,
        "Dr Martin",
        "fr76 3000 6000 0112 3456 7890 189",
        Some(" "),
    )
    .unwrap();
    assert_eq!(p.bic(), None);
    assert_eq!(p.iban().as_str(), "FR7630006000011234567890189");
    assert!(matches!(
        Debtor::parse("X", "DE00", "AGRIFRPP"),
        Err(PaymentError::Invalid {
            field: "debtor_iban",
            ..
        })
    ));
    assert!(matches!(
        Debtor::parse("X", "FR7630006000011234567890189", "AGRI"),
        Err(PaymentError::Invalid {
            field: "debtor_bic",
            ..
        })
    ));
    assert!(matches!(
        Debtor::parse("", "FR7630006000011234567890189", "AGRIFRPP"),
        Err(PaymentError::Invalid {
            field: "debtor_name",
            ..
        })
    ));
}

#[test]
fn an_empty_run_has_nothing_to_write() {
    let run = build_run(params(), payees(2), vec![]).unwrap();
    assert!(run.is_empty());
    assert_eq!(run.total(), Money::ZERO);
    assert!(matches!(
        pain001::to_vec(&run, &debtor()),
        Err(PaymentError::Invalid {
            field: "transfers",
            ..
        })
    ));
}

/// Every leaf element's text (entities resolved), by local name, in document order.
fn xml_texts(xml: &[u8]) -> Vec<(String, String)> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(s) => {
                stack.push(s.local_name().into_inner().to_string());
                current.clear();
            }
            Event::End(_) => {
                let name = stack.pop().unwrap();
                if !current.trim().is_empty() {
                    out.push((name, std::mem::take(&mut current)));
                }
                current.clear();
            }
            Event::Text(t) => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => current.push_str(match r.as_ref() {
                "apos" => "'",
                "amp" => "&",
                "quot" => "\"",
                "lt" => "<",
                "gt" => ">",
                other => panic!("unexpected entity {other:?}"),
            }),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn texts_of<'a>(texts: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    texts
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .collect()
}

#[test]
fn the_pain001_carries_the_run() {
    let run = small_run();
    let xml = pain001::to_vec(&run, &debtor()).unwrap();
    let s = std::str::from_utf8(&xml).unwrap();
    assert!(s.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(s.contains("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">"));
    let texts = xml_texts(&xml);
    assert_eq!(texts_of(&texts, "MsgId"), [run.reference()]);
    assert_eq!(texts_of(&texts, "CreDtTm"), ["2026-11-28T16:30:05Z"]);
    assert_eq!(texts_of(&texts, "NbOfTxs"), ["3", "3"]);
    assert_eq!(texts_of(&texts, "CtrlSum"), ["1198.95", "1198.95"]);
    assert_eq!(texts_of(&texts, "Dt"), ["2026-11-30"]);
    assert_eq!(texts_of(&texts, "InstdAmt"), ["1004.99", "123.46", "70.50"]);
    assert_eq!(
        texts_of(&texts, "BICFI"),
        ["AGRIFRPP", "BNPAFRPPXXX", "BNPAFRPPXXX"],
        "the debtor's agent, then the creditors' agents that are known (payees 0 and 2)"
    );
    assert_eq!(
        texts_of(&texts, "IBAN"),
        [
            "FR7630006000011234567890189",
            iban(1).as_str(),
            iban(2).as_str(),
            iban(3).as_str()
        ]
    );
    assert_eq!(
        texts_of(&texts, "Nm")[..2],
        ["Rempart Reglements", "Rempart Reglements"]
    );
    let ids: Vec<&str> = run.transfers().iter().map(Transfer::statement_id).collect();
    assert_eq!(texts_of(&texts, "EndToEndId"), ids);
    assert!(s.contains("<InstdAmt Ccy=\"EUR\">1004.99</InstdAmt>"));
}

#[test]
fn an_apostrophe_in_a_name_is_escaped_by_the_writer() {
    let p = Payee::new(uuid(0xA000), "L'Œil d'Or", iban(1), None).unwrap();
    assert_eq!(p.name(), "L'OEil d'Or");
    let run = build_run(params(), vec![p], vec![line(1, 0, 100)]).unwrap();
    let xml = pain001::to_vec(&run, &debtor()).unwrap();
    let texts = xml_texts(&xml);
    assert_eq!(texts_of(&texts, "Nm")[2], "L'OEil d'Or");
}

fn read_csv(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(bytes)
        .records()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_statement_lists_each_line_then_the_total() {
    let run = small_run();
    let t = run.transfer_for(uuid(0xA001)).unwrap();
    let bytes = statement::write_csv(&run, t, Vec::new()).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with(&statement::HEADER.join(",")));
    let rows = read_csv(&bytes);
    assert_eq!(rows.len(), 3);
    let run_id = run.run_id().to_string();
    assert_eq!(
        &rows[0],
        &csv::StringRecord::from(vec![
            "line",
            &run_id,
            t.statement_id(),
            "2026-11-30",
            t.statement_id(),
            "F2026-0000",
            "2",
            "2026-11-02",
            "MED",
            "880000029",
            "CONFORT",
            "123.45",
            "",
        ])
    );
    assert_eq!(&rows[2][0], "total");
    assert_eq!(&rows[2][12], "123.46");
    assert_eq!(
        statement::file_name(t),
        format!("statement-{}.csv", t.statement_id())
    );
    assert!(!text.contains("Helene") && !text.contains("FR76"));
}

#[test]
fn billing_groups_by_insurer_domain_and_contract() {
    let run = small_run();
    let period = BillingPeriod::new(date!(2026 - 11 - 01), date!(2026 - 11 - 30)).unwrap();
    let bills = billing::bill(period, run.billed_lines()).unwrap();
    let insurers: Vec<&str> = bills.iter().map(|b| b.insurer.as_str()).collect();
    assert_eq!(insurers, ["123", "880000011", "880000029"]);
    let sum: i64 = bills.iter().map(|b| b.total.cents()).sum();
    assert_eq!(sum, run.total().cents());
    let b = &bills[1]; // 880000011: line 3 only (RAD, CONFORT)
    assert_eq!(b.lines, 1);
    assert_eq!(b.groups.len(), 1);
    assert_eq!(b.groups[0].domain, CareDomain::Rad);
    assert_eq!(b.groups[0].contract.as_str(), "CONFORT");
    assert_eq!(b.groups[0].invoices[0].invoice_ref, "F2026-0001");
    assert_eq!(b.runs, [run.run_id()]);

    let outside = BillingPeriod::new(date!(2026 - 12 - 01), date!(2026 - 12 - 31)).unwrap();
    assert_eq!(billing::bill(outside, run.billed_lines()).unwrap(), []);
    assert!(matches!(
        BillingPeriod::new(date!(2026 - 12 - 02), date!(2026 - 12 - 01)),
        Err(PaymentError::Invalid {
            field: "period",
            ..
        })
    ));
    let twice = run.billed_lines().chain(run.billed_lines());
    assert!(matches!(
        billing::bill(period, twice),
        Err(PaymentError::Line {
            field: "line_id",
            ..
        })
    ));
}

#[test]
fn billing_csv_and_json_carry_the_same_totals() {
    let run = small_run();
    let period = BillingPeriod::new(date!(2026 - 11 - 01), date!(2026 - 11 - 30)).unwrap();
    for b in billing::bill(period, run.billed_lines()).unwrap() {
        let rows = read_csv(&billing::write_csv(&b, Vec::new()).unwrap());
        let last = rows.last().unwrap();
        assert_eq!(
            (&last[0], &last[9]),
            ("total", b.total.to_string().as_str())
        );
        let invoice_sum: i64 = rows
            .iter()
            .filter(|r| &r[0] == "invoice")
            .map(|r| Money::parse_euros(&r[9], "amc_amount").unwrap().cents())
            .sum();
        assert_eq!(invoice_sum, b.total.cents());
        let json: serde_json::Value =
            serde_json::from_slice(&billing::write_json(&b, Vec::new()).unwrap()).unwrap();
        assert_eq!(json["total_cents"], b.total.cents());
        assert_eq!(json["insurer"], b.insurer.as_str());
        assert_eq!(json["period"]["start"], "2026-11-01");
        let group_sum: i64 = json["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["total_cents"].as_i64().unwrap())
            .sum();
        assert_eq!(group_sum, b.total.cents());
        assert!(billing::file_stem(&b).starts_with(&format!(
            "billing-{}-2026-11-01-2026-11-30",
            b.insurer.as_str()
        )));
    }
}

fn arb_lines() -> impl Strategy<Value = Vec<PayableLine>> {
    prop::collection::vec((0u128..6, 1i64..2_000_000_000, 0u128..1_000), 0..120).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (prof, cents, salt))| {
                let mut l = line(i as u128 * 1_000 + salt, prof, cents);
                l.line_no = (salt % 4) as u32 + 1;
                l
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn sums_agree_lines_transfers_xml_and_bills(lines in arb_lines()) {
        let line_sum: i64 = lines.iter().map(|l| l.amount.cents()).sum();
        let ids: std::collections::BTreeSet<Uuid> = lines.iter().map(|l| l.line_id).collect();
        let run = build_run(params(), payees(6), lines).unwrap();
        let transfer_sum: i64 = run.transfers().iter().map(|t| t.amount().cents()).sum();
        prop_assert_eq!(transfer_sum, line_sum);
        prop_assert_eq!(run.total().cents(), line_sum);
        for t in run.transfers() {
            let s: i64 = t.lines().iter().map(|l| l.amount.cents()).sum();
            prop_assert_eq!(s, t.amount().cents());
        }
        // No line in two transfers, none lost.
        let paid = run.paid_line_ids();
        prop_assert_eq!(paid.len(), ids.len());
        prop_assert_eq!(paid.iter().copied().collect::<std::collections::BTreeSet<_>>(), ids);
        let in_transfers: usize = run.transfers().iter().map(|t| t.lines().len()).sum();
        prop_assert_eq!(in_transfers, paid.len());

        let period = BillingPeriod::new(date!(2026 - 11 - 30), date!(2026 - 11 - 30)).unwrap();
        let bills = billing::bill(period, run.billed_lines()).unwrap();
        let billed: i64 = bills.iter().map(|b| b.total.cents()).sum();
        prop_assert_eq!(billed, line_sum);
        for b in &bills {
            let g: i64 = b.groups.iter().map(|g| g.total.cents()).sum();
            prop_assert_eq!(g, b.total.cents());
            for g in &b.groups {
                let i: i64 = g.invoices.iter().map(|i| i.amount.cents()).sum();
                prop_assert_eq!(i, g.total.cents());
            }
        }

        if !run.is_empty() {
            let xml = pain001::to_vec(&run, &debtor()).unwrap();
            let texts = xml_texts(&xml);
            let amounts: i64 = texts_of(&texts, "InstdAmt")
                .iter()
                .map(|a| Money::parse_euros(a, "InstdAmt").unwrap().cents())
                .sum();
            prop_assert_eq!(amounts, line_sum);
            for sum in texts_of(&texts, "CtrlSum") {
                prop_assert_eq!(Money::parse_euros(sum, "CtrlSum").unwrap().cents(), line_sum);
            }
            for (name, text) in &texts {
                prop_assert!(is_sepa_text(text), "{} {:?}", name, text);
            }
            for u in texts_of(&texts, "Ustrd") {
                prop_assert!(u.chars().count() <= MAX_REMITTANCE_CHARS);
            }
            for e in texts_of(&texts, "EndToEndId") {
                prop_assert!(e.len() <= 35);
            }
        }
    }

    #[test]
    fn the_same_lines_in_any_order_give_the_same_run_and_file(
        (lines, shuffled) in arb_lines().prop_flat_map(|l| (Just(l.clone()), Just(l).prop_shuffle()))
    ) {
        let a = build_run(params(), payees(6), lines).unwrap();
        let mut p = payees(6);
        p.reverse();
        let b = build_run(params(), p, shuffled).unwrap();
        prop_assert_eq!(&a, &b);
        if !a.is_empty() {
            prop_assert_eq!(pain001::to_vec(&a, &debtor()).unwrap(), pain001::to_vec(&b, &debtor()).unwrap());
        }
    }

    #[test]
    fn remittance_and_names_stay_in_the_sepa_set_and_length(
        name in any::<String>(),
        n in 1usize..50,
        run_id in any::<u128>(),
    ) {
        let Ok(p) = Payee::new(uuid(0xA000), &name, iban(1), None) else {
            return Ok(());
        };
        prop_assert!(is_sepa_text(p.name()) && p.name().chars().count() <= MAX_NAME_CHARS);
        let lines = (0..n as u128).map(|i| line(i, 0, 1)).collect();
        let mut params = params();
        params.run_id = Uuid::from_u128(run_id);
        let run = build_run(params, vec![p], lines).unwrap();
        let t = &run.transfers()[0];
        prop_assert!(is_sepa_text(t.remittance()));
        prop_assert!(t.remittance().len() <= MAX_REMITTANCE_CHARS);
        prop_assert!(t.remittance().contains(t.statement_id()));
        prop_assert!(t.statement_id().len() <= 35);
    }
}

#[test]
fn a_statement_cell_that_looks_like_a_formula_is_neutralised() {
    let mut l = line(1, 0, 10);
    l.contract = ContractCode::parse("-CMD").unwrap();
    let run = build_run(params(), payees(1), vec![l]).unwrap();
    let bytes = statement::write_csv(&run, &run.transfers()[0], Vec::new()).unwrap();
    assert_eq!(&read_csv(&bytes)[0][10], "'-CMD");
    let period = BillingPeriod::new(date!(2026 - 11 - 30), date!(2026 - 11 - 30)).unwrap();
    let bill = &billing::bill(period, run.billed_lines()).unwrap()[0];
    assert_eq!(
        &read_csv(&billing::write_csv(bill, Vec::new()).unwrap())[0][5],
        "'-CMD"
    );
}

proptest! {
    #[test]
    fn bills_over_a_period_equal_the_runs_executed_in_it(
        first in arb_lines(),
        second in arb_lines(),
        day in 1u8..=28,
    ) {
        // Two runs a month apart; the second run's lines get fresh ids.
        let second: Vec<PayableLine> = second
            .into_iter()
            .map(|mut l| {
                l.line_id = Uuid::from_u128(l.line_id.as_u128() + (1 << 100));
                l
            })
            .collect();
        let run_a = build_run(params(), payees(6), first).unwrap();
        let mut p = params();
        p.run_id = uuid(99);
        p.execution_date = date!(2026 - 12 - 01).replace_day(day).unwrap();
        let run_b = build_run(p, payees(6), second).unwrap();
        let november = BillingPeriod::new(date!(2026 - 11 - 01), date!(2026 - 11 - 30)).unwrap();
        let both = BillingPeriod::new(date!(2026 - 11 - 01), date!(2026 - 12 - 31)).unwrap();
        let total = |period| -> i64 {
            billing::bill(period, run_a.billed_lines().chain(run_b.billed_lines()))
                .unwrap()
                .iter()
                .map(|b| b.total.cents())
                .sum()
        };
        prop_assert_eq!(total(november), run_a.total().cents());
        prop_assert_eq!(total(both), run_a.total().cents() + run_b.total().cents());
    }
}
