//! Money in: payments, their webhooks, disputes, settlements and Cashfree's health.

use super::*;

/// Money in: payments, their webhooks, disputes, settlements and Cashfree's health.
#[derive(Default)]
pub struct PaymentsQuery;

// Each GraphQL argument is a parameter: a list's filter, four Relay arguments and its order are eight.
#[allow(clippy::too_many_arguments)]
#[Object]
impl PaymentsQuery {
    /// Payments, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
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

    /// One payment, or null if it does not exist or is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn payment(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<Payment>> {
        Ok(reads::payment(&state(ctx).reads, principal(ctx)?, id).await?.map(Payment::from))
    }

    /// Every Cashfree webhook delivery, newest first, valid or not (admin, ops).
    #[graphql(
        guard = "RoleGuard(STAFF)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
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

    /// Disputes (chargebacks), newest first; a freelancer sees those on their own payments.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
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

    /// Whether this instance reaches Cashfree's APIs, as its circuit breakers see it (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn cashfree_status(&self, ctx: &Context<'_>) -> CashfreeStatus {
        let cashfree = &state(ctx).cashfree;
        CashfreeStatus::new(cashfree.health.report(), cashfree.payout_balance())
    }
}
