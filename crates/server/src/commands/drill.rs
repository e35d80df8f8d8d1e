//! `rempart drill --target URL`: replays the 2024 attack against a running instance, from the
//! outside, with only what an attacker would have, and says how far it got.
//!
//! - **(a) phished password**: the attacker has a professional's login and password. It
//!   tries them on every kind of password sign-in (JSON and form) and then asks for rights
//!   with no credential. Expected: no session, 0 records.
//! - **(b) hijacked session**: the attacker drives a practice's signed-in session (`--session
//!   COOKIE`) or its software's client certificate (`--cert FILE`), and replays, at machine
//!   speed, the valid cards the practice has seen (`--cards FILE`, the demo's
//!   `demo-cards.csv` layout). Expected: at most 20 people beyond the practice's normal
//!   activity (`--normal N`), and the account suspended within 60 seconds.
//! - **(c) enumeration**: with a second credential, member numbers are guessed without cards
//!   (typed proof, random codes). Expected: 0 records, suspended after at most 10 non-matches.
//!
//! Each scenario prints the records disclosed, the time to suspension and the guard's answers
//! seen (throttled, passkey check demanded, suspended). With `--check-scope` (and the same
//! `--data-dir` or `--database-url` as the server), the drill then computes the incident scope
//! of its own window from the ledger and checks that it lists exactly the members it received,
//! per insurer. Only loopback targets are accepted; every scenario is bounded in requests
//! (`--max-requests`) and time (`--max-seconds`).

use crate::cli::DrillArgs;
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::{Context, bail};
use app::incidents::{ScopeQuery, scope};
use crypto::cards::CardVerifyingKeys;
use crypto::{OsRandom, SecureRandom};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use uuid::Uuid;

/// A card as the practice's software saw it.
#[derive(Debug, Clone)]
struct SeenCard {
    amc: String,
    member_number: String,
    birth_date: String,
    birth_rank: u8,
    token: String,
}

/// A person as the drill knows them: AMC number, member number, birth date, birth rank.
type Person = (String, String, String, u8);

/// A credential the attacker holds.
#[derive(Clone)]
enum Credential {
    Session(String),
    Certificate(reqwest::Client),
}

/// What one scenario got.
#[derive(Debug, Default, Serialize)]
pub struct ScenarioReport {
    pub scenario: &'static str,
    pub description: &'static str,
    pub requests: u64,
    /// 200 answers: records disclosed.
    pub answered: u64,
    /// 404 no-match answers.
    pub non_matches: u64,
    pub throttled: u64,
    pub step_up_demanded: u64,
    pub suspended: bool,
    pub seconds_to_suspension: Option<f64>,
    /// Distinct people disclosed.
    pub people_disclosed: u64,
    /// Other answers (status: count).
    pub other: BTreeMap<u16, u64>,
    pub expected: String,
    pub passed: bool,
    #[serde(skip)]
    disclosed: BTreeSet<Person>,
    #[serde(skip)]
    window: Option<(OffsetDateTime, OffsetDateTime)>,
    #[serde(skip)]
    subject: Option<Subject>,
}

#[derive(Debug, Clone)]
struct Subject {
    account: Uuid,
    organisation: Uuid,
    machine: bool,
}

/// The scope check of scenario (b).
#[derive(Debug, Serialize)]
pub struct ScopeCheck {
    pub equal: bool,
    /// Per AMC number: people in the scope, people the drill received.
    pub insurers: BTreeMap<String, (u64, u64)>,
}

#[derive(Debug, Serialize)]
pub struct DrillReport {
    pub target: String,
    pub scenarios: Vec<ScenarioReport>,
    pub scope_check: Option<ScopeCheck>,
    pub passed: bool,
}

fn loopback_target(target: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(target).context("--target: not a URL")?;
    if !super::is_loopback_host(url.host_str().unwrap_or_default()) {
        bail!(
            "--target: the drill only runs against a loopback address (127.0.0.1, [::1], localhost)"
        );
    }
    Ok(target.trim_end_matches('/').to_string())
}

fn client_builder(args: &DrillArgs) -> anyhow::Result<reqwest::ClientBuilder> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(ca) = &args.ca {
        let pem =
            std::fs::read(ca).with_context(|| format!("--ca: cannot read {}", ca.display()))?;
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(&pem).context("--ca: not a PEM certificate")?,
        );
    }
    Ok(builder)
}

fn credentials(args: &DrillArgs) -> anyhow::Result<Vec<Credential>> {
    let mut out: Vec<Credential> = args
        .sessions
        .iter()
        .map(|s| Credential::Session(s.clone()))
        .collect();
    for path in &args.certs {
        let pem = std::fs::read(path)
            .with_context(|| format!("--cert: cannot read {}", path.display()))?;
        let identity = reqwest::Identity::from_pem(&pem)
            .context("--cert: needs the certificate and its private key in one PEM file")?;
        out.push(Credential::Certificate(
            client_builder(args)?.identity(identity).build()?,
        ));
    }
    Ok(out)
}

fn read_cards(path: &std::path::Path, keys: &CardVerifyingKeys) -> anyhow::Result<Vec<SeenCard>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("--cards: cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("--cards: no `{name}` column"))
    };
    let (token_col, birth_col, rank_col, member_col) = (
        col("datamatrix_token")?,
        col("birth_date")?,
        col("birth_rank")?,
        col("member_number")?,
    );
    let mut cards = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("--cards: line {}", i + 2))?;
        let field = |c: usize| record.get(c).unwrap_or_default().trim_start_matches('\'');
        let Ok(claims) = crypto::cards::verify(field(token_col), keys) else {
            continue;
        };
        let Ok(rank) = field(rank_col).parse::<u8>() else {
            continue;
        };
        cards.push(SeenCard {
            amc: claims.amc_number,
            member_number: field(member_col).to_string(),
            birth_date: field(birth_col).to_string(),
            birth_rank: rank,
            token: field(token_col).to_string(),
        });
    }
    if cards.is_empty() {
        bail!(
            "--cards: no card with a genuine token in {}",
            path.display()
        );
    }
    Ok(cards)
}

impl SeenCard {
    fn person(&self) -> Person {
        (
            self.amc.clone(),
            self.member_number.clone(),
            self.birth_date.clone(),
            self.birth_rank,
        )
    }
}

struct Attacker<'a> {
    target: &'a str,
    plain: reqwest::Client,
    care_date: String,
    domain: String,
}

impl Attacker<'_> {
    async fn post(
        &self,
        credential: Option<&Credential>,
        path: &str,
        body: &Value,
    ) -> (u16, String) {
        let url = format!("{}{path}", self.target);
        let request = match credential {
            Some(Credential::Certificate(client)) => client.post(&url),
            Some(Credential::Session(cookie)) => self
                .plain
                .post(&url)
                .header("cookie", cookie)
                .header("origin", self.target),
            None => self.plain.post(&url).header("origin", self.target),
        };
        match request.json(body).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.text().await.unwrap_or_default())
            }
            Err(_) => (0, String::new()),
        }
    }

    async fn whoami(&self, credential: &Credential) -> Option<Subject> {
        let url = format!("{}/api/v1/me", self.target);
        let request = match credential {
            Credential::Certificate(client) => client.get(&url),
            Credential::Session(cookie) => self.plain.get(&url).header("cookie", cookie),
        };
        let me: Value = request.send().await.ok()?.json().await.ok()?;
        Some(Subject {
            account: me["account_id"].as_str()?.parse().ok()?,
            organisation: me["organisation"]["id"].as_str()?.parse().ok()?,
            machine: me["kind"] == "machine",
        })
    }

    fn check_body(&self, card: &SeenCard) -> Value {
        json!({
            "card": {"token": card.token},
            "patient": {"birth_date": card.birth_date, "birth_rank": card.birth_rank},
            "domain": self.domain,
            "care_date": self.care_date,
        })
    }

    /// Tallies one answer; true when the account (or its organisation) is suspended.
    fn tally(report: &mut ScenarioReport, status: u16, body: &str, started: Instant) -> bool {
        report.requests += 1;
        match status {
            200 => report.answered += 1,
            404 => report.non_matches += 1,
            429 => report.throttled += 1,
            403 if body.contains("step-up-required") => report.step_up_demanded += 1,
            403 if body.contains("-suspended") => {
                if !report.suspended {
                    report.suspended = true;
                    report.seconds_to_suspension = Some(started.elapsed().as_secs_f64());
                }
                return true;
            }
            other => *report.other.entry(other).or_default() += 1,
        }
        false
    }

    async fn phished_password(&self, cards: &[SeenCard]) -> ScenarioReport {
        let mut report = ScenarioReport {
            scenario: "a",
            description: "a phished login and password",
            expected: "no session, 0 records".into(),
            ..ScenarioReport::default()
        };
        let started = Instant::now();
        let credentials = json!({"username": "opticien@example.test", "login": "opticien@example.test", "email": "opticien@example.test", "password": "Phished-2024!"});
        let mut sessions = 0u64;
        for path in [
            "/api/v1/auth/login",
            "/api/v1/auth/login/finish",
            "/api/v1/auth/password",
            "/api/v1/login",
            "/login",
            "/portal/login",
        ] {
            let url = format!("{}{path}", self.target);
            for form in [false, true] {
                let request = self.plain.post(&url).header("origin", self.target);
                let request = if form {
                    request.form(&[
                        ("username", "opticien@example.test"),
                        ("password", "Phished-2024!"),
                    ])
                } else {
                    request.json(&credentials)
                };
                report.requests += 1;
                if let Ok(r) = request.send().await {
                    let cookie = r
                        .headers()
                        .get_all("set-cookie")
                        .iter()
                        .any(|c| c.to_str().is_ok_and(|c| c.contains("rempart")));
                    if r.status().is_success() && cookie {
                        sessions += 1;
                    }
                    *report.other.entry(r.status().as_u16()).or_default() += 1;
                }
            }
        }
        // Then the lookup itself, with the phished "credentials" only.
        for card in cards.iter().take(5) {
            let (status, body) = self
                .post(None, "/api/v1/rights-checks", &self.check_body(card))
                .await;
            Self::tally(&mut report, status, &body, started);
            if status == 200 {
                report.disclosed.insert(card.person());
            }
        }
        report.people_disclosed = report.disclosed.len() as u64;
        report.passed = sessions == 0 && report.answered == 0;
        report
    }

    async fn hijacked_session(
        &self,
        credential: &Credential,
        cards: &[SeenCard],
        args: &DrillArgs,
    ) -> ScenarioReport {
        let mut report = ScenarioReport {
            scenario: "b",
            description: "a hijacked practice session replaying the cards it has seen, at machine speed",
            expected: format!(
                "at most {} people disclosed (20 beyond --normal {}), suspended within 60 s",
                args.normal + 20,
                args.normal
            ),
            subject: self.whoami(credential).await,
            ..ScenarioReport::default()
        };
        let from = app::Clock::now(&app::SystemClock);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(args.max_seconds);
        let mut next = 0usize;
        'attack: while (report.requests as usize) < args.max_requests && Instant::now() < deadline {
            // A burst of concurrent lookups, as a script would send them.
            let burst: Vec<&SeenCard> = (0..args.concurrency)
                .map(|i| &cards[(next + i) % cards.len()])
                .collect();
            next += burst.len();
            let bodies: Vec<Value> = burst.iter().map(|card| self.check_body(card)).collect();
            let answers = futures::future::join_all(
                bodies
                    .iter()
                    .map(|body| self.post(Some(credential), "/api/v1/rights-checks", body)),
            )
            .await;
            for (card, (status, body)) in burst.into_iter().zip(answers) {
                if status == 200 {
                    report.disclosed.insert(card.person());
                }
                if Self::tally(&mut report, status, &body, started) {
                    break 'attack;
                }
            }
        }
        report.window = Some((
            from,
            app::Clock::now(&app::SystemClock) + time::Duration::seconds(1),
        ));
        report.people_disclosed = report.disclosed.len() as u64;
        report.passed = report.people_disclosed <= args.normal + 20
            && report.seconds_to_suspension.is_some_and(|s| s <= 60.0);
        report
    }

    async fn enumeration(
        &self,
        credential: &Credential,
        amc: &str,
        args: &DrillArgs,
    ) -> ScenarioReport {
        let mut report = ScenarioReport {
            scenario: "c",
            description: "enumeration of member numbers without cards",
            expected: "0 records, suspended after at most 10 non-matches".into(),
            subject: self.whoami(credential).await,
            ..ScenarioReport::default()
        };
        let started = Instant::now();
        let deadline = started + Duration::from_secs(args.max_seconds);
        let rng = OsRandom;
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        while (report.requests as usize) < args.max_requests && Instant::now() < deadline {
            let member = format!("{:010}", rng.next_u64() % 10_000_000_000);
            let code: String = (0..9)
                .map(|i| {
                    if i == 4 {
                        '-'
                    } else {
                        char::from(ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize])
                    }
                })
                .collect();
            let body = json!({
                "card": {"amc": amc, "member_number": member, "verification_code": code},
                "patient": {"birth_date": "1980-01-01", "birth_rank": 1},
                "domain": self.domain,
                "care_date": self.care_date,
            });
            let (status, text) = self
                .post(Some(credential), "/api/v1/rights-checks", &body)
                .await;
            if Self::tally(&mut report, status, &text, started) {
                break;
            }
        }
        report.passed = report.answered == 0 && report.suspended && report.non_matches <= 10;
        report
    }
}

pub async fn run(config: &Config, args: &DrillArgs) -> anyhow::Result<()> {
    let target = loopback_target(&args.target)?;
    let plain = client_builder(args)?.build()?;
    let keys_json = plain
        .get(format!("{target}/api/v1/card-keys"))
        .send()
        .await
        .context("--target: cannot reach the server")?
        .text()
        .await?;
    let keys = CardVerifyingKeys::from_json(&keys_json)
        .context("--target: /api/v1/card-keys is not a published key list")?;
    let cards = read_cards(&args.cards, &keys)?;
    let today = app::Clock::now(&app::SystemClock).date();
    let attacker = Attacker {
        target: &target,
        plain,
        care_date: format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        ),
        domain: args.domain.clone(),
    };
    let credentials = credentials(args)?;
    let mut scenarios = vec![attacker.phished_password(&cards).await];
    match credentials.first() {
        Some(c) => scenarios.push(attacker.hijacked_session(c, &cards, args).await),
        None => eprintln!("scenario b skipped: give a hijacked --session COOKIE or --cert FILE"),
    }
    match credentials.get(1) {
        Some(c) => scenarios.push(attacker.enumeration(c, &cards[0].amc, args).await),
        None => eprintln!(
            "scenario c skipped: give a second credential (--session or --cert) of another account"
        ),
    }

    let scope_check = if args.check_scope {
        match scenarios.iter().find(|s| s.scenario == "b") {
            Some(b) => Some(check_scope(config, b).await?),
            None => None,
        }
    } else {
        None
    };
    let passed = scenarios.iter().all(|s| s.passed) && scope_check.as_ref().is_none_or(|c| c.equal);
    let report = DrillReport {
        target,
        scenarios,
        scope_check,
        passed,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !report.passed {
        bail!("the drill got further than it should have (see above)");
    }
    Ok(())
}

async fn check_scope(config: &Config, b: &ScenarioReport) -> anyhow::Result<ScopeCheck> {
    let (Some(subject), Some((from, to))) = (&b.subject, b.window) else {
        bail!("--check-scope: the hijacked credential's account is unknown (GET /api/v1/me)");
    };
    let ports = storage::open(config, MissingKeys::Refuse)
        .await
        .context("--check-scope needs the server's --data-dir or --database-url and keys")?;
    let query = ScopeQuery {
        accounts: if subject.machine {
            Vec::new()
        } else {
            vec![subject.account]
        },
        organisations: if subject.machine {
            vec![subject.organisation]
        } else {
            Vec::new()
        },
        from: Some(from - time::Duration::seconds(1)),
        to: Some(to),
        ..ScopeQuery::default()
    };
    let found = scope(&ports, &query)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let scoped: BTreeSet<Person> = found
        .insurers
        .iter()
        .flat_map(|i| {
            i.members.iter().map(|m| {
                (
                    i.amc.clone(),
                    m.member_number.clone(),
                    m.birth_date.clone().unwrap_or_default(),
                    m.birth_rank,
                )
            })
        })
        .collect();
    let mut insurers: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (amc, ..) in &scoped {
        insurers.entry(amc.clone()).or_default().0 += 1;
    }
    for (amc, ..) in &b.disclosed {
        insurers.entry(amc.clone()).or_default().1 += 1;
    }
    Ok(ScopeCheck {
        equal: scoped == b.disclosed,
        insurers,
    })
}

fn print_report(report: &DrillReport) {
    println!("Drill against {}", report.target);
    for s in &report.scenarios {
        println!(
            "({}) {}: {} requests, {} records disclosed ({} people), {} non-matches, {} throttled, {} passkey checks demanded, {}; expected {} — {}",
            s.scenario,
            s.description,
            s.requests,
            s.answered,
            s.people_disclosed,
            s.non_matches,
            s.throttled,
            s.step_up_demanded,
            match s.seconds_to_suspension {
                Some(t) => format!("suspended after {t:.1} s"),
                None => "never suspended".to_string(),
            },
            s.expected,
            if s.passed { "PASS" } else { "FAIL" }
        );
    }
    if let Some(c) = &report.scope_check {
        for (amc, (scoped, received)) in &c.insurers {
            println!(
                "scope of (b), insurer {amc}: {scoped} people in the incident scope, {received} received by the drill"
            );
        }
        println!(
            "incident scope = what the drill received: {}",
            if c.equal { "PASS" } else { "FAIL" }
        );
    }
    println!("{}", if report.passed { "PASS" } else { "FAIL" });
}
