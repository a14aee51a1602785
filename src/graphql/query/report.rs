//! Reports for a time range.

use super::*;

/// Reports for a time range.
#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
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
}
