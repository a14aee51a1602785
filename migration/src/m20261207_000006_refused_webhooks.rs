//! Webhook deliveries refused unread (a signature that did not hold, a body over the limit) are no longer chained,
//! and may be deleted once their retention is over: on PostgreSQL the trigger that refuses deleting a delivery lets
//! through only such a one that no history link names. Every other delivery stays append-only.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    r#"CREATE FUNCTION paydesk_refused_deletable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT OLD.signature_valid AND OLD.outcome::text IN ('rejected_signature', 'malformed')
     AND NOT EXISTS (SELECT 1 FROM history_links l WHERE l.chain = 'webhooks' AND l.row_id = OLD.id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'paydesk: % on % refused: this history is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'only a delivery refused unread is deleted, by its retention (PAYDESK_REJECTED_WEBHOOK_RETENTION_DAYS)';
END $$"#,
    "DROP TRIGGER paydesk_history_delete ON payment_webhooks",
    "CREATE TRIGGER paydesk_history_delete BEFORE DELETE ON payment_webhooks FOR EACH ROW \
     EXECUTE FUNCTION paydesk_refused_deletable()",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER paydesk_history_delete ON payment_webhooks",
    "CREATE TRIGGER paydesk_history_delete BEFORE DELETE ON payment_webhooks FOR EACH ROW \
     EXECUTE FUNCTION paydesk_append_only()",
    "DROP FUNCTION paydesk_refused_deletable()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::on_postgres(m, UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::on_postgres(m, DOWN).await
    }
}
