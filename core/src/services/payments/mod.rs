//! Payments: creating orders, and applying what Cashfree reports about them (success credits the wallet net
//! of the platform fee; failures never undo a success; a successful refund debits).

pub mod disputes;
pub mod gateway;
pub mod refunds;
pub mod settlements;
pub mod webhook;

use crate::auth::Principal;
use crate::domain::text;
use crate::error::{AppError, AppResult};
use crate::notifications;
use crate::services::books::journal::{Booked, Line};
use crate::services::books::{ledger, wallets};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::Settings;
use chrono::{DateTime, Utc};
use entity::status::{Account, EntryKind, LedgerKind, PaymentStatus, Severity};
use entity::{payment, Money};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

/// An order to create.
pub struct NewOrder {
    pub freelancer_id: Uuid,
    pub amount: Money,
    pub currency: String,
    pub order_id: Option<String>,
    pub client_id: Option<String>,
    pub purpose: Option<String>,
}

fn valid_order_id(id: &str) -> bool {
    (3..=45).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Creates a pending payment (and the freelancer's wallet if they have none yet).
#[tracing::instrument(skip(db, order), fields(freelancer = %order.freelancer_id, amount = %order.amount))]
pub async fn create_order(
    db: &DatabaseConnection,
    who: Principal,
    order: NewOrder,
    key: Option<&crate::idempotency::Key>,
) -> AppResult<payment::Model> {
    let id = crate::clock::new_id();
    let order_id = match order.order_id.map(|s| s.trim().to_owned()) {
        Some(o) if valid_order_id(&o) => o,
        Some(o) => {
            return Err(AppError::BadInput(format!(
                "orderId {o:?} must be 3 to 45 letters, digits, `_` or `-` (Cashfree's rule)"
            )))
        }
        None => format!("order_{}", id.simple()),
    };
    crate::domain::money::fits_currency("amount", order.amount, &order.currency)?;
    let client_id = text::label("clientId", order.client_id, 100)?;
    let purpose = text::label("purpose", order.purpose, 200)?;
    let txn = crate::db::begin(db).await?;
    if payment::Entity::find().filter(payment::Column::OrderId.eq(&order_id)).one(&txn).await?.is_some() {
        return Err(AppError::InvalidState(format!("an order with orderId {order_id} already exists")));
    }
    let wallet = wallets::open(&txn, order.freelancer_id, &order.currency).await?;
    if wallet.currency != order.currency {
        return Err(AppError::BadInput(format!(
            "the freelancer's wallet holds {}; an order in {} cannot be credited to it",
            wallet.currency, order.currency
        )));
    }
    let now = crate::clock::now();
    let created = payment::ActiveModel {
        id: Set(id),
        order_id: Set(order_id),
        freelancer_id: Set(order.freelancer_id),
        client_id: Set(client_id),
        purpose: Set(purpose),
        amount: Set(order.amount),
        currency: Set(order.currency),
        status: Set(PaymentStatus::Pending),
        platform_fee: Set(None),
        net_amount: Set(None),
        refunded_amount: Set(Money::ZERO),
        disputed_amount: Set(Money::ZERO),
        refunding_amount: Set(Money::ZERO),
        cf_payment_id: Set(None),
        payment_method: Set(None),
        bank_reference: Set(None),
        failure_reason: Set(None),
        paid_at: Set(None),
        verified_at: Set(None),
        verified_by: Set(None),
        cf_order_id: Set(None),
        payment_session_id: Set(None),
        link_url: Set(None),
        paid_order_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    if let Some(key) = key {
        crate::idempotency::remember(&txn, who, key, id).await?;
    }
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::PaymentOrderCreated,
            entity_type: Subject::Payment,
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({
                "orderId": created.order_id, "amount": created.amount.to_string(), "currency": created.currency,
            })),
            reason: created.purpose.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// One payment attempt as Cashfree reported it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub cf_payment_id: String,
    pub status: PaymentStatus,
    pub amount: Money,
    pub currency: String,
    pub method: Option<String>,
    pub bank_reference: Option<String>,
    pub message: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The Cashfree order it was made on (none: the payment's own).
    pub paid_on: Option<String>,
    /// The Cashfree offers applied to it (their ids), when the client paid less than the order because of them.
    pub offers: Option<String>,
}

/// What applying an attempt did.
#[derive(Debug)]
pub enum Applied {
    /// The payment succeeded now and the wallet was credited.
    Credited(payment::Model),
    /// A non-final status was recorded.
    Updated(payment::Model),
    /// The payment was already final; nothing changed.
    AlreadyFinal(PaymentStatus),
}

/// Why an attempt cannot be applied to its order.
#[derive(Debug)]
pub struct Mismatch(pub String);

/// Checks an attempt against its order: same currency, and the same amount, or less when Cashfree applied an offer
/// (its documented sample pays an order of 2 with 1 and names the offer).
pub fn check_attempt(p: &payment::Model, a: &Attempt) -> Result<(), Mismatch> {
    let amount_fits = a.amount == p.amount || (a.offers.is_some() && a.amount < p.amount);
    if a.currency.to_ascii_uppercase() != p.currency || !amount_fits {
        return Err(Mismatch(format!(
            "order {} is for {} {} but Cashfree reported {} {}",
            p.order_id, p.amount, p.currency, a.amount, a.currency
        )));
    }
    Ok(())
}

/// Applies a checked attempt inside the caller's transaction: on SUCCESS, books fee and net and credits the
/// wallet; any other status is recorded unless the payment is already final. A payment made for less than its
/// order under an offer is booked at what was paid (what Cashfree captured and will settle): its amount becomes
/// that, and the fee and the credit follow it.
pub async fn apply_attempt(
    db: &impl ConnectionTrait,
    settings: &Settings,
    p: &payment::Model,
    a: &Attempt,
) -> AppResult<Applied> {
    let fee_percent = settings.platform_fee_percent;
    let now = crate::clock::now();
    let not_final = payment::Column::Status.is_not_in([PaymentStatus::Success, PaymentStatus::Refunded]);
    let mut update = payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(a.status))
        .col_expr(payment::Column::CfPaymentId, Expr::value(a.cf_payment_id.clone()))
        .col_expr(payment::Column::PaymentMethod, Expr::value(a.method.clone()))
        .col_expr(payment::Column::BankReference, Expr::value(a.bank_reference.clone()))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(p.id))
        .filter(not_final);
    let credit = if a.status == PaymentStatus::Success {
        let paid = a.amount;
        let fee = paid.percent(fee_percent).ok_or_else(|| AppError::BadInput("fee out of range".into()))?;
        let net = paid.checked_sub(fee).ok_or_else(|| AppError::BadInput("fee out of range".into()))?;
        if paid != p.amount {
            update = update.col_expr(payment::Column::Amount, Expr::value(paid));
        }
        if let Some(order) = a.paid_on.as_ref().filter(|o| **o != p.order_id) {
            update = update.col_expr(payment::Column::PaidOrderId, Expr::value(order.clone()));
        }
        update = update
            .col_expr(payment::Column::PlatformFee, Expr::value(fee))
            .col_expr(payment::Column::NetAmount, Expr::value(net))
            .col_expr(payment::Column::PaidAt, Expr::value(a.paid_at.unwrap_or(now)))
            .col_expr(payment::Column::FailureReason, Expr::value(Option::<String>::None));
        Some(net)
    } else {
        update = update.col_expr(payment::Column::FailureReason, Expr::value(a.message.clone()));
        None
    };
    // RETURNING: the payment as updated comes back in the same round trip.
    let Some(after) = update.exec_with_returning(db).await?.into_iter().next() else {
        let current = payment::Entity::find_by_id(p.id).one(db).await?.map(|m| m.status).unwrap_or(p.status);
        return Ok(Applied::AlreadyFinal(current));
    };
    let Some(net) = credit else {
        return Ok(Applied::Updated(after));
    };
    let wallet = wallets::open(db, p.freelancer_id, &p.currency).await?;
    let pending_until = crate::services::books::funds::pending_until(db, settings, &wallet).await?;
    let posted = ledger::post(
        db,
        ledger::Posting {
            wallet_id: wallet.id,
            pending_until,
            kind: LedgerKind::PaymentCredit,
            entry: EntryKind::PaymentReceived,
            against: vec![
                Line::on(Account::FeeRevenue, after.platform_fee.unwrap_or_default()),
                Line::on(Account::GatewayClearing, after.amount.negate()),
            ],
            amount: net,
            reference: format!("payment:{}", p.id),
            books: Some(Booked::Captured { cf_payment_id: &a.cf_payment_id }),
            payment_id: Some(p.id),
            payout_request_id: None,
            description: "payment received, net of platform fee",
            floor: None,
            floor_name: "",
        },
    )
    .await?;
    notifications::notify(
        db,
        notifications::New {
            recipient_id: p.freelancer_id,
            kind: "payment_received",
            severity: Severity::Info,
            title: format!("Payment of {} {} received", after.amount, p.currency),
            body: format!(
                "Order {}{}: {} {} credited after the platform fee of {}. Balance: {} {}.",
                p.order_id,
                match &a.offers {
                    Some(offer) if after.amount != p.amount => {
                        format!(" (the client paid {} of {} under Cashfree offer {offer})", after.amount, p.amount)
                    }
                    _ => String::new(),
                },
                net,
                p.currency,
                after.platform_fee.unwrap_or_default(),
                posted.wallet.balance,
                p.currency
            ),
            payment_id: Some(p.id),
            payout_request_id: None,
        },
    )
    .await?;
    audit::record(
        db,
        audit::Entry {
            actor: Actor::System,
            action: Action::PaymentSucceeded,
            entity_type: Subject::Payment,
            entity_id: p.id,
            before: Some(serde_json::json!({ "status": p.status })),
            after: Some(serde_json::json!({
                "status": after.status, "cfPaymentId": after.cf_payment_id, "amount": after.amount.to_string(),
                "orderAmount": p.amount.to_string(), "offers": a.offers, "paidOrderId": after.paid_order_id,
                "platformFee": after.platform_fee.map(|m| m.to_string()),
                "netAmount": after.net_amount.map(|m| m.to_string()),
                "walletBalance": posted.wallet.balance.to_string(),
            })),
            reason: None,
        },
    )
    .await?;
    Ok(Applied::Credited(after))
}

/// The update that raises a payment's refunded amount by `amount`, and makes it REFUNDED once refunds reach its
/// amount; the caller names the payment (and any condition).
pub fn refunded_by(amount: Money) -> sea_orm::UpdateMany<payment::Entity> {
    let refunded_after = Expr::col(payment::Column::RefundedAmount).add(amount.minor());
    let status_after = sea_orm::sea_query::CaseStatement::new()
        .case(refunded_after.clone().eq(Expr::col(payment::Column::Amount)), Expr::value(PaymentStatus::Refunded))
        .finally(Expr::col(payment::Column::Status));
    payment::Entity::update_many()
        .col_expr(payment::Column::RefundedAmount, refunded_after)
        .col_expr(payment::Column::Status, status_after.into())
        .col_expr(payment::Column::UpdatedAt, Expr::value(crate::clock::now()))
}

/// A refund as Cashfree reported it.
#[derive(Debug, Clone)]
pub struct Refund {
    pub cf_refund_id: String,
    /// The merchant's id: ours (`pdr_…`) when paydesk started the refund (`refunds`).
    pub refund_id: Option<String>,
    /// Greater than zero: the webhook's parser refuses any other amount.
    pub amount: Money,
    pub currency: String,
}

/// What applying a refund did.
#[derive(Debug)]
pub enum Refunded {
    /// Booked now: the freelancer's share debited, the payment's refunded amount raised; the wallet's balance
    /// after the debit (below zero when the credit had already been paid out).
    Booked { balance: Money },
    /// This refund was booked before (same `cf_refund_id`).
    AlreadyBooked,
    /// The payment was never paid: nothing was booked (why, for the record and the alert).
    NotPaid(String),
    /// The refund would take the payment's refunds beyond its amount: nothing was booked.
    TooMuch(String),
    /// The refund is in another currency than the payment: nothing was booked.
    OtherCurrency(String),
}

/// A refund Cashfree has paid out of gateway clearing (`REFUND`): `amount` back to the client, the freelancer's share
/// from the wallet and `fee_share` from fee revenue. No floor: Cashfree has already returned the money, so the books
/// follow even when the wallet goes below zero.
pub fn refund_paid<'a>(
    wallet_id: Uuid,
    payment_id: Uuid,
    amount: Money,
    fee_share: Money,
    reference: String,
    books: Option<Booked<'a>>,
    description: &'a str,
) -> ledger::Posting<'a> {
    ledger::Posting {
        wallet_id,
        pending_until: None,
        kind: LedgerKind::RefundDebit,
        entry: EntryKind::Refund,
        against: vec![Line::on(Account::FeeRevenue, fee_share.negate()), Line::on(Account::GatewayClearing, amount)],
        amount: Money::from_minor(fee_share.minor() - amount.minor()),
        reference,
        books,
        payment_id: Some(payment_id),
        payout_request_id: None,
        description,
        floor: None,
        floor_name: "",
    }
}

/// Applies a successful refund: raises the payment's refunded amount (one conditional UPDATE, so concurrent
/// refunds can never add up to more than the payment), marks it REFUNDED once refunds reach its amount, and
/// debits the freelancer's share of the refund (the refund less the platform's fee on it). Idempotent on
/// `cf_refund_id`.
pub async fn apply_refund(
    db: &impl ConnectionTrait,
    fee_percent: Decimal,
    p: &payment::Model,
    r: &Refund,
) -> AppResult<Refunded> {
    if p.status != PaymentStatus::Success && p.status != PaymentStatus::Refunded {
        return Ok(Refunded::NotPaid(format!(
            "Cashfree refunded {} {} on order {}, which was never paid here; nothing was booked",
            r.amount, p.currency, p.order_id
        )));
    }
    if r.currency != p.currency {
        return Ok(Refunded::OtherCurrency(format!(
            "Cashfree refunded {} {} on order {}, which was paid in {}; nothing was booked",
            r.amount, r.currency, p.order_id, p.currency
        )));
    }
    let reference = format!("refund:{}", r.cf_refund_id);
    if entity::wallet_transaction::Entity::find()
        .filter(entity::wallet_transaction::Column::Reference.eq(&reference))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(Refunded::AlreadyBooked);
    }
    let refunded_after = Expr::col(payment::Column::RefundedAmount).add(r.amount.minor());
    // Disputes and refunds started here hold part of the payment too: a refund never returns money they took.
    let taken_after =
        refunded_after.add(Expr::col(payment::Column::DisputedAmount)).add(Expr::col(payment::Column::RefundingAmount));
    let raised = refunded_by(r.amount)
        .filter(payment::Column::Id.eq(p.id))
        .filter(taken_after.lte(Expr::col(payment::Column::Amount)))
        .exec(db)
        .await?;
    if raised.rows_affected != 1 {
        let now = payment::Entity::find_by_id(p.id).one(db).await?.unwrap_or_else(|| p.clone());
        return Ok(Refunded::TooMuch(format!(
            "refund {} of {} {} on order {} would take its refunds from {} (with {} held by disputes and {} in \
             refunds under way) to more than the {} paid; nothing was booked",
            r.cf_refund_id,
            r.amount,
            p.currency,
            p.order_id,
            now.refunded_amount,
            now.disputed_amount,
            now.refunding_amount,
            p.amount
        )));
    }
    let fee_share = r.amount.percent(fee_percent).unwrap_or_default();
    let debit = r.amount.checked_sub(fee_share).unwrap_or(r.amount);
    let wallet = wallets::open(db, p.freelancer_id, &p.currency).await?;
    let books = Some(Booked::RefundPaid { cf_refund_id: &r.cf_refund_id });
    let posting = refund_paid(wallet.id, p.id, r.amount, fee_share, reference, books, "refund to the client");
    let posted = ledger::post(db, posting).await?;
    audit::record(
        db,
        audit::Entry {
            actor: Actor::System,
            action: Action::PaymentRefunded,
            entity_type: Subject::Payment,
            entity_id: p.id,
            before: Some(serde_json::json!({ "status": p.status })),
            after: Some(serde_json::json!({ "refund": r.amount.to_string(), "debited": debit.to_string() })),
            reason: Some(format!("Cashfree refund {}", r.cf_refund_id)),
        },
    )
    .await?;
    Ok(Refunded::Booked { balance: posted.wallet.balance })
}
