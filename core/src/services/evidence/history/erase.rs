//! A legally required erasure: one record redacted, the change explained in the chain itself.

use super::*;

/// Redacts one audit entry (its before, after and reason) or one webhook delivery (its body and headers), for a
/// legally required erasure; admin only, with the reason. The change is recorded, in the same transaction, as a
/// `history.erased` audit entry naming the row, the hash its content had and the hash of its erased form, signed
/// with the history's key (`signer`): verify accepts that change of that row and no other, and no one without the
/// key can write such a record. Journal entries are never erased: books are corrected by new entries.
pub async fn erase(
    db: &DatabaseConnection,
    signer: Option<&Signer>,
    who: Principal,
    chain: Chain,
    id: Uuid,
    reason: &str,
) -> AppResult<()> {
    who.require(roles::ADMIN)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadInput("say why the record must be erased (the legal ground): reason is empty".into()));
    }
    let Some(signer) = signer else {
        return Err(AppError::InvalidState(
            "an erasure is signed with the history's key, so that no one can forge one: set \
             PAYDESK_HISTORY_SIGNING_KEY (`paydesk history-key` makes one) and try again"
                .into(),
        ));
    };
    let txn = crate::db::begin(db).await?;
    if chain == Chain::Audit {
        let erasure: &str = Action::HistoryErased.into();
        let is_erasure = audit_log::Entity::find_by_id(id).one(&txn).await?.is_some_and(|a| a.action == erasure);
        if is_erasure {
            return Err(AppError::InvalidState(
                "an erasure record is the evidence of an erasure and is never erased itself".into(),
            ));
        }
    }
    let ids = [id];
    let sealed_now = sealed(&txn, chain, &Which::Ids(&ids), Unsealed::Hash).await?;
    let linked = link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .filter(link::Column::RowId.eq(id))
        .one(&txn)
        .await?;
    let (subject, done) = match chain {
        Chain::Journal => {
            return Err(AppError::InvalidState(
                "journal entries are never erased: the books are corrected by a new entry".into(),
            ))
        }
        Chain::Audit => {
            super::gate::open(&txn, signer, id).await?;
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
            super::gate::open(&txn, signer, id).await?;
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
    // What the chain holds of it: its link's content hash, or (not linked yet) the hash its writer sealed, which
    // the chainer will link.
    let before = match (&linked, sealed_now.first()) {
        (Some(l), _) => l.content_hash.clone(),
        (None, Some(row)) => row.content_hash.clone(),
        (None, None) => return Err(AppError::not_found(chain.row(), id)),
    };
    let after = hashed(&txn, chain, &Which::Ids(&ids))
        .await?
        .pop()
        .map(|h| h.content_hash)
        .ok_or_else(|| AppError::not_found(chain.row(), id))?;
    let signature = signer.sign(&super::verify::erasure_message(chain, id, &before, &after));
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
                "contentHash": hex::encode(&before),
                "erasedHash": hex::encode(&after),
                "publicKey": signer.public_hex(),
                "signature": hex::encode(&signature),
            })),
            after: None,
            reason: Some(reason.to_owned()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
