//! The `filter` arguments of the lists, each turned into a SQL condition in one place.

use super::types::{
    Account, DeliveryStatus, DisputeStatus, JournalEntryKind, LedgerKind, PaymentStatus, PayoutStatus, WebhookOutcome,
};
use crate::domain::money::amount;
use crate::error::AppError;
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::{Enum, InputObject};
use entity::{
    audit_log, dispute, freelancer_wallet as wallet, journal_entry, journal_posting, notification, payment,
    payment_webhook as webhook, payout_request as payout, wallet_transaction as ledger,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

/// Adds `col >= from` and `col < to` when given.
fn range<C: ColumnTrait>(mut c: Condition, col: C, from: Option<DateTime>, to: Option<DateTime>) -> Condition {
    if let Some(from) = from {
        c = c.add(col.gte(from.0));
    }
    if let Some(to) = to {
        c = c.add(col.lt(to.0));
    }
    c
}

/// What a list can be ordered by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderField {
    /// When the row was created (received, for webhooks).
    #[default]
    CreatedAt,
    /// The amount (a wallet's balance); only lists of payments, payouts, wallets and ledger rows have one.
    Amount,
}

/// Which way.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum Direction {
    Asc,
    /// Newest (largest) first: the default.
    #[default]
    Desc,
}

/// The order of a list (`orderBy`); ties are broken by id. Cursors belong to the order they were issued in.
#[derive(InputObject, Default, Clone, Copy)]
pub struct ListOrder {
    #[graphql(default)]
    pub field: OrderField,
    #[graphql(default)]
    pub direction: Direction,
}

impl From<ListOrder> for crate::services::reads::Sort {
    fn from(o: ListOrder) -> Self {
        use crate::services::reads::SortBy;
        let by = match o.field {
            OrderField::CreatedAt => SortBy::Created,
            OrderField::Amount => SortBy::Amount,
        };
        Self { by, ascending: o.direction == Direction::Asc }
    }
}

/// Narrows `payments`: every field given must match.
#[derive(InputObject, Default)]
pub struct PaymentFilter {
    /// Any of these statuses.
    pub status: Option<Vec<PaymentStatus>>,
    pub freelancer_id: Option<Uuid>,
    pub order_id: Option<String>,
    /// Order ids that start with this (exactly, case and all).
    pub order_id_prefix: Option<String>,
    pub client_id: Option<String>,
    /// Cashfree's payment id.
    pub cf_payment_id: Option<String>,
    /// The bank's reference (UTR) Cashfree reported.
    pub bank_reference: Option<String>,
    /// Created at or after this instant.
    pub created_from: Option<DateTime>,
    /// Created before this instant.
    pub created_to: Option<DateTime>,
    /// Paid at or after this instant (only paid payments match).
    pub paid_from: Option<DateTime>,
    /// Paid before this instant.
    pub paid_to: Option<DateTime>,
    /// Amount at least this.
    pub amount_min: Option<Decimal>,
    /// Amount at most this.
    pub amount_max: Option<Decimal>,
}

impl PaymentFilter {
    pub fn condition(self) -> Result<Condition, AppError> {
        let mut c = Condition::all();
        if let Some(s) = self.status {
            c = c.add(payment::Column::Status.is_in(s.into_iter().map(entity::status::PaymentStatus::from)));
        }
        if let Some(v) = self.freelancer_id {
            c = c.add(payment::Column::FreelancerId.eq(v));
        }
        if let Some(v) = self.order_id {
            c = c.add(payment::Column::OrderId.eq(v));
        }
        if let Some(p) = self.order_id_prefix {
            c = c.add(starts_with(payment::Column::OrderId, p));
        }
        if let Some(v) = self.client_id {
            c = c.add(payment::Column::ClientId.eq(v));
        }
        if let Some(v) = self.cf_payment_id {
            c = c.add(payment::Column::CfPaymentId.eq(v));
        }
        if let Some(v) = self.bank_reference {
            c = c.add(payment::Column::BankReference.eq(v));
        }
        if let Some(v) = self.amount_min {
            c = c.add(payment::Column::Amount.gte(amount("amountMin", v.0)?));
        }
        if let Some(v) = self.amount_max {
            c = c.add(payment::Column::Amount.lte(amount("amountMax", v.0)?));
        }
        c = range(c, payment::Column::PaidAt, self.paid_from, self.paid_to);
        Ok(range(c, payment::Column::CreatedAt, self.created_from, self.created_to))
    }
}

/// Narrows `wallets`.
#[derive(InputObject, Default)]
pub struct WalletFilter {
    pub freelancer_id: Option<Uuid>,
    pub currency: Option<String>,
}

impl WalletFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = self.freelancer_id {
            c = c.add(wallet::Column::FreelancerId.eq(v));
        }
        if let Some(v) = self.currency {
            c = c.add(wallet::Column::Currency.eq(v.to_ascii_uppercase()));
        }
        c
    }
}

/// Narrows `payoutRequests`.
#[derive(InputObject, Default)]
pub struct PayoutRequestFilter {
    /// Any of these statuses.
    pub status: Option<Vec<PayoutStatus>>,
    pub freelancer_id: Option<Uuid>,
    pub wallet_id: Option<Uuid>,
    pub created_from: Option<DateTime>,
    pub created_to: Option<DateTime>,
}

impl PayoutRequestFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(s) = self.status {
            c = c.add(payout::Column::Status.is_in(s.into_iter().map(entity::status::PayoutStatus::from)));
        }
        if let Some(v) = self.freelancer_id {
            c = c.add(payout::Column::FreelancerId.eq(v));
        }
        if let Some(v) = self.wallet_id {
            c = c.add(payout::Column::WalletId.eq(v));
        }
        range(c, payout::Column::CreatedAt, self.created_from, self.created_to)
    }
}

/// Narrows `paymentWebhooks`.
#[derive(InputObject, Default)]
pub struct PaymentWebhookFilter {
    /// Any of these outcomes.
    pub outcome: Option<Vec<WebhookOutcome>>,
    pub signature_valid: Option<bool>,
    pub order_id: Option<String>,
    pub payment_id: Option<Uuid>,
    pub event_type: Option<String>,
    pub received_from: Option<DateTime>,
    pub received_to: Option<DateTime>,
}

impl PaymentWebhookFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(s) = self.outcome {
            c = c.add(webhook::Column::Outcome.is_in(s.into_iter().map(entity::status::WebhookOutcome::from)));
        }
        if let Some(v) = self.signature_valid {
            c = c.add(webhook::Column::SignatureValid.eq(v));
        }
        if let Some(v) = self.order_id {
            c = c.add(webhook::Column::OrderId.eq(v));
        }
        if let Some(v) = self.payment_id {
            c = c.add(webhook::Column::PaymentId.eq(v));
        }
        if let Some(v) = self.event_type {
            c = c.add(webhook::Column::EventType.eq(v));
        }
        range(c, webhook::Column::ReceivedAt, self.received_from, self.received_to)
    }
}

/// Narrows `walletTransactions`.
#[derive(InputObject, Default)]
pub struct WalletTransactionFilter {
    pub wallet_id: Option<Uuid>,
    /// The freelancer whose wallet (staff; a freelancer always sees their own).
    pub freelancer_id: Option<Uuid>,
    /// Any of these kinds.
    pub kind: Option<Vec<LedgerKind>>,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub created_from: Option<DateTime>,
    pub created_to: Option<DateTime>,
}

impl WalletTransactionFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = self.wallet_id {
            c = c.add(ledger::Column::WalletId.eq(v));
        }
        if let Some(v) = self.freelancer_id {
            c = c.add(crate::services::reads::of_freelancer(v));
        }
        if let Some(k) = self.kind {
            c = c.add(ledger::Column::Kind.is_in(k.into_iter().map(entity::status::LedgerKind::from)));
        }
        if let Some(v) = self.payment_id {
            c = c.add(ledger::Column::PaymentId.eq(v));
        }
        if let Some(v) = self.payout_request_id {
            c = c.add(ledger::Column::PayoutRequestId.eq(v));
        }
        range(c, ledger::Column::CreatedAt, self.created_from, self.created_to)
    }
}

/// Narrows `notifications`.
#[derive(InputObject, Default)]
pub struct NotificationFilter {
    /// Whose notifications (staff only; a freelancer always sees their own).
    pub recipient_id: Option<Uuid>,
    /// Only unread (true) or only read (false) ones.
    pub unread: Option<bool>,
    pub kind: Option<String>,
    /// Any of these delivery statuses (e.g. FAILED, to find what the marketplace never got).
    pub delivery_status: Option<Vec<DeliveryStatus>>,
}

impl NotificationFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = self.recipient_id {
            c = c.add(notification::Column::RecipientId.eq(v));
        }
        match self.unread {
            Some(true) => c = c.add(notification::Column::ReadAt.is_null()),
            Some(false) => c = c.add(notification::Column::ReadAt.is_not_null()),
            None => {}
        }
        if let Some(v) = self.kind {
            c = c.add(notification::Column::Kind.eq(v));
        }
        if let Some(s) = self.delivery_status {
            c = c.add(
                notification::Column::DeliveryStatus.is_in(s.into_iter().map(entity::status::DeliveryStatus::from)),
            );
        }
        c
    }
}

/// Narrows `auditLog`.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    /// e.g. payout.approved.
    pub action: Option<String>,
    /// e.g. payout_request, payment.
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub created_from: Option<DateTime>,
    pub created_to: Option<DateTime>,
}

impl AuditFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = self.actor_id {
            c = c.add(audit_log::Column::ActorId.eq(v));
        }
        if let Some(v) = self.action {
            c = c.add(audit_log::Column::Action.eq(v));
        }
        if let Some(v) = self.entity_type {
            c = c.add(audit_log::Column::EntityType.eq(v));
        }
        if let Some(v) = self.entity_id {
            c = c.add(audit_log::Column::EntityId.eq(v));
        }
        range(c, audit_log::Column::CreatedAt, self.created_from, self.created_to)
    }
}

/// The page a list field's arguments ask for; `totalCount` is counted only when selected, and only the columns
/// that `N`'s selected fields read are selected.
pub(crate) fn page_request<N: crate::graphql::types::columns::FromColumns>(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    order_by: Option<ListOrder>,
) -> crate::services::reads::PageRequest {
    let want_total = ctx.look_ahead().field("totalCount").exists();
    let sort = order_by.unwrap_or_default().into();
    let columns = crate::graphql::types::columns::selected::<N>(ctx);
    crate::services::reads::PageRequest { first, after, last, before, want_total, sort, columns }
}

/// `col` begins with `prefix`, exactly. substr, not LIKE: `_` is common in ids, and LIKE's case rules differ between
/// the databases.
fn starts_with(col: impl sea_orm::ColumnTrait, prefix: String) -> sea_orm::sea_query::SimpleExpr {
    let len = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
    let head = Func::cust(Alias::new("substr")).arg(Expr::col(col)).arg(1i32).arg(len);
    ExprTrait::eq(Expr::expr(head), prefix)
}

/// Which journal entries: those with a line on `account` (or on `walletId`'s wallet), of `kinds`, about a payment
/// or a payout, naming a provider object that begins with `providerObjectPrefix` (`cf_refund_id:123:` finds what
/// was booked of Cashfree's refund 123), booked in `[createdFrom, createdTo)`.
#[derive(InputObject, Default)]
pub struct JournalFilter {
    pub account: Option<Account>,
    pub wallet_id: Option<Uuid>,
    pub kinds: Option<Vec<JournalEntryKind>>,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub provider_object_prefix: Option<String>,
    pub created_from: Option<DateTime>,
    pub created_to: Option<DateTime>,
}

impl JournalFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if self.account.is_some() || self.wallet_id.is_some() {
            let mut lines = sea_orm::sea_query::Query::select();
            lines.column(journal_posting::Column::EntryId).from(journal_posting::Entity);
            if let Some(a) = self.account {
                lines.and_where(journal_posting::Column::Account.eq(entity::status::Account::from(a)));
            }
            if let Some(w) = self.wallet_id {
                lines.and_where(journal_posting::Column::WalletId.eq(w));
            }
            c = c.add(journal_entry::Column::Id.in_subquery(lines.to_owned()));
        }
        if let Some(k) = self.kinds {
            c = c.add(journal_entry::Column::Kind.is_in(k.into_iter().map(entity::status::EntryKind::from)));
        }
        if let Some(v) = self.payment_id {
            c = c.add(journal_entry::Column::PaymentId.eq(v));
        }
        if let Some(v) = self.payout_request_id {
            c = c.add(journal_entry::Column::PayoutRequestId.eq(v));
        }
        if let Some(p) = self.provider_object_prefix {
            c = c.add(starts_with(journal_entry::Column::ProviderObject, p));
        }
        range(c, journal_entry::Column::CreatedAt, self.created_from, self.created_to)
    }
}

/// Which disputes: of `status`, on a payment, of a freelancer or a wallet, opened in `[createdFrom, createdTo)`.
#[derive(InputObject, Default)]
pub struct DisputeFilter {
    pub status: Option<Vec<DisputeStatus>>,
    pub payment_id: Option<Uuid>,
    pub freelancer_id: Option<Uuid>,
    pub wallet_id: Option<Uuid>,
    pub created_from: Option<DateTime>,
    pub created_to: Option<DateTime>,
}

impl DisputeFilter {
    pub fn condition(self) -> Condition {
        let mut c = Condition::all();
        if let Some(s) = self.status {
            c = c.add(dispute::Column::Status.is_in(s.into_iter().map(entity::status::DisputeStatus::from)));
        }
        if let Some(v) = self.payment_id {
            c = c.add(dispute::Column::PaymentId.eq(v));
        }
        if let Some(v) = self.freelancer_id {
            c = c.add(dispute::Column::FreelancerId.eq(v));
        }
        if let Some(v) = self.wallet_id {
            c = c.add(dispute::Column::WalletId.eq(v));
        }
        range(c, dispute::Column::CreatedAt, self.created_from, self.created_to)
    }
}
