//! `Beneficiary` (where a freelancer's payouts go, shown masked) and `CashfreeStatus`.

use crate::graphql::scalars::DateTime;
use entity::beneficiary;
use uuid::Uuid;

/// A freelancer's registered bank account or UPI handle. Only the masked form is kept.
#[derive(async_graphql::SimpleObject)]
pub struct Beneficiary {
    pub id: Uuid,
    pub freelancer_id: Uuid,
    /// `bank` or `upi`.
    pub kind: String,
    pub name: String,
    /// `XXXXXX1234 (HDFC0001234)` or `ab***@okbank`.
    pub masked: String,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

impl From<beneficiary::Model> for Beneficiary {
    fn from(m: beneficiary::Model) -> Self {
        Self {
            id: m.id,
            freelancer_id: m.freelancer_id,
            kind: m.kind,
            name: m.name,
            masked: m.masked,
            created_at: DateTime(m.created_at),
            updated_at: DateTime(m.updated_at),
        }
    }
}

pub struct CashfreeApiStatus(crate::cashfree::ApiHealth);

/// One Cashfree API as this instance sees it.
#[async_graphql::Object]
impl CashfreeApiStatus {
    /// Whether credentials are set (without them: local orders, manual payouts).
    async fn configured(&self) -> bool {
        self.0.configured
    }
    /// Whether recent calls got answers.
    async fn up(&self) -> bool {
        self.0.up
    }
    async fn consecutive_failures(&self) -> u32 {
        self.0.consecutive_failures
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn last_success_at(&self) -> Option<DateTime> {
        self.0.last_success_at.map(DateTime)
    }
    async fn last_failure_at(&self) -> Option<DateTime> {
        self.0.last_failure_at.map(DateTime)
    }
    /// While calls fail fast (circuit open): when they are tried again.
    async fn retry_at(&self) -> Option<DateTime> {
        self.0.retry_at.map(DateTime)
    }
}

/// Cashfree's Payment Gateway and Payouts APIs as this instance sees them.
#[derive(async_graphql::SimpleObject)]
pub struct CashfreeStatus {
    pub payment_gateway: CashfreeApiStatus,
    pub payouts: CashfreeApiStatus,
    /// The Payouts account that funds transfers, as this instance last read it (every minute); null until read
    /// or without Payouts.
    pub payout_balance: Option<PayoutAccountBalance>,
}

/// The Cashfree Payouts account's balance.
#[derive(async_graphql::SimpleObject)]
pub struct PayoutAccountBalance {
    /// The ledger balance.
    pub balance: crate::graphql::scalars::Decimal,
    /// The ledger balance less the transfers under way: what new transfers can use.
    pub available: crate::graphql::scalars::Decimal,
    pub read_at: crate::graphql::scalars::DateTime,
}

impl CashfreeStatus {
    pub fn new(r: crate::cashfree::HealthReport, balance: Option<crate::cashfree::PayoutBalance>) -> Self {
        Self {
            payment_gateway: CashfreeApiStatus(r.pg),
            payouts: CashfreeApiStatus(r.payouts),
            payout_balance: balance.map(|b| PayoutAccountBalance {
                balance: b.balance.into(),
                available: b.available.into(),
                read_at: crate::graphql::scalars::DateTime(b.read_at),
            }),
        }
    }
}
