//! `POST /api/v1/rights-checks`: is this patient covered in this care domain on this day?
//!
//! The caller proves the card is at the counter (its datamatrix token, or the AMC number,
//! member number and verification code typed by hand) and names the patient among the card's
//! beneficiaries by birth date and birth rank. The answer carries `covered`, `domain`,
//! `care_date` and, when covered, `regime`, `engagement` and `valid_until`: nothing else.
//!
//! Every kind of non-match (unknown card, bad code, bad or expired token, wrong birth date or
//! rank, a domain outside the caller's profession) is the same `404` with the same bytes
//! ([`NO_MATCH_BODY`]: no request id in the body, only in the `x-request-id` header).
//!
//! The access log routes (`/api/v1/insurers/{amc}/members/{member}/access-log…`) are in
//! [`access_log`].

pub mod access_log;

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Json, PROBLEM_JSON};
use crate::middleware::{ClientAddr, RequestId};
use app::rights::{
    BeneficiaryHint, CardProof, RequestContext, RightsAnswer, RightsCheck, RightsError,
    RightsOutcome, RightsRequest,
};
use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::ids::{AmcNumber, BirthRank, MemberNumber};
use domain::rights::{CareDomain, Regime};
use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;
use utoipa::{OpenApi, ToSchema};

/// The one body of every non-match (byte-identical whatever did not match).
pub const NO_MATCH_BODY: &str = r#"{"type":"urn:rempart:problem:no-match","title":"Not Found","status":404,"detail":"No beneficiary of this card matches this patient for this care domain on this date."}"#;

pub const ROUTE: &str = "/api/v1/rights-checks";

#[derive(OpenApi)]
#[openapi(
    paths(rights_check, access_log::access_log, access_log::not_me),
    components(schemas(
        RightsCheckRequest,
        CardProofBody,
        PatientBody,
        RightsCheckAnswer,
        RegimeBody,
        access_log::AccessLogPage,
        access_log::AccessLogEntry,
        access_log::NotMeReport,
    )),
    tags(
        (name = "rights", description = "Rights checks: proof of the card at the counter, the patient's birth date and rank, one care domain on one day; the minimal answer and an engagement number. No route searches or lists beneficiaries."),
        (name = "access-log", description = "Each beneficiary's access log, for their insurer: who looked at their data, when, what and why; and the beneficiary's \"not me\" report.")
    )
)]
pub struct RightsApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(ROUTE, post(rights_check))
        .merge(access_log::router())
}

/// The card proof: the datamatrix token, or the three fields typed by hand.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum CardProofBody {
    /// `{"token": "RP1.…"}`
    Token {
        /// The datamatrix token, as scanned.
        token: String,
    },
    /// `{"amc": "…", "member_number": "…", "verification_code": "XXXX-XXXX"}`
    Typed {
        amc: String,
        member_number: String,
        verification_code: String,
    },
}

/// The patient among the card's beneficiaries.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct PatientBody {
    /// `YYYY-MM-DD`
    #[schema(example = "1957-01-04")]
    birth_date: String,
    /// 1 to 9 (twins share a birth date and differ by rank).
    #[schema(example = 1, minimum = 1, maximum = 9)]
    birth_rank: u8,
}

/// A rights check.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RightsCheckRequest {
    card: CardProofBody,
    patient: PatientBody,
    /// PHAR, MED, LABO, RAD, AUXM, SVIL, HOSP, DENT, OPTI or AUDI; only the caller's
    /// profession's domains can match.
    #[schema(example = "OPTI")]
    domain: String,
    /// `YYYY-MM-DD`, between 365 days ago and 90 days ahead.
    #[schema(example = "2026-01-15")]
    care_date: String,
}

/// How the domain is covered.
#[derive(Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RegimeBody {
    /// The rate printed on the card, in basis points (10000 = 100 %).
    Rate { rate_bp: u32 },
    /// A prior approval (PEC) is required before the care.
    PriorApproval,
}

/// The whole answer: nothing else about the patient, the family or the contract.
#[derive(Serialize, ToSchema)]
pub struct RightsCheckAnswer {
    pub covered: bool,
    #[schema(example = "OPTI")]
    pub domain: String,
    #[schema(example = "2026-01-15")]
    pub care_date: String,
    /// When covered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regime: Option<RegimeBody>,
    /// When covered: the engagement number that guarantees payment (quote it on the prior
    /// approval request or the invoice).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "E7Q2M9XK4T0PBR3VZ8HN6")]
    pub engagement: Option<String>,
    /// When covered: the last day the engagement can be quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-04-15")]
    pub valid_until: Option<String>,
}

pub(crate) fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    if s.len() != 10 {
        return None;
    }
    Date::parse(s, &f).ok()
}

impl From<&RightsAnswer> for RightsCheckAnswer {
    fn from(a: &RightsAnswer) -> Self {
        Self {
            covered: a.covered,
            domain: a.domain.code().to_string(),
            care_date: date_text(a.care_date),
            regime: a.regime.map(|r| match r {
                Regime::Rate(rate) => RegimeBody::Rate {
                    rate_bp: rate.basis_points(),
                },
                Regime::PriorApproval => RegimeBody::PriorApproval,
            }),
            engagement: a.engagement.clone(),
            valid_until: a.valid_until.map(date_text),
        }
    }
}

/// The non-match answer: a fixed problem document, the same bytes every time.
pub fn no_match() -> Response {
    let mut response = (StatusCode::NOT_FOUND, NO_MATCH_BODY).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ApiError::unprocessable(format!("{field}: {reason}"))
}

fn text<'a>(object: &'a Map<String, Value>, field: &str, path: &str) -> Result<&'a str, ApiError> {
    match object.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(path, "must be a string")),
        None => Err(invalid(path, "is required")),
    }
}

fn only(object: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), ApiError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(
            &format!("{path}{k}"),
            "is not a field of a rights check",
        )),
        None => Ok(()),
    }
}

/// Reads a rights check body, naming the first bad field.
pub fn parse_request(body: &Value) -> Result<RightsRequest, ApiError> {
    let Value::Object(top) = body else {
        return Err(invalid("body", "must be a JSON object"));
    };
    only(top, &["card", "patient", "domain", "care_date"], "")?;
    let card = match top.get("card") {
        Some(Value::Object(card)) => card,
        Some(_) => return Err(invalid("card", "must be an object")),
        None => return Err(invalid("card", "is required")),
    };
    let card = if card.contains_key("token") {
        only(card, &["token"], "card.")?;
        CardProof::Token(text(card, "token", "card.token")?.to_string())
    } else if card.contains_key("amc")
        || card.contains_key("member_number")
        || card.contains_key("verification_code")
    {
        only(
            card,
            &["amc", "member_number", "verification_code"],
            "card.",
        )?;
        let amc = AmcNumber::parse(text(card, "amc", "card.amc")?)
            .map_err(|_| invalid("card.amc", "must be the AMC number printed on the card"))?;
        let member_number = MemberNumber::parse(text(card, "member_number", "card.member_number")?)
            .map_err(|_| {
                invalid(
                    "card.member_number",
                    "must be the member number printed on the card",
                )
            })?;
        let code = text(card, "verification_code", "card.verification_code")?;
        if code.is_empty() || code.len() > 32 {
            return Err(invalid(
                "card.verification_code",
                "must be the code printed under the datamatrix",
            ));
        }
        CardProof::Typed {
            amc,
            member_number,
            verification_code: code.to_string(),
        }
    } else {
        return Err(invalid(
            "card",
            "must hold either token, or amc, member_number and verification_code",
        ));
    };
    let patient = match top.get("patient") {
        Some(Value::Object(p)) => p,
        Some(_) => return Err(invalid("patient", "must be an object")),
        None => return Err(invalid("patient", "is required")),
    };
    only(patient, &["birth_date", "birth_rank"], "patient.")?;
    let birth_date = parse_date(text(patient, "birth_date", "patient.birth_date")?)
        .ok_or_else(|| invalid("patient.birth_date", "must be a date, YYYY-MM-DD"))?;
    let birth_rank = match patient.get("birth_rank") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .and_then(|n| BirthRank::new(n).ok())
            .ok_or_else(|| invalid("patient.birth_rank", "must be a whole number from 1 to 9"))?,
        Some(_) => {
            return Err(invalid(
                "patient.birth_rank",
                "must be a whole number from 1 to 9",
            ));
        }
        None => return Err(invalid("patient.birth_rank", "is required")),
    };
    let domain: CareDomain = text(top, "domain", "domain")?.parse().map_err(|_| {
        invalid(
            "domain",
            "must be one of PHAR, MED, LABO, RAD, AUXM, SVIL, HOSP, DENT, OPTI, AUDI",
        )
    })?;
    let care_date = parse_date(text(top, "care_date", "care_date")?)
        .ok_or_else(|| invalid("care_date", "must be a date, YYYY-MM-DD"))?;
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

/// The problem for a refused or failed check.
pub fn problem(e: RightsError) -> ApiError {
    match e {
        RightsError::Forbidden => ApiError::forbidden(
            "forbidden",
            "Only practices (their professionals or their software) run rights checks.",
        ),
        RightsError::Invalid { field, reason } => invalid(field, reason),
        RightsError::Store(app::StoreError::Unavailable(cause)) => {
            ApiError::unavailable("The service cannot answer now; retry shortly.")
                .with_internal(cause)
        }
        RightsError::Store(app::StoreError::Retryable) => {
            ApiError::unavailable("The service is busy; retry shortly.")
        }
        RightsError::Ledger(cause) => ApiError::unavailable(
            "The access ledger cannot record this answer now, so nothing was disclosed; retry shortly.",
        )
        .with_internal(cause),
        RightsError::Store(other) => ApiError::internal(other),
        RightsError::Internal(cause) => ApiError::internal(cause),
        RightsError::Refused(refusal) => crate::guard::problem(&refusal),
    }
}

/// The response for a failed check: a guard refusal keeps its `retry-after` header.
pub fn failure(e: RightsError) -> Response {
    match e {
        RightsError::Refused(refusal) => crate::guard::GuardRefusal(refusal).into_response(),
        other => problem(other).into_response(),
    }
}

/// The request's context for the ledger: its id and the client's address.
pub(crate) fn context(
    request_id: Option<Extension<RequestId>>,
    client: Option<Extension<ClientAddr>>,
    fallback: uuid::Uuid,
) -> RequestContext {
    RequestContext {
        request_id: request_id.map_or(fallback, |Extension(RequestId(id))| id),
        client_addr: client.map(|Extension(ClientAddr(addr))| addr),
    }
}

/// Checks a patient's rights in one care domain on one day.
#[utoipa::path(
    post,
    path = "/api/v1/rights-checks",
    tag = "rights",
    request_body(content = RightsCheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The patient matched: covered or not, and when covered the regime, the engagement number and its validity. Ledgered before it is sent.", body = RightsCheckAnswer, content_type = "application/json"),
        (status = 400, description = "The body is not JSON.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a practice (insurer staff and operators do not run rights checks), the CSRF check failed, the account or organisation is suspended (`account-suspended`, `organisation-suspended`), or a fresh passkey check is demanded (`step-up-required`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No match: the same body for every kind (unknown card, bad code, bad or expired token, wrong birth date or rank, a domain outside the caller's profession).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or malformed (named in `detail`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "The account's or organisation's rate limit (`rate-limited`, with `retry-after`).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store or the access ledger cannot answer, or lookups are switched off for this scope (`lookups-suspended`: use the degraded mode): nothing was disclosed.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rights_check(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    request_id: Option<Extension<RequestId>>,
    client: Option<Extension<ClientAddr>>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let request = parse_request(&body)?;
    let context = context(request_id, client, state.ports.new_id());
    let outcome = RightsCheck::new(&state.ports, &state.ledger, &state.guard)
        .check(&actor, context, &request)
        .await;
    Ok(match outcome {
        Ok(RightsOutcome::Answered(answer)) => {
            Json(RightsCheckAnswer::from(&answer)).into_response()
        }
        Ok(RightsOutcome::NoMatch) => no_match(),
        Err(e) => failure(e),
    })
}
