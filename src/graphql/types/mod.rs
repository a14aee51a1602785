//! The API's object types: separate from the entities, converted from them in one place each.

mod alert;
mod beneficiary;
mod bulk;
pub(crate) mod columns;
mod dispute;
mod enums;
mod event;
mod history;
mod hold;
mod identity;
mod inline;
mod investigation;
mod journal;
mod ledger;
mod node;
mod notification;
mod payment;
mod payout;
mod refund;
mod report;
mod settlement;
mod viewer;
mod wallet;
mod webhook;

pub use alert::Alert;
pub use beneficiary::{Beneficiary, CashfreeStatus};
pub use bulk::BulkApproval;
pub use dispute::Dispute;
pub use enums::*;
pub use event::{parse_cursor, EventKind, EventRecord};
pub use history::{HistoryChain, HistoryCheckpoint};
pub use hold::PayoutHold;
pub use identity::IdentityLink;
pub use inline::{Inline, PlainFields};
pub use investigation::PayoutInvestigation;
pub use journal::{AccountBalance, JournalEntry, JournalLine, TrialBalance};
pub use ledger::WalletTransaction;
pub use node::{fetch as node_fetch, Node};
pub use notification::{AuditEntry, DeliveryStatus, Notification};
pub use payment::Payment;
pub use payout::PayoutRequest;
pub use refund::Refund;
pub use report::{FinancialPeriod, Granularity, PaymentStats, PayoutStats, RankedParty};
pub use settlement::{PayoutFunding, SettlementReconciliation, SettlementRun, SettlementStatus};
pub use viewer::Viewer;
pub use wallet::Wallet;
pub use webhook::PaymentWebhook;

use crate::error::AppError;
use crate::services::reads::{Key, Page};
use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use async_graphql::SimpleObject;

/// Fields every connection has beside Relay's.
#[derive(SimpleObject)]
pub struct Totals {
    /// How many rows match the filter, over all pages.
    pub total_count: u64,
}

/// A Relay connection whose cursors are keyset positions; its rows resolve their plain fields in place.
pub type Conn<N> = Connection<Cursor, Inline<N>, Totals, EmptyFields>;

/// A keyset position as the API's cursor.
#[derive(Debug, Clone, Copy)]
pub struct Cursor(pub Key);

/// A keyset position is encoded into its opaque cursor when `cursor`, `startCursor` or `endCursor` is resolved, not
/// for every row of every page.
impl CursorType for Cursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let key = crate::services::reads::parse_cursor(s);
        key.map(Cursor).ok_or_else(|| format!("cursor {s:?} is not one this API issued"))
    }

    fn encode_cursor(&self) -> String {
        crate::services::reads::encode_cursor(self.0)
    }
}

/// Turns a page of models into a connection of API nodes.
pub fn connection<M, N>(page: Page<M>, node: impl Fn(M) -> N) -> Conn<N>
where
    N: PlainFields,
{
    let mut conn = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        Totals { total_count: page.total.unwrap_or_default() },
    );
    conn.edges
        .extend(page.cursors.into_iter().zip(page.rows).map(|(cursor, m)| Edge::new(Cursor(cursor), Inline(node(m)))));
    conn
}

/// A loader failure as a GraphQL error.
pub(crate) fn loader_error(e: std::sync::Arc<AppError>) -> async_graphql::Error {
    crate::graphql::error::to_graphql(&e)
}

/// Nested lists take `first`, capped like top-level pages.
pub(crate) fn nested_first(first: Option<i32>) -> Result<u64, AppError> {
    let max = crate::services::reads::MAX_PAGE;
    match first {
        None => Ok(crate::services::reads::DEFAULT_PAGE),
        Some(n) if n >= 0 && (n as u64) <= max => Ok(n as u64),
        Some(n) => Err(AppError::BadInput(format!("first must be between 0 and {max}, not {n}"))),
    }
}
