//! `paydesk backup`: a consistent copy of a SQLite database taken while the server runs (`VACUUM INTO` reads one
//! snapshot and writes a compact file), and the restore check: open the copy as a restored server would and check
//! its integrity, its migrations and its books. PostgreSQL is backed up with `pg_dump` (see docs/OPERATIONS.md, "Backups").

use crate::domain::money::Reserves;
use crate::services::books::reconcile;
use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::fmt;
use std::path::Path;

/// What the restore check found.
pub struct Report {
    pub integrity: String,
    pub migrations: Vec<String>,
    pub pending: Vec<String>,
    pub books: reconcile::Report,
}

impl Report {
    /// The copy is sound, fully migrated (for this binary) and its books balance.
    pub fn is_clean(&self) -> bool {
        self.integrity == "ok" && self.pending.is_empty() && self.books.is_clean()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "integrity:  {}", self.integrity)?;
        let latest = self.migrations.last().map(String::as_str).unwrap_or("none");
        writeln!(f, "migrations: {} applied (latest {latest}), {} pending", self.migrations.len(), self.pending.len())?;
        write!(f, "books:      {}", self.books)?;
        if self.is_clean() {
            writeln!(f, "restore check passed: a server started on this file serves the same data")
        } else {
            writeln!(f, "restore check FAILED")
        }
    }
}

/// Copies the SQLite database at `url` to `to`, which must not exist.
pub async fn write(url: &str, to: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        url.starts_with("sqlite:"),
        "paydesk backup copies SQLite databases. For PostgreSQL use pg_dump:\n  \
         pg_dump --format=custom --file=paydesk.dump \"$DATABASE_URL\"\n\
         then check a restore: createdb paydesk_restore && pg_restore --dbname=paydesk_restore paydesk.dump && \
         DATABASE_URL=postgres://…/paydesk_restore paydesk reconcile"
    );
    anyhow::ensure!(!to.exists(), "{} already exists; backups never overwrite a file", to.display());
    let path = to.to_str().context("the backup path must be valid UTF-8")?;
    let db = crate::db::connect(url, Default::default()).await?;
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()]))
        .await
        .with_context(|| format!("writing the backup to {}", to.display()))?;
    Ok(())
}

/// Opens the backup at `file` read-only and checks it as a restore would.
pub async fn check(file: &Path) -> anyhow::Result<Report> {
    anyhow::ensure!(file.is_file(), "{} is not a file", file.display());
    let url = format!("sqlite://{}?mode=ro", file.display());
    // Opened as it is, read-only: the check changes nothing in the file.
    let db = sea_orm::Database::connect(&url).await.with_context(|| format!("opening {}", file.display()))?;
    let integrity = match db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check")).await {
        Ok(Some(row)) => row.try_get::<String>("", "integrity_check").unwrap_or_else(|e| e.to_string()),
        Ok(None) => "no answer".to_owned(),
        Err(e) => format!("unreadable: {e}"),
    };
    if integrity != "ok" {
        let books = reconcile::Report::default();
        return Ok(Report { integrity, migrations: Vec::new(), pending: Vec::new(), books });
    }
    let migrations = crate::db::applied_migrations(&db).await.context("reading the copy's migrations")?;
    let pending = crate::db::pending_migrations(&db).await.context("reading the copy's migrations")?;
    // The books must balance; the reserve is the live server's policy, so the copy is held to none.
    let books = reconcile::run(&db, &Reserves::default()).await.context("checking the copy's books")?;
    Ok(Report { integrity, migrations, pending, books })
}
