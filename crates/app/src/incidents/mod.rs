//! Incident response: who, exactly, had data disclosed through a compromised account,
//! organisation, credential or client address, and the notices the law requires.
//!
//! - [`scope`] reads **the ledger**, not the registry: a person whose record was only stored is
//!   not counted as disclosed. An entry is in scope when its time is in the window (both ends
//!   optional) and, if any subject is named, it matches at least one of them (an account, an
//!   organisation, a credential such as `passkey:<id>` or `cert:<serial>`, a client address).
//!   The result is grouped by insurer (the data controller): the affected beneficiaries (their
//!   member number and birth rank, resolved from the pseudonyms by the insurer's own key), the
//!   categories actually disclosed to each, the counts, the first and last time.
//!   Beneficiaries are told apart by member number, birth rank and birth date (opened with
//!   the insurer's key), like the rights check does. Entries made
//!   by incident exports and suspension lifts are never counted.
//! - [`export`] turns a scope into the file the operator keeps: it is a disclosure of member
//!   numbers and birth dates, so each affected beneficiary gets a ledger entry (purpose
//!   `incident_export`, categories `identity` and `membership`) before the scope is handed over; the console needs a fresh
//!   passkey check for it.
//! - [`draft`] writes, per insurer: the GDPR article 33 notification draft, the article 34
//!   notice in French and in English, the NIS2 early-warning draft and the CSV of member
//!   numbers for the insurer's mailing.
//!
//! The ledger is in index order and its times only move forward (up to the few milliseconds
//! of one group commit), so a time window is found by bisection and only that slice is read.

pub mod draft;

#[cfg(test)]
mod tests;

use crate::Ports;
use crate::accounts::Actor;
use crate::ledger::store::LedgerEntryRecord;
use crate::ledger::{DataCategory, Disclosure, Ledger, Purpose};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// Entries read per store call while scanning.
const PAGE: u32 = 5_000;
/// Beneficiaries read per store call while resolving pseudonyms.
const RESOLVE_PAGE: u32 = 2_000;
/// How far the window is widened while bisecting (group-commit reordering).
const SLACK: Duration = Duration::minutes(1);

/// What an incident is about. At least one subject or one end of the window is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeQuery {
    #[serde(default)]
    pub accounts: Vec<Uuid>,
    #[serde(default)]
    pub organisations: Vec<Uuid>,
    /// `passkey:<credential id>` or `cert:<serial>`, as the ledger records them.
    #[serde(default)]
    pub credentials: Vec<String>,
    #[serde(default)]
    pub client_addrs: Vec<IpAddr>,
    /// Inclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

impl ScopeQuery {
    fn has_subject(&self) -> bool {
        !(self.accounts.is_empty()
            && self.organisations.is_empty()
            && self.credentials.is_empty()
            && self.client_addrs.is_empty())
    }

    fn validate(&self) -> Result<(), IncidentError> {
        if !self.has_subject() && self.from.is_none() && self.to.is_none() {
            return Err(IncidentError::Invalid(
                "scope: name at least one account, organisation, credential or client address, or a time window",
            ));
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from >= to
        {
            return Err(IncidentError::Invalid("to: must be after from"));
        }
        Ok(())
    }
}

/// Compiled matcher of a query.
struct Matcher<'a> {
    query: &'a ScopeQuery,
    accounts: HashSet<Uuid>,
    organisations: HashSet<Uuid>,
    credentials: HashSet<&'a str>,
    addrs: HashSet<String>,
}

impl<'a> Matcher<'a> {
    fn new(query: &'a ScopeQuery) -> Self {
        Self {
            query,
            accounts: query.accounts.iter().copied().collect(),
            organisations: query.organisations.iter().copied().collect(),
            credentials: query.credentials.iter().map(String::as_str).collect(),
            addrs: query.client_addrs.iter().map(IpAddr::to_string).collect(),
        }
    }

    fn matches(&self, e: &LedgerEntryRecord) -> bool {
        if e.purpose == Purpose::IncidentExport.code()
            || e.purpose == Purpose::SuspensionLift.code()
        {
            return false;
        }
        if self.query.from.is_some_and(|from| e.at < from)
            || self.query.to.is_some_and(|to| e.at >= to)
        {
            return false;
        }
        if !self.query.has_subject() {
            return true;
        }
        e.account_id.is_some_and(|a| self.accounts.contains(&a))
            || self.organisations.contains(&e.organisation_id)
            || self.credentials.contains(e.credential.as_str())
            || e.client_addr
                .as_ref()
                .is_some_and(|a| self.addrs.contains(a.as_str()))
    }
}

/// One affected beneficiary of one insurer: the member number, birth rank and birth date
/// (what the insurer and the card use to tell a family's people apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedMember {
    /// rempart's id of the beneficiary (meaningless outside rempart; the export is ledgered
    /// against it).
    pub beneficiary_id: Uuid,
    pub member_number: String,
    pub birth_rank: u8,
    /// `YYYY-MM-DD`; `None` when the record cannot be opened (its key was shredded).
    pub birth_date: Option<String>,
    /// Category codes, in canonical order.
    pub categories: Vec<String>,
    /// How many disclosures (ledger entries).
    pub records: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub first: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last: OffsetDateTime,
}

/// What one insurer (the data controller) must know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsurerScope {
    pub insurer_id: Uuid,
    pub amc: String,
    pub name: String,
    /// Distinct beneficiaries disclosed.
    pub people: u64,
    /// Disclosures (ledger entries).
    pub records: u64,
    /// Per category code: how many people had it disclosed.
    pub categories: BTreeMap<String, u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub first: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last: OffsetDateTime,
    /// People disclosed whose record no longer exists (erased since): counted, not named.
    pub unresolved_people: u64,
    /// By member number, then birth rank.
    pub members: Vec<AffectedMember>,
}

/// The scope of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentScope {
    pub query: ScopeQuery,
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// Ledger entries read (the window's slice).
    pub entries_read: u64,
    /// Entries in scope.
    pub entries_in_scope: u64,
    /// By AMC number.
    pub insurers: Vec<InsurerScope>,
}

impl IncidentScope {
    /// Distinct people over every insurer.
    pub fn people(&self) -> u64 {
        self.insurers.iter().map(|i| i.people).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Names the field and the reason.
    #[error("{0}")]
    Invalid(&'static str),
    #[error("only the operator may do this")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the ledger could not record the export: {0}")]
    Ledger(String),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
}

#[derive(Default)]
struct Hit {
    categories: BTreeSet<DataCategory>,
    records: u64,
    first: Option<OffsetDateTime>,
    last: Option<OffsetDateTime>,
}

impl Hit {
    fn add(&mut self, e: &LedgerEntryRecord) {
        if let Some(cats) = DataCategory::split(&e.categories) {
            self.categories.extend(cats);
        }
        self.records += 1;
        self.first = Some(self.first.map_or(e.at, |f| f.min(e.at)));
        self.last = Some(self.last.map_or(e.at, |l| l.max(e.at)));
    }
}

/// The first index whose entry is at or after `at` (bisection over the ledger's times).
async fn first_index_at(ports: &Ports, size: u64, at: OffsetDateTime) -> Result<u64, StoreError> {
    let (mut lo, mut hi) = (0u64, size);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let entry = ports.store.list_ledger_entries(mid, 1).await?;
        match entry.first() {
            Some(e) if e.at < at => lo = mid + 1,
            _ => hi = mid,
        }
    }
    Ok(lo)
}

/// Computes the scope of `query` from the ledger (see the module documentation).
pub async fn scope(ports: &Ports, query: &ScopeQuery) -> Result<IncidentScope, IncidentError> {
    query.validate()?;
    let computed_at = ports.clock.now();
    let size = ports.store.ledger_size().await?;
    let start = match query.from {
        Some(from) => first_index_at(ports, size, from - SLACK).await?,
        None => 0,
    };
    let stop_after = query.to.map(|to| to + SLACK);
    let matcher = Matcher::new(query);
    let mut hits: HashMap<Uuid, HashMap<Vec<u8>, Hit>> = HashMap::new();
    let (mut read, mut in_scope) = (0u64, 0u64);
    // Pages are read ahead by another task while this one matches.
    let mut pages = crate::ledger::store::read_ahead(ports.store.clone(), start, PAGE);
    'scan: while let Some(page) = pages.recv().await {
        for e in &page? {
            if e.index >= size {
                break 'scan;
            }
            if stop_after.is_some_and(|stop| e.at >= stop) {
                break 'scan;
            }
            read += 1;
            if matcher.matches(e) {
                in_scope += 1;
                hits.entry(e.insurer_id)
                    .or_default()
                    .entry(e.pseudonym.clone())
                    .or_default()
                    .add(e);
            }
        }
    }
    let mut insurers = Vec::with_capacity(hits.len());
    for (insurer_id, by_pseudonym) in hits {
        insurers.push(insurer_scope(ports, insurer_id, by_pseudonym).await?);
    }
    insurers.sort_by(|a, b| a.amc.cmp(&b.amc));
    Ok(IncidentScope {
        query: query.clone(),
        computed_at,
        entries_read: read,
        entries_in_scope: in_scope,
        insurers,
    })
}

/// Resolves one insurer's pseudonyms to its beneficiaries by walking them with its key.
async fn insurer_scope(
    ports: &Ports,
    insurer_id: Uuid,
    mut by_pseudonym: HashMap<Vec<u8>, Hit>,
) -> Result<InsurerScope, IncidentError> {
    let (amc, name) = match ports.store.get_insurer(insurer_id).await {
        Ok(i) => (i.amc.as_str().to_string(), i.name),
        Err(StoreError::NotFound) => (String::new(), String::new()),
        Err(e) => return Err(e.into()),
    };
    let records = by_pseudonym.values().map(|h| h.records).sum();
    let people = by_pseudonym.len() as u64;
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    let (mut first, mut last) = (None::<OffsetDateTime>, None::<OffsetDateTime>);
    for hit in by_pseudonym.values() {
        for c in &hit.categories {
            *categories.entry(c.code().to_string()).or_default() += 1;
        }
        first = match (first, hit.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last = last.max(hit.last);
    }
    let mut members = Vec::with_capacity(by_pseudonym.len());
    let mut after = None;
    while !by_pseudonym.is_empty() {
        let page = ports
            .store
            .list_beneficiaries_page(insurer_id, after, RESOLVE_PAGE)
            .await?;
        let Some(tail) = page.last() else { break };
        after = Some(tail.id);
        for b in &page {
            let pseudonym = ports.vault.pseudonym(insurer_id, b.id);
            if let Some(hit) = by_pseudonym.remove(pseudonym.as_slice()) {
                let (Some(f), Some(l)) = (hit.first, hit.last) else {
                    continue;
                };
                let birth_date = crate::beneficiaries::open_birth_date(&ports.vault, b)
                    .ok()
                    .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()));
                members.push(AffectedMember {
                    beneficiary_id: b.id,
                    member_number: b.member_number.as_str().to_string(),
                    birth_rank: b.birth_rank.get(),
                    birth_date,
                    categories: hit
                        .categories
                        .iter()
                        .map(|c| c.code().to_string())
                        .collect(),
                    records: hit.records,
                    first: f,
                    last: l,
                });
            }
        }
    }
    members.sort_by(|a, b| {
        (a.member_number.as_str(), a.birth_rank, &a.birth_date).cmp(&(
            b.member_number.as_str(),
            b.birth_rank,
            &b.birth_date,
        ))
    });
    let now = ports.clock.now();
    Ok(InsurerScope {
        insurer_id,
        amc,
        name,
        people,
        records,
        categories,
        first: first.unwrap_or(now),
        last: last.unwrap_or(now),
        unresolved_people: by_pseudonym.len() as u64,
        members,
    })
}

/// Who exports a scope: an operator person (with a fresh passkey check, enforced by the
/// console) or the command line on the server itself.
#[derive(Debug, Clone)]
pub enum Exporter<'a> {
    Person(&'a Actor),
    /// The `rempart incident` command: the operator organisation and the OS user.
    CommandLine {
        organisation_id: Uuid,
        user: String,
    },
}

/// Records the export of `scope` in the ledger (one entry per affected beneficiary, purpose
/// `incident_export`, categories `identity` (the birth date) and `membership`), before the
/// scope leaves. Fails, and nothing
/// should be handed over, if the ledger cannot record it.
pub async fn export(
    ports: &Ports,
    ledger: &Ledger,
    exporter: Exporter<'_>,
    scope: &IncidentScope,
) -> Result<u64, IncidentError> {
    let (account_id, organisation_id, credential) = match &exporter {
        Exporter::Person(actor) => {
            if !actor.is_operator() {
                return Err(IncidentError::Forbidden);
            }
            (
                Some(actor.account_id),
                actor.organisation_id,
                crate::rights::credential(actor),
            )
        }
        Exporter::CommandLine {
            organisation_id,
            user,
        } => (None, *organisation_id, format!("cli:{user}")),
    };
    let request_id = ports.new_id().to_string();
    let pending: Vec<Disclosure> = scope
        .insurers
        .iter()
        .flat_map(|insurer| {
            insurer.members.iter().map(|m| Disclosure {
                account_id,
                organisation_id,
                credential: credential.clone(),
                insurer_id: insurer.insurer_id,
                beneficiary_id: m.beneficiary_id,
                categories: vec![DataCategory::Identity, DataCategory::Membership],
                purpose: Purpose::IncidentExport,
                request_id: request_id.clone(),
                client_addr: None,
            })
        })
        .collect();
    ledger
        .record_all(pending)
        .await
        .map_err(|e| IncidentError::Ledger(e.to_string()))
}
