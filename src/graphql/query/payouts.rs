//! Money out: payout requests, beneficiaries, holds and investigations.

use super::*;

/// Money out: payout requests, beneficiaries, holds and investigations.
#[derive(Default)]
pub struct PayoutsQuery;

// Each GraphQL argument is a parameter: a list's filter, four Relay arguments and its order are eight.
#[allow(clippy::too_many_arguments)]
#[Object]
impl PayoutsQuery {
    /// Payout requests, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
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

    /// A freelancer's beneficiary (masked), or null if none is registered or it is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn beneficiary(&self, ctx: &Context<'_>, freelancer_id: Uuid) -> Result<Option<Beneficiary>> {
        let found = crate::services::payouts::beneficiaries::read(state(ctx), principal(ctx)?, freelancer_id).await?;
        Ok(found.map(Beneficiary::from))
    }

    /// Holds on payouts in force (admin, ops): the freeze first, if any, then per freelancer.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_holds(&self, ctx: &Context<'_>) -> Result<Vec<PayoutHold>> {
        Ok(crate::services::payouts::holds::list(&state(ctx).reads).await?.into_iter().map(Into::into).collect())
    }

    /// Everything about one payout in one answer: the request, its wallet, the wallet's recent ledger, the
    /// audit entries and the notifications about it (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_investigation(&self, ctx: &Context<'_>, id: Uuid) -> Result<Option<PayoutInvestigation>> {
        Ok(reads::investigate(&state(ctx).reads, principal(ctx)?, id).await?.map(PayoutInvestigation::from))
    }
}
