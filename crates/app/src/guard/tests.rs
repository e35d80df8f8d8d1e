//! The guard over synthetic events with a manual clock: each signal fires on its pattern, and
//! an honest practice's day (an optician with 25 patients, a pharmacy with 300) stays silent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::memory::MemGuard;
use super::*;
use crate::ManualClock;
use domain::accounts::Role;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::{IpAddr, Ipv4Addr};
use time::macros::datetime;

/// Thursday 15 January 2026, 07:30 UTC = 08:30 in Paris.
const MORNING: OffsetDateTime = datetime!(2026-01-15 07:30 UTC);

struct World {
    guard: Guard,
    store: Arc<MemGuard>,
    clock: Arc<ManualClock>,
}

fn world(config: GuardConfig) -> World {
    let store = Arc::new(MemGuard::new());
    let clock = Arc::new(ManualClock::new(MORNING));
    let dyn_store: Arc<dyn GuardStore> = store.clone();
    World {
        guard: Guard::new(dyn_store, clock.clone(), config),
        store,
        clock,
    }
}

impl World {
    fn practice(&self, profession: &str, hours: Option<&str>) -> Uuid {
        let id = Uuid::new_v4();
        self.store.add_practice(
            id,
            PracticeProfile {
                profession: profession.to_string(),
                opening_hours: hours.map(str::to_string),
            },
        );
        id
    }

    fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Admit, then observe a lookup; the admission's answer.
    async fn lookup(&self, actor: &Actor, outcome: Outcome) -> Result<(), Refusal> {
        self.lookup_from(
            actor,
            outcome,
            Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
        )
        .await
    }

    async fn lookup_from(
        &self,
        actor: &Actor,
        outcome: Outcome,
        client: Option<IpAddr>,
    ) -> Result<(), Refusal> {
        let request = Request {
            actor,
            client,
            insurer: Some("11111111"),
            domain: Some("OPTI"),
        };
        self.guard.admit(&request).await?;
        self.guard
            .observe(&Observation {
                request,
                card_id: None,
                member_number: None,
                outcome,
            })
            .await;
        Ok(())
    }

    async fn alerts(&self) -> Vec<AlertRecord> {
        self.store.list_alerts(1000).await.unwrap()
    }

    async fn suspended(&self) -> Vec<SuspensionRecord> {
        self.store.list_active_suspensions().await.unwrap()
    }
}

fn person(org: Uuid, uv_at: OffsetDateTime) -> Actor {
    Actor {
        account_id: Uuid::new_v4(),
        organisation_id: org,
        role: Role::Professional,
        display_name: "Claire".into(),
        session_id: Some(Uuid::new_v4()),
        credential_id: Some(Uuid::new_v4()),
        last_uv_at: Some(uv_at),
    }
}

fn machine(org: Uuid) -> Actor {
    Actor {
        session_id: None,
        last_uv_at: None,
        ..person(org, MORNING)
    }
}

fn patient(n: u128) -> Outcome {
    Outcome::Match {
        beneficiary: Uuid::from_u128(n + 1),
    }
}

/// An honest day: `patients` patients spread over about 10 hours from 08:30 (Paris), with
/// human, irregular gaps, a few patients looked up twice, a few typing mistakes.
async fn honest_day(w: &World, actor: &Actor, patients: u32, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let day = Duration::hours(10).whole_seconds();
    let mean_gap = day / i64::from(patients);
    for p in 0..patients {
        // Exponential-ish gaps: between 20 % and 180 % of the mean.
        let gap = rng.random_range(mean_gap / 5..=mean_gap * 9 / 5);
        w.advance(Duration::seconds(gap));
        if let Err(e) = w.lookup(actor, patient(u128::from(p))).await {
            panic!("patient {p}: {e:?}; alerts {:?}", w.alerts().await);
        }
        if rng.random_range(0..10) == 0 {
            // Looked up again a few minutes later (rights for another domain, a retry).
            w.advance(Duration::seconds(rng.random_range(30..300)));
            w.lookup(actor, patient(u128::from(p))).await.unwrap();
        }
        if rng.random_range(0..60) == 0 {
            // A typo: the card number mistyped, then right.
            w.advance(Duration::seconds(rng.random_range(10..40)));
            w.lookup(actor, Outcome::NonMatch).await.unwrap();
        }
    }
}

#[tokio::test]
async fn an_honest_optician_day_raises_nothing() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", Some("mon-sat 08:30-19:30"));
    let actor = person(org, MORNING);
    honest_day(&w, &actor, 25, 1).await;
    assert_eq!(w.alerts().await, vec![]);
    assert_eq!(w.suspended().await, vec![]);
}

#[tokio::test]
async fn an_honest_pharmacy_day_raises_nothing() {
    let w = world(GuardConfig::default());
    let org = w.practice("pharmacist", Some("mon-sat 08:30-20:30"));
    let actor = person(org, MORNING);
    honest_day(&w, &actor, 300, 2).await;
    assert_eq!(w.alerts().await, vec![]);
    assert_eq!(w.suspended().await, vec![]);
    // And the next day too, with the first day as its own history.
    w.advance(Duration::hours(13));
    honest_day(&w, &actor, 300, 3).await;
    assert_eq!(w.alerts().await, vec![]);
}

#[tokio::test]
async fn distinct_beneficiaries_in_10_minutes_demand_a_step_up_then_pass_after_it() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let mut actor = person(org, MORNING);
    // The optician norm is 10 in 10 minutes: the 11th distinct patient demands a step-up.
    for n in 0..11 {
        w.advance(Duration::seconds(17 + n as i64 * 3));
        w.lookup(&actor, patient(n)).await.unwrap();
    }
    w.advance(Duration::seconds(20));
    assert_eq!(
        w.lookup(&actor, patient(11)).await,
        Err(Refusal::StepUpRequired)
    );
    let alerts = w.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].signal, "distinct_10min");
    assert_eq!(alerts[0].action, "step_up_required");
    assert_eq!(alerts[0].account_id, Some(actor.account_id));
    assert!(alerts[0].detail.contains("11 distinct"));
    // A fresh passkey assertion lets the person go on.
    actor.last_uv_at = Some(w.guard.now());
    w.advance(Duration::seconds(20));
    w.lookup(&actor, patient(11)).await.unwrap();
    assert_eq!(w.suspended().await, vec![]);
}

#[tokio::test]
async fn a_hijacked_session_at_machine_speed_is_suspended_within_seconds() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    // The attacker rides a session whose owner signed in this morning.
    let actor = person(org, MORNING);
    let start = w.guard.now();
    let mut disclosed = 0;
    let mut suspended_at = None;
    for n in 0..500 {
        w.advance(Duration::milliseconds(200));
        match w.lookup(&actor, patient(n)).await {
            Ok(()) => disclosed += 1,
            Err(Refusal::Suspended { subject, .. }) => {
                assert_eq!(subject, Subject::Account);
                suspended_at = Some(w.guard.now());
                break;
            }
            Err(Refusal::StepUpRequired | Refusal::Throttled { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    let suspended_at = suspended_at.expect("suspended");
    // At most 20 beyond the optician's normal 10 in 10 minutes, within 60 seconds.
    assert!(disclosed <= 10 + 20, "{disclosed} disclosed");
    assert!(suspended_at - start <= Duration::seconds(60));
    let s = w.suspended().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].subject_id, actor.account_id);
    assert_eq!(s[0].signal, "step_up_refused");
    let critical: Vec<_> = w
        .alerts()
        .await
        .into_iter()
        .filter(|a| a.severity == "critical")
        .collect();
    assert_eq!(critical.len(), 1);
    assert_eq!(critical[0].action, "account_suspended");
}

#[tokio::test]
async fn distinct_beneficiaries_in_24_hours_step_up_and_far_above_suspend() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let mut actor = person(org, MORNING);
    // 80 patients, one every 6 minutes: never more than 2 in 10 minutes.
    for n in 0..80 {
        w.advance(Duration::minutes(6));
        w.lookup(&actor, patient(n)).await.unwrap();
    }
    assert_eq!(w.alerts().await, vec![]);
    w.advance(Duration::minutes(6));
    w.lookup(&actor, patient(80)).await.unwrap();
    w.advance(Duration::minutes(6));
    assert_eq!(
        w.lookup(&actor, patient(81)).await,
        Err(Refusal::StepUpRequired)
    );
    assert_eq!(w.alerts().await[0].signal, "distinct_24h");
    // Stepping up acknowledges; twice the norm (160) in 24 hours suspends anyway.
    for n in 81..200 {
        actor.last_uv_at = Some(w.guard.now());
        w.advance(Duration::minutes(3));
        if let Err(Refusal::Suspended { .. }) = w.lookup(&actor, patient(n)).await {
            break;
        }
    }
    let s = w.suspended().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].signal, "distinct_24h");
}

#[tokio::test]
async fn the_account_own_history_raises_its_norm() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let mut actor = person(org, MORNING);
    // A busy day (a school screening): 110 patients, stepping up when asked.
    for n in 0..110 {
        actor.last_uv_at = Some(w.guard.now());
        w.advance(Duration::minutes(6));
        w.lookup(&actor, patient(n)).await.unwrap();
    }
    assert!(!w.alerts().await.is_empty());
    let before = w.alerts().await.len();
    // Two days later, 100 patients: above the peer norm (80) but within 150 % of its own
    // history (110 × 1.5): silent.
    w.advance(Duration::hours(48));
    actor.last_uv_at = Some(w.guard.now()); // signed in again that morning
    for n in 1000..1100 {
        w.advance(Duration::minutes(6));
        w.lookup(&actor, patient(n)).await.unwrap();
    }
    assert_eq!(w.alerts().await.len(), before);
}

#[tokio::test]
async fn non_matches_step_up_at_the_5th_and_suspend_at_the_11th() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let mut actor = person(org, MORNING);
    for _ in 0..4 {
        w.advance(Duration::seconds(45));
        w.lookup(&actor, Outcome::NonMatch).await.unwrap();
    }
    w.advance(Duration::seconds(45));
    w.lookup(&actor, Outcome::NonMatch).await.unwrap();
    w.advance(Duration::seconds(45));
    assert_eq!(
        w.lookup(&actor, Outcome::NonMatch).await,
        Err(Refusal::StepUpRequired)
    );
    // A person who steps up may go on; the 11th non-match within the hour suspends.
    for i in 6..=11 {
        actor.last_uv_at = Some(w.guard.now());
        w.advance(Duration::seconds(45));
        let r = w.lookup(&actor, Outcome::NonMatch).await;
        assert!(r.is_ok(), "non-match {i}: {r:?}");
    }
    let s = w.suspended().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].signal, "non_match");
    assert!(s[0].reason.starts_with("11 non-matching"));
    w.advance(Duration::seconds(45));
    assert!(matches!(
        w.lookup(&actor, patient(1)).await,
        Err(Refusal::Suspended { .. })
    ));
}

#[tokio::test]
async fn a_machine_cannot_step_up_so_it_is_suspended_at_that_rung() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let actor = machine(org);
    for _ in 0..5 {
        w.advance(Duration::seconds(45));
        w.lookup(&actor, Outcome::NonMatch).await.unwrap();
    }
    let s = w.suspended().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].subject_id, actor.account_id);
}

#[tokio::test]
async fn a_decoy_card_suspends_at_once() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let insurer = Uuid::new_v4();
    let decoy = DecoyCardRecord {
        id: Uuid::new_v4(),
        insurer_id: insurer,
        amc: "11111111".into(),
        member_number: "9123456789".into(),
        code_hash: vec![1; 32],
        signing_kid: 7,
        valid_from: MORNING.date(),
        valid_to: MORNING.date() + Duration::days(365),
        created_at: MORNING,
    };
    w.store
        .insert_decoy_cards(std::slice::from_ref(&decoy))
        .await
        .unwrap();
    let actor = person(org, MORNING);
    let request = Request {
        actor: &actor,
        client: None,
        insurer: Some("11111111"),
        domain: Some("OPTI"),
    };
    // By member number (code path): a non-match on the decoy's number.
    w.guard.admit(&request).await.unwrap();
    w.guard
        .observe(&Observation {
            request,
            card_id: None,
            member_number: Some("9123456789"),
            outcome: Outcome::NonMatch,
        })
        .await;
    let s = w.suspended().await;
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].signal, "decoy");
    let alerts = w.alerts().await;
    assert_eq!(alerts[0].signal, "decoy");
    assert_eq!(alerts[0].severity, "critical");
    assert!(matches!(
        w.guard.admit(&request).await,
        Err(Refusal::Suspended { .. })
    ));
    // By card id (token path), another account.
    let other = person(org, MORNING);
    let request = Request {
        actor: &other,
        ..request
    };
    w.guard.admit(&request).await.unwrap();
    w.guard
        .observe(&Observation {
            request,
            card_id: Some(decoy.id),
            member_number: None,
            outcome: Outcome::NonMatch,
        })
        .await;
    assert_eq!(w.suspended().await.len(), 2);
}

#[tokio::test]
async fn lookups_outside_opening_hours_demand_a_step_up_and_suspend_a_machine() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", Some("mon-fri 09:00-12:00,14:00-19:00"));
    let actor = person(org, MORNING - Duration::hours(1));
    // 08:30 in Paris: closed.
    w.lookup(&actor, patient(1)).await.unwrap();
    assert_eq!(
        w.lookup(&actor, patient(2)).await,
        Err(Refusal::StepUpRequired)
    );
    assert_eq!(w.alerts().await[0].signal, "outside_hours");
    let bot = machine(org);
    w.lookup(&bot, patient(3)).await.unwrap();
    assert_eq!(w.suspended().await[0].subject_id, bot.account_id);
    // Open at 10:00: a new session is admitted without any signal.
    let w2 = world(GuardConfig::default());
    let org2 = w2.practice("optician", Some("mon-fri 09:00-12:00,14:00-19:00"));
    w2.advance(Duration::minutes(90));
    let a2 = person(org2, MORNING);
    w2.lookup(&a2, patient(1)).await.unwrap();
    assert_eq!(w2.alerts().await, vec![]);
}

#[tokio::test]
async fn a_new_client_address_or_credential_is_reported() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let mut actor = person(org, MORNING);
    w.lookup(&actor, patient(1)).await.unwrap();
    w.advance(Duration::minutes(3));
    w.lookup(&actor, patient(2)).await.unwrap();
    assert_eq!(w.alerts().await, vec![]);
    w.advance(Duration::minutes(3));
    w.lookup_from(
        &actor,
        patient(3),
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))),
    )
    .await
    .unwrap();
    let alerts = w.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].signal, "new_address");
    assert_eq!(alerts[0].severity, "info");
    assert_eq!(alerts[0].action, "none");
    actor.credential_id = Some(Uuid::new_v4());
    w.advance(Duration::minutes(3));
    w.lookup(&actor, patient(4)).await.unwrap();
    assert_eq!(w.alerts().await[0].signal, "new_credential");
}

#[tokio::test]
async fn machine_regular_cadence_demands_a_step_up() {
    let w = world(GuardConfig::default());
    let org = w.practice("pharmacist", None);
    let actor = person(org, MORNING);
    // The same patient every 4 seconds: no distinct signal, only the cadence.
    for _ in 0..21 {
        w.advance(Duration::seconds(4));
        w.lookup(&actor, patient(1)).await.unwrap();
    }
    w.advance(Duration::seconds(4));
    assert_eq!(
        w.lookup(&actor, patient(1)).await,
        Err(Refusal::StepUpRequired)
    );
    assert_eq!(w.alerts().await[0].signal, "cadence");
}

#[tokio::test]
async fn the_rate_limit_throttles_then_the_ladder_climbs() {
    let w = world(GuardConfig::default());
    let org = w.practice("pharmacist", None);
    let actor = person(org, MORNING);
    let mut throttled = 0;
    let mut retry = None;
    // Requests at the same instant: the burst of 20 passes, then 429s.
    for n in 0..40 {
        match w.lookup(&actor, patient(n % 3)).await {
            Ok(()) => {}
            Err(Refusal::Throttled { retry_after }) => {
                throttled += 1;
                retry = Some(retry_after);
            }
            Err(Refusal::StepUpRequired) => break,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(throttled, 20);
    assert!(retry.unwrap() >= std::time::Duration::from_secs(1));
    assert_eq!(w.alerts().await[0].signal, "throttled");
    assert_eq!(w.alerts().await[0].action, "step_up_required");
}

#[tokio::test]
async fn three_suspended_accounts_in_a_day_suspend_the_organisation() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    for _ in 0..3 {
        let bot = machine(org);
        for _ in 0..5 {
            w.advance(Duration::seconds(30));
            let _ = w.lookup(&bot, Outcome::NonMatch).await;
        }
    }
    let s = w.suspended().await;
    assert!(
        s.iter()
            .any(|s| s.subject == Subject::Organisation && s.subject_id == org)
    );
    assert!(
        w.alerts()
            .await
            .iter()
            .any(|a| a.signal == "organisation_breaker")
    );
    let newcomer = person(org, MORNING);
    assert_eq!(
        w.lookup(&newcomer, patient(1)).await,
        Err(Refusal::Suspended {
            subject: Subject::Organisation,
            contact: GuardConfig::default().operator_contact
        })
    );
}

#[tokio::test]
async fn kill_switches_cut_their_scope_only_and_are_remembered_in_time() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let actor = person(org, MORNING);
    let opti = Request {
        actor: &actor,
        client: None,
        insurer: Some("11111111"),
        domain: Some("OPTI"),
    };
    let phar = Request {
        domain: Some("PHAR"),
        ..opti
    };
    w.guard
        .switch_off(None, Scope::Domain("OPTI".into()), Some("drill".into()))
        .await
        .unwrap();
    assert_eq!(
        w.guard.admit(&opti).await,
        Err(Refusal::SwitchedOff {
            scope: Scope::Domain("OPTI".into())
        })
    );
    w.guard.admit(&phar).await.unwrap();
    let during = w.guard.now();
    w.advance(Duration::minutes(30));
    w.guard
        .switch_on(None, Scope::Domain("OPTI".into()))
        .await
        .unwrap();
    w.guard.admit(&opti).await.unwrap();
    let opti_scopes = [Scope::Domain("OPTI".into())];
    assert!(
        w.guard
            .was_switched_off(&opti_scopes, during)
            .await
            .unwrap()
    );
    assert!(
        !w.guard
            .was_switched_off(&opti_scopes, w.guard.now())
            .await
            .unwrap()
    );
    assert!(
        !w.guard
            .was_switched_off(&[Scope::Domain("PHAR".into())], during)
            .await
            .unwrap()
    );
    // Switching an already-off scope is refused with a clear message.
    w.guard
        .switch_off(None, Scope::Account(actor.account_id), None)
        .await
        .unwrap();
    assert!(matches!(
        w.guard
            .switch_off(None, Scope::Account(actor.account_id), None)
            .await,
        Err(GuardError::Invalid(_))
    ));
}

#[tokio::test]
async fn lifting_needs_an_administrator_with_a_fresh_step_up() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let bot = machine(org);
    for _ in 0..5 {
        w.advance(Duration::seconds(30));
        let _ = w.lookup(&bot, Outcome::NonMatch).await;
    }
    assert_eq!(w.suspended().await.len(), 1);
    w.advance(Duration::minutes(6));
    let op_org = Uuid::new_v4();
    let mut operator = person(op_org, MORNING);
    operator.role = Role::OperatorAdmin;
    // Signed in this morning: the step-up is stale.
    assert_eq!(
        w.guard
            .lift(Some(&operator), Subject::Account, bot.account_id)
            .await,
        Err(GuardError::StepUpRequired)
    );
    let mut analyst = person(op_org, w.guard.now());
    analyst.role = Role::OperatorAnalyst;
    assert_eq!(
        w.guard
            .lift(Some(&analyst), Subject::Account, bot.account_id)
            .await,
        Err(GuardError::Forbidden)
    );
    operator.last_uv_at = Some(w.guard.now());
    let lifted = w
        .guard
        .lift(Some(&operator), Subject::Account, bot.account_id)
        .await
        .unwrap();
    assert_eq!(lifted.lifted_by, Some(operator.account_id));
    assert_eq!(w.suspended().await, vec![]);
    w.advance(Duration::seconds(30));
    w.lookup(&bot, patient(1)).await.unwrap();
}

#[tokio::test]
async fn a_disabled_guard_admits_everything() {
    let w = world(GuardConfig {
        enabled: false,
        ..GuardConfig::default()
    });
    let org = w.practice("optician", None);
    let actor = person(org, MORNING);
    w.guard.switch_off(None, Scope::Global, None).await.unwrap();
    for n in 0..100 {
        w.lookup(&actor, patient(n)).await.unwrap();
    }
    assert!(w.suspended().await.is_empty());
}

#[tokio::test]
async fn alerts_are_counted_for_metrics() {
    let w = world(GuardConfig::default());
    let org = w.practice("optician", None);
    let bot = machine(org);
    for _ in 0..5 {
        w.advance(Duration::seconds(30));
        let _ = w.lookup(&bot, Outcome::NonMatch).await;
    }
    let text = w.guard.render_metrics();
    assert!(text.contains("# TYPE rempart_alerts_total counter"));
    assert!(text.contains("rempart_alerts_total{signal=\"non_match\",severity=\"critical\"} 1"));
}

/// Reads one HTTP/1.1 request (headers, then `content-length` bytes of body) and answers
/// `status`; returns the body.
async fn answer_once(listener: &tokio::net::TcpListener, status: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                socket.write_all(reply.as_bytes()).await.unwrap();
                return body;
            }
        }
        assert!(n > 0, "connection closed early");
    }
}

#[tokio::test]
async fn alerts_reach_the_webhook_after_a_failed_attempt() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let w = world(GuardConfig {
        webhook_url: Some(url),
        webhook_backoff_ms: 10,
        ..GuardConfig::default()
    });
    let org = w.practice("optician", None);
    let bot = machine(org);
    let server = tokio::spawn(async move {
        let first = answer_once(&listener, 500).await;
        let second = answer_once(&listener, 200).await;
        (first, second)
    });
    let decoy = DecoyCardRecord {
        id: Uuid::new_v4(),
        insurer_id: Uuid::new_v4(),
        amc: "11111111".into(),
        member_number: "9123456789".into(),
        code_hash: vec![1; 32],
        signing_kid: 7,
        valid_from: MORNING.date(),
        valid_to: MORNING.date(),
        created_at: MORNING,
    };
    w.store
        .insert_decoy_cards(std::slice::from_ref(&decoy))
        .await
        .unwrap();
    let request = Request {
        actor: &bot,
        client: None,
        insurer: Some("11111111"),
        domain: Some("OPTI"),
    };
    w.guard
        .observe(&Observation {
            request,
            card_id: Some(decoy.id),
            member_number: None,
            outcome: Outcome::NonMatch,
        })
        .await;
    let (first, second) = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the webhook is called twice within 10 s")
        .unwrap();
    assert_eq!(first, second, "the same alert is retried");
    let body: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(body["signal"], "decoy");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["action"], "account_suspended");
    assert_eq!(body["account_id"], bot.account_id.to_string());
    assert!(
        !second.contains("9123456789"),
        "no member number in an alert"
    );
}

/// The periodic review of unused rights checks: a harvester (60 checks, 2 billed) is alerted
/// once a day, an honest optician (25 checks, 20 billed) and checks not yet due are not.
#[tokio::test]
async fn the_unused_checks_review_alerts_a_harvester_once_a_day() {
    use super::engagements::EngagementUse;
    let w = world(GuardConfig::default());
    let (harvester, optician) = (Uuid::from_u128(3), Uuid::from_u128(1));
    let org = Uuid::from_u128(1003);
    let checks = |account: Uuid, n: u32, used: u32| {
        (0..n).map(move |i| {
            let checked_at = MORNING + Duration::minutes(i64::from(i) * 7);
            EngagementUse {
                account_id: account,
                organisation_id: org,
                checked_at,
                used_at: (i < used).then(|| checked_at + Duration::hours(3)),
            }
        })
    };
    for row in checks(harvester, 60, 2).chain(checks(optician, 25, 20)) {
        w.store.add_engagement_use(row);
    }
    // Not yet due (younger than 48 hours): nothing.
    w.advance(Duration::hours(30));
    assert!(w.guard.review_unused_checks().await.unwrap().is_empty());
    assert!(w.alerts().await.is_empty());
    // Due: the harvester alone, alerted once.
    w.advance(Duration::hours(30));
    let flagged = w.guard.review_unused_checks().await.unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(
        (flagged[0].account_id, flagged[0].due, flagged[0].unused),
        (harvester, 60, 58)
    );
    let alerts = w.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].signal, "unused_checks");
    assert_eq!(alerts[0].account_id, Some(harvester));
    // The next review (15 minutes later) flags it again but does not alert again that day.
    w.advance(Duration::minutes(15));
    assert_eq!(w.guard.review_unused_checks().await.unwrap().len(), 1);
    assert_eq!(w.alerts().await.len(), 1);
    // A day later, still harvesting within the 7 days: alerted again.
    w.advance(Duration::hours(24));
    assert_eq!(w.guard.review_unused_checks().await.unwrap().len(), 1);
    assert_eq!(w.alerts().await.len(), 2);
}
