//! Incident response in the operator console (`/console/incidents`): scope a breach from the
//! ledger (accounts, organisations, credentials, client addresses, a time window) and see,
//! per insurer, the people and disclosures counted, the categories and the first and last
//! time — counts only, no member number. The export (`POST /console/incidents/export`, the
//! whole scope as JSON, member numbers and birth dates included) is for operator
//! administrators with a fresh passkey check, and is ledgered before it is sent
//! (`app::incidents::export`). The notice drafts come from that file with `rempart incident
//! draft`.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use app::incidents::{Exporter, IncidentError, IncidentScope, ScopeQuery, export, scope};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::accounts::Role;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/incidents", get(page).post(scope_page))
        .route("/console/incidents/export", post(export_scope))
}

/// The scope form: lists are separated by spaces, commas or new lines.
#[derive(Debug, Default, Deserialize)]
struct ScopeForm {
    csrf: String,
    #[serde(default)]
    accounts: String,
    #[serde(default)]
    organisations: String,
    #[serde(default)]
    credentials: String,
    #[serde(default)]
    client_addrs: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn items(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|x| !x.is_empty())
}

fn list<T: std::str::FromStr>(field: &str, s: &str) -> Result<Vec<T>, String> {
    items(s)
        .map(|x| {
            x.parse()
                .map_err(|_| format!("{field}: \"{x}\" is not valid"))
        })
        .collect()
}

fn time_field(field: &str, s: &str) -> Result<Option<OffsetDateTime>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .map(Some)
        .map_err(|_| format!("{field}: an RFC 3339 time, e.g. 2026-11-28T09:00:00Z"))
}

impl ScopeForm {
    fn query(&self) -> Result<ScopeQuery, String> {
        Ok(ScopeQuery {
            accounts: list("accounts", &self.accounts)?,
            organisations: list("organisations", &self.organisations)?,
            credentials: items(&self.credentials).map(str::to_string).collect(),
            client_addrs: list("client addresses", &self.client_addrs)?,
            from: time_field("from", &self.from)?,
            to: time_field("to", &self.to)?,
        })
    }
}

struct InsurerView {
    amc: String,
    name: String,
    people: u64,
    records: u64,
    categories: String,
    first: String,
    last: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console_incidents.html")]
struct IncidentsPage {
    operator: bool,
    csrf: String,
    may_export: bool,
    error: Option<String>,
    accounts: String,
    organisations: String,
    credentials: String,
    client_addrs: String,
    from: String,
    to: String,
    computed: bool,
    entries_read: u64,
    entries_in_scope: u64,
    people: u64,
    insurers: Vec<InsurerView>,
}

fn render(
    visitor: Visitor,
    form: &ScopeForm,
    result: Result<Option<IncidentScope>, String>,
) -> Response {
    let (error, scope) = match result {
        Ok(s) => (None, s),
        Err(e) => (Some(e), None),
    };
    let insurers = scope
        .as_ref()
        .map(|s| {
            s.insurers
                .iter()
                .map(|i| InsurerView {
                    amc: i.amc.clone(),
                    name: i.name.clone(),
                    people: i.people,
                    records: i.records,
                    categories: i
                        .categories
                        .iter()
                        .map(|(c, n)| format!("{c} {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    first: show_time(i.first),
                    last: show_time(i.last),
                })
                .collect()
        })
        .unwrap_or_default();
    IncidentsPage {
        operator: true,
        may_export: visitor.actor.role == Role::OperatorAdmin,
        csrf: visitor.csrf,
        error,
        accounts: form.accounts.clone(),
        organisations: form.organisations.clone(),
        credentials: form.credentials.clone(),
        client_addrs: form.client_addrs.clone(),
        from: form.from.clone(),
        to: form.to.clone(),
        computed: scope.is_some(),
        entries_read: scope.as_ref().map_or(0, |s| s.entries_read),
        entries_in_scope: scope.as_ref().map_or(0, |s| s.entries_in_scope),
        people: scope.as_ref().map_or(0, IncidentScope::people),
        insurers,
    }
    .into_response()
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match require_visitor(&state, &headers).await? {
        Ok(v) if v.actor.is_operator() => Ok(render(v, &ScopeForm::default(), Ok(None))),
        Ok(_) => Err(ApiError::not_found()),
        Err(redirect) => Ok(redirect),
    }
}

async fn compute(
    state: &AppState,
    form: &ScopeForm,
) -> Result<Result<IncidentScope, String>, ApiError> {
    let query = match form.query() {
        Ok(q) => q,
        Err(e) => return Ok(Err(e)),
    };
    match scope(&state.ports, &query).await {
        Ok(s) => Ok(Ok(s)),
        Err(IncidentError::Invalid(reason)) => Ok(Err(reason.to_string())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

async fn scope_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ScopeForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    let result = compute(&state, &form).await?.map(Some);
    Ok(render(visitor, &form, result))
}

async fn export_scope(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ScopeForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    if !visitor.actor.is_operator() {
        return Err(ApiError::not_found());
    }
    if visitor.actor.role != Role::OperatorAdmin {
        return Err(ApiError::forbidden(
            "forbidden",
            "Only an operator administrator may export an incident scope.",
        ));
    }
    let window = crate::auth::step_up_window(&state);
    crate::auth::require_step_up(&visitor.actor, state.ports.clock.now(), window)?;
    let scope = match compute(&state, &form).await? {
        Ok(s) => s,
        Err(e) => return Ok(render(visitor, &form, Err(e))),
    };
    export(&state.ports, &state.ledger, Exporter::Person(&visitor.actor), &scope)
        .await
        .map_err(|e| match e {
            IncidentError::Ledger(cause) => ApiError::unavailable(
                "The access ledger cannot record this export now, so nothing was exported; retry shortly.",
            )
            .with_internal(cause),
            other => ApiError::internal(other),
        })?;
    let body = serde_json::to_vec_pretty(&scope).map_err(ApiError::internal)?;
    Ok(crate::portal::attachment(
        body,
        "application/json",
        "incident-scope.json",
    ))
}
