//! The rights-check page for professionals (`/rights`): paste or scan the datamatrix token,
//! or type the card's AMC number, member number and verification code; the patient's birth
//! date and rank; a domain of the practice's profession; the care date. The answer is the
//! same as the API's (`app::rights`), ledgered the same way; a non-match says only that.

use crate::AppState;
use crate::auth::problem as access_problem;
use crate::error::ApiError;
use crate::middleware::{ClientAddr, RequestId};
use crate::portal::{form_visitor, require_visitor};
use app::rights::{
    BeneficiaryHint, CardProof, RightsCheck, RightsError, RightsOutcome, RightsRequest,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::ids::{AmcNumber, BirthRank, MemberNumber};
use domain::rights::{CareDomain, Regime};
use serde::Deserialize;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/rights", get(page).post(submit))
}

/// What the page shows after a check.
struct Answer {
    covered: bool,
    domain: String,
    care_date: String,
    regime: String,
    engagement: String,
    valid_until: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "rights.html")]
struct RightsPage {
    operator: bool,
    csrf: String,
    domains: Vec<&'static str>,
    today: String,
    allowed: bool,
    error: Option<String>,
    no_match: bool,
    answer: Option<Answer>,
}

/// The domains the visitor's practice may ask (none for a non-practice visitor).
async fn domains_of(
    state: &AppState,
    actor: &app::accounts::Actor,
) -> Result<Vec<&'static str>, ApiError> {
    match app::rights::caller_profession(&state.ports, &state.guard, actor).await {
        Ok(p) => Ok(p.domains().iter().map(|d| d.code()).collect()),
        Err(RightsError::Forbidden) => Ok(Vec::new()),
        Err(e) => Err(crate::api::rights::problem(e)),
    }
}

fn empty(state: &AppState, csrf: String, operator: bool, domains: Vec<&'static str>) -> RightsPage {
    RightsPage {
        operator,
        csrf,
        allowed: !domains.is_empty(),
        domains,
        today: crate::api::rights::date_text(state.ports.clock.today()),
        error: None,
        no_match: false,
        answer: None,
    }
}

async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let visitor = match require_visitor(&state, &headers).await? {
        Ok(v) => v,
        Err(redirect) => return Ok(redirect),
    };
    let domains = domains_of(&state, &visitor.actor).await?;
    Ok(empty(&state, visitor.csrf, visitor.actor.is_operator(), domains).into_response())
}

#[derive(Debug, Deserialize)]
struct CheckForm {
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    amc: String,
    #[serde(default)]
    member_number: String,
    #[serde(default)]
    verification_code: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    birth_rank: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    care_date: String,
}

/// The request of the form, or the message naming the first bad field.
fn request_of(form: &CheckForm) -> Result<RightsRequest, String> {
    let card = if !form.token.trim().is_empty() {
        CardProof::Token(form.token.trim().to_string())
    } else {
        let amc = AmcNumber::parse(&form.amc)
            .map_err(|_| "AMC number: the digits printed on the card.".to_string())?;
        let member_number = MemberNumber::parse(&form.member_number)
            .map_err(|_| "Member number: as printed on the card.".to_string())?;
        if form.verification_code.trim().is_empty() {
            return Err("Verification code: the code printed under the datamatrix.".into());
        }
        CardProof::Typed {
            amc,
            member_number,
            verification_code: form.verification_code.trim().to_string(),
        }
    };
    let birth_date = crate::api::rights::parse_date(form.birth_date.trim())
        .ok_or_else(|| "Birth date: a date, YYYY-MM-DD.".to_string())?;
    let birth_rank = BirthRank::parse(form.birth_rank.trim())
        .map_err(|_| "Birth rank: a whole number from 1 to 9.".to_string())?;
    let domain: CareDomain = form
        .domain
        .parse()
        .map_err(|_| "Domain: choose one of the list.".to_string())?;
    let care_date = crate::api::rights::parse_date(form.care_date.trim())
        .ok_or_else(|| "Care date: a date, YYYY-MM-DD.".to_string())?;
    Ok(RightsRequest {
        card,
        patient: BeneficiaryHint {
            birth_date,
            birth_rank,
        },
        domain,
        care_date,
    })
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    request_id: Option<Extension<RequestId>>,
    client: Option<Extension<ClientAddr>>,
    Form(form): Form<CheckForm>,
) -> Result<Response, ApiError> {
    let visitor = form_visitor(&state, &headers, &form.csrf).await?;
    let domains = domains_of(&state, &visitor.actor).await?;
    let mut page = empty(
        &state,
        visitor.csrf.clone(),
        visitor.actor.is_operator(),
        domains,
    );
    let request = match request_of(&form) {
        Ok(r) => r,
        Err(message) => {
            page.error = Some(message);
            return Ok(page.into_response());
        }
    };
    let context = crate::api::rights::context(request_id, client, state.ports.new_id());
    let outcome = RightsCheck::new(&state.ports, &state.ledger, &state.guard)
        .check(&visitor.actor, context, &request)
        .await;
    match outcome {
        Ok(RightsOutcome::Answered(a)) => {
            page.answer = Some(Answer {
                covered: a.covered,
                domain: a.domain.code().to_string(),
                care_date: crate::api::rights::date_text(a.care_date),
                regime: match a.regime {
                    Some(Regime::Rate(r)) => format!("{r} of the base (printed rate)"),
                    Some(Regime::PriorApproval) => "prior approval required".to_string(),
                    None => String::new(),
                },
                engagement: a.engagement.unwrap_or_default(),
                valid_until: a
                    .valid_until
                    .map(crate::api::rights::date_text)
                    .unwrap_or_default(),
            });
        }
        Ok(RightsOutcome::NoMatch) => page.no_match = true,
        Err(RightsError::Invalid { field, reason }) => {
            page.error = Some(format!("{field}: {reason}"));
        }
        Err(RightsError::Forbidden) => {
            return Err(access_problem(app::accounts::AccessError::Forbidden));
        }
        Err(RightsError::Refused(refusal)) => {
            page.error = Some(crate::guard::problem(&refusal).detail_text());
        }
        Err(e) => return Err(crate::api::rights::problem(e)),
    }
    Ok(page.into_response())
}
