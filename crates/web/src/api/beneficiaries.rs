//! `POST /api/v1/insurers/{amc}/beneficiary-imports`: an insurer sends its beneficiary file
//! (the CSV of docs/formats.md) as a `text/csv` body, streamed into
//! [`app::beneficiaries::import`] while it arrives: the server holds a few body frames and one
//! batch in memory whatever the file's size.
//!
//! Until insurer authentication exists (the access issue), the route is mounted only when the
//! server runs in demo mode ([`crate::WebConfig::demo`]); otherwise it is absent (404 like any
//! unknown address). It has its own body limit ([`crate::WebConfig::import_max_bytes`]) instead
//! of the global one, and its own timeout ([`crate::WebConfig::import_timeout`]).
//!
//! Query: `full=true` closes the insurer's beneficiaries missing from the file at the file's
//! date; `date=YYYY-MM-DD` is the file's date (default: today). An `Idempotency-Key` header is
//! recorded with the import run (replaying a key is not detected yet).

use crate::AppState;
use crate::error::{ApiError, Json};
use app::beneficiaries::import::{self, ImportError, ImportOptions, ImportReport};
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
/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;
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
    tags((name = "beneficiary-imports", description = "Insurers' beneficiary files, streamed in. Demo mode only until insurer authentication exists."))
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
        ("Idempotency-Key" = Option<String>, Header, description = "Recorded with the import run (1 to 255 visible ASCII characters)."),
    ),
    request_body(content = String, content_type = "text/csv", description = "The beneficiary file, header first; streamed, up to `import_max_bytes` (default 2 GiB)."),
    responses(
        (status = 201, description = "The file was read to its end; the report counts every line. Rejected lines are listed, not fatal.", body = BeneficiaryImportReport, content_type = "application/json"),
        (status = 400, description = "A bad query, Idempotency-Key or body (the upload broke off).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No insurer has this AMC number (or the server is not in demo mode).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than `import_max_bytes`; the batches already committed stay (a re-run completes them).", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `text/csv`.", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file is not the documented CSV (wrong header, not CSV): nothing was written.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_beneficiaries(
    State(state): State<AppState>,
    Path(amc): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let mut options = parse_query(query.as_deref())?;
    options.idempotency_key = idempotency_key(&headers)?;
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
    // Not a valid AMC number names no insurer: the same 404, without echoing it.
    let amc = AmcNumber::parse(&amc).map_err(|_| ApiError::not_found())?;
    let insurer = state
        .ports
        .store
        .find_insurer_by_amc(&amc)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;

    let (tx, rx) = mpsc::channel(FRAMES_IN_FLIGHT);
    let too_large = Arc::new(AtomicBool::new(false));
    let pump = pump(body, tx, limit, Arc::clone(&too_large));
    let reader = BodyReader {
        rx,
        current: Bytes::new(),
    };
    let importing = import::import(&state.ports, &insurer, &options, reader, &|_| {});
    let mut importing = std::pin::pin!(importing);
    let mut pump = std::pin::pin!(pump);
    let mut pumped = false;
    // The body is pulled while the importer reads it; once the import ends, the rest of the body
    // (if any) is dropped with the pump.
    let outcome = loop {
        tokio::select! {
            report = &mut importing => break report,
            () = &mut pump, if !pumped => pumped = true,
        }
    };
    match outcome {
        Ok(report) => {
            log_done(&report);
            Ok((StatusCode::CREATED, Json(report)))
        }
        Err(_) if too_large.load(Ordering::Relaxed) => Err(ApiError::payload_too_large()),
        Err(e) => Err(import_error(e)),
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

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::bad_request("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        })?;
    Ok(Some(key.to_string()))
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
}

/// Pulls the body's data frames into `tx`, counting bytes against `limit`; stops at the end of
/// the body, on a body error, past the limit (setting `too_large`), or when the reader is gone.
async fn pump(
    mut body: Body,
    tx: mpsc::Sender<io::Result<Bytes>>,
    limit: u64,
    too_large: Arc<AtomicBool>,
) {
    let mut total: u64 = 0;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let item = match frame {
            None => return,
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
                    Ok(data)
                }
            }
        };
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            return;
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
        pump(Body::from("0123456789"), tx, 4, Arc::clone(&flag)).await;
        assert!(rx.recv().await.unwrap().is_err());
        assert!(flag.load(Ordering::Relaxed));
    }
}
