//! Money in: orders, a payment verified by hand, webhooks reprocessed, refunds and settlements.

use super::*;

/// Creates an order for a client to pay through Cashfree.
#[derive(InputObject)]
pub struct CreatePaymentOrderInput {
    /// The freelancer whose wallet the payment credits (a wallet is opened if they have none).
    pub freelancer_id: Uuid,
    pub amount: Decimal,
    /// ISO 4217 code.
    #[graphql(default = "INR")]
    pub currency: String,
    /// Our order id; generated when left out. 3–45 letters, digits, `_` or `-`.
    pub order_id: Option<String>,
    /// The paying client's id in the marketplace.
    pub client_id: Option<String>,
    /// What the payment is for.
    pub purpose: Option<String>,
    /// The paying customer's phone; required when paydesk creates orders at Cashfree.
    pub customer_phone: Option<String>,
    /// Also create a Cashfree payment link (`Payment.linkUrl`) to send to the client.
    #[graphql(default)]
    pub payment_link: bool,
    /// Makes a retry safe: a repeat with the same key returns the first order instead of creating another. The
    /// `Idempotency-Key` header does the same.
    pub idempotency_key: Option<String>,
}

/// Confirms a payment after checking it by hand; settles it (crediting the wallet) if it was not yet successful.
#[derive(InputObject)]
pub struct VerifyPaymentInput {
    pub payment_id: Uuid,
    /// Required: what was checked, and where.
    pub reason: String,
    /// Cashfree's payment id, if the check found one.
    pub cf_payment_id: Option<String>,
}

/// Runs a stored webhook delivery again (only one whose signature verified and that moved no money).
#[derive(InputObject)]
pub struct ReprocessWebhookInput {
    pub webhook_id: Uuid,
    pub reason: String,
}

/// A refund to start: the client gets `amount` back through Cashfree.
#[derive(InputObject)]
pub struct CreateRefundInput {
    pub payment_id: Uuid,
    /// Greater than zero; at most what the payment has left (paid less refunds, disputes and refunds under way).
    pub amount: Decimal,
    /// Required: kept in the audit trail and sent to Cashfree as the refund's note.
    pub reason: String,
    /// A repeat with the same key returns the first refund (the `Idempotency-Key` header works too).
    pub idempotency_key: Option<String>,
}

/// A window of Cashfree's settlements to reconcile now.
#[derive(InputObject)]
pub struct ReconcileSettlementsInput {
    pub from: crate::graphql::scalars::DateTime,
    /// At most 92 days after `from`.
    pub to: crate::graphql::scalars::DateTime,
}

/// Money in: orders, a payment verified by hand, webhooks reprocessed, refunds and settlements.
#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Creates a pending payment order for a freelancer: at Cashfree too when paydesk has Payment Gateway
    /// credentials (then `paymentSessionId`, and with `paymentLink` a `linkUrl`, are set).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn create_payment_order(&self, ctx: &Context<'_>, input: CreatePaymentOrderInput) -> Result<Payment> {
        let order = payments::NewOrder {
            freelancer_id: input.freelancer_id,
            amount: positive_amount("amount", input.amount.0)?,
            currency: currency(&input.currency)?,
            order_id: input.order_id,
            client_id: input.client_id,
            purpose: input.purpose,
        };
        let checkout = gateway::Checkout {
            customer_phone: input.customer_phone,
            link: input.payment_link,
            idempotency_key: idempotency_key(ctx, input.idempotency_key)?,
        };
        Ok(gateway::open_order(state(ctx), principal(ctx)?, order, checkout).await?.into())
    }

    /// Marks a payment verified after a manual check, settling and crediting it if it was not yet successful.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn verify_payment(&self, ctx: &Context<'_>, input: VerifyPaymentInput) -> Result<Payment> {
        spend_money(ctx)?;
        let s = state(ctx);
        let p = interventions::verify_payment(s, principal(ctx)?, input.payment_id, &input.reason, input.cf_payment_id);
        Ok(p.await?.into())
    }

    /// Runs a stored webhook delivery again; returns the new delivery record.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn reprocess_webhook(&self, ctx: &Context<'_>, input: ReprocessWebhookInput) -> Result<PaymentWebhook> {
        spend_money(ctx)?;
        let s = state(ctx);
        Ok(interventions::reprocess_webhook(s, principal(ctx)?, input.webhook_id, &input.reason).await?.into())
    }

    /// Refunds a client through Cashfree (admin; audited as `refund.requested`). The freelancer's share and the
    /// platform's fee on it leave at once for refunds payable; Cashfree's refund webhook then makes it SUCCEEDED, or
    /// FAILED with the money back. A refund Cashfree refuses at once answers FAILED with its reason. Refused without
    /// Cashfree's Payment Gateway configured (`INVALID_STATE`).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn create_refund(&self, ctx: &Context<'_>, input: CreateRefundInput) -> Result<Refund> {
        spend_money(ctx)?;
        let amount = positive_amount("amount", input.amount.0)?;
        let req = crate::services::payments::refunds::NewRefund {
            payment_id: input.payment_id,
            amount,
            reason: input.reason,
            idempotency_key: idempotency_key(ctx, input.idempotency_key)?,
        };
        Ok(crate::services::payments::refunds::start(state(ctx), principal(ctx)?, req).await?.into())
    }

    /// Fetches Cashfree's settlements of `[from, to]` now and reconciles them with paydesk's payments (admin;
    /// audited as `settlements.reconciled`). What was seen before is not recorded twice; each new discrepancy
    /// raises a CRITICAL `settlement_mismatch` alert. UNAVAILABLE while Cashfree cannot be asked.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn reconcile_settlements(
        &self,
        ctx: &Context<'_>,
        input: ReconcileSettlementsInput,
    ) -> Result<SettlementRun> {
        let run = crate::services::payments::settlements::reconcile_on_demand(
            state(ctx),
            principal(ctx)?,
            input.from.0,
            input.to.0,
        )
        .await?;
        Ok(run.into())
    }
}
