//! The erasure gate (PostgreSQL): the triggers let an erasure through only in the transaction that moved
//! `history_erasure_gate` on, and only for the row it names. Moving it takes the next of a chain of one-time tokens
//! (each the SHA-256 preimage of the one before) that only the history's signing key can compute: the row keeps
//! the hash the next token must have, so no session setting and no one holding only the database opens the gate.
//! SQLite has no triggers to guard; there `verify` alone tells.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    r#"CREATE TABLE history_erasure_gate (
  id smallint PRIMARY KEY CHECK (id = 1),
  public_key text NOT NULL,
  generation integer NOT NULL,
  remaining integer NOT NULL,
  next_hash bytea NOT NULL,
  spent bytea,
  erasing uuid,
  xact bigint
)"#,
    // Moving on needs the next token: a preimage of the hash the gate holds. The transaction that moved it is
    // stamped by the trigger, never by the caller.
    r#"CREATE FUNCTION paydesk_erasure_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.spent := NULL; NEW.erasing := NULL; NEW.xact := NULL;
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.spent IS NOT NULL AND sha256(NEW.spent) = OLD.next_hash THEN
    NEW.xact := txid_current();
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'paydesk: % on history_erasure_gate refused: only an erasure made with the history''s signing key moves it', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'a legally required erasure goes through eraseHistoryRecord (docs/OPERATIONS.md, "Erasure")';
END $$"#,
    "CREATE TRIGGER paydesk_history BEFORE INSERT OR UPDATE OR DELETE ON history_erasure_gate FOR EACH ROW \
     EXECUTE FUNCTION paydesk_erasure_gate()",
    "CREATE TRIGGER paydesk_history_truncate BEFORE TRUNCATE ON history_erasure_gate FOR EACH STATEMENT \
     EXECUTE FUNCTION paydesk_append_only()",
    // A chained row changes only in the transaction that moved the gate for it.
    r#"CREATE OR REPLACE FUNCTION paydesk_erasable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND EXISTS (
    SELECT 1 FROM history_erasure_gate g WHERE g.erasing = OLD.id AND g.xact = txid_current()
  ) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'paydesk: % on % refused: this history is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'a legally required erasure goes through eraseHistoryRecord (docs/OPERATIONS.md, "Erasure")';
END $$"#,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::on_postgres(m, UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The function as the history's migration made it.
        let before =
            super::m20261206_000005_history::ERASABLE.replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1);
        crate::on_postgres(m, &[&before, "DROP TABLE history_erasure_gate", "DROP FUNCTION paydesk_erasure_gate()"])
            .await
    }
}
