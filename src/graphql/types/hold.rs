//! `PayoutHold`: an emergency stop on all payouts or on one freelancer's.

use crate::graphql::scalars::DateTime;
use async_graphql::SimpleObject;
use entity::payout_hold as hold;
use uuid::Uuid;

/// A hold on payouts: while it stands, payouts it covers can be neither requested nor approved
/// (`PAYOUTS_ON_HOLD`). Transfers already sent to Cashfree finish as Cashfree reports.
#[derive(SimpleObject)]
pub struct PayoutHold {
    /// Whose payouts are held; null: everyone's (a freeze).
    pub freelancer_id: Option<Uuid>,
    pub reason: String,
    /// The admin who placed it; the nil UUID when paydesk placed it itself (a beneficiary incident Cashfree
    /// reported).
    pub placed_by: Uuid,
    pub placed_at: DateTime,
}

impl From<hold::Model> for PayoutHold {
    fn from(h: hold::Model) -> Self {
        PayoutHold {
            freelancer_id: h.freelancer_id,
            reason: h.reason,
            placed_by: h.placed_by,
            placed_at: DateTime(h.placed_at),
        }
    }
}
