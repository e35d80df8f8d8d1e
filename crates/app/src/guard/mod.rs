//! The guard (invariant 5): consulted on every request that can disclose personal data.
//!
//! - **Admission** ([`Guard::admit`], before the lookup): kill switches (503), suspensions of
//!   the account or its organisation (403), a pending step-up demand (403), then the
//!   per-account and per-organisation rate limits (GCRA, `governor`; 429 with Retry-After).
//! - **Observation** ([`Guard::observe`], after): a match (with the beneficiary, in memory
//!   only) or a non-match feeds the signals: distinct beneficiaries in 10 minutes and in
//!   24 hours against the account's own history and its profession's peers, non-matching
//!   lookups, decoy cards, requests outside the practice's opening hours, a new client
//!   address or credential, machine-regular cadence.
//! - **Response ladder**: throttle → demand a fresh passkey assertion (machines cannot, so
//!   they go to the next rung) → suspend the account and alert → suspend the organisation
//!   when `organisation_suspend_after` of its accounts are suspended within 24 hours.
//!
//! Counters are kept in memory (per process); kill switches, suspensions and decoys are in the
//! store and re-read by every process at most every `poll_ms` (500 ms) on the next request,
//! so a switch set anywhere takes effect everywhere within a second, without a restart.
//! Time comes from the `Clock` port (the GCRA limiter runs on it too).

pub mod alerts;
pub mod config;
pub mod decoys;
pub mod engagements;
pub mod hours;
pub mod memory;
pub mod signals;
pub mod store;

#[cfg(test)]
mod tests;

pub use alerts::{Action, NewAlert, Severity, raise};
pub use config::{Baseline, GuardConfig};
pub use store::{
    AlertRecord, Channel, DecoyCardRecord, GuardStore, KillSwitchRecord, PracticeProfile, Scope,
    Subject, SuspensionRecord,
};

use crate::accounts::{Actor, require_step_up};
use crate::store::StoreError;
use crate::{Clock, SecureRandom};
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use signals::AccountState;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// The guard's view of time for `governor`: the injected clock, in nanoseconds since 1970.
#[derive(Clone)]
struct GovernorClock(Arc<dyn Clock>);

impl governor::clock::Clock for GovernorClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        let n = (self.0.now() - OffsetDateTime::UNIX_EPOCH).whole_nanoseconds();
        Nanos::from(u64::try_from(n.max(0)).unwrap_or(u64::MAX))
    }
}

type Limiter = RateLimiter<Uuid, HashMapStateStore<Uuid>, GovernorClock, NoOpMiddleware<Nanos>>;

/// What is asked, as far as the guard needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub actor: &'a Actor,
    /// The client's address (as the server sees it).
    pub client: Option<IpAddr>,
    /// The insurer's AMC number the lookup is about, when known.
    pub insurer: Option<&'a str>,
    /// The care domain code (`OPTI`, `PHAR`…), when known.
    pub domain: Option<&'a str>,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// One beneficiary was disclosed (its id: in memory only, never logged).
    Match { beneficiary: Uuid },
    /// Nothing matched (or the card proof failed).
    NonMatch,
}

/// A lookup and what it found.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub request: Request<'a>,
    /// The card id of a datamatrix token, when one was sent.
    pub card_id: Option<Uuid>,
    /// The member number sent (typed proof), with the request's insurer AMC number.
    pub member_number: Option<&'a str>,
    pub outcome: Outcome,
}

/// Why the guard refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Lookups are switched off for this scope (503; degraded mode).
    #[error("lookups are switched off ({scope})")]
    SwitchedOff { scope: Scope },
    /// The account or its organisation is suspended (403); `contact` is whom to call.
    #[error("{subject:?} suspended")]
    Suspended { subject: Subject, contact: String },
    /// A fresh passkey assertion is needed (403 step-up-required).
    #[error("step-up required")]
    StepUpRequired,
    /// Too many requests (429); retry after that long.
    #[error("throttled")]
    Throttled { retry_after: std::time::Duration },
    /// The guard's state cannot be read (503).
    #[error("guard unavailable")]
    Unavailable(StoreError),
}

/// Errors of the operator actions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("forbidden")]
    Forbidden,
    #[error("step-up required")]
    StepUpRequired,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(StoreError),
    /// The ledger could not record the decision: nothing was done.
    #[error("the ledger could not record it: {0}")]
    Ledger(String),
}

impl From<StoreError> for GuardError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => GuardError::NotFound,
            other => GuardError::Store(other),
        }
    }
}

/// What the store says is off, suspended or a decoy, as last read.
#[derive(Debug, Default)]
struct Snapshot {
    switches: Vec<KillSwitchRecord>,
    suspended: HashSet<(Subject, Uuid)>,
    decoy_ids: HashSet<Uuid>,
    decoy_members: HashSet<(String, String)>,
    loaded: Option<std::time::Instant>,
}

/// A practice's profession and opening hours, cached for a minute.
#[derive(Debug, Clone)]
struct OrgInfo {
    profession: Option<String>,
    hours: Option<hours::OpeningHours>,
    read_at: std::time::Instant,
}

struct Inner {
    config: GuardConfig,
    store: Arc<dyn GuardStore>,
    clock: Arc<dyn Clock>,
    rng: Option<Arc<dyn SecureRandom>>,
    account_limiter: Limiter,
    organisation_limiter: Limiter,
    accounts: Mutex<HashMap<Uuid, AccountState>>,
    snapshot: RwLock<Snapshot>,
    refreshing: tokio::sync::Mutex<()>,
    orgs: Mutex<HashMap<Uuid, Arc<OrgInfo>>>,
    peers: Mutex<HashMap<String, (std::time::Instant, Option<usize>)>>,
    alert_counts: Mutex<BTreeMap<(String, String), u64>>,
    webhook: Option<alerts::Webhook>,
}

/// The guard. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("enabled", &self.inner.config.enabled)
            .finish_non_exhaustive()
    }
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let per = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per).allow_burst(burst)
}

impl Guard {
    /// A guard over `store` with `config` (not validated here: the server validates it).
    pub fn new(store: Arc<dyn GuardStore>, clock: Arc<dyn Clock>, config: GuardConfig) -> Self {
        let gclock = GovernorClock(clock.clone());
        let webhook = config.webhook_url.as_deref().and_then(|url| {
            alerts::Webhook::new(
                url,
                config.webhook_attempts,
                std::time::Duration::from_millis(config.webhook_backoff_ms),
                std::time::Duration::from_millis(config.webhook_timeout_ms),
            )
        });
        Self {
            inner: Arc::new(Inner {
                account_limiter: RateLimiter::hashmap_with_clock(
                    quota(config.account_per_minute, config.account_burst),
                    gclock.clone(),
                ),
                organisation_limiter: RateLimiter::hashmap_with_clock(
                    quota(config.organisation_per_minute, config.organisation_burst),
                    gclock,
                ),
                config,
                store,
                clock,
                rng: None,
                accounts: Mutex::new(HashMap::new()),
                snapshot: RwLock::new(Snapshot::default()),
                refreshing: tokio::sync::Mutex::new(()),
                orgs: Mutex::new(HashMap::new()),
                peers: Mutex::new(HashMap::new()),
                alert_counts: Mutex::new(BTreeMap::new()),
                webhook,
            }),
        }
    }

    /// A guard over the ports' store and clock (ids of alerts from the ports' randomness).
    pub fn from_ports(ports: &crate::Ports, config: GuardConfig) -> Self {
        let store: Arc<dyn GuardStore> = ports.store.clone();
        let mut guard = Self::new(store, ports.clock.clone(), config);
        if let Some(inner) = Arc::get_mut(&mut guard.inner) {
            inner.rng = Some(ports.rng.clone());
        }
        guard
    }

    pub fn config(&self) -> &GuardConfig {
        &self.inner.config
    }

    pub fn enabled(&self) -> bool {
        self.inner.config.enabled
    }

    pub(crate) fn store(&self) -> &dyn GuardStore {
        self.inner.store.as_ref()
    }

    pub(crate) fn webhook(&self) -> Option<&alerts::Webhook> {
        self.inner.webhook.as_ref()
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    pub(crate) fn new_id(&self) -> Uuid {
        match &self.inner.rng {
            Some(rng) => crate::ids::new_id(self.inner.clock.as_ref(), rng.as_ref()),
            None => crate::ids::new_id(self.inner.clock.as_ref(), &crypto::OsRandom),
        }
    }

    pub(crate) fn count_alert(&self, signal: &str, severity: &str) {
        let mut counts = self
            .inner
            .alert_counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *counts
            .entry((signal.to_string(), severity.to_string()))
            .or_insert(0) += 1;
    }

    /// Alerts raised by this process: `(signal, severity) -> count`, for `/metrics`.
    pub fn alert_counts(&self) -> Vec<(String, String, u64)> {
        let counts = self
            .inner
            .alert_counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|((s, v), n)| (s.clone(), v.clone(), *n))
            .collect()
    }

    /// The exposition text of `rempart_alerts_total{signal,severity}` (Prometheus 0.0.4).
    pub fn render_metrics(&self) -> String {
        let mut out = String::from(
            "# HELP rempart_alerts_total Guard alerts raised by this process, by signal and severity.\n# TYPE rempart_alerts_total counter\n",
        );
        for (signal, severity, n) in self.alert_counts() {
            out.push_str(&format!(
                "rempart_alerts_total{{signal=\"{signal}\",severity=\"{severity}\"}} {n}\n"
            ));
        }
        out
    }

    // ---- the snapshot of switches, suspensions and decoys

    /// Re-reads the store when the snapshot is older than `poll_ms` (one reader at a time;
    /// the others keep the previous snapshot). Fails only when nothing was ever read.
    async fn refresh(&self) -> Result<(), StoreError> {
        let poll = std::time::Duration::from_millis(self.inner.config.poll_ms);
        let fresh = |s: &Snapshot| s.loaded.is_some_and(|t| t.elapsed() < poll);
        let (is_fresh, ever) = {
            let s = self
                .inner
                .snapshot
                .read()
                .unwrap_or_else(|p| p.into_inner());
            (fresh(&s), s.loaded.is_some())
        };
        if is_fresh {
            return Ok(());
        }
        let _lock = if ever {
            match self.inner.refreshing.try_lock() {
                Ok(lock) => lock,
                Err(_) => return Ok(()),
            }
        } else {
            self.inner.refreshing.lock().await
        };
        {
            let s = self
                .inner
                .snapshot
                .read()
                .unwrap_or_else(|p| p.into_inner());
            if fresh(&s) {
                return Ok(());
            }
        }
        match self.load_snapshot().await {
            Ok(snapshot) => {
                *self
                    .inner
                    .snapshot
                    .write()
                    .unwrap_or_else(|p| p.into_inner()) = snapshot;
                Ok(())
            }
            Err(e) if ever => {
                tracing::warn!(error = %e, "guard: cannot re-read switches and suspensions; keeping the last ones");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn load_snapshot(&self) -> Result<Snapshot, StoreError> {
        let store = self.store();
        let switches = store.list_active_kill_switches().await?;
        let suspended = store
            .list_active_suspensions()
            .await?
            .into_iter()
            .map(|s| (s.subject, s.subject_id))
            .collect();
        let decoys = store.list_decoy_cards().await?;
        Ok(Snapshot {
            switches,
            suspended,
            decoy_ids: decoys.iter().map(|d| d.id).collect(),
            decoy_members: decoys
                .into_iter()
                .map(|d| (d.amc, d.member_number))
                .collect(),
            loaded: Some(std::time::Instant::now()),
        })
    }

    /// Forces the next request to re-read the store (after this process changed it).
    fn invalidate(&self) {
        self.inner
            .snapshot
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .loaded = None;
    }

    async fn org_info(&self, organisation_id: Uuid) -> Arc<OrgInfo> {
        {
            let orgs = self.inner.orgs.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(info) = orgs.get(&organisation_id)
                && info.read_at.elapsed() < std::time::Duration::from_secs(60)
            {
                return info.clone();
            }
        }
        let profile = match self.store().find_practice_profile(organisation_id).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "guard: cannot read the practice's profile");
                None
            }
        };
        let profession = profile.as_ref().map(|p| p.profession.clone());
        let hours = match profile.and_then(|p| p.opening_hours) {
            Some(text) => match hours::OpeningHours::parse(&text) {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(%organisation_id, problem = %e, "unreadable opening hours: treated as always open");
                    None
                }
            },
            None => None,
        };
        let info = Arc::new(OrgInfo {
            profession,
            hours,
            read_at: std::time::Instant::now(),
        });
        self.inner
            .orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(organisation_id, info.clone());
        info
    }

    /// The practice's profession from the profile this guard keeps for a minute (a practice's
    /// profession never changes): one read per practice and minute instead of one per
    /// request. `None` when there is no such practice or it cannot be read now.
    pub async fn practice_profession(
        &self,
        organisation_id: Uuid,
    ) -> Option<domain::accounts::Profession> {
        self.org_info(organisation_id)
            .await
            .profession
            .as_deref()?
            .parse()
            .ok()
    }

    /// The scopes a request falls in.
    fn scopes(request: &Request<'_>, profession: Option<&str>) -> Vec<Scope> {
        let actor = request.actor;
        let mut scopes = vec![
            Scope::Global,
            Scope::Channel(channel(actor)),
            Scope::Organisation(actor.organisation_id),
            Scope::Account(actor.account_id),
        ];
        if let Some(amc) = request.insurer {
            scopes.push(Scope::Insurer(amc.to_string()));
        }
        if let Some(d) = request.domain {
            scopes.push(Scope::Domain(d.to_ascii_uppercase()));
        }
        if let Some(p) = profession {
            scopes.push(Scope::Profession(p.to_string()));
        }
        scopes
    }

    /// The suspension refusal, if the account or its organisation is suspended (every data
    /// route checks it, through the web layer's `Authenticated`).
    pub async fn check_suspended(&self, actor: &Actor) -> Result<(), Refusal> {
        if !self.enabled() {
            return Ok(());
        }
        self.refresh().await.map_err(Refusal::Unavailable)?;
        let s = self
            .inner
            .snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner());
        let contact = || self.inner.config.operator_contact.clone();
        if s.suspended
            .contains(&(Subject::Organisation, actor.organisation_id))
        {
            return Err(Refusal::Suspended {
                subject: Subject::Organisation,
                contact: contact(),
            });
        }
        if s.suspended.contains(&(Subject::Account, actor.account_id)) {
            return Err(Refusal::Suspended {
                subject: Subject::Account,
                contact: contact(),
            });
        }
        Ok(())
    }

    /// Admission before a lookup: switches, suspensions, a pending step-up, rate limits.
    pub async fn admit(&self, request: &Request<'_>) -> Result<(), Refusal> {
        if !self.enabled() {
            return Ok(());
        }
        let actor = request.actor;
        let info = self.org_info(actor.organisation_id).await;
        self.refresh().await.map_err(Refusal::Unavailable)?;
        {
            let s = self
                .inner
                .snapshot
                .read()
                .unwrap_or_else(|p| p.into_inner());
            // (No switch on, the usual case: no scope to build.)
            let scopes = if s.switches.is_empty() {
                Vec::new()
            } else {
                Self::scopes(request, info.profession.as_deref())
            };
            if let Some(sw) = s.switches.iter().find(|sw| scopes.contains(&sw.scope)) {
                return Err(Refusal::SwitchedOff {
                    scope: sw.scope.clone(),
                });
            }
        }
        self.check_suspended(actor).await?;

        let now = self.now();
        // A pending step-up demand.
        let refused = {
            let mut accounts = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let st = accounts.entry(actor.account_id).or_default();
            match st.step_up_demanded {
                Some((since, _)) if actor.last_uv_at.is_none_or(|uv| uv < since) => {
                    st.step_up_refusals += 1;
                    Some(st.step_up_refusals)
                }
                Some(_) => {
                    // Answered: what was seen so far is acknowledged.
                    st.prune(now);
                    st.step_up_demanded = None;
                    st.step_up_refusals = 0;
                    st.ack_10min = st.distinct_10min();
                    st.ack_24h = st.distinct_24h();
                    st.ack_non_match = st.non_matches.len();
                    st.throttled.clear();
                    None
                }
                None => None,
            }
        };
        if let Some(n) = refused {
            if n >= self.inner.config.step_up_refusals_to_suspend {
                self.suspend_account(
                    actor,
                    "step_up_refused",
                    format!("{n} requests refused while a passkey check was pending"),
                )
                .await;
                return Err(Refusal::Suspended {
                    subject: Subject::Account,
                    contact: self.inner.config.operator_contact.clone(),
                });
            }
            return Err(Refusal::StepUpRequired);
        }

        // Rate limits (GCRA): the account, then its organisation.
        let clock = GovernorClock(self.inner.clock.clone());
        let limited = match self.inner.account_limiter.check_key(&actor.account_id) {
            Err(not_until) => Some(not_until.wait_time_from(clock.now())),
            Ok(()) => match self
                .inner
                .organisation_limiter
                .check_key(&actor.organisation_id)
            {
                Err(not_until) => Some(not_until.wait_time_from(clock.now())),
                Ok(()) => None,
            },
        };
        if let Some(wait) = limited {
            let throttled = {
                let mut accounts = self
                    .inner
                    .accounts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let st = accounts.entry(actor.account_id).or_default();
                st.prune(now);
                st.throttled.push_back(now);
                st.throttled.len()
            };
            if throttled >= self.inner.config.throttles_before_step_up as usize {
                self.escalate(
                    actor,
                    "throttled",
                    format!("{throttled} throttled requests in 10 minutes"),
                )
                .await;
            }
            return Err(Refusal::Throttled {
                retry_after: wait.max(std::time::Duration::from_secs(1)),
            });
        }
        Ok(())
    }

    /// The second rung: demand a fresh passkey assertion from a person; a machine (no
    /// session, cannot do one) is suspended instead.
    async fn escalate(&self, actor: &Actor, signal: &'static str, detail: String) {
        if channel(actor) == Channel::Machine {
            self.suspend_account(actor, signal, detail).await;
            return;
        }
        let now = self.now();
        let alert = {
            let mut accounts = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let st = accounts.entry(actor.account_id).or_default();
            if st.step_up_demanded.is_none() {
                st.step_up_demanded = Some((now, signal));
                st.step_up_refusals = 0;
            }
            st.may_alert(signal, now)
        };
        if alert {
            raise(
                self,
                NewAlert {
                    signal,
                    severity: Severity::Warning,
                    account_id: Some(actor.account_id),
                    organisation_id: Some(actor.organisation_id),
                    action: Action::StepUpRequired,
                    detail,
                },
            )
            .await;
        }
    }

    /// A signal worth telling but not acting on.
    async fn inform(&self, actor: &Actor, signal: &'static str, detail: String) {
        let now = self.now();
        let alert = {
            let mut accounts = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            accounts
                .entry(actor.account_id)
                .or_default()
                .may_alert(signal, now)
        };
        if alert {
            raise(
                self,
                NewAlert {
                    signal,
                    severity: Severity::Info,
                    account_id: Some(actor.account_id),
                    organisation_id: Some(actor.organisation_id),
                    action: Action::None,
                    detail,
                },
            )
            .await;
        }
    }

    /// Suspends the account (stored, effective at once in this process), raises a critical
    /// alert, and suspends the organisation when enough of its accounts were suspended in a
    /// day.
    pub async fn suspend_account(&self, actor: &Actor, signal: &'static str, reason: String) {
        let now = self.now();
        let record = SuspensionRecord {
            id: self.new_id(),
            subject: Subject::Account,
            subject_id: actor.account_id,
            organisation_id: actor.organisation_id,
            signal: signal.to_string(),
            reason: reason.clone(),
            suspended_at: now,
            lifted_at: None,
            lifted_by: None,
        };
        self.mark_suspended(Subject::Account, actor.account_id);
        match self.store().insert_suspension(&record).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return,
            Err(e) => {
                tracing::error!(error = %e, account_id = %actor.account_id, "cannot store a suspension (kept in memory)");
            }
        }
        raise(
            self,
            NewAlert {
                signal,
                severity: Severity::Critical,
                account_id: Some(actor.account_id),
                organisation_id: Some(actor.organisation_id),
                action: Action::AccountSuspended,
                detail: reason,
            },
        )
        .await;
        let since = now - Duration::hours(24);
        match self
            .store()
            .count_account_suspensions_since(actor.organisation_id, since)
            .await
        {
            Ok(n) if n >= u64::from(self.inner.config.organisation_suspend_after) => {
                self.suspend_organisation(
                    actor.organisation_id,
                    format!("{n} accounts of the organisation suspended within 24 hours"),
                )
                .await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot count the organisation's suspensions"),
        }
    }

    async fn suspend_organisation(&self, organisation_id: Uuid, reason: String) {
        let record = SuspensionRecord {
            id: self.new_id(),
            subject: Subject::Organisation,
            subject_id: organisation_id,
            organisation_id,
            signal: "organisation_breaker".to_string(),
            reason: reason.clone(),
            suspended_at: self.now(),
            lifted_at: None,
            lifted_by: None,
        };
        self.mark_suspended(Subject::Organisation, organisation_id);
        match self.store().insert_suspension(&record).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return,
            Err(e) => tracing::error!(error = %e, "cannot store an organisation suspension"),
        }
        raise(
            self,
            NewAlert {
                signal: "organisation_breaker",
                severity: Severity::Critical,
                account_id: None,
                organisation_id: Some(organisation_id),
                action: Action::OrganisationSuspended,
                detail: reason,
            },
        )
        .await;
    }

    fn mark_suspended(&self, subject: Subject, id: Uuid) {
        self.inner
            .snapshot
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .suspended
            .insert((subject, id));
    }

    /// Observation after a lookup: feeds the signals and climbs the ladder. Never fails the
    /// request (a storage failure while suspending is logged; the suspension holds in memory).
    pub async fn observe(&self, obs: &Observation<'_>) {
        if !self.enabled() {
            return;
        }
        let actor = obs.request.actor;
        let now = self.now();
        let cfg = &self.inner.config;
        let info = self.org_info(actor.organisation_id).await;
        if self.refresh().await.is_err() {
            tracing::warn!("guard: cannot read decoys; this observation skips the decoy check");
        }

        // Decoy cards: suspend at once, whatever the answer was.
        let decoy = {
            let s = self
                .inner
                .snapshot
                .read()
                .unwrap_or_else(|p| p.into_inner());
            obs.card_id.is_some_and(|id| s.decoy_ids.contains(&id))
                || (obs.outcome == Outcome::NonMatch
                    && match (obs.request.insurer, obs.member_number) {
                        (Some(amc), Some(m)) => s
                            .decoy_members
                            .contains(&(amc.trim().to_string(), m.trim().to_ascii_uppercase())),
                        _ => false,
                    })
        };
        if decoy {
            self.suspend_account(
                actor,
                "decoy",
                "a decoy card (held by no patient) was looked up".to_string(),
            )
            .await;
            return;
        }

        let machine = channel(actor) == Channel::Machine;
        // Counters, then the decisions (no await while holding the lock).
        let mut to_escalate: Vec<(&'static str, String)> = Vec::new();
        let mut to_suspend: Option<(&'static str, String)> = None;
        let mut to_inform: Vec<(&'static str, String)> = Vec::new();
        let peers = self.peer_p90(info.profession.as_deref(), actor.account_id, now);
        {
            let mut accounts = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let st = accounts.entry(actor.account_id).or_default();
            st.prune(now);
            let has_history = !st.arrivals.is_empty();
            st.profession.clone_from(&info.profession);
            st.arrive(now, cfg.cadence_intervals as usize);

            if let Some(ip) = obs.request.client
                && st.addresses.insert(ip)
                && has_history
            {
                to_inform.push((
                    "new_address",
                    format!("a new client address ({} known)", st.addresses.len() - 1),
                ));
            }
            if let Some(cred) = actor.credential_id
                && st.credentials.insert(cred)
                && has_history
            {
                to_inform.push((
                    "new_credential",
                    format!("a new credential ({} known)", st.credentials.len() - 1),
                ));
            }
            if let Some(h) = &info.hours
                && !h.is_open(now)
            {
                to_escalate.push((
                    "outside_hours",
                    "a lookup outside the practice's declared opening hours".to_string(),
                ));
            }
            if !machine
                && signals::machine_regular(
                    &st.arrivals,
                    cfg.cadence_intervals as usize,
                    cfg.cadence_max_deviation_percent,
                    cfg.cadence_max_mean_secs,
                )
            {
                to_escalate.push((
                    "cadence",
                    format!(
                        "{} requests at near-constant intervals",
                        cfg.cadence_intervals + 1
                    ),
                ));
            }

            match obs.outcome {
                Outcome::NonMatch => {
                    st.non_matches.push_back(now);
                    let n = st.non_matches.len();
                    if n >= cfg.non_match_suspend as usize {
                        to_suspend = Some((
                            "non_match",
                            format!("{n} non-matching lookups within an hour"),
                        ));
                    } else if n.saturating_sub(st.ack_non_match) >= cfg.non_match_step_up as usize
                        && n >= cfg.non_match_step_up as usize
                    {
                        to_escalate.push((
                            "non_match",
                            format!("{n} non-matching lookups within an hour"),
                        ));
                    }
                }
                Outcome::Match { beneficiary } => {
                    st.push_lookup(now, beneficiary);
                    let d10 = st.distinct_10min();
                    let d24 = st.distinct_24h();
                    st.note_day(now, d24);
                    let base = cfg.baseline(info.profession.as_deref());
                    let own = st.own_max_24h() * cfg.own_history_percent as usize / 100;
                    let peer = peers
                        .map(|p| p * cfg.peer_percent as usize / 100)
                        .unwrap_or(0);
                    let t24 = (base.distinct_24h as usize).max(own).max(peer);
                    // The 10-minute norm follows the same ratio when the history or peers
                    // raise the daily one.
                    let t10 = (base.distinct_10min as usize).max(
                        t24 * base.distinct_10min as usize / (base.distinct_24h.max(1) as usize),
                    );
                    if d24 > t24 * cfg.suspend_percent as usize / 100 {
                        to_suspend = Some((
                            "distinct_24h",
                            format!("{d24} distinct beneficiaries in 24 hours (threshold {t24})"),
                        ));
                    } else if d10 > st.ack_10min.max(t10) {
                        to_escalate.push((
                            "distinct_10min",
                            format!("{d10} distinct beneficiaries in 10 minutes (threshold {t10})"),
                        ));
                    } else if d24 > st.ack_24h.max(t24) {
                        to_escalate.push((
                            "distinct_24h",
                            format!("{d24} distinct beneficiaries in 24 hours (threshold {t24})"),
                        ));
                    }
                }
            }
        }
        for (signal, detail) in to_inform {
            self.inform(actor, signal, detail).await;
        }
        if let Some((signal, detail)) = to_suspend {
            self.suspend_account(actor, signal, detail).await;
            return;
        }
        for (signal, detail) in to_escalate {
            self.escalate(actor, signal, detail).await;
        }
    }

    /// The 90th percentile of the 24 h distinct counts of the profession's other accounts
    /// seen by this process (at least 5), recomputed at most once a minute.
    fn peer_p90(&self, profession: Option<&str>, me: Uuid, now: OffsetDateTime) -> Option<usize> {
        let profession = profession?;
        {
            let cache = self.inner.peers.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, value)) = cache.get(profession)
                && at.elapsed() < std::time::Duration::from_secs(60)
            {
                return *value;
            }
        }
        let counts: Vec<usize> = {
            let accounts = self
                .inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            accounts
                .iter()
                .filter(|(id, st)| **id != me && !st.lookups.is_empty())
                .filter(|(_, st)| st.profession.as_deref() == Some(profession))
                .map(|(_, st)| st.distinct_within(now, Duration::hours(24)))
                .collect()
        };
        let value = signals::peer_p90(counts);
        self.inner
            .peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(profession.to_string(), (std::time::Instant::now(), value));
        value
    }

    // ---- operator actions

    fn require_operator(&self, actor: &Actor) -> Result<(), GuardError> {
        if actor.role != domain::accounts::Role::OperatorAdmin {
            return Err(GuardError::Forbidden);
        }
        let window =
            Duration::seconds(i64::try_from(self.inner.config.step_up_window_secs).unwrap_or(300));
        require_step_up(actor, self.now(), window).map_err(|_| GuardError::StepUpRequired)
    }

    /// Lifts a suspension and records the decision in the access ledger first (purpose
    /// `suspension_lift`, no data category, no beneficiary: the lifted subject's id stands in
    /// under the nil insurer, so the entry never shows in an access log or an incident scope).
    /// `by`: the operator (administrator, fresh step-up); `None`: the command line of `user`.
    /// If the ledger cannot record it, nothing is lifted.
    pub async fn lift_ledgered(
        &self,
        ledger: &crate::ledger::Ledger,
        by: Option<&Actor>,
        user: &str,
        subject: Subject,
        id: Uuid,
    ) -> Result<SuspensionRecord, GuardError> {
        if let Some(actor) = by {
            self.require_operator(actor)?;
        }
        let open = self
            .store()
            .list_active_suspensions()
            .await?
            .into_iter()
            .find(|s| s.subject == subject && s.subject_id == id)
            .ok_or(GuardError::NotFound)?;
        let (account_id, organisation_id, credential) = match by {
            Some(actor) => (
                Some(actor.account_id),
                actor.organisation_id,
                crate::rights::credential(actor),
            ),
            None => (None, open.organisation_id, format!("cli:{user}")),
        };
        ledger
            .record(crate::ledger::Disclosure {
                account_id,
                organisation_id,
                credential,
                insurer_id: Uuid::nil(),
                beneficiary_id: id,
                categories: Vec::new(),
                purpose: crate::ledger::Purpose::SuspensionLift,
                request_id: self.new_id().to_string(),
                client_addr: None,
            })
            .await
            .map_err(|e| GuardError::Ledger(e.to_string()))?;
        self.lift(by, subject, id).await
    }

    /// Lifts a suspension. `by`: the operator (administrator, fresh step-up); `None`: the
    /// command line. The in-memory counters of a lifted account start afresh.
    pub async fn lift(
        &self,
        by: Option<&Actor>,
        subject: Subject,
        id: Uuid,
    ) -> Result<SuspensionRecord, GuardError> {
        if let Some(actor) = by {
            self.require_operator(actor)?;
        }
        let lifted = self
            .store()
            .lift_suspension(subject, id, by.map(|a| a.account_id), self.now())
            .await?;
        self.inner
            .snapshot
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .suspended
            .remove(&(subject, id));
        if subject == Subject::Account {
            self.inner
                .accounts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        }
        self.invalidate();
        raise(
            self,
            NewAlert {
                signal: "operator",
                severity: Severity::Info,
                account_id: (subject == Subject::Account).then_some(id),
                organisation_id: Some(lifted.organisation_id),
                action: Action::SuspensionLifted,
                detail: format!("{} suspension lifted by an operator", subject.code()),
            },
        )
        .await;
        Ok(lifted)
    }

    /// Switches lookups off for `scope`. `by`: the operator (administrator, fresh step-up);
    /// `None`: the command line.
    pub async fn switch_off(
        &self,
        by: Option<&Actor>,
        scope: Scope,
        reason: Option<String>,
    ) -> Result<KillSwitchRecord, GuardError> {
        if let Some(actor) = by {
            self.require_operator(actor)?;
        }
        let record = KillSwitchRecord {
            id: self.new_id(),
            scope: scope.clone(),
            reason: reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            engaged_by: by.map(|a| a.account_id),
            engaged_at: self.now(),
            released_by: None,
            released_at: None,
        };
        match self.store().insert_kill_switch(&record).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(GuardError::Invalid(format!(
                    "lookups are already switched off for {scope}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.invalidate();
        raise(
            self,
            NewAlert {
                signal: "kill_switch",
                severity: Severity::Critical,
                account_id: by.map(|a| a.account_id),
                organisation_id: None,
                action: Action::SwitchedOff,
                detail: format!("lookups switched off for {scope}"),
            },
        )
        .await;
        Ok(record)
    }

    /// Switches lookups back on for `scope` (`NotFound` when it was not off).
    pub async fn switch_on(
        &self,
        by: Option<&Actor>,
        scope: Scope,
    ) -> Result<KillSwitchRecord, GuardError> {
        if let Some(actor) = by {
            self.require_operator(actor)?;
        }
        let record = self
            .store()
            .release_kill_switch(&scope, by.map(|a| a.account_id), self.now())
            .await?;
        self.invalidate();
        raise(
            self,
            NewAlert {
                signal: "kill_switch",
                severity: Severity::Warning,
                account_id: by.map(|a| a.account_id),
                organisation_id: None,
                action: Action::SwitchedOn,
                detail: format!("lookups switched back on for {scope}"),
            },
        )
        .await;
        Ok(record)
    }

    /// Whether lookups in any of `scopes` were switched off at `at` (for invoices made in
    /// degraded mode: honoured up to the card's printed rates when this is true).
    pub async fn was_switched_off(
        &self,
        scopes: &[Scope],
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let switches = self.store().find_kill_switches_at(at).await?;
        Ok(switches
            .iter()
            .any(|s| s.scope == Scope::Global || scopes.contains(&s.scope)))
    }
}

/// How the actor arrives: a session is a person (portal), no session is a machine.
pub fn channel(actor: &Actor) -> Channel {
    if actor.session_id.is_some() {
        Channel::Portal
    } else {
        Channel::Machine
    }
}
