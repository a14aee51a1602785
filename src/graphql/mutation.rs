//! The `Mutation` root: each field parses, authorizes and calls one service function.

use super::guards::{idempotency_key, principal, spend_money, state, RoleGuard, ADMIN, ADMIN_OR_FREELANCER};
use super::types::{
    Beneficiary, BulkApproval, HistoryChain, IdentityLink, Notification, Payment, PaymentWebhook, PayoutHold,
    PayoutRequest, Refund, SettlementRun, Wallet, WalletTransaction,
};
use crate::domain::money::{amount, currency, positive_amount};
use crate::error::AppError;
use crate::graphql::error::Result;
use crate::graphql::scalars::Decimal;
use crate::notifications;
use crate::services::operations::{delivery, interventions};
use crate::services::payments::{self, gateway};
use crate::services::payouts::{self, beneficiaries, holds};
use async_graphql::{Context, InputObject, Object};
use entity::status::Role;
use uuid::Uuid;

/// Asks for a payout.
#[derive(InputObject)]
pub struct RequestPayoutInput {
    /// Whose wallet: required for admins; a freelancer may leave it out (it is then their own).
    pub freelancer_id: Option<Uuid>,
    /// At most the wallet's balance less the reserve and other pending requests; two decimal places at most.
    pub amount: Decimal,
    pub note: Option<String>,
    /// Makes a retry safe: a repeat with the same key returns the first request instead of filing another. The
    /// `Idempotency-Key` header does the same.
    pub idempotency_key: Option<String>,
}

/// Approves a pending payout.
#[derive(InputObject)]
pub struct ApprovePayoutInput {
    pub payout_request_id: Uuid,
    /// Kept in the audit trail.
    pub note: Option<String>,
    /// Approve although the Cashfree Payouts account, as last read, cannot cover the payout (audited as forced).
    #[graphql(default)]
    pub force: bool,
}

/// Approves several pending payouts at once.
#[derive(InputObject)]
pub struct ApprovePayoutsInput {
    /// The payout requests to approve, at most 100 (a repeated id counts once).
    pub ids: Vec<Uuid>,
    /// Kept in each payout's audit entry.
    pub note: Option<String>,
}

/// Rejects a pending payout.
#[derive(InputObject)]
pub struct RejectPayoutInput {
    pub payout_request_id: Uuid,
    /// Required: the freelancer is told why.
    pub reason: String,
}

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

/// A bank account (with its IFSC) or a UPI handle to pay a freelancer's payouts to.
#[derive(InputObject)]
pub struct RegisterBeneficiaryInput {
    /// Whose: required for admins; a freelancer may leave it out (it is then their own).
    pub freelancer_id: Option<Uuid>,
    /// The account holder's name.
    pub name: String,
    pub bank_account_number: Option<String>,
    pub ifsc: Option<String>,
    /// A UPI handle such as `name@okbank`, instead of a bank account.
    pub vpa: Option<String>,
}

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

/// Places or releases a hold on payouts (an emergency control).
#[derive(InputObject)]
pub struct PayoutHoldInput {
    /// Whose payouts; leave it out to hold or release all payouts (a freeze).
    pub freelancer_id: Option<Uuid>,
    /// Required: kept in the audit trail and sent with the alert.
    pub reason: String,
}

/// Withdraws a pending payout (a manual intervention).
#[derive(InputObject)]
pub struct CancelPayoutInput {
    pub payout_request_id: Uuid,
    /// Required: kept in the audit trail and told to the freelancer.
    pub reason: String,
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

/// Corrects a wallet by a signed amount; a debit may not take it below zero.
#[derive(InputObject)]
pub struct AdjustLedgerInput {
    pub freelancer_id: Uuid,
    /// Positive credits, negative debits; two decimal places at most.
    pub amount: Decimal,
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

/// How long one wallet's payment credits wait before they are available.
#[derive(InputObject)]
pub struct SetFundsHoldInput {
    pub freelancer_id: Uuid,
    /// A duration such as `7d`, `36h` or `0s` (at most 366 days); null: back to `PAYDESK_FUNDS_HOLD`.
    pub hold: Option<String>,
    /// Required: kept in the audit trail.
    pub reason: String,
}

/// A window of Cashfree's settlements to reconcile now.
#[derive(InputObject)]
pub struct ReconcileSettlementsInput {
    pub from: crate::graphql::scalars::DateTime,
    /// At most 92 days after `from`.
    pub to: crate::graphql::scalars::DateTime,
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

/// Writes.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Asks for a payout from a wallet (a freelancer from their own; an admin names the freelancer).
    #[graphql(guard = "RoleGuard(ADMIN_OR_FREELANCER)")]
    async fn request_payout(&self, ctx: &Context<'_>, input: RequestPayoutInput) -> Result<PayoutRequest> {
        spend_money(ctx)?;
        let who = principal(ctx)?;
        let freelancer_id = match (who.role, input.freelancer_id) {
            (Role::Freelancer, id) => id.unwrap_or(who.id),
            (_, Some(id)) => id,
            (_, None) => {
                return Err(AppError::BadInput("freelancerId is required when an admin requests a payout".into()).into())
            }
        };
        let amount = positive_amount("amount", input.amount.0)?;
        let s = state(ctx);
        let idempotency_key = idempotency_key(ctx, input.idempotency_key)?;
        let req = payouts::NewRequest { freelancer_id, amount, note: input.note, idempotency_key };
        Ok(payouts::request(s, who, req).await?.into())
    }

    /// Approves a pending payout and debits the wallet, which must keep its reserve (else RESERVE_VIOLATION).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn approve_payout(&self, ctx: &Context<'_>, input: ApprovePayoutInput) -> Result<PayoutRequest> {
        spend_money(ctx)?;
        let s = state(ctx);
        Ok(payouts::approve(s, principal(ctx)?, input.payout_request_id, input.note, input.force).await?.into())
    }

    /// Approves each payout as `approvePayout` would (reserve, holds, four-eyes, the Payouts account), each in a
    /// transaction of its own, so one refusal stops none of the others; each counts against the caller's budget
    /// of money-moving mutations. Audited per payout, with the bulk approval's `batchId`.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn approve_payouts(&self, ctx: &Context<'_>, input: ApprovePayoutsInput) -> Result<BulkApproval> {
        let s = state(ctx);
        let admit = || spend_money(ctx);
        Ok(payouts::approve_many(s, principal(ctx)?, input.ids, input.note, admit).await?.into())
    }

    /// Rejects a pending payout, telling the freelancer why.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn reject_payout(&self, ctx: &Context<'_>, input: RejectPayoutInput) -> Result<PayoutRequest> {
        let s = state(ctx);
        Ok(payouts::reject(s, principal(ctx)?, input.payout_request_id, input.reason, false).await?.into())
    }

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

    /// Withdraws a pending payout, telling the freelancer why.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn cancel_payout(&self, ctx: &Context<'_>, input: CancelPayoutInput) -> Result<PayoutRequest> {
        spend_money(ctx)?;
        let s = state(ctx);
        Ok(payouts::reject(s, principal(ctx)?, input.payout_request_id, input.reason, true).await?.into())
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

    /// Holds all payouts (no `freelancerId`: a freeze) or one freelancer's: requests and approvals are refused
    /// with `PAYOUTS_ON_HOLD` until the hold is released. Audited; raises a CRITICAL (freeze) or WARNING alert.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn hold_payouts(&self, ctx: &Context<'_>, input: PayoutHoldInput) -> Result<PayoutHold> {
        let s = state(ctx);
        Ok(holds::place(s, principal(ctx)?, input.freelancer_id, &input.reason).await?.into())
    }

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

    /// Releases a hold placed by `holdPayouts`; returns the hold as it stood. Audited and alerted (INFO).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn release_payouts(&self, ctx: &Context<'_>, input: PayoutHoldInput) -> Result<PayoutHold> {
        let s = state(ctx);
        Ok(holds::release(s, principal(ctx)?, input.freelancer_id, &input.reason).await?.into())
    }

    /// Corrects a wallet with an ADJUSTMENT ledger row.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn adjust_ledger(&self, ctx: &Context<'_>, input: AdjustLedgerInput) -> Result<WalletTransaction> {
        spend_money(ctx)?;
        let amount = amount("amount", input.amount.0)?;
        let s = state(ctx);
        Ok(interventions::adjust_ledger(s, principal(ctx)?, input.freelancer_id, amount, &input.reason).await?.into())
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

    /// Registers (or replaces) where a freelancer's payouts go: with Cashfree Payouts when configured; stored
    /// here only masked, and audited.
    #[graphql(guard = "RoleGuard(ADMIN_OR_FREELANCER)")]
    async fn register_beneficiary(&self, ctx: &Context<'_>, input: RegisterBeneficiaryInput) -> Result<Beneficiary> {
        let who = principal(ctx)?;
        let freelancer_id = match (who.role, input.freelancer_id) {
            (Role::Freelancer, id) => id.unwrap_or(who.id),
            (_, Some(id)) => id,
            (_, None) => return Err(AppError::BadInput("freelancerId is required for admins".into()).into()),
        };
        let b = beneficiaries::NewBeneficiary {
            freelancer_id,
            name: input.name,
            bank_account_number: input.bank_account_number,
            ifsc: input.ifsc,
            vpa: input.vpa,
        };
        Ok(beneficiaries::register(state(ctx), who, b).await?.into())
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
