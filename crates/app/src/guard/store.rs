//! The guard's part of the store (`GuardStore`, a supertrait of `Store`): kill switches,
//! suspensions, alerts, decoy cards and practices' opening hours. Counters live in memory
//! (see `guard::signals`); what must survive a restart and be seen by every server process
//! lives here.

use crate::store::StoreError;
use async_trait::async_trait;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// What a kill switch covers (`kill_switches.scope_kind`, `scope_value`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every lookup.
    Global,
    /// Lookups of one insurer's members (its AMC number).
    Insurer(String),
    /// Lookups in one care domain (`OPTI`, `AUDI`, `PHAR`…).
    Domain(String),
    /// Lookups through one channel.
    Channel(Channel),
    /// Lookups by practices of one profession (`optician`, `pharmacist`…).
    Profession(String),
    /// Lookups by one organisation.
    Organisation(Uuid),
    /// Lookups by one account (or machine certificate id).
    Account(Uuid),
}

/// How a request arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A person signed in with a passkey (portal and JSON API with the session cookie).
    Portal,
    /// A machine with a client certificate (mutual TLS).
    Machine,
}

impl Channel {
    pub fn code(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::Machine => "machine",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "portal" => Some(Channel::Portal),
            "machine" | "machine_api" | "api" => Some(Channel::Machine),
            _ => None,
        }
    }
}

impl Scope {
    /// `(scope_kind, scope_value)` as stored.
    pub fn parts(&self) -> (&'static str, String) {
        match self {
            Scope::Global => ("global", String::new()),
            Scope::Insurer(amc) => ("insurer", amc.clone()),
            Scope::Domain(d) => ("domain", d.clone()),
            Scope::Channel(c) => ("channel", c.code().to_string()),
            Scope::Profession(p) => ("profession", p.clone()),
            Scope::Organisation(id) => ("organisation", id.to_string()),
            Scope::Account(id) => ("account", id.to_string()),
        }
    }

    /// From the stored kind and value.
    pub fn from_parts(kind: &str, value: &str) -> Option<Self> {
        Some(match kind {
            "global" => Scope::Global,
            "insurer" => Scope::Insurer(value.to_string()),
            "domain" => Scope::Domain(value.to_string()),
            "channel" => Scope::Channel(Channel::parse(value)?),
            "profession" => Scope::Profession(value.to_string()),
            "organisation" => Scope::Organisation(Uuid::parse_str(value).ok()?),
            "account" => Scope::Account(Uuid::parse_str(value).ok()?),
            _ => return None,
        })
    }

    /// Parses the command-line form: `global`, `insurer:AMC`, `domain:OPTI`,
    /// `channel:portal|machine`, `profession:optician`, `organisation:UUID`, `account:UUID`.
    /// The error names what is wrong, never more than the scope kind.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "global" {
            return Ok(Scope::Global);
        }
        let Some((kind, value)) = text.split_once(':') else {
            return Err("scope: expected global or KIND:VALUE (insurer, domain, channel, profession, organisation, account)".into());
        };
        let value = value.trim();
        match kind.trim() {
            "insurer" => domain::ids::AmcNumber::parse(value)
                .map(|a| Scope::Insurer(a.as_str().to_string()))
                .map_err(|_| "scope insurer: not an AMC number".to_string()),
            "domain" => value
                .to_ascii_uppercase()
                .parse::<domain::rights::CareDomain>()
                .map(|d| Scope::Domain(d.code().to_string()))
                .map_err(|_| "scope domain: unknown care domain (OPTI, AUDI, PHAR, …)".to_string()),
            "channel" => Channel::parse(value)
                .map(Scope::Channel)
                .ok_or_else(|| "scope channel: portal or machine".to_string()),
            "profession" => value
                .parse::<domain::accounts::Profession>()
                .map(|p| Scope::Profession(p.code().to_string()))
                .map_err(|_| "scope profession: unknown profession".to_string()),
            "organisation" => Uuid::parse_str(value)
                .map(Scope::Organisation)
                .map_err(|_| "scope organisation: not an id".to_string()),
            "account" => Uuid::parse_str(value)
                .map(Scope::Account)
                .map_err(|_| "scope account: not an id".to_string()),
            _ => Err("scope: unknown kind (global, insurer, domain, channel, profession, organisation, account)".into()),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, value) = self.parts();
        if value.is_empty() {
            f.write_str(kind)
        } else {
            write!(f, "{kind}:{value}")
        }
    }
}

/// One engagement of a kill switch: lookups in `scope` are off from `engaged_at` until
/// `released_at` (open while `None`). At most one open engagement per scope
/// (`kill_switches_active`). Rows are kept after release: they answer "was a switch off at
/// that time" for invoices made in degraded mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillSwitchRecord {
    pub id: Uuid,
    pub scope: Scope,
    pub reason: Option<String>,
    /// The operator account (`None`: the command line).
    pub engaged_by: Option<Uuid>,
    pub engaged_at: OffsetDateTime,
    pub released_by: Option<Uuid>,
    pub released_at: Option<OffsetDateTime>,
}

/// Who is suspended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    Account,
    Organisation,
}

impl Subject {
    pub fn code(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Organisation => "organisation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "account" => Some(Subject::Account),
            "organisation" => Some(Subject::Organisation),
            _ => None,
        }
    }
}

/// A suspension of an account (or machine certificate) or an organisation. At most one open
/// per subject (`suspensions_active`); lifting closes it (`lifted_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspensionRecord {
    pub id: Uuid,
    pub subject: Subject,
    pub subject_id: Uuid,
    /// The organisation of the account (its own id for an organisation).
    pub organisation_id: Uuid,
    /// The signal that caused it (`decoy`, `non_match`, `step_up_refused`, … or `operator`).
    pub signal: String,
    /// What happened, for the operator (never an identifying field).
    pub reason: String,
    pub suspended_at: OffsetDateTime,
    pub lifted_at: Option<OffsetDateTime>,
    pub lifted_by: Option<Uuid>,
}

/// A stored alert: which signal fired, for whom, what was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: Uuid,
    pub signal: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub account_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    /// `none`, `throttled`, `step_up_required`, `account_suspended`, `organisation_suspended`…
    pub action: String,
    /// Counts and thresholds only; never an identifying field.
    pub detail: String,
    pub raised_at: OffsetDateTime,
}

/// A decoy card: issued by the operator, held by no real patient. Its token verifies like any
/// card's; a lookup of it (by card id, or by member number when no beneficiary matched)
/// suspends the account at once. It is not in `cards`: exports never print it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoyCardRecord {
    /// The card id inside its token.
    pub id: Uuid,
    pub insurer_id: Uuid,
    /// The insurer's AMC number (what a typed lookup sends).
    pub amc: String,
    pub member_number: String,
    pub code_hash: Vec<u8>,
    pub signing_kid: u32,
    pub valid_from: Date,
    pub valid_to: Date,
    pub created_at: OffsetDateTime,
}

/// What the guard needs to know of a practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeProfile {
    /// `Profession::code()`.
    pub profession: String,
    /// `None`: always open.
    pub opening_hours: Option<String>,
}

/// The guard's rows (kill switches, suspensions, alerts, decoys, opening hours).
#[async_trait]
pub trait GuardStore: Send + Sync {
    /// Engages a switch; `Conflict { constraint: "kill_switches_active" }` when that scope is
    /// already off.
    async fn insert_kill_switch(&self, switch: &KillSwitchRecord) -> Result<(), StoreError>;
    /// Releases the open engagement of `scope`; `NotFound` when none is open.
    async fn release_kill_switch(
        &self,
        scope: &Scope,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<KillSwitchRecord, StoreError>;
    /// The open engagements, oldest first.
    async fn list_active_kill_switches(&self) -> Result<Vec<KillSwitchRecord>, StoreError>;
    /// The engagements in force at `at` (engaged at or before, not released by then), oldest
    /// first, released or not since.
    async fn find_kill_switches_at(
        &self,
        at: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError>;
    /// The engagements in force at some time of `[from, to)` (engaged before `to`, not
    /// released by `from`), oldest first: a degraded-mode invoice asks about a whole care day.
    async fn find_kill_switches_overlapping(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<KillSwitchRecord>, StoreError>;

    /// `Conflict { constraint: "suspensions_active" }` when the subject is already suspended.
    async fn insert_suspension(&self, suspension: &SuspensionRecord) -> Result<(), StoreError>;
    /// Lifts the open suspension of the subject; `NotFound` when none is open.
    async fn lift_suspension(
        &self,
        subject: Subject,
        subject_id: Uuid,
        by: Option<Uuid>,
        at: OffsetDateTime,
    ) -> Result<SuspensionRecord, StoreError>;
    /// The open suspensions, oldest first.
    async fn list_active_suspensions(&self) -> Result<Vec<SuspensionRecord>, StoreError>;
    /// How many account suspensions of the organisation started at or after `since` (lifted
    /// or not).
    async fn count_account_suspensions_since(
        &self,
        organisation_id: Uuid,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    async fn insert_alert(&self, alert: &AlertRecord) -> Result<(), StoreError>;
    /// The latest `limit` alerts, newest first.
    async fn list_alerts(&self, limit: u32) -> Result<Vec<AlertRecord>, StoreError>;

    /// All or nothing; `Conflict` on a duplicate id.
    async fn insert_decoy_cards(&self, decoys: &[DecoyCardRecord]) -> Result<(), StoreError>;
    /// Every decoy, oldest first.
    async fn list_decoy_cards(&self) -> Result<Vec<DecoyCardRecord>, StoreError>;

    /// Sets (or clears, `None`) a practice's declared opening hours (`NotFound` when the
    /// practice is missing). Format: `guard::hours::OpeningHours`.
    async fn set_practice_opening_hours(
        &self,
        practice_id: Uuid,
        hours: Option<&str>,
    ) -> Result<(), StoreError>;
    /// A practice's profession and declared opening hours; `None` when the organisation is
    /// not a practice.
    async fn find_practice_profile(
        &self,
        practice_id: Uuid,
    ) -> Result<Option<PracticeProfile>, StoreError>;
    /// Per account, the rights checks made in `[from, to)` and how many of them no approval
    /// request and no invoice named within `within_hours` of the check (the guard's "unused
    /// checks" review); accounts with no check in the window are absent.
    async fn count_engagement_uses(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        within_hours: u32,
    ) -> Result<Vec<super::engagements::UnusedChecks>, StoreError>;
}
