//! Each beneficiary's access log, for their insurer: who (practice name and profession, never
//! a person's account id), when, which categories of data and why, read from the ledger by the
//! beneficiaries' pseudonyms; and the "not me" report, which raises an operator alert.
//!
//! The log of a member number covers every beneficiary of that member's family (the card is
//! the family's). Only the insurer's own staff and machines see it; a member of another
//! insurer, an unknown member or another organisation's caller all get `NotFound`.

#[allow(unused_imports)] // trait methods are also reached through `dyn Store`
use super::store::NotMeReportRecord;
use crate::Ports;
use crate::accounts::{AccessError, Actor};
use crate::guard::{Action, Guard, NewAlert, Severity};
#[allow(unused_imports)] // trait methods are also reached through `dyn Store`
use crate::ledger::{DataCategory, LedgerEntryRecord, Purpose};
use crate::store::{InsurerRecord, StoreError};
use domain::accounts::{Profession, Role};
use domain::ids::{AmcNumber, MemberNumber};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Entries per page, by default and at most.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// One access as the beneficiary sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    /// The ledger entry's index: what a "not me" report names.
    pub entry: u64,
    pub at: OffsetDateTime,
    /// The organisation's name (a practice's name, or the operator's or insurer's).
    pub organisation: String,
    /// The practice's profession (`None` for the operator or an insurer).
    pub profession: Option<Profession>,
    pub categories: Vec<DataCategory>,
    pub purpose: Option<Purpose>,
    /// Whether the beneficiary already reported it.
    pub reported: bool,
}

/// A page of the log, newest first; `next_before` continues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogPage {
    pub entries: Vec<AccessLogEntry>,
    pub next_before: Option<u64>,
}

/// The insurer of `amc`, if `actor` is its staff or its machine; `NotFound` otherwise.
async fn own_insurer(
    ports: &Ports,
    actor: &Actor,
    amc: &str,
) -> Result<InsurerRecord, AccessError> {
    if actor.role != Role::InsurerStaff {
        return Err(AccessError::NotFound);
    }
    let amc = AmcNumber::parse(amc).map_err(|_| AccessError::NotFound)?;
    let insurer = ports
        .store
        .find_insurer_by_amc(&amc)
        .await?
        .ok_or(AccessError::NotFound)?;
    crate::accounts::policy::owns(actor, insurer.id)?;
    Ok(insurer)
}

/// The pseudonyms of the member's family (`NotFound` for an unknown member).
async fn family_pseudonyms(
    ports: &Ports,
    insurer: &InsurerRecord,
    member: &str,
) -> Result<Vec<[u8; 32]>, AccessError> {
    let member = MemberNumber::parse(member).map_err(|_| AccessError::NotFound)?;
    let family = ports.store.find_member(insurer.id, &member).await?;
    if family.is_empty() {
        return Err(AccessError::NotFound);
    }
    Ok(family
        .iter()
        .map(|b| ports.vault.pseudonym(insurer.id, b.id))
        .collect())
}

/// A page of the access log of member `member` of the insurer of `amc`, newest first, below
/// entry `before`.
pub async fn access_log(
    ports: &Ports,
    actor: &Actor,
    amc: &str,
    member: &str,
    before: Option<u64>,
    limit: Option<u32>,
) -> Result<AccessLogPage, AccessError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let insurer = own_insurer(ports, actor, amc).await?;
    let pseudonyms = family_pseudonyms(ports, &insurer, member).await?;
    // One more than the page, to know whether there is a next one.
    let mut entries: Vec<LedgerEntryRecord> = Vec::new();
    for p in &pseudonyms {
        entries.extend(
            ports
                .store
                .find_ledger_entries_by_pseudonym(insurer.id, p, before, limit + 1)
                .await?,
        );
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.index));
    entries.dedup_by_key(|e| e.index);
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next_before = if more {
        entries.last().map(|e| e.index)
    } else {
        None
    };
    let mut names: HashMap<Uuid, (String, Option<Profession>)> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let (organisation, profession) = match names.get(&e.organisation_id) {
            Some(known) => known.clone(),
            None => {
                let found = who(ports, e.organisation_id).await?;
                names.insert(e.organisation_id, found.clone());
                found
            }
        };
        let reported = ports
            .store
            .find_not_me_report(insurer.id, e.index)
            .await?
            .is_some();
        out.push(AccessLogEntry {
            entry: e.index,
            at: e.at,
            organisation,
            profession,
            categories: DataCategory::split(&e.categories).unwrap_or_default(),
            purpose: Purpose::parse(&e.purpose),
            reported,
        });
    }
    Ok(AccessLogPage {
        entries: out,
        next_before,
    })
}

/// The name (and profession, for a practice) of the organisation that accessed.
async fn who(ports: &Ports, id: Uuid) -> Result<(String, Option<Profession>), AccessError> {
    match ports.store.get_practice(id).await {
        Ok(p) => return Ok((p.name, Some(p.profession))),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    match ports.store.get_organisation(id).await {
        Ok(o) => Ok((o.name, None)),
        Err(StoreError::NotFound) => Ok((String::new(), None)),
        Err(e) => Err(e.into()),
    }
}

/// A "not me" report as answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMe {
    pub report: NotMeReportRecord,
    /// False when the entry had been reported before (nothing new was stored or raised).
    pub created: bool,
}

/// Records that the beneficiary does not recognise ledger entry `entry` of their log, and
/// raises a `not_me` alert (warning) naming the accessing account and organisation for the
/// operator. Reporting an entry twice answers the first report.
pub async fn report_not_me(
    ports: &Ports,
    guard: &Guard,
    actor: &Actor,
    amc: &str,
    member: &str,
    entry: u64,
) -> Result<NotMe, AccessError> {
    let insurer = own_insurer(ports, actor, amc).await?;
    let pseudonyms = family_pseudonyms(ports, &insurer, member).await?;
    let record = ports
        .store
        .list_ledger_entries(entry, 1)
        .await?
        .into_iter()
        .find(|e| e.index == entry)
        .filter(|e| {
            e.insurer_id == insurer.id && pseudonyms.iter().any(|p| p[..] == e.pseudonym[..])
        })
        .ok_or(AccessError::NotFound)?;
    if let Some(report) = ports.store.find_not_me_report(insurer.id, entry).await? {
        return Ok(NotMe {
            report,
            created: false,
        });
    }
    let report = NotMeReportRecord {
        id: ports.new_id(),
        insurer_id: insurer.id,
        entry,
        accessor_organisation_id: record.organisation_id,
        reported_by: actor.account_id,
        created_at: ports.clock.now(),
    };
    match ports.store.insert_not_me_report(&report).await {
        Ok(()) => {}
        // Reported at the same moment by another request: that one raised the alert.
        Err(StoreError::Conflict { .. }) => {
            if let Some(first) = ports.store.find_not_me_report(insurer.id, entry).await? {
                return Ok(NotMe {
                    report: first,
                    created: false,
                });
            }
            return Err(AccessError::NotFound);
        }
        Err(e) => return Err(e.into()),
    }
    crate::guard::raise(
        guard,
        NewAlert {
            signal: "not_me",
            severity: Severity::Warning,
            account_id: record.account_id,
            organisation_id: Some(record.organisation_id),
            action: Action::None,
            detail: format!(
                "a beneficiary of insurer {} does not recognise ledger entry {} ({})",
                insurer.id, entry, record.purpose
            ),
        },
    )
    .await;
    Ok(NotMe {
        report,
        created: true,
    })
}
