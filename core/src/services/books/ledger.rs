//! The ledger: the one place a wallet balance changes, always together with its ledger row and the journal entry
//! (`journal`) that this movement is.

use crate::error::{AppError, AppResult};
use crate::services::books::journal::{self, Booked, Line};
use chrono::{DateTime, Utc};
use entity::status::{Account, EntryKind, LedgerKind};
use entity::{freelancer_wallet as wallet, pending_fund as pending, wallet_transaction as ledger, Money};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

/// `SUM(col)` of a money column as BIGINT minor units: PostgreSQL widens a bigint sum to NUMERIC, which
/// would not decode as `i64`; the cast keeps both backends alike (and exact).
pub fn sum_minor(col: impl ColumnTrait) -> sea_orm::sea_query::SimpleExpr {
    Expr::expr(col.sum()).cast_as(sea_orm::sea_query::Alias::new("BIGINT"))
}

/// One movement of money on one wallet, and the journal entry it is.
pub struct Posting<'a> {
    pub wallet_id: Uuid,
    pub kind: LedgerKind,
    /// The journal entry's kind.
    pub entry: EntryKind,
    /// The entry's other lines, on the platform's accounts: they sum to `-amount`.
    pub against: Vec<Line>,
    /// Signed: positive credits, negative debits.
    pub amount: Money,
    /// Unique: posting the same reference twice fails instead of moving money twice.
    pub reference: String,
    /// What of Cashfree's the entry books, if anything (`journal::Booked`): booked once, by the database's word.
    pub books: Option<Booked<'a>>,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub description: &'a str,
    /// The available balance (the balance less what is pending) may not end below this; `None` lets it go
    /// anywhere (credits, refunds).
    pub floor: Option<Money>,
    /// What the floor is, for the refusal message ("the reserve", "zero").
    pub floor_name: &'static str,
    /// A credit that waits until then before it is available (`funds`): booked to the wallet's pending account.
    pub pending_until: Option<DateTime<Utc>>,
}

/// What a posting did: the wallet after it and the ledger row it wrote.
pub struct Posted {
    pub wallet: wallet::Model,
    pub entry: ledger::Model,
}

/// Moves the balance with one conditional UPDATE (so concurrent postings can never pass the floor, as the
/// database re-checks the condition under its row lock), writes the ledger row and books the journal entry of the
/// same id (refused unless its lines balance). Run it in a transaction.
pub async fn post(db: &impl ConnectionTrait, p: Posting<'_>) -> AppResult<Posted> {
    if !p.kind.direction().admits(p.amount.minor()) {
        // Every caller checks its amounts first; a row against its kind's direction is refused here all the same,
        // so no path (a provider payload that got past its parser, a new caller) can turn a debit into a credit.
        return Err(AppError::Internal(anyhow::anyhow!(
            "refused a {:?} ledger row of {} for {}: that kind moves balances {:?}",
            p.kind,
            p.amount,
            p.reference,
            p.kind.direction()
        )));
    }
    if p.pending_until.is_some() && !p.amount.is_positive() {
        return Err(AppError::Internal(anyhow::anyhow!(
            "refused {}: only a credit can wait to be available",
            p.reference
        )));
    }
    let now = crate::clock::now();
    let mut update = wallet::Entity::update_many()
        .col_expr(wallet::Column::Balance, Expr::col(wallet::Column::Balance).add(p.amount.minor()))
        .col_expr(wallet::Column::UpdatedAt, Expr::value(now))
        .filter(wallet::Column::Id.eq(p.wallet_id));
    if p.pending_until.is_some() {
        update = update
            .col_expr(wallet::Column::PendingBalance, Expr::col(wallet::Column::PendingBalance).add(p.amount.minor()));
    }
    if let Some(floor) = p.floor {
        let needed = floor.checked_sub(p.amount).ok_or_else(|| AppError::BadInput("amount out of range".into()))?;
        let available = Expr::col(wallet::Column::Balance).sub(Expr::col(wallet::Column::PendingBalance));
        update = update.filter(available.gte(needed.minor()));
    }
    // RETURNING: the new balance comes back with the update, in the same round trip.
    let Some(wallet) = update.exec_with_returning(db).await?.into_iter().next() else {
        let current = wallet::Entity::find_by_id(p.wallet_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("wallet", p.wallet_id))?;
        let floor = p.floor.unwrap_or(Money::ZERO);
        return Err(AppError::ReserveViolation(format!(
            "the wallet's available balance is {} {}; moving {} would leave it below {} of {}{}",
            crate::services::books::funds::available(&current),
            current.currency,
            p.amount,
            p.floor_name,
            floor,
            crate::services::books::funds::when_more(db, &current).await?
        )));
    };
    let id = crate::clock::new_id();
    if let Some(at) = p.pending_until {
        pending::ActiveModel {
            credit_id: Set(id),
            wallet_id: Set(p.wallet_id),
            payment_id: Set(p.payment_id),
            amount: Set(p.amount),
            currency: Set(wallet.currency.clone()),
            available_at: Set(at),
        }
        .insert(db)
        .await?;
    }
    let account = if p.pending_until.is_some() { Account::WalletPending } else { Account::Wallet };
    let mut lines = vec![Line { account, wallet_id: Some(p.wallet_id), amount: p.amount }];
    lines.extend(p.against);
    journal::book(
        db,
        journal::Entry {
            id,
            kind: p.entry,
            reference: p.reference.clone(),
            books: p.books,
            currency: &wallet.currency,
            payment_id: p.payment_id,
            payout_request_id: p.payout_request_id,
            description: p.description,
            at: now,
            lines,
        },
    )
    .await?;
    let entry = ledger::ActiveModel {
        id: Set(id),
        wallet_id: Set(p.wallet_id),
        kind: Set(p.kind),
        amount: Set(p.amount),
        balance_after: Set(wallet.balance),
        reference: Set(p.reference),
        payment_id: Set(p.payment_id),
        payout_request_id: Set(p.payout_request_id),
        description: Set(p.description.to_owned()),
        created_at: Set(now),
        available_at: Set(p.pending_until),
    }
    .insert(db)
    .await?;
    Ok(Posted { wallet, entry })
}
