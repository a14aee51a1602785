//! `WalletTransaction`: one ledger row.

use super::LedgerKind;
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::SimpleObject;
use entity::wallet_transaction as ledger;
use uuid::Uuid;

super::columns::object_of_rows! {
    /// One change of a wallet's balance. Rows are never edited; corrections are new rows.
    #[derive(SimpleObject, Clone)]
    pub struct WalletTransaction from ledger::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("WalletTransaction", m.id), reads [id];
        "walletId" wallet_id: Uuid = m.wallet_id, reads [wallet_id];
        "kind" kind: LedgerKind = m.kind.into(), reads [kind];
        /// Signed: credits positive, debits negative.
        "amount" amount: Decimal = m.amount.into(), reads [amount];
        /// The wallet's balance right after this row.
        "balanceAfter" balance_after: Decimal = m.balance_after.into(), reads [balance_after];
        /// What moved the money: `payment:<id>`, `payout:<id>`, `refund:<cf_refund_id>`, …
        "reference" reference: String = m.reference, reads [reference];
        "paymentId" payment_id: Option<Uuid> = m.payment_id, reads [payment_id];
        "payoutRequestId" payout_request_id: Option<Uuid> = m.payout_request_id, reads [payout_request_id];
        "description" description: String = m.description, reads [description];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        /// When a payment's credit becomes available to pay out (`PAYDESK_FUNDS_HOLD`); null: at once.
        "availableAt" available_at: Option<DateTime> = m.available_at.map(DateTime), reads [available_at];
    }
}
