//! The insurers' console (DESIGN.md: `console` serves operators and insurers), for
//! insurers' staff:
//! - `/insurer/contracts`: the insurer's contract versions (code, version, label, responsible,
//!   effective dates, loaded when) and a form loading a version from its TOML text (the same
//!   use case as `rempart contracts load` and the API; the same version again changes nothing);
//! - `/insurer/billing`: the billing statement of a period — what rempart paid professionals
//!   on the insurer's behalf in the payment runs executed in it, by domain and contract, with
//!   the total to the cent — and its CSV (`/insurer/billing.csv?amc=&from=&to=`, the
//!   statement of docs/formats.md). Operators see every insurer's statement.
//!
//! Anyone else sees that these pages are not for them; another insurer's figures answer 404.

use crate::AppState;
use crate::error::ApiError;
use crate::portal::payments::problem;
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use app::contracts::ContractLoadError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/insurer/contracts",
            get(contracts_page).post(load_contract),
        )
        .route("/insurer/billing", get(billing_page))
        .route("/insurer/billing.csv", get(billing_csv))
}

struct ContractView {
    code: String,
    version: u32,
    label: String,
    responsible: bool,
    effective_from: String,
    effective_to: String,
    loaded_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "insurer_contracts.html")]
struct ContractsPage {
    operator: bool,
    csrf: String,
    allowed: bool,
    notice: Option<String>,
    toml: String,
    contracts: Vec<ContractView>,
}

async fn render_contracts(
    state: &AppState,
    visitor: Visitor,
    notice: Option<String>,
    toml: String,
) -> Result<Response, ApiError> {
    let contracts = match app::contracts::list_own(&state.ports, &visitor.actor).await {
        Ok(list) => Some(list),
        Err(app::accounts::AccessError::NotFound) => None,
        Err(e) => return Err(crate::auth::problem(e)),
    };
    Ok(ContractsPage {
        operator: visitor.actor.is_operator(),
        csrf: visitor.csrf,
        allowed: contracts.is_some(),
        notice,
        toml,
        contracts: contracts
            .unwrap_or_default()
            .iter()
            .map(|c| ContractView {
                code: c.code.as_str().to_string(),
                version: c.version,
                label: c.label.clone(),
                responsible: c.responsible,
                effective_from: crate::api::rights::date_text(c.effective_from),
                effective_to: c
                    .effective_to
                    .map(crate::api::rights::date_text)
                    .unwrap_or_default(),
                loaded_at: show_time(c.created_at),
            })
            .collect(),
    }
    .into_response())
}

async fn contracts_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match require_visitor(&state, &headers).await? {
        Ok(v) => render_contracts(&state, v, None, String::new()).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(Debug, Deserialize)]
struct LoadForm {
    csrf: String,
    toml: String,
}

/// Loads a contract version from its TOML text; an error names the field and keeps the text.
async fn load_contract(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoadForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    let insurer =
        app::accounts::policy::own_insurer(&visitor.actor).map_err(crate::auth::problem)?;
    let (notice, keep) = match app::contracts::load(&state.ports, insurer, &form.toml).await {
        Ok(l) if l.created => (
            format!(
                "Loaded {} version {}.",
                l.contract.code.as_str(),
                l.contract.version
            ),
            String::new(),
        ),
        Ok(l) => (
            format!(
                "{} version {} was already loaded with this content: nothing changed.",
                l.contract.code.as_str(),
                l.contract.version
            ),
            String::new(),
        ),
        Err(e @ (ContractLoadError::Invalid { .. } | ContractLoadError::Changed { .. })) => {
            (format!("Not loaded: {e}"), form.toml)
        }
        Err(ContractLoadError::Store(e)) => return Err(ApiError::internal(e)),
    };
    render_contracts(&state, visitor, Some(notice), keep).await
}

#[derive(Debug, Default, Deserialize)]
struct BillingQuery {
    amc: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct InsurerChoice {
    amc: String,
    name: String,
    selected: bool,
}

struct GroupView {
    domain: &'static str,
    contract: String,
    invoices: usize,
    lines: u64,
    total: String,
}

struct BillView {
    lines: u64,
    total: String,
    runs: usize,
    groups: Vec<GroupView>,
    csv: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "insurer_billing.html")]
struct BillingPage {
    operator: bool,
    csrf: String,
    insurers: Vec<InsurerChoice>,
    from: String,
    to: String,
    error: Option<String>,
    bill: Option<BillView>,
}

/// The period asked, or the message naming the bad field.
fn period(q: &BillingQuery) -> Result<(time::Date, time::Date), String> {
    let date = |field: &str, v: &Option<String>| {
        crate::api::rights::parse_date(v.as_deref().unwrap_or("").trim())
            .ok_or_else(|| format!("{field}: a date, YYYY-MM-DD."))
    };
    Ok((date("From", &q.from)?, date("To", &q.to)?))
}

async fn billing_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<BillingQuery>,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let insurers = app::payments::billable_insurers(&state.ports, &visitor.actor)
        .await
        .map_err(problem)?;
    let today = state.ports.clock.today();
    let first_of_month = today.replace_day(1).unwrap_or(today);
    let amc = q
        .amc
        .clone()
        .or_else(|| insurers.first().map(|i| i.amc.as_str().to_string()))
        .unwrap_or_default();
    let mut page = BillingPage {
        operator: visitor.actor.is_operator(),
        csrf: visitor.csrf.clone(),
        insurers: insurers
            .iter()
            .map(|i| InsurerChoice {
                amc: i.amc.as_str().to_string(),
                name: i.name.clone(),
                selected: i.amc.as_str() == amc,
            })
            .collect(),
        from: q
            .from
            .clone()
            .unwrap_or_else(|| crate::api::rights::date_text(first_of_month)),
        to: q
            .to
            .clone()
            .unwrap_or_else(|| crate::api::rights::date_text(today)),
        error: None,
        bill: None,
    };
    if q.from.is_none() && q.to.is_none() {
        return Ok(page.into_response());
    }
    let (from, to) = match period(&q) {
        Ok(p) => p,
        Err(e) => {
            page.error = Some(e);
            return Ok(page.into_response());
        }
    };
    match app::payments::bill_for(&state.ports, &visitor.actor, &amc, from, to).await {
        Ok(bill) => {
            let csv = serde_urlencoded::to_string([
                ("amc", amc.as_str()),
                ("from", page.from.as_str()),
                ("to", page.to.as_str()),
            ])
            .map_err(ApiError::internal)?;
            page.bill = Some(BillView {
                lines: bill.lines,
                total: bill.total.to_string(),
                runs: bill.runs.len(),
                groups: bill
                    .groups
                    .iter()
                    .map(|g| GroupView {
                        domain: g.domain.code(),
                        contract: g.contract.as_str().to_string(),
                        invoices: g.invoices.len(),
                        lines: g.lines,
                        total: g.total.to_string(),
                    })
                    .collect(),
                csv: format!("/insurer/billing.csv?{csv}"),
            });
        }
        Err(app::payments::PaymentsError::Invalid { field, reason }) => {
            page.error = Some(format!("{field}: {reason}"));
        }
        Err(e) => return Err(problem(e)),
    }
    Ok(page.into_response())
}

/// The statement of the period as CSV.
async fn billing_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<BillingQuery>,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let (from, to) = period(&q).map_err(ApiError::unprocessable)?;
    let amc = q.amc.as_deref().unwrap_or("");
    let bill = app::payments::bill_for(&state.ports, &visitor.actor, amc, from, to)
        .await
        .map_err(problem)?;
    let bytes = app::payments::bill_bytes(&bill, false).map_err(problem)?;
    Ok(crate::portal::attachment(
        bytes,
        "text/csv; charset=utf-8",
        "billing-statement.csv",
    ))
}
