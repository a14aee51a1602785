//! A history no one can rewrite unseen. `history_links` chains the rows of three tables, one chain each (`audit`:
//! audit entries, `journal`: journal entries with their postings, `webhooks`: stored deliveries): link `seq` of a
//! chain names its row, the SHA-256 of the row's canonical content and the previous link's hash, and its own hash
//! over both. `history_checkpoints` keeps each day's chain heads, as they were sent to the marketplace.
//!
//! On PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE on the chained tables and on the links (a delivery's
//! outcome may still be written; what it received may not), except for the audited erasure path, which names the one
//! row it may redact in the transaction's `paydesk.erasure` setting. SQLite has no such guard; the chains tell.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HistoryLinks {
    Table,
    Chain,
    Seq,
    RowId,
    ContentHash,
    PrevHash,
    Hash,
    LinkedAt,
}

#[derive(DeriveIden)]
enum HistoryCheckpoints {
    Table,
    Day,
    Heads,
    CreatedAt,
}

/// Refuses any change: for tables that are only ever appended to.
const APPEND_ONLY: &str = r#"
CREATE FUNCTION paydesk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'paydesk: % on % refused: this history is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'a legally required erasure goes through eraseHistoryRecord (docs/OPERATIONS.md, "Erasure")';
END $$"#;

/// Refuses a change unless the transaction's erasure names this row (until the erasure gate replaced it).
pub(crate) const ERASABLE: &str = r#"
CREATE FUNCTION paydesk_erasable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('paydesk.erasure', true) = OLD.id::text THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'paydesk: % on % refused: this history is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'a legally required erasure goes through eraseHistoryRecord (docs/OPERATIONS.md, "Erasure")';
END $$"#;

const TRIGGERS: &[&str] = &[
    "CREATE TRIGGER paydesk_history BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION paydesk_erasable()",
    "CREATE TRIGGER paydesk_history BEFORE UPDATE OR DELETE ON journal_entries FOR EACH ROW EXECUTE FUNCTION paydesk_append_only()",
    "CREATE TRIGGER paydesk_history BEFORE UPDATE OR DELETE ON journal_postings FOR EACH ROW EXECUTE FUNCTION paydesk_append_only()",
    "CREATE TRIGGER paydesk_history BEFORE UPDATE OR DELETE ON history_links FOR EACH ROW EXECUTE FUNCTION paydesk_append_only()",
    "CREATE TRIGGER paydesk_history BEFORE UPDATE OR DELETE ON history_checkpoints FOR EACH ROW EXECUTE FUNCTION paydesk_append_only()",
    // A delivery's outcome is written after it is received; what was received never changes.
    "CREATE TRIGGER paydesk_history BEFORE UPDATE ON payment_webhooks FOR EACH ROW \
     WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.received_at IS DISTINCT FROM NEW.received_at \
        OR OLD.signature_valid IS DISTINCT FROM NEW.signature_valid \
        OR OLD.headers::text IS DISTINCT FROM NEW.headers::text OR OLD.raw_body IS DISTINCT FROM NEW.raw_body) \
     EXECUTE FUNCTION paydesk_erasable()",
    "CREATE TRIGGER paydesk_history_delete BEFORE DELETE ON payment_webhooks FOR EACH ROW EXECUTE FUNCTION paydesk_append_only()",
];

const TABLES: &[&str] =
    &["audit_log", "journal_entries", "journal_postings", "history_links", "history_checkpoints", "payment_webhooks"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(HistoryLinks::Table)
                .col(ColumnDef::new(HistoryLinks::Chain).string_len(16).not_null())
                .col(ColumnDef::new(HistoryLinks::Seq).big_integer().not_null())
                .col(ColumnDef::new(HistoryLinks::RowId).uuid().not_null())
                .col(ColumnDef::new(HistoryLinks::ContentHash).binary().not_null())
                .col(ColumnDef::new(HistoryLinks::PrevHash).binary().not_null())
                .col(ColumnDef::new(HistoryLinks::Hash).binary().not_null())
                .col(ColumnDef::new(HistoryLinks::LinkedAt).timestamp_with_time_zone().not_null())
                .primary_key(Index::create().col(HistoryLinks::Chain).col(HistoryLinks::Seq))
                .take(),
        )
        .await?;
        // One link per row: a second chainer racing the first cannot link a row twice, nor take a `seq` twice.
        m.create_index(
            Index::create()
                .name("ux_history_links_row")
                .table(HistoryLinks::Table)
                .col(HistoryLinks::Chain)
                .col(HistoryLinks::RowId)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(HistoryCheckpoints::Table)
                .col(ColumnDef::new(HistoryCheckpoints::Day).string_len(10).not_null().primary_key())
                .col(ColumnDef::new(HistoryCheckpoints::Heads).json_binary().not_null())
                .col(ColumnDef::new(HistoryCheckpoints::CreatedAt).timestamp_with_time_zone().not_null())
                .take(),
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared(APPEND_ONLY).await?;
            db.execute_unprepared(ERASABLE).await?;
            for sql in TRIGGERS {
                db.execute_unprepared(sql).await?;
            }
            for table in TABLES {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER paydesk_history_truncate BEFORE TRUNCATE ON {table} \
                     FOR EACH STATEMENT EXECUTE FUNCTION paydesk_append_only()"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            let db = m.get_connection();
            for table in TABLES {
                for name in ["paydesk_history", "paydesk_history_delete", "paydesk_history_truncate"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name} ON {table}")).await?;
                }
            }
            db.execute_unprepared("DROP FUNCTION IF EXISTS paydesk_append_only()").await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS paydesk_erasable()").await?;
        }
        m.drop_table(Table::drop().table(HistoryCheckpoints::Table).take()).await?;
        m.drop_table(Table::drop().table(HistoryLinks::Table).take()).await?;
        Ok(())
    }
}
