//! `POST /api/v1/insurers/{amc}/beneficiary-imports`: an insurer sends its beneficiary file
//! (the CSV of docs/formats.md) as a `text/csv` body, streamed into
//! [`app::beneficiaries::import`] while it arrives: the server holds a few body frames and one
//! batch in memory whatever the file's size.
//!
//! Authenticated: insurer staff of that insurer (passkey session) or a machine certificate of
//! that insurer (mutual TLS). Anyone else, operators included, gets the same 404 as for an
//! unknown AMC number (`app::accounts::policy::may_import_beneficiaries`). The route has its own
//! body limit ([`crate::WebConfig::import_max_bytes`]) instead of the global one, and its own
//! timeout ([`crate::WebConfig::import_timeout`]).
//!
//! Query: `full=true` closes the insurer's beneficiaries missing from the file at the file's
//! date; `date=YYYY-MM-DD` is the file's date (default: today). An `Idempotency-Key` header
//! makes a retry safe (`crate::idempotency`): the same key with the same file answers the
//! first run's report without importing again (the body is read and hashed, not imported); the
//! same key with another file or query answers 422; while the first run goes on, 409.

use crate::AppState;
use crate::auth::{Authenticated, problem};
use crate::error::ApiError;
use crate::idempotency::{self, RequestHasher};
use app::beneficiaries::import::{self, ImportError, ImportOptions, ImportReport};
use app::idempotency::Begin;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use domain::ids::AmcNumber;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::mpsc;
use utoipa::{OpenApi, ToSchema};

/// The route template (also the label the request middleware knows it by).
pub const IMPORT_ROUTE: &str = "/api/v1/insurers/{amc}/beneficiary-imports";
/// Body frames buffered between the connection and the importer.
const FRAMES_IN_FLIGHT: usize = 8;

/// What an import did (the report of docs/formats.md, "Importing a file").
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BeneficiaryImportReport {
    /// The import run's id.
    import_id: uuid::Uuid,
    /// Data lines read.
    read: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    /// Beneficiaries missing from a full file, closed at the file's date.
    closed: u64,
    rejected: u64,
    /// The first 10,000 rejected lines; never the rejected value.
    errors: Vec<BeneficiaryImportRowError>,
    /// Rejected lines beyond those listed (absent when zero).
    errors_truncated: Option<u64>,
}

/// A rejected line: where and why, never the value.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BeneficiaryImportRowError {
    #[schema(example = 12)]
    line: u64,
    #[schema(example = "nir")]
    field: String,
    #[schema(example = "bad NIR key")]
    reason: String,
}

#[derive(OpenApi)]
#[openapi(
    paths(import_beneficiaries),
    components(schemas(BeneficiaryImportReport, BeneficiaryImportRowError)),
    tags((name = "beneficiary-imports", description = "Insurers' beneficiary files, streamed in: insurer staff of that insurer (passkey session) or the insurer's machine certificate (mutual TLS)."))
)]
pub struct BeneficiariesApiDoc;

/// The import route, with its own body limit (none of the global one applies to it).
pub fn router() -> Router<AppState> {
    Router::new().route(IMPORT_ROUTE, post(import_beneficiaries))
}

/// Imports a beneficiary file (CSV, docs/formats.md) for the insurer `amc`, streamed.
#[utoipa::path(
    post,
    path = "/api/v1/insurers/{amc}/beneficiary-imports",
    tag = "beneficiary-imports",
    params(
        ("amc" = String, Path, description = "The insurer's AMC number (9 digits)."),
        ("full" = Option<bool>, Query, description = "Close the insurer's beneficiaries missing from the file at the file's date. Default false."),
        ("date" = Option<String>, Query, description = "The file's date, YYYY-MM-DD. Default: today."),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters. A retry with the same key and the same file and query answers the first run's report (header `idempotent-replayed: true`) without importing again; with another file or query, 422; while the first run goes on, 409."),
    ),
    request_body(content = String, content_type = "text/csv", description = "The beneficiary file, header first; streamed, up to `import_max_bytes` (default 2 GiB)."),
    responses(
        (status = 201, description = "The file was read to its end; the report counts every line. Rejected lines are listed, not fatal.", body = BeneficiaryImportReport, content_type = "application/json"),
        (status = 400, description = "A bad query, Idempotency-Key or body (the upload broke off).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No session or client certificate.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No insurer has this AMC number, or the caller does not belong to it.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key is still running.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than `import_max_bytes`; the batches already committed stay (a re-run completes them).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `text/csv`.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is not the documented CSV (wrong header, not CSV): nothing was written; or the Idempotency-Key was used with another file or query.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_beneficiaries(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(amc): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Body,
) -> Result<axum::response::Response, ApiError> {
    let mut options = parse_query(query.as_deref())?;
    let key = idempotency::key(&headers)?;
    options.idempotency_key = key.clone();
    // Not a valid AMC number names no insurer: the same 404, without echoing it.
    let amc = AmcNumber::parse(&amc).map_err(|_| ApiError::not_found())?;
    let insurer = state
        .ports
        .store
        .find_insurer_by_amc(&amc)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    // Another organisation's insurer answers exactly like an unknown one.
    app::accounts::policy::may_import_beneficiaries(&actor, insurer.id).map_err(problem)?;
    if !is_csv(&headers) {
        return Err(ApiError::unsupported_media_type(
            "Send the beneficiary file with content-type text/csv.",
        ));
    }
    let limit = state.config.import_max_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::payload_too_large());
    }
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let hasher = RequestHasher::new("POST", &path);
    let route = idempotency::route_label("POST", IMPORT_ROUTE);

    let record = match &key {
        None => None,
        Some(key) => match idempotency::begin(
            &state,
            &actor,
            &route,
            key,
            None,
            state.config.import_timeout,
        )
        .await?
        {
            Begin::Run(id) => Some(id),
            Begin::InProgress => return Ok(idempotency::in_progress()),
            Begin::Mismatch => return Err(idempotency::mismatch()),
            Begin::Replay { status, body: kept } => {
                // The same file? Read and hash it (nothing is imported), then compare.
                let hash = hash_body(body, hasher, limit).await?;
                let stored =
                    app::idempotency::finished_hash(&state.ports, actor.account_id, &route, key)
                        .await
                        .map_err(ApiError::internal)?;
                return if stored.as_deref() == Some(hash.as_slice()) {
                    Ok(idempotency::replay(status, kept))
                } else {
                    Err(idempotency::mismatch())
                };
            }
        },
    };

    let outcome = run_import(&state, &insurer, &options, body, hasher, limit).await;
    match (outcome, record) {
        (Ok((report, hash)), record) => {
            log_done(&report);
            let bytes = serde_json::to_vec(&report).map_err(ApiError::internal)?;
            if let Some(id) = record {
                match hash {
                    Some(hash) => {
                        idempotency::complete(&state, id, &hash, StatusCode::CREATED, &bytes)
                            .await?
                    }
                    None => idempotency::abandon(&state, id).await,
                }
            }
            let mut response = (StatusCode::CREATED, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        (Err(e), record) => {
            if let Some(id) = record {
                idempotency::abandon(&state, id).await;
            }
            Err(e)
        }
    }
}

/// Streams `body` into the importer, hashing it on the way; answers the report and the
/// request's hash (`None` if the body was not read to its end).
async fn run_import(
    state: &AppState,
    insurer: &app::store::InsurerRecord,
    options: &ImportOptions,
    body: Body,
    hasher: RequestHasher,
    limit: u64,
) -> Result<(ImportReport, Option<Vec<u8>>), ApiError> {
    let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
    let too_large = Arc::new(AtomicBool::new(false));
    let pump = pump(body, tx, limit, Arc::clone(&too_large), hasher);
    let reader = BodyReader {
        rx,
        current: Bytes::new(),
    };
    let importing = import::import(&state.ports, insurer, options, reader, &|_| {});
    let mut importing = std::pin::pin!(importing);
    let mut pump = std::pin::pin!(pump);
    let mut hashed: Option<Option<Vec<u8>>> = None;
    // The body is pulled while the importer reads it; once the import ends, the rest of the body
    // (if any) is dropped with the pump.
    let outcome = loop {
        tokio::select! {
            report = &mut importing => break report,
            h = &mut pump, if hashed.is_none() => hashed = Some(h),
        }
    };
    match outcome {
        Ok(report) => Ok((report, hashed.flatten())),
        Err(_) if too_large.load(Ordering::Relaxed) => Err(ApiError::payload_too_large()),
        Err(e) => Err(import_error(e)),
    }
}

/// Reads the whole body through `hasher` (up to `limit` bytes, else 413), importing nothing.
async fn hash_body(
    mut body: Body,
    mut hasher: RequestHasher,
    limit: u64,
) -> Result<Vec<u8>, ApiError> {
    let mut total: u64 = 0;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(hasher.finish()),
            Some(Err(_)) => {
                return Err(ApiError::bad_request(
                    "The request body could not be read to its end.",
                ));
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                total = total.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
                if total > limit {
                    return Err(ApiError::payload_too_large());
                }
                hasher.update(&data);
            }
        }
    }
}

fn log_done(r: &ImportReport) {
    tracing::info!(
        import_id = %r.import_id,
        read = r.read,
        inserted = r.inserted,
        updated = r.updated,
        unchanged = r.unchanged,
        closed = r.closed,
        rejected = r.rejected,
        "beneficiary import done"
    );
}

fn import_error(e: ImportError) -> ApiError {
    match e {
        // The importer's file messages name columns and the expected shape, never a value.
        ImportError::File(msg) if msg.starts_with("the file cannot be read") => {
            ApiError::bad_request("The request body could not be read to its end.")
                .with_internal(msg)
        }
        ImportError::File(msg) => ApiError::unprocessable(msg),
        other => ApiError::internal(other),
    }
}

/// `full` and `date`; anything else is refused without echoing it.
fn parse_query(query: Option<&str>) -> Result<ImportOptions, ApiError> {
    let mut options = ImportOptions::default();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "full" => {
                options.full = match value {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(ApiError::bad_request("full must be true or false.")),
                }
            }
            "date" => {
                let date = import::parse::parse_date("date", value)
                    .map_err(|_| ApiError::bad_request("date must be a real day, YYYY-MM-DD."))?;
                options.date = Some(date);
            }
            _ => {
                return Err(ApiError::bad_request(
                    "Unknown query parameter; this address takes full and date.",
                ));
            }
        }
    }
    Ok(options)
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
}

/// Pulls the body's data frames into `tx`, counting bytes against `limit` and feeding `hasher`;
/// stops at the end of the body (answering the hash), on a body error, past the limit (setting
/// `too_large`), or when the reader is gone (answering `None`).
async fn pump(
    mut body: Body,
    tx: mpsc::Sender<io::Result<Bytes>>,
    limit: u64,
    too_large: Arc<AtomicBool>,
    mut hasher: RequestHasher,
) -> Option<Vec<u8>> {
    let mut total: u64 = 0;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let item = match frame {
            None => return Some(hasher.finish()),
            Some(Err(_)) => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the request body broke off",
            )),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                total = total.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
                if total > limit {
                    too_large.store(true, Ordering::Relaxed);
                    Err(io::Error::new(
                        io::ErrorKind::FileTooLarge,
                        "the request body is over the limit",
                    ))
                } else {
                    hasher.update(&data);
                    Ok(data)
                }
            }
        };
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            return None;
        }
    }
}

/// The body as `std::io::Read`, for the importer's blocking reader thread.
struct BodyReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(data)) => self.current = data,
                Some(Err(e)) => return Err(e),
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        buf[..n].copy_from_slice(&chunk);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn query_takes_full_and_date_only() {
        let o = parse_query(Some("full=true&date=2026-03-01")).unwrap();
        assert!(o.full);
        assert_eq!(o.date, Some(time::macros::date!(2026 - 03 - 01)));
        assert!(!parse_query(None).unwrap().full);
        assert!(parse_query(Some("full=yes")).is_err());
        assert!(parse_query(Some("date=2026-02-30")).is_err());
        assert!(parse_query(Some("nir=1850775123456")).is_err());
    }

    #[test]
    fn csv_content_type_allows_parameters() {
        let mut h = HeaderMap::new();
        assert!(!is_csv(&h));
        h.insert(
            header::CONTENT_TYPE,
            "Text/CSV; charset=utf-8".parse().unwrap(),
        );
        assert!(is_csv(&h));
        h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(!is_csv(&h));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reader_yields_the_frames_in_order_then_the_end() {
        let (tx, rx) = mpsc::channel(2);
        let reader = tokio::task::spawn_blocking(move || {
            let mut r = BodyReader {
                rx,
                current: Bytes::new(),
            };
            let mut out = String::new();
            r.read_to_string(&mut out).map(|_| out)
        });
        for part in ["ab", "", "cde"] {
            tx.send(Ok(Bytes::from(part))).await.unwrap();
        }
        drop(tx);
        assert_eq!(reader.await.unwrap().unwrap(), "abcde");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_pump_stops_past_the_limit() {
        let (tx, mut rx) = mpsc::channel(4);
        let flag = Arc::new(AtomicBool::new(false));
        let hash = pump(
            Body::from("0123456789"),
            tx,
            4,
            Arc::clone(&flag),
            RequestHasher::new("POST", "/x"),
        )
        .await;
        assert_eq!(hash, None);
        assert!(rx.recv().await.unwrap().is_err());
        assert!(flag.load(Ordering::Relaxed));
    }
}
