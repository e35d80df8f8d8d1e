//! One module per subcommand, and the dispatch.

pub mod billing;
pub mod ca;
pub mod cards;
pub mod contracts;
pub mod decoy;
pub mod demo;
pub mod drill;
pub mod generate;
pub mod guard;
pub mod import;
pub mod incident;
pub mod invite;
pub mod keys;
pub mod ledger;
pub mod migrate;
pub mod payments;
pub mod serve;
pub mod switch;

use crate::cli::{CardCommand, CardsCommand, Command, GenCommand, ImportCommand};

/// Whether a URL host (`localhost`, an IP address, `[::1]`) names this machine: the commands
/// that reach a running server (`card verify --url`, `drill --target`) accept nothing else.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
use crate::config::Config;

/// Runs `command` with a loaded configuration.
pub async fn dispatch(config: &Config, command: &Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(args) => demo::run(config, args).await,
        Command::Serve(args) => serve::run(config, args).await,
        Command::Migrate => migrate::run(config).await,
        // Synchronous: it streams a file and does nothing else meanwhile.
        Command::Gen(GenCommand::Beneficiaries(args)) => generate::beneficiaries(args),
        Command::Keys(command) => keys::run(config, command).await,
        Command::Beneficiaries(command) => keys::beneficiaries(config, command).await,
        Command::Invite(args) => invite::run(config, args).await,
        Command::Ca(command) => ca::run(config, command).await,
        Command::Switch(command) => switch::run(config, command).await,
        Command::Decoy(crate::cli::DecoyCommand::Issue(args)) => decoy::issue(config, args).await,
        Command::Guard(command) => guard::run(config, command).await,
        Command::Ledger(command) => ledger::run(config, command).await,
        Command::Incident(command) => incident::run(config, command).await,
        Command::Drill(args) => drill::run(config, args).await,
        Command::Import(ImportCommand::Beneficiaries(args)) => {
            import::beneficiaries(config, args).await
        }
        Command::Contracts(crate::cli::ContractsCommand::Load(args)) => {
            contracts::load(config, args).await
        }
        Command::Card(CardCommand::Verify(args)) => cards::verify(config, args).await,
        Command::Cards(CardsCommand::Export(args)) => cards::export(config, args).await,
        Command::Payments(command) => payments::run(config, command).await,
        Command::Billing(crate::cli::BillingCommand::Statement(args)) => {
            billing::statement(config, args).await
        }
    }
}
