//! The professional's prior-approval page (`/approvals`) and invoice page (`/invoices`):
//! the engagement number of a rights check, up to [`LINE_ROWS`] lines typed in euros (an
//! empty row is ignored; amounts without a kind are refused), and the answer per line with its AMC amount and every step.
//! The same use cases as the API (`app::approvals`, `app::invoices`), ledgered the same way;
//! an approval is looked up by its number (`/approvals?number=…`) and can be cancelled.
//! A suspended account gets the guard's 403 (`portal::require_visitor`, `form_visitor`).

use crate::AppState;
use crate::api::invoices::claim_problem;
use crate::error::ApiError;
use crate::middleware::{ClientAddr, RequestId};
use crate::portal::{Visitor, form_visitor, require_visitor, show_time};
use app::approvals::{ApprovalAnswer, ApprovalRequest};
use app::invoices::{ClaimFailure, InvoiceAnswer, InvoiceRequest, LineAnswer, LineInput};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::accounts::Role;
use domain::money::Money;
use serde::Deserialize;

/// How many line rows the forms offer.
pub const LINE_ROWS: usize = 4;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/approvals", get(approvals_page).post(request_approval))
        .route("/approvals/cancel", post(cancel_approval))
        .route("/invoices", get(invoices_page).post(submit_invoice))
}

/// One choice of a `<select>`.
struct Choice {
    value: &'static str,
    selected: bool,
}

fn choices(values: &[&'static str], current: &str) -> Vec<Choice> {
    values
        .iter()
        .map(|&value| Choice {
            value,
            selected: value == current,
        })
        .collect()
}

const KINDS: [&str; 6] = ["", "frame", "lens", "hearing_aid", "prosthesis", "other"];
const CLASSES: [&str; 5] = ["", "A", "B", "I", "II"];
const COMPLEXITIES: [&str; 4] = ["", "simple", "complex", "very_complex"];
const EARS: [&str; 3] = ["", "left", "right"];

/// A line row of the form, as typed (shown again after an error).
struct RowView {
    n: usize,
    kinds: Vec<Choice>,
    classes: Vec<Choice>,
    complexities: Vec<Choice>,
    ears: Vec<Choice>,
    price: String,
    br: String,
    amo: String,
}

/// The posted fields, in order (the line rows are `kind1`, `price1`, … `kind4`).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    fn rows(&self) -> Vec<RowView> {
        (1..=LINE_ROWS)
            .map(|n| RowView {
                n,
                kinds: choices(&KINDS, self.get(&format!("kind{n}"))),
                classes: choices(&CLASSES, self.get(&format!("class{n}"))),
                complexities: choices(&COMPLEXITIES, self.get(&format!("complexity{n}"))),
                ears: choices(&EARS, self.get(&format!("ear{n}"))),
                price: self.get(&format!("price{n}")).to_string(),
                br: self.get(&format!("br{n}")).to_string(),
                amo: self.get(&format!("amo{n}")).to_string(),
            })
            .collect()
    }

    /// The lines typed, or the message naming the row and the field.
    fn lines(&self) -> Result<Vec<LineInput>, String> {
        let mut out = Vec::new();
        for n in 1..=LINE_ROWS {
            let kind = self.get(&format!("kind{n}"));
            if kind.is_empty() {
                let typed = ["price", "br", "amo"]
                    .iter()
                    .any(|f| !self.get(&format!("{f}{n}")).is_empty());
                if typed {
                    return Err(format!(
                        "Line {n}, kind: choose the kind of the line (or clear its amounts)."
                    ));
                }
                continue;
            }
            let opt =
                |f: &str| Some(self.get(&format!("{f}{n}")).to_string()).filter(|v| !v.is_empty());
            let cents = |f: &str, field: &'static str| {
                Money::parse_euros(self.get(&format!("{f}{n}")), field)
                    .map(Money::cents)
                    .map_err(|e| format!("Line {n}, {e}"))
            };
            out.push(LineInput {
                kind: kind.to_string(),
                class: opt("class"),
                complexity: opt("complexity"),
                ear: opt("ear"),
                quantity: None,
                price_cents: cents("price", "price")?,
                br_cents: cents("br", "base (BR)")?,
                amo_cents: cents("amo", "AMO paid")?,
            });
        }
        if out.is_empty() {
            return Err("Lines: choose the kind of at least one line.".into());
        }
        Ok(out)
    }
}

/// A line of an answer.
struct LineView {
    n: usize,
    amc: String,
    rejection: String,
    steps: Vec<String>,
}

fn line_views(lines: &[LineAnswer]) -> Vec<LineView> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| LineView {
            n: i + 1,
            amc: Money::from_cents(l.amc_cents).to_string(),
            rejection: l.rejection.clone().unwrap_or_default(),
            steps: l.steps.iter().map(|s| s.text.clone()).collect(),
        })
        .collect()
}

/// An answer as the pages show it (an approval or an invoice).
struct AnswerView {
    reference: String,
    status: String,
    decision: String,
    domain: String,
    care_date: String,
    valid_until: String,
    total: String,
    lines: Vec<LineView>,
}

impl AnswerView {
    fn of_approval(a: &ApprovalAnswer) -> Self {
        Self {
            reference: a.number.clone(),
            status: a.status.clone(),
            decision: a.decision.clone(),
            domain: a.domain.clone(),
            care_date: crate::api::rights::date_text(a.care_date),
            valid_until: crate::api::rights::date_text(a.valid_until),
            total: Money::from_cents(a.total_cents).to_string(),
            lines: line_views(&a.lines),
        }
    }

    fn of_invoice(a: &InvoiceAnswer) -> Self {
        Self {
            reference: a.id.to_string(),
            status: a.status.clone(),
            decision: a.status.clone(),
            domain: a.domain.clone(),
            care_date: crate::api::rights::date_text(a.care_date),
            valid_until: String::new(),
            total: Money::from_cents(a.total_cents).to_string(),
            lines: line_views(&a.lines),
        }
    }
}

/// The message of a failed request, or the error page for what a message cannot say.
fn failure_text(e: ClaimFailure) -> Result<String, ApiError> {
    match e {
        ClaimFailure::Invalid { path, reason } => Ok(format!("{path}: {reason}")),
        ClaimFailure::NotFound => {
            Ok("No engagement or approval of your practice has this number.".into())
        }
        ClaimFailure::NotActive(what) => Ok(format!("The prior approval is {what}.")),
        other => Err(claim_problem(other)),
    }
}

/// Whether the visitor sends claims (a professional); others see an explanation.
fn sends_claims(visitor: &Visitor) -> bool {
    visitor.actor.role == Role::Professional
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    operator: bool,
    csrf: String,
    allowed: bool,
    error: Option<String>,
    engagement: String,
    validity_months: String,
    rows: Vec<RowView>,
    answer: Option<AnswerView>,
}

impl ApprovalsPage {
    fn new(visitor: Visitor, fields: &Fields) -> Self {
        Self {
            operator: visitor.actor.is_operator(),
            allowed: sends_claims(&visitor),
            csrf: visitor.csrf,
            error: None,
            engagement: fields.get("engagement").to_string(),
            validity_months: fields.get("validity_months").to_string(),
            rows: fields.rows(),
            answer: None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct NumberQuery {
    number: Option<String>,
}

/// The form, and with `?number=` the approval of that number.
async fn approvals_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NumberQuery>,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let actor = visitor.actor.clone();
    let mut page = ApprovalsPage::new(visitor, &Fields(Vec::new()));
    if let Some(number) = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        match app::approvals::get(&state.ports, &actor, number).await {
            Ok(a) => page.answer = Some(AnswerView::of_approval(&a)),
            Err(e) => page.error = Some(failure_text(e)?),
        }
    }
    Ok(page.into_response())
}

async fn request_approval(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let visitor = form_visitor(&state, &headers, fields.get("csrf")).await?;
    let actor = visitor.actor.clone();
    let mut page = ApprovalsPage::new(visitor, &fields);
    let validity_months = match fields.get("validity_months") {
        "" => None,
        m => match m.parse::<u8>() {
            Ok(m) => Some(m),
            Err(_) => {
                page.error = Some("Validity: a number of months from 1 to 12.".into());
                return Ok(page.into_response());
            }
        },
    };
    let request = match fields.lines() {
        Ok(lines) => ApprovalRequest {
            engagement: fields.get("engagement").to_string(),
            lines,
            validity_months,
        },
        Err(message) => {
            page.error = Some(message);
            return Ok(page.into_response());
        }
    };
    let info = crate::api::invoices::info(&request_id, client.as_ref().map(|c| &c.0));
    match app::approvals::request(&state.ports, &state.ledger, &actor, info, &request).await {
        Ok(a) => page.answer = Some(AnswerView::of_approval(&a)),
        Err(e) => page.error = Some(failure_text(e)?),
    }
    Ok(page.into_response())
}

#[derive(Debug, Deserialize)]
struct CancelForm {
    csrf: String,
    number: String,
}

async fn cancel_approval(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CancelForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    let actor = visitor.actor.clone();
    let mut page = ApprovalsPage::new(visitor, &Fields(Vec::new()));
    match app::approvals::cancel(&state.ports, &actor, form.number.trim()).await {
        Ok(a) => page.answer = Some(AnswerView::of_approval(&a)),
        Err(e) => page.error = Some(failure_text(e)?),
    }
    Ok(page.into_response())
}

/// A row of the practice's latest invoices.
struct InvoiceRow {
    id: String,
    created_at: String,
    care_date: String,
    domain: String,
    status: String,
    total: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "invoices.html")]
struct InvoicesPage {
    operator: bool,
    csrf: String,
    allowed: bool,
    error: Option<String>,
    engagement: String,
    approval: String,
    care_date: String,
    rows: Vec<RowView>,
    answer: Option<AnswerView>,
    recent: Vec<InvoiceRow>,
}

/// The latest invoices of the visitor's practice.
async fn recent(state: &AppState, visitor: &Visitor) -> Result<Vec<InvoiceRow>, ApiError> {
    if !sends_claims(visitor) {
        return Ok(Vec::new());
    }
    let list = app::invoices::list(&state.ports, &visitor.actor, 20)
        .await
        .map_err(claim_problem)?;
    Ok(list
        .iter()
        .map(|i| InvoiceRow {
            id: i.id.to_string(),
            created_at: show_time(i.created_at),
            care_date: crate::api::rights::date_text(i.care_date),
            domain: i.domain.clone(),
            status: i.status.clone(),
            total: Money::from_cents(i.total_cents).to_string(),
        })
        .collect())
}

async fn invoices_view(
    state: &AppState,
    visitor: Visitor,
    fields: &Fields,
    outcome: Result<Option<AnswerView>, String>,
) -> Result<Response, ApiError> {
    let recent = recent(state, &visitor).await?;
    let care_date = match fields.get("care_date") {
        "" => crate::api::rights::date_text(state.ports.clock.today()),
        d => d.to_string(),
    };
    let (error, answer) = match outcome {
        Ok(a) => (None, a),
        Err(e) => (Some(e), None),
    };
    Ok(InvoicesPage {
        operator: visitor.actor.is_operator(),
        allowed: sends_claims(&visitor),
        csrf: visitor.csrf,
        error,
        engagement: fields.get("engagement").to_string(),
        approval: fields.get("approval").to_string(),
        care_date,
        rows: fields.rows(),
        answer,
        recent,
    }
    .into_response())
}

async fn invoices_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    invoices_view(&state, visitor, &Fields(Vec::new()), Ok(None)).await
}

/// The invoice of the form, or the message naming the first bad field.
fn invoice_of(fields: &Fields) -> Result<InvoiceRequest, String> {
    let care_date = crate::api::rights::parse_date(fields.get("care_date"))
        .ok_or_else(|| "Care date: a date, YYYY-MM-DD.".to_string())?;
    let engagement = fields.get("engagement");
    if engagement.is_empty() {
        return Err("Engagement number: the number answered by the rights check.".into());
    }
    Ok(InvoiceRequest {
        engagement: Some(engagement.to_string()),
        card: None,
        patient: None,
        domain: None,
        approval: Some(fields.get("approval").to_string()).filter(|a| !a.is_empty()),
        care_date,
        lines: fields.lines()?,
    })
}

/// Sends the invoice. Sending the same one again is answered `rejected` with the
/// duplicate-invoice code on every line: nothing is paid twice.
async fn submit_invoice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Extension(request_id): Extension<RequestId>,
    client: Option<Extension<ClientAddr>>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let visitor = form_visitor(&state, &headers, fields.get("csrf")).await?;
    let request = match invoice_of(&fields) {
        Ok(r) => r,
        Err(message) => return invoices_view(&state, visitor, &fields, Err(message)).await,
    };
    let info = crate::api::invoices::info(&request_id, client.as_ref().map(|c| &c.0));
    let outcome = match app::invoices::submit(
        &state.ports,
        &state.ledger,
        &state.guard,
        &visitor.actor,
        info,
        &request,
        None,
    )
    .await
    {
        Ok(answer) => Ok(Some(AnswerView::of_invoice(&answer))),
        Err(e) => Err(failure_text(e)?),
    };
    invoices_view(&state, visitor, &fields, outcome).await
}
