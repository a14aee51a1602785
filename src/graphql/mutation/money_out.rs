//! Money out: asking for payouts, deciding them, holds and beneficiaries.

use super::*;

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

/// Withdraws a pending payout (a manual intervention).
#[derive(InputObject)]
pub struct CancelPayoutInput {
    pub payout_request_id: Uuid,
    /// Required: kept in the audit trail and told to the freelancer.
    pub reason: String,
}

/// Places or releases a hold on payouts (an emergency control).
#[derive(InputObject)]
pub struct PayoutHoldInput {
    /// Whose payouts; leave it out to hold or release all payouts (a freeze).
    pub freelancer_id: Option<Uuid>,
    /// Required: kept in the audit trail and sent with the alert.
    pub reason: String,
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

/// Money out: asking for payouts, deciding them, holds and beneficiaries.
#[derive(Default)]
pub struct PayoutsMutation;

#[Object]
impl PayoutsMutation {
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

    /// Withdraws a pending payout, telling the freelancer why.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn cancel_payout(&self, ctx: &Context<'_>, input: CancelPayoutInput) -> Result<PayoutRequest> {
        spend_money(ctx)?;
        let s = state(ctx);
        Ok(payouts::reject(s, principal(ctx)?, input.payout_request_id, input.reason, true).await?.into())
    }

    /// Holds all payouts (no `freelancerId`: a freeze) or one freelancer's: requests and approvals are refused
    /// with `PAYOUTS_ON_HOLD` until the hold is released. Audited; raises a CRITICAL (freeze) or WARNING alert.
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn hold_payouts(&self, ctx: &Context<'_>, input: PayoutHoldInput) -> Result<PayoutHold> {
        let s = state(ctx);
        Ok(holds::place(s, principal(ctx)?, input.freelancer_id, &input.reason).await?.into())
    }

    /// Releases a hold placed by `holdPayouts`; returns the hold as it stood. Audited and alerted (INFO).
    #[graphql(guard = "RoleGuard(ADMIN)")]
    async fn release_payouts(&self, ctx: &Context<'_>, input: PayoutHoldInput) -> Result<PayoutHold> {
        let s = state(ctx);
        Ok(holds::release(s, principal(ctx)?, input.freelancer_id, &input.reason).await?.into())
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
}
