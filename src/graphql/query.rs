//! The `Query` root: every list is a keyset-paginated Relay connection, newest first, scoped to the caller.

use super::filters::*;
use super::guards::{principal, state, RoleGuard, ANYONE, STAFF};
use super::types::*;
use crate::graphql::error::Result;
use crate::graphql::scalars::DateTime;
use crate::services::reads;
use crate::services::reads::reports::{self, Party, Range};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object};
use uuid::Uuid;

/// Reads.
pub struct Query;

/// The top freelancers or clients of a range.
async fn ranked(
    ctx: &Context<'_>,
    party: Party,
    from: DateTime,
    to: DateTime,
    currency: Option<String>,
    limit: u64,
) -> Result<Vec<RankedParty>> {
    let range = Range::new(from.0, to.0)?.in_currency(currency.as_deref())?;
    let top = reports::top(&state(ctx).reads, principal(ctx)?, range, party, limit).await?;
    Ok(top.into_iter().map(Into::into).collect())
}

/// A page of the event log as a connection whose cursors are sequence numbers.
fn log_connection<T: PlainFields>(
    page: reads::Page<crate::events::Stored, i64>,
    node: impl Fn(crate::events::Stored) -> Option<T>,
) -> Connection<i64, Inline<T>> {
    let mut conn = Connection::new(page.has_previous, page.has_next);
    let rows = page.cursors.into_iter().zip(page.rows);
    conn.edges.extend(rows.filter_map(|(cursor, s)| node(s).map(|n| Edge::new(cursor, Inline(n)))));
    conn
}

// Each GraphQL argument is a parameter: a list's filter, four Relay arguments and its order are eight.
#[allow(clippy::too_many_arguments)]
#[Object]
impl Query {
    /// Payments, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn payments(
        &self,
        ctx: &Context<'_>,
        filter: Option<PaymentFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Payment>> {
        let cond = filter.unwrap_or_default().condition()?;
        list::<entity::payment::Entity, Payment>(ctx, cond, first, after, last, before, order_by).await
    }

    /// A freelancer's beneficiary (masked), or null if none is registered or it is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn beneficiary(&self, ctx: &Context<'_>, freelancer_id: Uuid) -> Result<Option<Beneficiary>> {
        let found = crate::services::payouts::beneficiaries::read(state(ctx), principal(ctx)?, freelancer_id).await?;
        Ok(found.map(Beneficiary::from))
    }

    /// Stored alerts at `minSeverity` or above, newest first (admin, ops); `before` a cursor for older ones. The
    /// `alerts` subscription takes the newest `cursor` as `after` to carry on from here.
    #[graphql(guard = "RoleGuard(STAFF)", complexity = "super::limits::page_complexity(first, None, child_complexity)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        min_severity: Option<Severity>,
        first: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<i64, Inline<Alert>>> {
        let before = parse_cursor("before", before.as_deref())?;
        let filter = crate::events::Filter::alerts(min_severity.unwrap_or(Severity::Info).into());
        let page = reads::event_log(&state(ctx).reads, principal(ctx)?, reads::LogPage::Before(before), first, &filter)
            .await?;
        Ok(log_connection(page, |s| match s.event {
            crate::events::Event::Alert(a) => Some(Alert::new(s.seq, a)),
            _ => None,
        }))
    }

    /// The event log, oldest first (admin, ops): everything after `after` (a `cursor`), optionally of some kinds.
    /// Read it forward page by page with `pageInfo.endCursor`; the `events` subscription continues from there.
    #[graphql(guard = "RoleGuard(STAFF)", complexity = "super::limits::page_complexity(first, None, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        kinds: Option<Vec<EventKind>>,
    ) -> Result<Connection<i64, Inline<EventRecord>>> {
        let after = parse_cursor("after", after.as_deref())?;
        let filter = crate::events::Filter {
            kinds: kinds.map(|k| k.into_iter().map(EventKind::stored).collect()),
            min_severity: None,
        };
        let page =
            reads::event_log(&state(ctx).reads, principal(ctx)?, reads::LogPage::After(after), first, &filter).await?;
        Ok(log_connection(page, |s| Some(EventRecord::from(s))))
    }

    /// Holds on payouts in force (admin, ops): the freeze first, if any, then per freelancer.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_holds(&self, ctx: &Context<'_>) -> Result<Vec<PayoutHold>> {
        Ok(crate::services::payouts::holds::list(&state(ctx).reads).await?.into_iter().map(Into::into).collect())
    }

    /// Whether this instance reaches Cashfree's APIs, as its circuit breakers see it (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn cashfree_status(&self, ctx: &Context<'_>) -> CashfreeStatus {
        let cashfree = &state(ctx).cashfree;
        CashfreeStatus::new(cashfree.health.report(), cashfree.payout_balance())
    }

    /// One payment, or null if it does not exist or is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn payment(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Payment>> {
        Ok(reads::payment(&state(ctx).reads, principal(ctx)?, id).await?.map(Payment::from))
    }

    /// Wallets, newest first. A freelancer sees only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn wallets(
        &self,
        ctx: &Context<'_>,
        filter: Option<WalletFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Wallet>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::freelancer_wallet::Entity, Wallet>(ctx, cond, first, after, last, before, order_by).await
    }

    /// A freelancer's wallet, or null if they have none or it is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn wallet(&self, ctx: &Context<'_>, freelancer_id: Uuid) -> Result<Option<Wallet>> {
        Ok(reads::wallet(&state(ctx).reads, principal(ctx)?, freelancer_id).await?.map(Wallet::from))
    }

    /// Payout requests, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn payout_requests(
        &self,
        ctx: &Context<'_>,
        filter: Option<PayoutRequestFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<PayoutRequest>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::payout_request::Entity, PayoutRequest>(ctx, cond, first, after, last, before, order_by).await
    }

    /// One payout request, or null if it does not exist or is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn payout_request(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<PayoutRequest>> {
        Ok(reads::payout_request(&state(ctx).reads, principal(ctx)?, id).await?.map(PayoutRequest::from))
    }

    /// Every Cashfree webhook delivery, newest first, valid or not (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)", complexity = "super::limits::page_complexity(first, last, child_complexity)")]
    async fn payment_webhooks(
        &self,
        ctx: &Context<'_>,
        filter: Option<PaymentWebhookFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<PaymentWebhook>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::payment_webhook::Entity, PaymentWebhook>(ctx, cond, first, after, last, before, order_by).await
    }

    /// The ledger across wallets, newest first (a freelancer sees only their own wallet's rows).
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn wallet_transactions(
        &self,
        ctx: &Context<'_>,
        filter: Option<WalletTransactionFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<WalletTransaction>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::wallet_transaction::Entity, WalletTransaction>(ctx, cond, first, after, last, before, order_by)
            .await
    }

    /// Notifications, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        filter: Option<NotificationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Notification>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::notification::Entity, Notification>(ctx, cond, first, after, last, before, order_by).await
    }

    /// The audit trail, newest first (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)", complexity = "super::limits::page_complexity(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<AuditEntry>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::audit_log::Entity, AuditEntry>(ctx, cond, first, after, last, before, order_by).await
    }

    /// Disputes (chargebacks), newest first; a freelancer sees those on their own payments.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "super::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn disputes(
        &self,
        ctx: &Context<'_>,
        filter: Option<DisputeFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Dispute>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::dispute::Entity, Dispute>(ctx, cond, first, after, last, before, order_by).await
    }

    /// The journal, newest first (admin, ops): every movement of money as an entry whose lines sum to zero.
    #[graphql(guard = "RoleGuard(STAFF)", complexity = "super::limits::page_complexity(first, last, child_complexity)")]
    async fn journal(
        &self,
        ctx: &Context<'_>,
        filter: Option<JournalFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<JournalEntry>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::journal_entry::Entity, JournalEntry>(ctx, cond, first, after, last, before, order_by).await
    }

    /// Every account's balance per currency, from the whole journal (admin, ops); `currency` narrows it to one.
    /// All wallets together are one `WALLET` account.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn accounts(&self, ctx: &Context<'_>, currency: Option<String>) -> Result<Vec<AccountBalance>> {
        let currency = currency.map(|c| crate::domain::money::currency(&c)).transpose()?;
        let balances =
            crate::services::books::journal::balances(&state(ctx).reads, principal(ctx)?, currency.as_deref(), None)
                .await?;
        Ok(balances.into_iter().map(Into::into).collect())
    }

    /// The trial balance in `currency` at `at` (now, if not given): every account's balance from the entries
    /// booked then or before, and their total, which is zero (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn trial_balance(&self, ctx: &Context<'_>, at: Option<DateTime>, currency: String) -> Result<TrialBalance> {
        let currency = crate::domain::money::currency(&currency)?;
        let at = at.unwrap_or(DateTime(crate::clock::now()));
        let balances =
            crate::services::books::journal::balances(&state(ctx).reads, principal(ctx)?, Some(&currency), Some(at.0))
                .await?;
        Ok(TrialBalance::new(at, currency, balances))
    }

    /// Cashfree's settlements of the payments made in `[from, to)`, matched to paydesk's (admin, ops): each line
    /// MATCHED, MISSING_HERE, MISSING_AT_PROVIDER, AMOUNT_MISMATCH or FEE_MISMATCH, oldest payment first, with
    /// totals per currency and status. `status` narrows it; at most `first` lines (default 500, at most 5000).
    /// The same as CSV: `GET /api/admin/reports/settlements.csv?from=…&to=…[&status=…]`.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn settlement_reconciliation(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        status: Option<Vec<SettlementStatus>>,
        #[graphql(default = 500)] first: i32,
    ) -> Result<SettlementReconciliation> {
        let statuses: Vec<_> = status.unwrap_or_default().into_iter().map(Into::into).collect();
        let first = u64::try_from(first.clamp(1, 5000)).unwrap_or(500);
        let rows = crate::services::payments::settlements::lines(
            &state(ctx).reads,
            principal(ctx)?,
            from.0,
            to.0,
            &statuses,
            first,
        )
        .await?;
        Ok(SettlementReconciliation::new(from, to, rows))
    }

    /// Every history chain's head now (admin, ops): keep `seq` and `hash` outside the database, and
    /// `paydesk verify` can later prove nothing before them changed. A day's heads also go to the callback.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn history_checkpoint(&self, ctx: &Context<'_>) -> Result<HistoryCheckpoint> {
        let heads = crate::services::evidence::history::checkpoint(&state(ctx).reads, principal(ctx)?).await?;
        Ok(HistoryCheckpoint::new(crate::clock::now(), heads))
    }

    /// Everything about one payout in one answer: the request, its wallet, the wallet's recent ledger, the
    /// audit entries and the notifications about it (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_investigation(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<PayoutInvestigation>> {
        Ok(reads::investigate(&state(ctx).reads, principal(ctx)?, id).await?.map(PayoutInvestigation::from))
    }

    /// What happened to the orders created in `[from, to)`: counts by status, success rate, gross, fees and
    /// net, and the same by payment method (admin, ops). In one currency: `currency`, or the range's only one.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payment_stats(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        currency: Option<String>,
    ) -> Result<PaymentStats> {
        let range = Range::new(from.0, to.0)?.in_currency(currency.as_deref())?;
        Ok(reports::payment_stats(&state(ctx).reads, principal(ctx)?, range).await?.into())
    }

    /// What happened to the payout requests made in `[from, to)`, the pending backlog now, and how long
    /// decisions took (admin, ops). In one currency: `currency`, or the only one there is.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_stats(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        currency: Option<String>,
    ) -> Result<PayoutStats> {
        let range = Range::new(from.0, to.0)?.in_currency(currency.as_deref())?;
        Ok(reports::payout_stats(&state(ctx).reads, principal(ctx)?, range).await?.into())
    }

    /// Money moved in `[from, to)` by day, week (from Monday) or month, in UTC: payments by when they were
    /// paid, refunds by when booked, payouts by when paid. A row per period and currency where money moved, or
    /// only `currency`'s (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn financial_report(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        #[graphql(default_with = "Granularity::Day")] granularity: Granularity,
        currency: Option<String>,
    ) -> Result<Vec<FinancialPeriod>> {
        let range = Range::new(from.0, to.0)?.in_currency(currency.as_deref())?;
        let periods = reports::financial(&state(ctx).reads, principal(ctx)?, range, granularity.into()).await?;
        Ok(periods.into_iter().map(Into::into).collect())
    }

    /// Freelancers credited the most (net) by payments paid in `[from, to)`, in one currency (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn top_freelancers(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        currency: Option<String>,
        #[graphql(default = 10)] limit: u64,
    ) -> Result<Vec<RankedParty>> {
        ranked(ctx, Party::Freelancers, from, to, currency, limit).await
    }

    /// Clients who paid the most (gross) in `[from, to)`, in one currency (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn top_clients(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        currency: Option<String>,
        #[graphql(default = 10)] limit: u64,
    ) -> Result<Vec<RankedParty>> {
        ranked(ctx, Party::Clients, from, to, currency, limit).await
    }

    /// Any record by its global id (`globalId`), or null if it does not exist or is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn node(&self, ctx: &Context<'_>, id: async_graphql::ID) -> Result<Option<Node>> {
        Ok(super::types::node_fetch(&state(ctx).reads, principal(ctx)?, &id).await?)
    }

    /// Records by global ids, in the order asked (null where one does not exist or is not yours); at most 100.
    #[graphql(guard = "RoleGuard(ANYONE)", complexity = "ids.len() * child_complexity")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<async_graphql::ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() as u64 > reads::MAX_PAGE {
            return Err(crate::error::AppError::BadInput(format!("at most {} ids at once", reads::MAX_PAGE)).into());
        }
        let (db, who) = (&state(ctx).reads, principal(ctx)?);
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.push(super::types::node_fetch(db, who, id).await?);
        }
        Ok(found)
    }

    /// Who you are.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn me(&self, ctx: &Context<'_>) -> Result<Viewer> {
        Ok(Viewer(principal(ctx)?))
    }
}

/// One page of a top-level list: the rows of `E` matching `cond` that the caller may see, as `N`s, with only the
/// columns the selection reads.
async fn list<E, N>(
    ctx: &Context<'_>,
    cond: sea_orm::Condition,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    order_by: Option<ListOrder>,
) -> Result<Conn<N>>
where
    E: reads::Listed,
    E::Model: Sync + entity::ByPosition,
    N: From<E::Model> + super::types::columns::FromColumns + super::types::PlainFields,
{
    let req = page_request::<N>(ctx, first, after, last, before, order_by);
    let page = reads::list::<E>(&state(ctx).reads, principal(ctx)?, cond, req).await?;
    Ok(connection(page, N::from))
}
