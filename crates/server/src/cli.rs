//! The `rempart` command line. The same flag means the same thing on every command:
//! `--data-dir`, `--database-url`, `--config`, `--out`, `--json`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rempart",
    version,
    about = "Third-party payment (tiers payant) for complementary health insurers, built so that a phished password yields nothing."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Configuration file (TOML). Precedence: defaults < this file < REMPART_* environment < flags.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory of the embedded SQLite database and the key files (as `demo` uses it).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// PostgreSQL URL (postgres://…); when set, used instead of the embedded SQLite database.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Log format: `text` (default on a terminal) or `json`.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (or reuse) an embedded database with realistic synthetic data, print where to go, and serve.
    Demo(DemoArgs),
    /// Serve the API and the pages.
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// Generate synthetic data files.
    #[command(subcommand)]
    Gen(GenCommand),
    /// Key management: key-encryption keys (KEK) and data keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Beneficiary maintenance (erasure).
    #[command(subcommand)]
    Beneficiaries(BeneficiariesCommand),
    /// Import data files (an insurer's beneficiary file).
    #[command(subcommand)]
    Import(ImportCommand),
    /// An insurer's contracts as data: load a version from its TOML file.
    #[command(subcommand)]
    Contracts(ContractsCommand),
    /// A tiers-payant card: verify its datamatrix token offline (degraded mode).
    #[command(subcommand)]
    Card(CardCommand),
    /// Tiers-payant cards of an insurer: export them for the card printer.
    #[command(subcommand)]
    Cards(CardsCommand),
    /// A one-time enrolment link (valid 72 h, usable once) for a person of a role in an organisation.
    Invite(InviteArgs),
    /// The platform CA for machines' client certificates (mutual TLS).
    #[command(subcommand)]
    Ca(CaCommand),
    /// Kill switches: switch lookups off (or back on) for a scope, on every server within a second.
    #[command(subcommand)]
    Switch(SwitchCommand),
    /// Decoy cards, held by no real patient: a lookup of one suspends the account at once.
    #[command(subcommand)]
    Decoy(DecoyCommand),
    /// Containment: lift a suspension, declare a practice's opening hours, list alerts.
    #[command(subcommand)]
    Guard(GuardCommand),
    /// The access ledger: verify it end to end, or write a signed checkpoint for a witness.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Incident response: who had data disclosed (from the ledger), and the notice drafts.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Replay the 2024 attack against a running instance on this machine (phished password, hijacked session, enumeration) and say how far it got.
    Drill(DrillArgs),
    /// Payment runs: pay the professionals (SEPA pain.001 and remittance statements).
    #[command(subcommand)]
    Payments(PaymentsCommand),
    /// Insurer billing: what was paid on an insurer's behalf over a period.
    #[command(subcommand)]
    Billing(BillingCommand),
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Pay every accepted, unpaid invoice line with a care date on or before --date: one SEPA credit transfer per practice; writes OUT/<run id>/pain.001.xml, one statement CSV per transfer and run.json. A run killed half-way is resumed by the next one for the same date.
    Run(PaymentsRunArgs),
    /// Write the files of an existing run again (same bytes) into OUT/<run id>/.
    Rewrite(PaymentsRewriteArgs),
}

/// The platform's settlement account, debited by the runs.
#[derive(Debug, Args, Clone)]
pub struct DebtorArgs {
    /// Name of the debited account holder (initiating party).
    #[arg(long, env = "REMPART_DEBTOR_NAME", value_name = "NAME")]
    pub debtor_name: String,
    /// IBAN of the debited account.
    #[arg(
        long,
        env = "REMPART_DEBTOR_IBAN",
        value_name = "IBAN",
        hide_env_values = true
    )]
    pub debtor_iban: String,
    /// BIC of the debited account's bank.
    #[arg(long, env = "REMPART_DEBTOR_BIC", value_name = "BIC")]
    pub debtor_bic: String,
}

#[derive(Debug, Args, Clone)]
pub struct PaymentsRunArgs {
    /// The cycle date (YYYY-MM-DD): lines with a care date on or before it; also the requested execution date.
    #[arg(long, value_name = "DATE")]
    pub date: String,
    /// Output directory (the run's directory is created 0700 inside it; files 0600).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub debtor: DebtorArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct PaymentsRewriteArgs {
    /// The run id.
    #[arg(long, value_name = "UUID")]
    pub run: String,
    /// Output directory.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub debtor: DebtorArgs,
}

#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// An insurer's billing statement over a period (runs executed from --from to --to), by domain and contract, with the invoice references; CSV, or JSON with --json.
    Statement(BillingStatementArgs),
}

#[derive(Debug, Args, Clone)]
pub struct BillingStatementArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,
    /// First execution date of the period (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last execution date of the period (YYYY-MM-DD), inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Output file (0600).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Write JSON instead of CSV.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DrillArgs {
    /// The running instance, on a loopback address (e.g. http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    pub target: String,
    /// The cards the practice has seen (the demo's demo-cards.csv layout).
    #[arg(long, value_name = "FILE")]
    pub cards: PathBuf,
    /// A hijacked session cookie, `name=value` (repeatable: the first for scenario b, the second for c).
    #[arg(long = "session", value_name = "COOKIE")]
    pub sessions: Vec<String>,
    /// A stolen client certificate and its key in one PEM file (repeatable; after the sessions).
    #[arg(long = "cert", value_name = "FILE")]
    pub certs: Vec<PathBuf>,
    /// The CA to trust for an https target (PEM).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The care domain asked (the hijacked practice's profession's).
    #[arg(long, default_value = "OPTI")]
    pub domain: String,
    /// Lookups per burst in scenario b.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// The practice's normal number of distinct patients in the drill's window (scenario b may disclose 20 more).
    #[arg(long, default_value_t = 0)]
    pub normal: u64,
    /// Upper bound on the requests of a scenario.
    #[arg(long, default_value_t = 2000)]
    pub max_requests: usize,
    /// Upper bound on the duration of a scenario, in seconds.
    #[arg(long, default_value_t = 120)]
    pub max_seconds: u64,
    /// After the attack, compute the incident scope of scenario b from the ledger (same --data-dir or --database-url as the server) and check it lists exactly what the drill received.
    #[arg(long)]
    pub check_scope: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// The people whose data the named accounts, organisations, credentials or client addresses received in a time window, per insurer, from the ledger. Prints counts; --out writes the member list (ledgered as an incident export).
    Scope(IncidentScopeArgs),
    /// From a scope file (`incident scope --out`), write per insurer the GDPR art. 33 notification draft, the art. 34 notices (French, English), the NIS2 early warning and the members CSV.
    Draft(IncidentDraftArgs),
}

#[derive(Debug, Args, Clone)]
pub struct IncidentScopeArgs {
    /// An account id (repeatable).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<uuid::Uuid>,
    /// An organisation id (repeatable).
    #[arg(long = "organisation", value_name = "ID")]
    pub organisations: Vec<uuid::Uuid>,
    /// A credential as the ledger records it, `passkey:<id>` or `cert:<serial>` (repeatable).
    #[arg(long = "credential", value_name = "CREDENTIAL")]
    pub credentials: Vec<String>,
    /// A client IP address (repeatable).
    #[arg(long = "client-addr", value_name = "IP")]
    pub client_addrs: Vec<std::net::IpAddr>,
    /// Start of the window (RFC 3339, inclusive).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window (RFC 3339, exclusive).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Write the whole scope, member numbers included (JSON, mode 0600); ledgered.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct IncidentDraftArgs {
    /// The scope file written by `rempart incident scope --out`.
    #[arg(long, value_name = "FILE")]
    pub scope: PathBuf,
    /// The directory to write the drafts into (one sub-directory per insurer).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The contact point printed in the drafts (defaults to guard.operator_contact).
    #[arg(long, value_name = "TEXT")]
    pub contact: Option<String>,
    /// The operator's name printed in the drafts.
    #[arg(long, value_name = "NAME", default_value = "rempart")]
    pub operator: String,
    /// A measure already taken (repeatable); the suspensions and kill switches in force are added.
    #[arg(long = "measure", value_name = "TEXT")]
    pub measures: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute the tree from the stored entries and check every checkpoint (exit 1 naming the first bad entry).
    Verify(LedgerVerifyArgs),
    /// Write the latest signed checkpoint (made now unless one covers the current tree) for a witness.
    Checkpoint(LedgerCheckpointArgs),
}

#[derive(Debug, Args, Clone)]
pub struct LedgerVerifyArgs {
    /// A checkpoint kept by a witness (`rempart ledger checkpoint --out`): the ledger must extend it.
    #[arg(long, value_name = "FILE")]
    pub from_checkpoint: Option<PathBuf>,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct LedgerCheckpointArgs {
    /// Where to write the signed checkpoint note.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SwitchCommand {
    /// Switch lookups off for a scope (a kill switch).
    Off(SwitchSetArgs),
    /// Switch lookups back on for a scope.
    On(SwitchSetArgs),
    /// The scopes switched off now.
    List(SwitchListArgs),
}

#[derive(Debug, Args, Clone)]
pub struct SwitchSetArgs {
    /// global, insurer:AMC, domain:OPTI, channel:portal|machine, profession:optician, organisation:ID or account:ID.
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,
    /// Why (shown in the console and the alert).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Print the switch as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SwitchListArgs {
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum DecoyCommand {
    /// Issue decoy cards of an insurer and write their tokens and codes to a file (0600).
    Issue(DecoyIssueArgs),
}

#[derive(Debug, Args, Clone)]
pub struct DecoyIssueArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,
    /// How many.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub count: u32,
    /// The CSV file for the tokens and codes (created 0600; must not exist).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Lift the suspension of an account (or machine certificate) or an organisation.
    Lift(GuardLiftArgs),
    /// Declare (or clear) a practice's opening hours (French local time).
    Hours(GuardHoursArgs),
    /// The latest alerts.
    Alerts(GuardAlertsArgs),
}

#[derive(Debug, Args, Clone)]
pub struct GuardLiftArgs {
    /// The account's id (or the machine certificate's id).
    #[arg(long, value_name = "ID", conflicts_with = "organisation")]
    pub account: Option<uuid::Uuid>,
    /// The organisation's id.
    #[arg(long, value_name = "ID")]
    pub organisation: Option<uuid::Uuid>,
}

#[derive(Debug, Args, Clone)]
pub struct GuardHoursArgs {
    /// The practice: its id or AM number.
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// E.g. "mon-fri 08:30-12:30,14:00-19:00; sat 09:00-12:00".
    #[arg(long, value_name = "HOURS", conflicts_with = "clear")]
    pub set: Option<String>,
    /// Always open.
    #[arg(long)]
    pub clear: bool,
}

#[derive(Debug, Args, Clone)]
pub struct GuardAlertsArgs {
    /// How many (newest first).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GenCommand {
    /// A synthetic insurer beneficiary file in the documented CSV format (docs/formats.md).
    Beneficiaries(GenBeneficiariesArgs),
}

#[derive(Debug, Args, Clone)]
pub struct GenBeneficiariesArgs {
    /// Number of beneficiary rows to write.
    #[arg(long)]
    pub count: u64,

    /// Seed of the generator: the same seed writes the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// AMC number whose contracts the rows refer to (used to vary member numbers per insurer).
    #[arg(long, value_name = "AMC")]
    pub insurer: Option<String>,

    /// Output file (`-` for standard output).
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ContractsCommand {
    /// Load a contract version (docs/formats.md, "Contract (TOML)"); the same version again is a no-op.
    Load(ContractsLoadArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ContractsLoadArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,

    /// The contract file.
    #[arg(value_name = "FILE.toml")]
    pub file: PathBuf,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// An insurer's beneficiary file in the documented CSV format (docs/formats.md).
    Beneficiaries(ImportBeneficiariesArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ImportBeneficiariesArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,

    /// The CSV file.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,

    /// The file is the insurer's whole population: close the beneficiaries missing from it.
    #[arg(long)]
    pub full: bool,

    /// The file's date (YYYY-MM-DD), the day missing beneficiaries are closed at; default today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,

    /// Write the report (JSON) to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Rows per transaction (larger: faster, and a longer hold of the database's write lock;
    /// the default suits a bulk load; use 2000 while a server writes to the same database).
    #[arg(long, default_value_t = app::beneficiaries::import::BULK_BATCH as u64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create key-encryption key version 1 (a 0600 file in keys_dir, or in the PKCS#11 token).
    Init,
    /// Create a new KEK version and re-wrap every data key under it (online; resumable).
    Rotate(KeysJsonArgs),
    /// New data-key version per scope, then re-encrypt every sealed row with it (resumable).
    Reseal(KeysResealArgs),
    /// Destroy an old KEK version once no data key is wrapped under it.
    Retire(KeysRetireArgs),
    /// Crypto-shred an insurer: destroy its data keys, so none of its sealed data opens again.
    Shred(KeysShredArgs),
    /// KEK versions, data keys per scope and purpose, rows per key id (no secret).
    Status(KeysJsonArgs),
}

#[derive(Debug, Args, Clone)]
pub struct KeysJsonArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct KeysResealArgs {
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct KeysRetireArgs {
    /// The KEK version to destroy.
    #[arg(long, value_name = "N")]
    pub kek_version: u32,
}

#[derive(Debug, Args, Clone)]
pub struct KeysShredArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,

    /// Confirm: this cannot be undone.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum BeneficiariesCommand {
    /// Delete a member's beneficiaries (one with --birth-rank).
    Erase(EraseArgs),
}

#[derive(Debug, Args, Clone)]
pub struct EraseArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,

    /// The member number.
    #[arg(long, value_name = "M")]
    pub member: String,

    /// Only the beneficiary with this birth rank.
    #[arg(long, value_name = "R")]
    pub birth_rank: Option<u8>,
}

#[derive(Debug, Args, Clone)]
pub struct InviteArgs {
    /// operator_admin, operator_analyst, auditor, insurer_staff or professional.
    #[arg(long, value_name = "ROLE")]
    pub role: String,

    /// The organisation: its id, or an insurer's AMC number, or a practice's AM number.
    #[arg(long, value_name = "ORG")]
    pub org: String,

    /// The invitee's display name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// For professionals: the RPPS or ADELI number you checked (rpps:NNNNNNNNNNN, adeli:NNNNNNNNN).
    #[arg(long, value_name = "rpps:N|adeli:N")]
    pub professional: Option<String>,

    /// Print role, organisation, profession, invitation and link as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Verify a card token (the datamatrix content) offline with the published keys and print what the card grants; exit 1 if invalid or not valid today.
    Verify(CardVerifyArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CardVerifyArgs {
    /// The token (`RP1.…`), or `-` to read it from standard input.
    #[arg(value_name = "TOKEN")]
    pub token: String,

    /// Published keys saved from /api/v1/card-keys (default: the keys of --data-dir / the configured database).
    #[arg(long, value_name = "FILE.json", conflicts_with = "url")]
    pub keys: Option<PathBuf>,

    /// Fetch the published keys from a server running on this machine (http://127.0.0.1:PORT).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CardsCommand {
    /// Write an insurer's cards for the printer: OUT/cards.csv and OUT/datamatrix/<card-id>.svg (new verification codes).
    Export(CardsExportArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CardsExportArgs {
    /// The insurer's AMC number.
    #[arg(long, value_name = "AMC")]
    pub insurer: String,

    /// Output directory (created 0700; files 0600).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write cards.csv only, without the Data Matrix SVGs (for a printer that draws the
    /// datamatrix from the token column itself).
    #[arg(long)]
    pub no_images: bool,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the platform CA in <data_dir>/ca (key 0600) and a server certificate for the TLS listener.
    Init(CaInitArgs),
    /// Issue a client certificate for one organisation and role, and record it.
    Issue(CaIssueArgs),
    /// Revoke a client certificate (effective on its next request, no restart).
    Revoke(CaRevokeArgs),
    /// List the client certificates.
    List(CaListArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CaInitArgs {
    /// DNS names (or IP addresses) of the server certificate.
    #[arg(long = "server-name", value_name = "NAME", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
    pub server_names: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct CaIssueArgs {
    /// The organisation: its id, an insurer's AMC number or a practice's AM number.
    #[arg(long, value_name = "ORG")]
    pub org: String,
    /// A name for the machine ("Logiciel Optique v4, cabinet Dupont").
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The role; default insurer_staff for an insurer, professional for a practice.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Validity in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=825))]
    pub days: u32,
    /// Directory for cert.pem, key.pem (0600) and ca.pem (created; must not hold them already).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print the record as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
#[group(required = true, multiple = false)]
pub struct CaRevokeArgs {
    /// SHA-256 fingerprint of the certificate (hex, colons allowed).
    #[arg(long, value_name = "HEX")]
    pub fingerprint: Option<String>,
    /// The certificate's id.
    #[arg(long, value_name = "ID")]
    pub id: Option<uuid::Uuid>,
}

#[derive(Debug, Args, Clone)]
pub struct CaListArgs {
    #[arg(long)]
    pub json: bool,
}
