//! `rempart-bench`: a small closed-loop HTTP load generator for rempart's benchmarks.
//!
//! It keeps `--concurrency` requests in flight against one URL for `--duration` seconds
//! (after a warm-up), and reports requests/s and latency percentiles from an HDR histogram.
//! Benchmarks only ever target loopback addresses: anything else is refused.
//!
//! With `--body-file` it POSTs JSON instead: one body per line of the file, taken in turn by
//! the workers (the rights-check benchmark sends one real card per request). `--client-cert`
//! and `--ca` make it a machine on the mutual-TLS listener; `--expect` names the status that
//! counts as a success (200 by default: any 2xx); `--idempotency-prefix` sends a new
//! `Idempotency-Key` with each request (the invoice benchmark).

use anyhow::{Context, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(
    name = "rempart-bench",
    about = "Closed-loop HTTP load generator (loopback only)"
)]
struct Args {
    /// Target URL (must be on 127.0.0.0/8, localhost or [::1]).
    #[arg(long)]
    url: String,
    /// Requests kept in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured duration in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Warm-up duration in seconds (not measured).
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Label printed with the results.
    #[arg(long, default_value = "run")]
    label: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// POST these JSON bodies (one per line, in turn) instead of GET.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// The client certificate and key (one PEM file) for mutual TLS.
    #[arg(long)]
    client_cert: Option<std::path::PathBuf>,
    /// The CA certificate (PEM) that signed the server's certificate.
    #[arg(long)]
    ca: Option<std::path::PathBuf>,
    /// The status that counts as a success (otherwise any 2xx).
    #[arg(long)]
    expect: Option<u16>,
    /// Send `Idempotency-Key: <PREFIX>-<n>`, a new key per request (the invoice API needs one).
    #[arg(long, value_name = "PREFIX")]
    idempotency_prefix: Option<String>,
}

/// What the workers send.
struct Plan {
    url: String,
    bodies: Option<Vec<String>>,
    next: std::sync::atomic::AtomicUsize,
    expect: Option<u16>,
    idempotency_prefix: Option<String>,
}

struct WorkerResult {
    hist: Histogram<u64>,
    ok: u64,
    errors: u64,
}

fn loopback_only(url: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).context("--url is not a URL")?;
    let host = parsed.host_str().unwrap_or_default();
    let ok = host == "localhost"
        || host == "[::1]"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !ok {
        bail!("refusing to load a non-loopback host");
    }
    Ok(())
}

async fn worker(
    client: reqwest::Client,
    plan: std::sync::Arc<Plan>,
    start_measure: Instant,
    end: Instant,
) -> anyhow::Result<WorkerResult> {
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut ok, mut errors) = (0u64, 0u64);
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        let res = match &plan.bodies {
            Some(bodies) => {
                let i = plan.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut request = client
                    .post(&plan.url)
                    .header("content-type", "application/json")
                    .body(bodies[i % bodies.len()].clone());
                if let Some(prefix) = &plan.idempotency_prefix {
                    request = request.header("idempotency-key", format!("{prefix}-{i}"));
                }
                request.send().await
            }
            None => client.get(&plan.url).send().await,
        };
        let good = match res {
            Ok(r) => {
                let success = match plan.expect {
                    Some(code) => r.status().as_u16() == code,
                    None => r.status().is_success(),
                };
                let _ = r.bytes().await;
                success
            }
            Err(_) => false,
        };
        let t1 = Instant::now();
        if t0 >= start_measure && t1 <= end {
            if good {
                ok += 1;
                hist.record(
                    u64::try_from(t1.duration_since(t0).as_micros())
                        .unwrap_or(u64::MAX)
                        .max(1),
                )?;
            } else {
                errors += 1;
            }
        }
    }
    Ok(WorkerResult { hist, ok, errors })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    loopback_only(&args.url)?;
    let mut builder = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency);
    if let Some(ca) = &args.ca {
        let pem = std::fs::read(ca).context("--ca cannot be read")?;
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(&pem)?]);
    }
    if let Some(identity) = &args.client_cert {
        let pem = std::fs::read(identity).context("--client-cert cannot be read")?;
        builder = builder.identity(reqwest::Identity::from_pem(&pem)?);
    }
    let client = builder.build()?;
    let bodies = match &args.body_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).context("--body-file cannot be read")?;
            let lines: Vec<String> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect();
            if lines.is_empty() {
                bail!("--body-file has no body");
            }
            Some(lines)
        }
        None => None,
    };
    let plan = std::sync::Arc::new(Plan {
        url: args.url.clone(),
        bodies,
        next: std::sync::atomic::AtomicUsize::new(0),
        expect: args.expect,
        idempotency_prefix: args.idempotency_prefix.clone(),
    });
    let start = Instant::now();
    let start_measure = start + Duration::from_secs(args.warmup);
    let end = start_measure + Duration::from_secs(args.duration);
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        tasks.push(tokio::spawn(worker(
            client.clone(),
            plan.clone(),
            start_measure,
            end,
        )));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut ok, mut errors) = (0u64, 0u64);
    for t in tasks {
        let r = t.await??;
        hist.add(&r.hist)?;
        ok += r.ok;
        errors += r.errors;
    }
    let secs = args.duration as f64;
    let rps = ok as f64 / secs;
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "label": args.label, "concurrency": args.concurrency, "duration_s": args.duration,
                "requests": ok, "errors": errors, "rps": rps,
                "p50_ms": ms(0.50), "p90_ms": ms(0.90), "p99_ms": ms(0.99), "max_ms": hist.max() as f64 / 1000.0,
            })
        );
    } else {
        println!(
            "{:<24} {:>10.0} req/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} ok, {} errors, c={})",
            args.label,
            rps,
            ms(0.50),
            ms(0.90),
            ms(0.99),
            hist.max() as f64 / 1000.0,
            ok,
            errors,
            args.concurrency
        );
    }
    Ok(())
}
