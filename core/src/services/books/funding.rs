//! What funded a payout: the wallet's credits, oldest available first, that its debit consumed, with their
//! payments and the settlement UTRs under which Cashfree paid those payments to the bank, so an investigation
//! follows a rupee from the client to the freelancer's bank.
//!
//! Credits are consumed first in, first out: every debit before this payout's (earlier payouts, refunds,
//! disputes, corrections) used up the oldest available credits; this payout used the next ones, up to its
//! amount. A payout not yet debited is shown against the credits it would take now.

use crate::error::AppResult;
use entity::{payment, payout_request as payout, settlement_line as settlement, wallet_transaction as ledger, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// One credit's part in funding a payout.
#[derive(Debug, Clone)]
pub struct Funding {
    pub credit: ledger::Model,
    /// How much of the credit went into this payout.
    pub used: Money,
    pub payment: Option<payment::Model>,
    /// The UTR of the settlement that paid the credit's payment to the bank, once reconciled.
    pub settlement_utr: Option<String>,
}

/// The credits that funded `p`, oldest available first.
pub async fn funded_by(db: &impl ConnectionTrait, p: &payout::Model) -> AppResult<Vec<Funding>> {
    let rows = ledger::Entity::find()
        .filter(ledger::Column::WalletId.eq(p.wallet_id))
        .order_by_asc(ledger::Column::CreatedAt)
        .order_by_asc(ledger::Column::Id)
        .all(db)
        .await?;
    // The payout's own debit, and everything the wallet saw before it.
    let debit = rows.iter().position(|r| r.payout_request_id == Some(p.id) && r.amount.minor() < 0);
    let before = &rows[..debit.unwrap_or(rows.len())];
    let mut credits: Vec<&ledger::Model> = before.iter().filter(|r| r.amount.minor() > 0).collect();
    credits.sort_by_key(|r| (r.available_at.unwrap_or(r.created_at), r.created_at, r.id));
    let mut consumed: i64 = before.iter().filter(|r| r.amount.minor() < 0).map(|r| -r.amount.minor()).sum();
    let mut need = p.amount.minor();
    let mut used = Vec::new();
    for c in credits {
        if need == 0 {
            break;
        }
        let mut left = c.amount.minor();
        let spent = consumed.min(left);
        consumed -= spent;
        left -= spent;
        if left == 0 {
            continue;
        }
        let take = left.min(need);
        need -= take;
        used.push((c.clone(), Money::from_minor(take)));
    }
    let payment_ids: Vec<uuid::Uuid> = used.iter().filter_map(|(c, _)| c.payment_id).collect();
    let payments: HashMap<uuid::Uuid, payment::Model> = if payment_ids.is_empty() {
        HashMap::new()
    } else {
        payment::Entity::find()
            .filter(payment::Column::Id.is_in(payment_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let utrs: HashMap<uuid::Uuid, String> = if payment_ids.is_empty() {
        HashMap::new()
    } else {
        settlement::Entity::find()
            .filter(settlement::Column::PaymentId.is_in(payment_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|l| Some((l.payment_id?, l.settlement_utr?)))
            .collect()
    };
    Ok(used
        .into_iter()
        .map(|(credit, used)| {
            let payment = credit.payment_id.and_then(|id| payments.get(&id).cloned());
            let settlement_utr = credit.payment_id.and_then(|id| utrs.get(&id).cloned());
            Funding { credit, used, payment, settlement_utr }
        })
        .collect())
}
