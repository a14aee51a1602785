//! Operations: identities, erasures and notifications.

use super::*;

/// Links a subject of the identity provider to a freelancer's wallet.
#[derive(InputObject)]
pub struct LinkIdentityInput {
    /// The provider's issuer identifier; the configured provider's (`PAYDESK_OIDC_ISSUER`) when left out.
    pub issuer: Option<String>,
    /// The subject as the provider's tokens carry it (their `sub`, or the claim `PAYDESK_SUBJECT_CLAIM` names).
    pub subject: String,
    /// The wallet the subject's freelancer tokens act for.
    pub freelancer_id: Uuid,
}

/// A legally required erasure of one chained record.
#[derive(InputObject)]
pub struct EraseHistoryRecordInput {
    /// `AUDIT` (an audit entry: its before, after and reason) or `WEBHOOKS` (a delivery: its body and headers).
    /// Journal entries are never erased.
    pub chain: HistoryChain,
    pub id: Uuid,
    /// Required: the legal ground, kept in the `history.erased` audit entry.
    pub reason: String,
}

/// Sends a notification to the marketplace's callback again.
#[derive(InputObject)]
pub struct RedeliverNotificationInput {
    pub notification_id: Uuid,
    /// Required: kept in the audit trail.
    pub reason: String,
}

/// Operations: identities, erasures and notifications.
#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Links a subject of the identity provider (one that is not the wallet's UUID, such as `auth0|5f1c…`) to a
    /// freelancer's wallet: that provider's freelancer tokens naming the subject then act for the wallet. Replaces
    /// an earlier link of the subject. Audited (`identity.linked`).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn link_identity(&self, ctx: &Context<'_>, input: LinkIdentityInput) -> Result<IdentityLink> {
        let s = state(ctx);
        let linked = crate::services::operations::identities::link(
            s,
            principal(ctx)?,
            input.issuer,
            input.subject,
            input.freelancer_id,
        )
        .await?;
        Ok(linked.into())
    }

    /// Redacts one audit entry or webhook delivery for a legally required erasure (admin). The history chains
    /// keep the hash the record had, and a `history.erased` audit entry in the chain, signed with the history's
    /// key, says who erased it, why, and what its content became, so `paydesk verify` accepts that change and no
    /// other. Needs `PAYDESK_HISTORY_SIGNING_KEY` (`INVALID_STATE` without). Returns true once erased.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn erase_history_record(&self, ctx: &Context<'_>, input: EraseHistoryRecordInput) -> Result<bool> {
        let chain = input.chain.into();
        let state = state(ctx);
        let signer = state.settings.history_signer.as_ref();
        crate::services::evidence::history::erase(&state.db, signer, principal(ctx)?, chain, input.id, &input.reason)
            .await?;
        Ok(true)
    }

    /// Sends a notification whose delivery FAILED (or was SKIPPED) to the marketplace's callback again, from a
    /// fresh count of attempts (admin; audited).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn redeliver_notification(
        &self,
        ctx: &Context<'_>,
        input: RedeliverNotificationInput,
    ) -> Result<Notification> {
        let s = state(ctx);
        Ok(delivery::redeliver(s, principal(ctx)?, input.notification_id, &input.reason).await?.into())
    }

    /// Marks one of your notifications read (ops change nothing, so admins and freelancers only).
    #[graphql(guard = "RoleGuard(ADMIN_OR_FREELANCER)")]
    async fn mark_notification_read(&self, ctx: &Context<'_>, id: Uuid) -> Result<Notification> {
        Ok(notifications::mark_read(&state(ctx).db, principal(ctx)?, id).await?.into())
    }
}
