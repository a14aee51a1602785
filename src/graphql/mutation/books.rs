//! The books by hand: ledger adjustments and funds holds.

use super::*;

/// Corrects a wallet by a signed amount; a debit may not take it below zero.
#[derive(InputObject)]
pub struct AdjustLedgerInput {
    pub freelancer_id: Uuid,
    /// Positive credits, negative debits; two decimal places at most.
    pub amount: Decimal,
    pub reason: String,
}

/// How long one wallet's payment credits wait before they are available.
#[derive(InputObject)]
pub struct SetFundsHoldInput {
    pub freelancer_id: Uuid,
    /// A duration such as `7d`, `36h` or `0s` (at most 366 days); null: back to `PAYDESK_FUNDS_HOLD`.
    pub hold: Option<String>,
    /// Required: kept in the audit trail.
    pub reason: String,
}

/// The books by hand: ledger adjustments and funds holds.
#[derive(Default)]
pub struct BooksMutation;

#[Object]
impl BooksMutation {
    /// Corrects a wallet with an ADJUSTMENT ledger row.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn adjust_ledger(&self, ctx: &Context<'_>, input: AdjustLedgerInput) -> Result<WalletTransaction> {
        spend_money(ctx)?;
        let amount = amount("amount", input.amount.0)?;
        let s = state(ctx);
        Ok(interventions::adjust_ledger(s, principal(ctx)?, input.freelancer_id, amount, &input.reason).await?.into())
    }

    /// Sets how long one wallet's payment credits wait before they can be paid out, for credits from now on
    /// (admin; audited as `funds.hold_set`). Credits already pending keep their `availableAt`.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn set_funds_hold(&self, ctx: &Context<'_>, input: SetFundsHoldInput) -> Result<Wallet> {
        let hold = input
            .hold
            .map(|h| crate::domain::hold::parse(&h).map_err(|why| AppError::BadInput(format!("hold: {why}"))))
            .transpose()?;
        let w = crate::services::books::funds::set_hold(
            state(ctx),
            principal(ctx)?,
            input.freelancer_id,
            hold,
            &input.reason,
        )
        .await?;
        Ok(w.into())
    }
}
