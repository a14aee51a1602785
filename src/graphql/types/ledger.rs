//! `WalletTransaction`: one ledger row.

use super::LedgerKind;
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::SimpleObject;
use entity::wallet_transaction as ledger;
use uuid::Uuid;

/// One change of a wallet's balance. Rows are never edited; corrections are new rows.
#[derive(SimpleObject, Clone)]
pub struct WalletTransaction {
    pub id: Uuid,
    /// The global id, for `node(id:)`.
    pub global_id: super::node::GlobalId,
    pub wallet_id: Uuid,
    pub kind: LedgerKind,
    /// Signed: credits positive, debits negative.
    pub amount: Decimal,
    /// The wallet's balance right after this row.
    pub balance_after: Decimal,
    /// What moved the money: `payment:<id>`, `payout:<id>`, `refund:<cf_refund_id>`, …
    pub reference: String,
    pub payment_id: Option<Uuid>,
    pub payout_request_id: Option<Uuid>,
    pub description: String,
    pub created_at: DateTime,
}

impl super::PlainFields for WalletTransaction {
    const PLAIN: &'static [&'static str] = &[
        "id",
        "globalId",
        "walletId",
        "kind",
        "amount",
        "balanceAfter",
        "reference",
        "paymentId",
        "payoutRequestId",
        "description",
        "createdAt",
    ];
}

super::columns::columns_of!(WalletTransaction, ledger::Model {
    "id" | "globalId" => [id],
    "walletId" => [wallet_id],
    "kind" => [kind],
    "amount" => [amount],
    "balanceAfter" => [balance_after],
    "reference" => [reference],
    "paymentId" => [payment_id],
    "payoutRequestId" => [payout_request_id],
    "description" => [description],
    "createdAt" => [created_at],
});

impl From<ledger::Model> for WalletTransaction {
    fn from(m: ledger::Model) -> Self {
        Self {
            global_id: super::node::GlobalId::new("WalletTransaction", m.id),
            id: m.id,
            wallet_id: m.wallet_id,
            kind: m.kind.into(),
            amount: m.amount.into(),
            balance_after: m.balance_after.into(),
            reference: m.reference,
            payment_id: m.payment_id,
            payout_request_id: m.payout_request_id,
            description: m.description,
            created_at: DateTime(m.created_at),
        }
    }
}
