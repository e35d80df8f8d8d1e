//! `rempart demo`: open (or create) the embedded store under the data directory, load the
//! synthetic demo data on first run, print where to go, and serve.
//!
//! The banner names counts, the URL and the data directory, never personal data.

use crate::cli::DemoArgs;
use crate::config::Config;
use anyhow::Context;
use app::demo::DemoSummary;
use std::net::SocketAddr;

/// The seed of the demo population (docs/demo.md): every demo holds the same people.
pub const DEMO_SEED: u64 = 2024;

pub async fn run(config: &Config, _args: &DemoArgs) -> anyhow::Result<()> {
    // `--listen` is already folded into `config.listen` by the configuration loader.
    let ports = crate::storage::open(config).await?;
    let summary = app::demo::seed(&ports, DEMO_SEED)
        .await
        .context("cannot load the demo data")?;
    let data_dir = config.data_dir.display().to_string();
    crate::commands::serve::serve(config, ports, move |addr| {
        println!("{}", banner(&summary, addr, &data_dir));
    })
    .await
}

/// The URL to open: `localhost` (WebAuthn refuses IP addresses as relying party ids).
pub fn url(addr: SocketAddr) -> String {
    format!("http://localhost:{}/", addr.port())
}

fn banner(summary: &DemoSummary, addr: SocketAddr, data_dir: &str) -> String {
    let c = &summary.counts;
    let loaded = if summary.already_seeded {
        "reusing the demo data"
    } else {
        "loaded the demo data"
    };
    let insurers: Vec<String> = summary
        .insurers
        .iter()
        .map(|i| format!("{} (AMC {})", i.name, i.amc))
        .collect();
    format!(
        "rempart demo: {loaded}\n  \
         open      {url}\n  \
         insurers  {insurers}\n  \
         loaded    {} insurers, {} contracts, {} beneficiaries (synthetic), {} cards, {} practices, {} professionals, {} accounts\n  \
         data dir  {data_dir}  (delete it to start over)\n  \
         listening on {addr}; Ctrl-C to stop",
        c.insurers,
        c.contracts,
        c.beneficiaries,
        c.cards,
        c.practices,
        c.professionals,
        c.accounts,
        url = url(addr),
        insurers = insurers.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_uses_localhost() {
        assert_eq!(
            url("127.0.0.1:8443".parse().unwrap()),
            "http://localhost:8443/"
        );
        assert_eq!(url("[::1]:3000".parse().unwrap()), "http://localhost:3000/");
    }
}
