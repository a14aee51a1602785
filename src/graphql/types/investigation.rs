//! `PayoutInvestigation`: one payout with everything that explains it.

use super::{AuditEntry, Notification, PayoutFunding, PayoutRequest, Wallet, WalletTransaction};
use crate::services::reads::Investigation;
use async_graphql::SimpleObject;

/// A payout and what explains it, for answering "what happened to this payout?" in one query.
#[derive(SimpleObject)]
pub struct PayoutInvestigation {
    pub payout: PayoutRequest,
    pub wallet: Option<Wallet>,
    /// The wallet's newest 50 ledger rows, newest first.
    pub ledger: Vec<WalletTransaction>,
    /// Audit entries about this payout, oldest first.
    pub audit_entries: Vec<AuditEntry>,
    /// Notifications sent about this payout, oldest first.
    pub notifications: Vec<Notification>,
    /// The credits that funded it, oldest available first, with their payments and settlement UTRs.
    pub funded_by: Vec<PayoutFunding>,
}

impl From<Investigation> for PayoutInvestigation {
    fn from(i: Investigation) -> Self {
        PayoutInvestigation {
            payout: i.payout.into(),
            wallet: i.wallet.map(Into::into),
            ledger: i.ledger.into_iter().map(Into::into).collect(),
            audit_entries: i.audit.into_iter().map(Into::into).collect(),
            notifications: i.notifications.into_iter().map(Into::into).collect(),
            funded_by: i.funded_by.into_iter().map(Into::into).collect(),
        }
    }
}
