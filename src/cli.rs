//! The binary's command line: `paydesk` serves by default; each subcommand's `--help` lists only its own flags.

use clap::{Args, Parser, Subcommand};
use paydesk_core::config::Config;
use rust_decimal::Decimal;

/// paydesk: the GraphQL back end through which admins and ops run a marketplace's payments and payouts.
///
/// Without a subcommand it serves (`paydesk serve --help` lists the server's settings); each subcommand's `--help`
/// lists only its own.
#[derive(Debug, Parser)]
#[command(name = "paydesk", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (the program name first); with no subcommand named, `serve` is meant.
    pub fn parse_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> Self {
        use clap::CommandFactory;
        let mut args: Vec<std::ffi::OsString> = args.into_iter().collect();
        let command = Cli::command();
        let named = args.get(1).and_then(|a| a.to_str()).is_some_and(|first| {
            matches!(first, "-h" | "--help" | "-V" | "--version" | "help")
                || command.get_subcommands().any(|s| s.get_name() == first)
        });
        if !named {
            args.insert(1.min(args.len()), "serve".into());
        }
        Cli::parse_from(args)
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(Config),
    /// Apply or inspect schema migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Print the GraphQL schema (SDL), as `schema.graphql` holds it.
    Schema,
    /// Mint a JWT signed with `JWT_SECRET` (the server's, so the token works against it).
    Token(TokenArgs),
    /// Fill the database with a realistic demo data set (wallets, payments, payouts, notifications).
    SeedDemo(DbArgs),
    /// Check the books: every balance equals its ledger, every row's sign fits its kind, the reserve always held.
    /// Exits 1 on a mismatch.
    Reconcile(ReconcileArgs),
    /// Check the history with no server running: recompute every chain (audit entries, journal entries with their
    /// postings, webhook deliveries) and the books, and name the first row edited, deleted or inserted out of
    /// order. Exits 1 on any finding.
    Verify(VerifyArgs),
    /// Copy a SQLite database to a file while the server runs, then check the copy as a restore would.
    Backup(BackupArgs),
    /// Write the journal to standard output as accountants check it: Beancount (accounts opened, every entry with
    /// its lines, each wallet's balance asserted as its row holds it; check it with Beancount's `bean-check`) or CSV
    /// (a line a row).
    ExportJournal(ExportArgs),
    /// Make a new Ed25519 key for the history's signed checkpoints and erasures: prints the secret seed (for
    /// `PAYDESK_HISTORY_SIGNING_KEY`, kept outside the database) and its public key (for the docs and
    /// `paydesk verify --public-key`).
    HistoryKey,
}

/// The database a subcommand works on.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// SQLite (`sqlite://paydesk.db?mode=rwc`) or PostgreSQL (`postgres://user@host/db`).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://paydesk.db?mode=rwc")]
    pub database_url: String,
}

/// Flags of `reconcile`: the database and the reserves it checks payouts against (give it the server's).
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The reserve payouts must leave (as the server's PAYOUT_RESERVE).
    #[arg(long, env = "PAYOUT_RESERVE", default_value = "100.00")]
    pub payout_reserve: Decimal,
    /// Per-currency reserves (as the server's PAYOUT_RESERVES), e.g. `USD:10.00,EUR:10.00`.
    #[arg(long, env = "PAYOUT_RESERVES", value_delimiter = ',')]
    pub payout_reserves: Vec<String>,
}

/// Flags of `verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Verify a SQLite backup file instead (opened read-only); a PostgreSQL dump is restored first, then verified.
    #[arg(long)]
    pub file: Option<std::path::PathBuf>,
    /// Checkpoints kept outside the database, each a file (the JSON `historyCheckpoint` returns, a daily
    /// `history.checkpoint` notification's body, a signed checkpoint from `GET /history/checkpoint`) or a
    /// directory of such files; repeatable. Each one's heads must still be in the chains, and one that carries a
    /// signature must be signed by the history's key, so a chain rewritten or cut since then is found too.
    #[arg(long)]
    pub checkpoint: Vec<std::path::PathBuf>,
    /// Walk only what came after the signed checkpoint in FILE, which an earlier clean run verified whole: the
    /// day's work, not the history's. After a clean run FILE holds the newest signed checkpoint this run verified
    /// (a missing FILE: the whole history is walked, then FILE is written). Needs the public key. Without it every
    /// chain is walked from its first link.
    #[arg(long, value_name = "FILE")]
    pub since: Option<std::path::PathBuf>,
    /// The history's public key (hex), to check signed checkpoints and erasures with; after a rotation also the
    /// retired ones, comma-separated or the flag repeated (what a retired key signed still verifies). By default
    /// the one of `PAYDESK_HISTORY_SIGNING_KEY` when that is set.
    #[arg(long, env = "PAYDESK_HISTORY_PUBLIC_KEY", value_delimiter = ',')]
    pub public_key: Vec<String>,
    #[arg(long, env = "PAYDESK_HISTORY_SIGNING_KEY", hide = true, hide_env_values = true)]
    pub signing_key: Option<String>,
}

/// Flags of `export-journal`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// `beancount` or `csv`.
    #[arg(long, value_parser = ["beancount", "csv"], default_value = "beancount")]
    pub format: String,
    /// Entries from this instant on (RFC 3339, or a date: its start in UTC); the balances before it open the
    /// Beancount file.
    #[arg(long, value_parser = instant)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries before this instant (RFC 3339, or a date: its start in UTC). Without it the Beancount file also
    /// asserts every wallet's balance as it stands now.
    #[arg(long, value_parser = instant)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// An instant given as RFC 3339, or a date (its start, UTC).
fn instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        .map_err(|_| format!("{text:?} is neither an RFC 3339 instant nor a date such as 2026-12-01"))
}

/// Flags of `backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The file to write (it must not exist yet). For PostgreSQL, use pg_dump (see docs/OPERATIONS.md, "Backups").
    #[arg(long, required_unless_present = "check")]
    pub to: Option<std::path::PathBuf>,
    /// Only check an existing backup file: opens it as a restore would and checks its books.
    #[arg(long, conflicts_with = "to")]
    pub check: Option<std::path::PathBuf>,
}

/// What `migrate` does.
#[derive(Debug, Subcommand, Clone, Copy)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// List migrations and whether each is applied.
    Status,
    /// Roll back the last N migrations (this drops their tables and data).
    Down {
        /// How many to roll back; required unless `--all --yes`.
        n: Option<u32>,
        /// Roll back every migration: drops every table.
        #[arg(long, conflicts_with = "n")]
        all: bool,
        /// Confirms `--all`.
        #[arg(long)]
        yes: bool,
    },
}

/// Flags of `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The server's HS256 secret.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// The caller's role: admin, ops or freelancer.
    #[arg(long, value_parser = ["admin", "ops", "freelancer"])]
    pub role: String,
    /// The caller's id (the `sub` claim); a UUID.
    #[arg(long)]
    pub sub: uuid::Uuid,
    /// How long the token is valid, e.g. `1h`, `30m`, `7d`.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: std::time::Duration,
}
