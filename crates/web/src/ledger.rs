//! The auditor's view of the access ledger in the console (`/console/ledger`): the entries
//! by account, organisation, insurer and time window (newest first, paged), the latest signed
//! checkpoints, and the outcome of the last verification. Auditors and operators only; others
//! get the 404 of a missing page. Entries carry pseudonyms, never an identifier: the page
//! shows the first 8 bytes of each, enough to follow one beneficiary without naming them.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::{require_visitor, show_time};
use app::ledger::LedgerFilter;
use app::store::StoreError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Entries per page.
const PAGE: u32 = 100;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/console/ledger", get(page))
}

/// The filter, as the form sends it (every field optional; empty means "any").
#[derive(Debug, Default, Deserialize)]
struct FilterForm {
    account: Option<String>,
    organisation: Option<String>,
    insurer: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (from midnight UTC).
    from: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD` (exclusive).
    to: Option<String>,
    before: Option<u64>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn id(field: &'static str, v: &Option<String>) -> Result<Option<Uuid>, String> {
    text(v)
        .map(|s| s.parse().map_err(|_| format!("{field}: not an id")))
        .transpose()
}

fn when(field: &'static str, v: &Option<String>) -> Result<Option<OffsetDateTime>, String> {
    let Some(s) = text(v) else { return Ok(None) };
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(Some(t));
    }
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &f)
        .map(|d| Some(d.midnight().assume_utc()))
        .map_err(|_| format!("{field}: a date (YYYY-MM-DD) or an RFC 3339 time"))
}

impl FilterForm {
    fn filter(&self) -> Result<LedgerFilter, String> {
        Ok(LedgerFilter {
            account_id: id("account", &self.account)?,
            organisation_id: id("organisation", &self.organisation)?,
            insurer_id: id("insurer", &self.insurer)?,
            from: when("from", &self.from)?,
            to: when("to", &self.to)?,
            before: self.before,
            limit: PAGE,
        })
    }

    /// The query string of the next page.
    fn next(&self, before: u64) -> String {
        let before = before.to_string();
        let mut q = vec![("before", before.as_str())];
        for (k, v) in [
            ("account", &self.account),
            ("organisation", &self.organisation),
            ("insurer", &self.insurer),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = text(v) {
                q.push((k, v));
            }
        }
        serde_urlencoded::to_string(&q).unwrap_or_default()
    }
}

struct EntryView {
    index: u64,
    at: String,
    account: String,
    organisation: Uuid,
    credential: String,
    insurer: Uuid,
    pseudonym: String,
    categories: String,
    purpose: String,
    request_id: String,
    client: String,
}

struct CheckpointView {
    tree_size: u64,
    root: String,
    at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_ledger.html")]
struct LedgerPage {
    operator: bool,
    csrf: String,
    error: Option<String>,
    account: String,
    organisation: String,
    insurer: String,
    from: String,
    to: String,
    entries: Vec<EntryView>,
    next: Option<String>,
    size: u64,
    checkpoints: Vec<CheckpointView>,
    verification: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(form): Query<FilterForm>,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) if v.actor.is_operator() => v,
        Ok(_) => return Err(ApiError::not_found()),
        Err(redirect) => return Ok(redirect),
    };
    let store = state.ports.store.as_ref();
    let (entries, error) = match form.filter() {
        Ok(mut filter) => {
            // The ledger has no index by account: an account's entries are read through its
            // organisation's (an account belongs to one organisation for life).
            if let (Some(account), None) = (filter.account_id, filter.organisation_id) {
                match store.get_account(account).await {
                    Ok(a) => filter.organisation_id = Some(a.organisation_id),
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(ApiError::internal(e)),
                }
            }
            (
                store
                    .find_ledger_entries(&filter)
                    .await
                    .map_err(ApiError::internal)?,
                None,
            )
        }
        Err(e) => (Vec::new(), Some(e)),
    };
    let next = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| form.next(e.index)))
        .flatten();
    let entries = entries
        .into_iter()
        .map(|e| EntryView {
            index: e.index,
            at: e.at.format(&Rfc3339).unwrap_or_else(|_| show_time(e.at)),
            account: e
                .account_id
                .map_or_else(|| "machine".into(), |a| a.to_string()),
            organisation: e.organisation_id,
            credential: e.credential,
            insurer: e.insurer_id,
            pseudonym: hex(&e.pseudonym[..e.pseudonym.len().min(8)]),
            categories: e.categories,
            purpose: e.purpose,
            request_id: e.request_id,
            client: e.client_addr.unwrap_or_default(),
        })
        .collect();
    let checkpoints = store
        .list_ledger_checkpoints(None, 10)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|c| CheckpointView {
            tree_size: c.tree_size,
            root: hex(&c.root),
            at: show_time(c.at),
        })
        .collect();
    let verification = store
        .latest_ledger_verification()
        .await
        .map_err(ApiError::internal)?
        .map(|v| {
            format!(
                "{} at {}: {} ({} entries, {} checkpoints)",
                if v.ok { "passed" } else { "FAILED" },
                show_time(v.at),
                v.summary,
                v.entries,
                v.checkpoints
            )
        });
    let size = store.ledger_size().await.map_err(ApiError::internal)?;
    let keep = |v: &Option<String>| text(v).unwrap_or_default().to_string();
    Ok(LedgerPage {
        operator: true,
        csrf: visitor.csrf,
        error,
        account: keep(&form.account),
        organisation: keep(&form.organisation),
        insurer: keep(&form.insurer),
        from: keep(&form.from),
        to: keep(&form.to),
        entries,
        next,
        size,
        checkpoints,
        verification,
    }
    .into_response())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_next_page_keeps_the_filter_encoded() {
        let form = FilterForm {
            account: Some(" 0190c0de-0000-7000-8000-000000000001 ".into()),
            from: Some("2026-11-28T08:00:00+01:00".into()),
            to: Some(String::new()),
            ..FilterForm::default()
        };
        assert_eq!(
            form.next(42),
            "before=42&account=0190c0de-0000-7000-8000-000000000001&from=2026-11-28T08%3A00%3A00%2B01%3A00"
        );
    }
}
