//! Wallets: opened on first use, one per freelancer.

use crate::error::AppResult;
use entity::{freelancer_wallet as wallet, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

/// The freelancer's wallet, opened empty in `currency` if they have none (safe under races).
pub async fn open(db: &impl ConnectionTrait, freelancer_id: Uuid, currency: &str) -> AppResult<wallet::Model> {
    // Nearly every call finds the wallet: one read, and the insert only for a freelancer's first money.
    if let Some(found) = by_freelancer(db, freelancer_id).await? {
        return Ok(found);
    }
    let now = crate::clock::now();
    let fresh = wallet::ActiveModel {
        id: Set(crate::clock::new_id()),
        freelancer_id: Set(freelancer_id),
        currency: Set(currency.to_owned()),
        balance: Set(Money::ZERO),
        pending_balance: Set(Money::ZERO),
        funds_hold_secs: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    wallet::Entity::insert(fresh).on_conflict_do_nothing_on([wallet::Column::FreelancerId]).exec(db).await?;
    by_freelancer(db, freelancer_id).await?.ok_or_else(|| {
        crate::error::AppError::Internal(anyhow::anyhow!("wallet of {freelancer_id} vanished after insert"))
    })
}

/// The freelancer's wallet, if any.
pub async fn by_freelancer(db: &impl ConnectionTrait, freelancer_id: Uuid) -> AppResult<Option<wallet::Model>> {
    Ok(wallet::Entity::find().filter(wallet::Column::FreelancerId.eq(freelancer_id)).one(db).await?)
}
