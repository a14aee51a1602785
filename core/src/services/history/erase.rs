//! A legally required erasure: one record redacted, the change explained in the chain itself.

use super::*;

/// Redacts one audit entry (its before, after and reason) or one webhook delivery (its body and headers), for a
/// legally required erasure; admin only, with the reason. The change is recorded as a `history.erased` audit
/// entry naming the row and the hash its content had, so the chains still verify and say why it changed. Journal
/// entries are never erased: books are corrected by new entries.
pub async fn erase(db: &DatabaseConnection, who: Principal, chain: Chain, id: Uuid, reason: &str) -> AppResult<()> {
    who.require(roles::ADMIN)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadInput("say why the record must be erased (the legal ground): reason is empty".into()));
    }
    let txn = crate::db::begin(db).await?;
    let linked = link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .filter(link::Column::RowId.eq(id))
        .one(&txn)
        .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let set = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT set_config('paydesk.erasure', $1, true)",
            [id.to_string().into()],
        );
        txn.execute_raw(set).await?;
    }
    let (subject, done) = match chain {
        Chain::Journal => {
            return Err(AppError::InvalidState(
                "journal entries are never erased: the books are corrected by a new entry".into(),
            ))
        }
        Chain::Audit => {
            let done = audit_log::Entity::update_many()
                .col_expr(audit_log::Column::Before, Expr::value(Option::<Value>::None))
                .col_expr(audit_log::Column::After, Expr::value(Option::<Value>::None))
                .col_expr(audit_log::Column::Reason, Expr::value(Option::<String>::None))
                .filter(audit_log::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            (Subject::AuditEntry, done.rows_affected)
        }
        Chain::Webhooks => {
            let done = payment_webhook::Entity::update_many()
                .col_expr(payment_webhook::Column::Headers, Expr::value(json!({})))
                .col_expr(payment_webhook::Column::RawBody, Expr::value(Vec::<u8>::new()))
                .filter(payment_webhook::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            (Subject::PaymentWebhook, done.rows_affected)
        }
    };
    if done != 1 {
        return Err(AppError::not_found(chain.row(), id));
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::HistoryErased,
            entity_type: subject,
            entity_id: id,
            before: Some(json!({
                "chain": chain.name(),
                "seq": linked.as_ref().map(|l| l.seq),
                "contentHash": linked.as_ref().map(|l| hex::encode(&l.content_hash)),
            })),
            after: None,
            reason: Some(reason.to_owned()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
