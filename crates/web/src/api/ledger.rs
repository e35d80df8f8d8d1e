//! The access ledger for witnesses: `GET /api/v1/ledger/keys`, `/checkpoints`,
//! `/proofs/inclusion`, `/proofs/consistency` (docs/formats.md, "Ledger").
//!
//! Who may read: auditors, operators (admin, analyst) and insurer staff or insurer machines —
//! the parties who witness the ledger. Professionals and anonymous callers get 403/401. These
//! answers hold only tree sizes, hashes, signatures and public keys: no entry, no pseudonym,
//! no organisation.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, Json};
use app::accounts::Actor;
use app::ledger::checkpoint::base64;
use app::ledger::{LedgerCheckpointRecord, LedgerError};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use domain::accounts::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(keys, checkpoints, inclusion, consistency),
    components(schemas(LedgerKey, LedgerKeys, LedgerCheckpoint, LedgerCheckpoints, InclusionProofBody, ConsistencyProofBody)),
    tags((name = "ledger", description = "The tamper-evident access ledger: signed checkpoints and Merkle proofs (RFC 9162, C2SP signed notes)."))
)]
pub struct LedgerApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ledger/keys", get(keys))
        .route("/api/v1/ledger/checkpoints", get(checkpoints))
        .route("/api/v1/ledger/proofs/inclusion", get(inclusion))
        .route("/api/v1/ledger/proofs/consistency", get(consistency))
}

/// Refuses callers who are not witnesses of the ledger.
pub fn require_witness(actor: &Actor) -> Result<(), ApiError> {
    match actor.role {
        Role::Auditor | Role::OperatorAdmin | Role::OperatorAnalyst | Role::InsurerStaff => Ok(()),
        Role::Professional => Err(ApiError::forbidden(
            "ledger-witness",
            "Only auditors, operators and insurers read the ledger's checkpoints and proofs.",
        )),
    }
}

/// One checkpoint-signing key version.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerKey {
    /// The signing-key version.
    pub version: u32,
    /// The signed-note verifier key: `<name>+<8 hex key id>+<base64(0x01 ‖ Ed25519 key)>`.
    pub verifier_key: String,
    /// The 4-byte key id, 8 hex digits.
    pub key_id: String,
    /// The Ed25519 public key, standard base64.
    pub public_key: String,
}

/// The ledger's origin and its verifier keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerKeys {
    /// The checkpoint origin line (also the key name).
    pub origin: String,
    /// Every version, oldest first; the newest signs new checkpoints.
    pub keys: Vec<LedgerKey>,
}

/// A signed checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerCheckpoint {
    pub tree_size: u64,
    /// The root hash, standard base64.
    pub root: String,
    /// When it was made (RFC 3339, UTC).
    pub at: String,
    /// The C2SP signed note.
    pub note: String,
}

/// The latest checkpoint and a page of older ones.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerCheckpoints {
    pub origin: String,
    pub latest: Option<LedgerCheckpoint>,
    /// Largest tree size first, below `before` when given.
    pub checkpoints: Vec<LedgerCheckpoint>,
    /// The `before` of the next page, when there may be more.
    pub next_before: Option<u64>,
    pub keys: Vec<LedgerKey>,
}

/// An inclusion proof (RFC 9162 §2.1.3).
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofBody {
    pub index: u64,
    pub tree_size: u64,
    /// The stored leaf hash of the entry, base64.
    pub leaf_hash: String,
    /// The root of the tree of `tree_size` entries, base64.
    pub root: String,
    /// The audit path, base64 hashes, nearest the leaf first.
    pub proof: Vec<String>,
}

/// A consistency proof (RFC 9162 §2.1.4).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofBody {
    pub from: u64,
    pub to: u64,
    pub from_root: String,
    pub to_root: String,
    pub proof: Vec<String>,
}

fn key_list(state: &AppState) -> Result<Vec<LedgerKey>, ApiError> {
    let keys = state.ledger.verifier_keys().map_err(ApiError::internal)?;
    Ok(keys
        .into_iter()
        .map(|(version, v)| LedgerKey {
            version,
            verifier_key: v.encode(),
            key_id: format!("{:08x}", v.key_id()),
            public_key: base64(&v.public_key()),
        })
        .collect())
}

fn checkpoint_body(c: LedgerCheckpointRecord) -> LedgerCheckpoint {
    LedgerCheckpoint {
        tree_size: c.tree_size,
        root: base64(&c.root),
        at: c
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        note: c.note,
    }
}

fn number(value: Option<&str>, field: &'static str) -> Result<Option<u64>, ApiError> {
    value
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{field} must be a whole number, 0 or more."))
            })
        })
        .transpose()
}

fn required(value: Option<&str>, field: &'static str) -> Result<u64, ApiError> {
    number(value, field)?.ok_or_else(|| ApiError::bad_request(format!("{field} is required.")))
}

fn proof_error(e: LedgerError) -> ApiError {
    match e {
        LedgerError::Invalid(why) => ApiError::unprocessable(format!("tree_size: {why}.")),
        LedgerError::Proof(p) => ApiError::unprocessable(p.to_string()),
        other => ApiError::internal(other),
    }
}

/// The ledger's checkpoint verifier keys.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/keys",
    tag = "ledger",
    responses(
        (status = 200, description = "The origin and every signing-key version's verifier key.", body = LedgerKeys, content_type = "application/json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an auditor, operator or insurer.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn keys(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<LedgerKeys>, ApiError> {
    require_witness(&actor)?;
    Ok(Json(LedgerKeys {
        origin: state.ledger.config().origin.clone(),
        keys: key_list(&state)?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CheckpointsQuery {
    /// Only checkpoints of a tree size below this (paging).
    pub before: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<String>,
}

/// The latest signed checkpoint and a page of older ones.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/checkpoints",
    tag = "ledger",
    params(CheckpointsQuery),
    responses(
        (status = 200, description = "Checkpoints, largest tree size first, with the verifier keys.", body = LedgerCheckpoints, content_type = "application/json"),
        (status = 400, description = "`before` or `limit` is not a number in range.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an auditor, operator or insurer.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn checkpoints(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<CheckpointsQuery>,
) -> Result<Json<LedgerCheckpoints>, ApiError> {
    require_witness(&actor)?;
    let before = number(q.before.as_deref(), "before")?;
    let limit = number(q.limit.as_deref(), "limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000."));
    }
    let store = &state.ports.store;
    let latest = store
        .latest_ledger_checkpoint()
        .await
        .map_err(ApiError::internal)?;
    let page = store
        .list_ledger_checkpoints(before, limit as u32)
        .await
        .map_err(ApiError::internal)?;
    let next_before = if page.len() as u64 == limit {
        page.last().map(|c| c.tree_size)
    } else {
        None
    };
    Ok(Json(LedgerCheckpoints {
        origin: state.ledger.config().origin.clone(),
        latest: latest.map(checkpoint_body),
        checkpoints: page.into_iter().map(checkpoint_body).collect(),
        next_before,
        keys: key_list(&state)?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// The leaf index of the entry.
    pub index: Option<String>,
    /// The tree size of a checkpoint the caller holds (more than `index`).
    pub tree_size: Option<String>,
}

/// An inclusion proof of one entry in the tree of a given size.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/proofs/inclusion",
    tag = "ledger",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The audit path.", body = InclusionProofBody, content_type = "application/json"),
        (status = 400, description = "`index` or `tree_size` is missing or not a number.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an auditor, operator or insurer.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`index` is not below `tree_size`, or `tree_size` is larger than the ledger.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn inclusion(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<InclusionProofBody>, ApiError> {
    require_witness(&actor)?;
    let index = required(q.index.as_deref(), "index")?;
    let tree_size = required(q.tree_size.as_deref(), "tree_size")?;
    let p = state
        .ledger
        .inclusion_proof(index, tree_size)
        .await
        .map_err(proof_error)?;
    Ok(Json(InclusionProofBody {
        index: p.index,
        tree_size: p.tree_size,
        leaf_hash: base64(&p.leaf_hash),
        root: base64(&p.root),
        proof: p.path.iter().map(|h| base64(h)).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub from: Option<String>,
    /// The newer tree size (at most the ledger's size).
    pub to: Option<String>,
}

/// A consistency proof between two tree sizes.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/proofs/consistency",
    tag = "ledger",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The consistency proof.", body = ConsistencyProofBody, content_type = "application/json"),
        (status = 400, description = "`from` or `to` is missing or not a number.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller is not an auditor, operator or insurer.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` is larger than `to`, or `to` is larger than the ledger.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn consistency(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProofBody>, ApiError> {
    require_witness(&actor)?;
    let from = required(q.from.as_deref(), "from")?;
    let to = required(q.to.as_deref(), "to")?;
    let p = state
        .ledger
        .consistency_proof(from, to)
        .await
        .map_err(proof_error)?;
    Ok(Json(ConsistencyProofBody {
        from: p.from,
        to: p.to,
        from_root: base64(&p.from_root),
        to_root: base64(&p.to_root),
        proof: p.path.iter().map(|h| base64(h)).collect(),
    }))
}
