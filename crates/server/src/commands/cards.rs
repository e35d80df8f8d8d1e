//! `rempart card verify` (offline verification of a card token: the degraded mode) and
//! `rempart cards export` (what an insurer's card printer needs), and the demo's
//! `demo-cards.csv`.
//!
//! Exports hold identifying fields in clear (first names, dates of birth): files are 0600 in
//! a 0700 directory, and only counts are logged.

use crate::cli::{CardVerifyArgs, CardsExportArgs};
use crate::config::Config;
use crate::storage::{self, MissingKeys};
use anyhow::{Context, bail};
use app::Clock;
use app::cards::{CardExport, IssuedCard, date_from_days, token_regime_text};
use app::demo::DemoCardRow;
use app::ledger::Ledger;
use crypto::CardVerifyingKeys;
use domain::ids::AmcNumber;
use domain::rights::CareDomain;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use time::Date;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Cards per page of the export (one transaction of new code hashes each).
const EXPORT_PAGE: u32 = 500;

// --- card verify ---

pub async fn verify(config: &Config, args: &CardVerifyArgs) -> anyhow::Result<()> {
    let token = if args.token == "-" {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the token from standard input")?;
        line.trim().to_string()
    } else {
        args.token.trim().to_string()
    };
    let (keys, today) = if let Some(file) = &args.keys {
        let json = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the key list {}", file.display()))?;
        let keys = CardVerifyingKeys::from_json(&json)
            .with_context(|| format!("{} is not a published key list", file.display()))?;
        (keys, app::SystemClock.today())
    } else if let Some(url) = &args.url {
        let json = fetch_card_keys(url).await?;
        let keys = CardVerifyingKeys::from_json(&json)
            .context("the server's /api/v1/card-keys is not a published key list")?;
        (keys, app::SystemClock.today())
    } else {
        let ports = storage::open(config, MissingKeys::Refuse).await?;
        (ports.vault.card_keys(), ports.clock.today())
    };
    let verdict = check(&token, &keys, today);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verdict.json())?);
    } else {
        print!("{}", verdict.text());
    }
    match verdict {
        Verdict::Invalid(reason) => bail!("invalid card token: {reason}"),
        Verdict::Genuine { valid_today, .. } if !valid_today => {
            bail!("the card is not valid today ({today})")
        }
        Verdict::Genuine { .. } => Ok(()),
    }
}

/// What `card verify` found.
#[derive(Debug)]
pub enum Verdict {
    Invalid(String),
    Genuine {
        claims: crypto::CardClaims,
        from: Date,
        to: Date,
        today: Date,
        valid_today: bool,
    },
}

/// Verifies `token` with `keys` and judges its validity on `today`.
pub fn check(token: &str, keys: &CardVerifyingKeys, today: Date) -> Verdict {
    match crypto::cards::verify(token, keys) {
        Err(e) => Verdict::Invalid(e.to_string()),
        Ok(claims) => {
            let (Some(from), Some(to)) = (
                date_from_days(claims.valid_from),
                date_from_days(claims.valid_to),
            ) else {
                return Verdict::Invalid("card token validity is out of range".into());
            };
            Verdict::Genuine {
                valid_today: from <= today && today <= to,
                claims,
                from,
                to,
                today,
            }
        }
    }
}

impl Verdict {
    fn json(&self) -> serde_json::Value {
        match self {
            Verdict::Invalid(reason) => serde_json::json!({"valid": false, "reason": reason}),
            Verdict::Genuine {
                claims,
                from,
                to,
                today,
                valid_today,
            } => serde_json::json!({
                "valid": true,
                "valid_today": valid_today,
                "today": today.to_string(),
                "card_id": claims.card_id,
                "amc_number": claims.amc_number,
                "member_number": claims.member_number,
                "valid_from": from.to_string(),
                "valid_to": to.to_string(),
                "domains": claims.domains.iter().map(|d| serde_json::json!({
                    "domain": d.code, "regime": token_regime_text(d.regime)})).collect::<Vec<_>>(),
            }),
        }
    }

    fn text(&self) -> String {
        match self {
            Verdict::Invalid(reason) => format!("card token: INVALID ({reason})\n"),
            Verdict::Genuine {
                claims,
                from,
                to,
                today,
                valid_today,
            } => {
                let when = if *valid_today {
                    format!("valid today ({today})")
                } else {
                    format!("NOT valid today ({today})")
                };
                let domains: Vec<String> = claims
                    .domains
                    .iter()
                    .map(|d| format!("{} {}", d.code, token_regime_text(d.regime)))
                    .collect();
                format!(
                    "card token: genuine (signed by a published rempart key)\n  \
                     card      {}\n  \
                     AMC       {}\n  \
                     member    {}\n  \
                     validity  {from} to {to}: {when}\n  \
                     grants    {}\n",
                    claims.card_id,
                    claims.amc_number,
                    claims.member_number,
                    domains.join(", "),
                )
            }
        }
    }
}

/// `GET {url}/api/v1/card-keys` over plain HTTP on a loopback address.
async fn fetch_card_keys(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT of a server on this machine (loopback)")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((h, _)) => h,
        None => authority,
    };
    if !super::is_loopback_host(host) {
        bail!("--url must name a loopback address (127.0.0.1, [::1] or localhost)");
    }
    let addr = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(&addr).await?;
        let request = format!(
            "GET /api/v1/card-keys HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.take(1024 * 1024).read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .context("the server did not answer within 10 s")?
        .with_context(|| format!("cannot fetch the card keys from {addr}"))?;
    let text = String::from_utf8(response).context("the server's answer is not UTF-8")?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("the server's answer is not HTTP")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        bail!("the server answered {status}");
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bail!("the server's answer is chunked, which this client does not read");
    }
    Ok(body.to_string())
}

// --- cards export ---

pub async fn export(config: &Config, args: &CardsExportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let ports = storage::open(config, MissingKeys::Refuse).await?;
    let amc = AmcNumber::parse(&args.insurer).context("--insurer must be an AMC number")?;
    let insurer = ports
        .store
        .find_insurer_by_amc(&amc)
        .await?
        .with_context(|| format!("no insurer with AMC number {}", amc.as_str()))?;
    let svg_dir = args.out.join("datamatrix");
    private_dir(&args.out)?;
    if !args.no_images {
        private_dir(&svg_dir)?;
    }
    let partial = args.out.join(".cards.csv.partial");
    let mut csv = csv::Writer::from_writer(BufWriter::new(private_file(&partial)?));
    csv.write_record(export_header())?;

    // Every printed beneficiary is ledgered (purpose card_export) before its page is written.
    let ledger = Ledger::new(ports.clone(), config.ledger());
    let export = CardExport {
        credential: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".into())
        ),
        request_id: ports.new_id().to_string(),
    };
    let mut after = None;
    let mut count = 0u64;
    let mut people = 0u64;
    let result: anyhow::Result<()> = async {
        loop {
            let (cards, next) =
                app::cards::export_page(&ports, &ledger, &export, &insurer, after, EXPORT_PAGE)
                    .await?;
            for card in &cards {
                csv.write_record(export_row(&insurer.amc, card))?;
                if !args.no_images {
                    let svg = datamatrix_svg(&card.token)?;
                    let path = svg_dir.join(format!("{}.svg", card.record.id));
                    let mut f = private_file(&path)?;
                    f.write_all(svg.as_bytes())?;
                }
                count += 1;
                people += card.beneficiaries.len() as u64;
            }
            csv.flush()?;
            match next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        drop(csv);
        let _ = std::fs::remove_file(&partial);
        return Err(e.context(
            "card export failed; run it again (every run issues new verification codes)",
        ));
    }
    let file = csv
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write cards.csv: {}", e.error()))?;
    file.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write cards.csv: {}", e.error()))?
        .sync_all()?;
    let csv_path = args.out.join("cards.csv");
    std::fs::rename(&partial, &csv_path)?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        cards = count,
        ledgered = people,
        "exported cards for printing"
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({"cards": count, "ledgered": people, "out": args.out.display().to_string(),
                "csv": csv_path.display().to_string(), "seconds": secs})
        );
    } else {
        println!(
            "rempart cards export: {count} cards of AMC {} to {} (cards.csv, datamatrix/<card-id>.svg) in {secs:.2}s; {people} printed beneficiaries recorded in the access ledger (card_export)",
            amc.as_str(),
            args.out.display()
        );
        println!(
            "  every card got a new verification code: the codes printed before no longer match. The files hold personal data (0600): hand them to the printer and delete them."
        );
    }
    Ok(())
}

fn export_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "card_id",
        "amc_number",
        "member_number",
        "valid_from",
        "valid_to",
        "convention_type",
        "routing_criterion",
        "first_names",
        "birth_dates",
        "birth_ranks",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(CareDomain::ALL.iter().map(|d| d.code().to_string()));
    h.push("verification_code".into());
    h.push("token".into());
    h
}

fn export_row(amc: &AmcNumber, card: &IssuedCard) -> Vec<String> {
    let r = &card.record;
    let list = |f: &dyn Fn(&app::cards::CardBeneficiary) -> String| {
        card.beneficiaries
            .iter()
            .map(|b| f(b).replace(';', " "))
            .collect::<Vec<_>>()
            .join(";")
    };
    let domains = app::cards::parse_domains(&r.domains).unwrap_or_default();
    let mut row = vec![
        r.id.to_string(),
        amc.as_str().to_string(),
        r.member_number.as_str().to_string(),
        r.valid_from.to_string(),
        r.valid_to.to_string(),
        r.convention_type.clone(),
        r.routing_criterion.clone(),
        list(&|b| b.first_name.clone()),
        list(&|b| b.birth_date.to_string()),
        list(&|b| b.birth_rank.get().to_string()),
    ];
    for d in CareDomain::ALL {
        row.push(
            domains
                .iter()
                .find(|(code, _)| *code == d)
                .map(|(_, regime)| regime.to_string())
                .unwrap_or_default(),
        );
    }
    row.push(card.code.as_str().to_string());
    row.push(card.token.clone());
    row.into_iter().map(|c| neutralise(&c)).collect()
}

/// A cell a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage
/// return) gets a `'` prefix.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// Creates `dir` 0700 (and parents), or tightens an existing one to 0700.
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        std::fs::set_permissions(dir, Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))
}

/// Creates (or truncates) `path` readable by the owner only.
pub(crate) fn private_file(path: &Path) -> anyhow::Result<File> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    // An existing file keeps its mode on open: tighten it.
    f.set_permissions(Permissions::from_mode(0o600))?;
    Ok(f)
}

/// The Data Matrix (ECC 200) of `token` as an SVG: one unit per module, a quiet zone of 2
/// modules, dark modules drawn as horizontal runs (`M x,y h n v 1 h -n z`).
pub fn datamatrix_svg(token: &str) -> anyhow::Result<String> {
    let code = datamatrix::DataMatrix::encode(token.as_bytes(), datamatrix::SymbolList::default())
        .map_err(|e| anyhow::anyhow!("cannot encode the datamatrix: {e:?}"))?;
    let bitmap = code.bitmap();
    let (w, h) = (bitmap.width(), bitmap.height());
    let quiet = 2;
    let mut path = String::new();
    let bits = bitmap.bits();
    for y in 0..h {
        let mut x = 0;
        while x < w {
            if bits[y * w + x] {
                let start = x;
                while x < w && bits[y * w + x] {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{},{}h{}v1h-{}z",
                    start + quiet,
                    y + quiet,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    let (vw, vh) = (w + 2 * quiet, h + 2 * quiet);
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {vw} {vh}\" width=\"{}mm\" height=\"{}mm\" shape-rendering=\"crispEdges\">\
         <rect width=\"{vw}\" height=\"{vh}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>\n",
        vw / 2,
        vh / 2,
    ))
}

// --- demo ---

/// The demo's cards file under the data directory.
pub fn demo_cards_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-cards.csv")
}

/// Writes `demo-cards.csv` (0600): one row per synthetic beneficiary with their family
/// card's verification code and datamatrix token.
pub fn write_demo_cards(path: &Path, rows: &[DemoCardRow]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(BufWriter::new(private_file(path)?));
    csv.write_record([
        "member_number",
        "first_name",
        "birth_date",
        "birth_rank",
        "verification_code",
        "datamatrix_token",
    ])?;
    for r in rows {
        csv.write_record([
            neutralise(&r.member_number),
            neutralise(&r.first_name),
            r.birth_date.to_string(),
            r.birth_rank.to_string(),
            neutralise(&r.verification_code),
            neutralise(&r.token),
        ])?;
    }
    csv.flush()?;
    tracing::info!(rows = rows.len(), "wrote the demo cards file");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("+33"), "'+33");
        assert_eq!(neutralise("-2"), "'-2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Hélène"), "Hélène");
        assert_eq!(neutralise(""), "");
    }

    #[test]
    fn svg_decodes_back_to_the_token() {
        let token = "RP1.AQAAAAEBkOYJ-y5xAAAAAAAAAAAAAAAAAQk";
        let svg = datamatrix_svg(token).unwrap();
        assert_eq!(decode_svg(&svg), token.as_bytes());
    }

    /// Reads back the modules of an SVG written by [`datamatrix_svg`] and decodes them.
    pub(crate) fn decode_svg(svg: &str) -> Vec<u8> {
        let vb = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
        let mut dims = vb.split(['"', ' ']);
        let vw: usize = dims.next().unwrap().parse().unwrap();
        let vh: usize = dims.next().unwrap().parse().unwrap();
        let (w, h) = (vw - 4, vh - 4);
        let mut pixels = vec![false; w * h];
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        for run in d.split('z').filter(|r| !r.is_empty()) {
            let run = run.strip_prefix('M').unwrap();
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(',').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let n: usize = rest.split('v').next().unwrap().parse().unwrap();
            for i in 0..n {
                pixels[(y - 2) * w + (x - 2 + i)] = true;
            }
        }
        datamatrix::DataMatrix::decode(&pixels, w).unwrap()
    }
}
