//! `rempart serve`: bind, serve the API and pages, stop gracefully on SIGTERM or SIGINT.

use crate::cli::ServeArgs;
use crate::config::Config;
use anyhow::Context;
use std::net::SocketAddr;
use std::time::Duration;

/// How often a running server re-reads the key table.
const VAULT_REFRESH: Duration = Duration::from_secs(30);
/// How often a running server deletes expired access rows.
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// How often the guard reviews the rights checks never followed by an approval or an invoice.
const UNUSED_REVIEW_EVERY: Duration = Duration::from_secs(15 * 60);

/// `rempart serve`: open the store (migrating it) and serve until a signal.
pub async fn run(config: &Config, _args: &ServeArgs) -> anyhow::Result<()> {
    let ports = crate::storage::open(config, crate::storage::MissingKeys::Refuse).await?;
    serve(config, ports, |addr| {
        tracing::info!(%addr, "serving");
        eprintln!("rempart: serving on http://{addr}");
    })
    .await
}

/// Binds `config.listen`, calls `on_ready` with the bound address, and serves until SIGTERM or
/// SIGINT; open requests then have `shutdown_grace_secs` to finish.
pub async fn serve(
    config: &Config,
    ports: app::Ports,
    on_ready: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    serve_with(
        config,
        ports,
        async move |addr, _: &app::accounts::Access| {
            on_ready(addr);
            Ok(())
        },
    )
    .await
}

/// [`serve`], with `on_ready` also given the access use cases (to make invitations whose
/// links name the bound port).
pub async fn serve_with(
    config: &Config,
    ports: app::Ports,
    on_ready: impl AsyncFnOnce(SocketAddr, &app::accounts::Access) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    // Data keys created by another process (`rempart keys reseal`, an import on another node,
    // a shred) are picked up without restart.
    let refresher = {
        let ports = ports.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(VAULT_REFRESH);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = ports.vault.refresh(ports.store.as_ref()).await {
                    tracing::warn!(error = %e, "cannot refresh the data keys");
                }
            }
        })
    };
    let access = crate::commands::invite::open_access(config, ports.clone(), addr.port())?;
    // Expired ceremonies, sessions, unused invitations and idempotency records are deleted
    // every minute (they are refused when expired anyway; this keeps the tables small).
    let purger = {
        let access = access.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            loop {
                tick.tick().await;
                match access.purge_expired().await {
                    Ok(p) => tracing::debug!(
                        ceremonies = p.access.ceremonies,
                        sessions = p.access.sessions,
                        invitations = p.access.invitations,
                        idempotency = p.idempotency,
                        "purged expired access rows"
                    ),
                    Err(e) => tracing::warn!(error = %e, "cannot purge expired access rows"),
                }
            }
        })
    };
    let mut state = web::AppState::new(ports.clone(), config.web(), web::Metrics::new())
        .with_access(access.clone())
        .with_guard(config.guard.clone())
        .with_payments(config.payment_desk()?);
    // The guard's review of unused rights checks (no approval or invoice within 48 h), every
    // 15 minutes; its alerts go where every alert goes.
    let reviewer = {
        let guard = state.guard.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UNUSED_REVIEW_EVERY);
            loop {
                tick.tick().await;
                if !guard.enabled() {
                    continue;
                }
                match guard.review_unused_checks().await {
                    Ok(flagged) => {
                        tracing::debug!(accounts = flagged.len(), "reviewed unused rights checks")
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot review unused rights checks"),
                }
            }
        })
    };
    // The access ledger with the configured origin; a checkpoint every minute (when the tree
    // grew) until shutdown, and a last one then.
    state.ledger = app::ledger::Ledger::new(ports, config.ledger());
    let (ledger_stop_tx, ledger_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let checkpointer = state.ledger.spawn_checkpointer(async move {
        let _ = ledger_stop_rx.await;
    });
    // The console issues client certificates when this data directory holds the platform CA.
    if crate::commands::ca::ca_dir(config)
        .join(crate::commands::ca::CA_KEY)
        .is_file()
    {
        match crate::commands::ca::FileCa::open(config) {
            Ok(ca) => state = state.with_ca(std::sync::Arc::new(ca)),
            Err(e) => tracing::warn!(error = %e, "the console cannot issue client certificates"),
        }
    }
    // Behind TLS-terminating proxies: their forwarded client certificates are verified against
    // the platform CA, like the mutual-TLS listener's.
    if !config.trusted_proxies.is_empty() {
        let verifier = crate::tls::client_verifier(config)
            .context("trusted_proxies needs the platform CA (tls_client_ca)")?;
        state = state.with_client_verifier(verifier);
    }
    let app = web::router(state);

    // Machines: the same router on a second listener, over mutual TLS.
    let (tls_stop_tx, tls_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let tls_server = match config.tls_listen {
        Some(tls_addr) => {
            let tls = crate::tls::server_config(config)?;
            let tls_listener = tokio::net::TcpListener::bind(tls_addr)
                .await
                .with_context(|| format!("cannot listen on {tls_addr} (tls_listen)"))?;
            let bound = tls_listener
                .local_addr()
                .context("cannot read the bound TLS address")?;
            tracing::info!(addr = %bound, "serving mutual TLS (client certificates of the platform CA)");
            eprintln!("rempart: serving mutual TLS on https://{bound}");
            Some(tokio::spawn(web::tls::serve_tls(
                tls_listener,
                tls,
                app.clone(),
                async move {
                    let _ = tls_stop_rx.await;
                },
            )))
        }
        None => None,
    };

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = web::serve(listener, app, async move {
        let _ = stop_rx.await;
    });
    tokio::pin!(server);
    // The signal handlers before the readiness: once a caller is told the server is up, a
    // SIGTERM stops it gracefully (installed later, an early one would kill the process).
    let signals = shutdown_signal()?;
    on_ready(addr, &access).await?;

    tokio::select! {
        result = &mut server => return result.context("the server stopped"),
        signal = signals => {
            let name = signal?;
            tracing::info!(signal = name, grace_secs = config.shutdown_grace_secs, "shutting down");
        }
    }
    let _ = stop_tx.send(());
    let _ = tls_stop_tx.send(());
    match tokio::time::timeout(config.shutdown_grace(), &mut server).await {
        Ok(result) => result.context("the server stopped")?,
        Err(_) => tracing::warn!("grace period over; closing the remaining connections"),
    }
    refresher.abort();
    purger.abort();
    reviewer.abort();
    let _ = ledger_stop_tx.send(());
    let _ = checkpointer.await;
    if let Some(tls_server) = tls_server {
        tls_server.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGTERM and SIGINT handlers now; the future waits for either and names it.
fn shutdown_signal()
-> anyhow::Result<impl std::future::Future<Output = anyhow::Result<&'static str>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => Ok("SIGTERM"),
            _ = int.recv() => Ok("SIGINT"),
        }
    })
}
