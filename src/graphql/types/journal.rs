//! The journal as the API shows it: entries with their lines, account balances and the trial balance.

use super::{loader_error, Account, BalanceSide, JournalEntryKind};
use crate::graphql::error::Result;
use crate::graphql::loaders::{Db, LinesOfEntry};
use crate::graphql::scalars::{DateTime, Decimal};
use crate::services::books::journal::Balance;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, SimpleObject};
use entity::status::Side;
use entity::{journal_entry as entry, journal_posting as posting, Money};
use uuid::Uuid;

super::columns::object_of_rows! {
    /// One movement of money: two lines or more on named accounts that sum to zero. Entries are never edited; a
    /// correction is a new entry.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct JournalEntry from entry::Model as m {
        "id" id: Uuid = m.id, reads [id];
        "kind" kind: JournalEntryKind = m.kind.into(), reads [kind];
        /// What moved the money: `payment:<id>`, `payout:<id>`, `payout-paid:<id>`, `refund:<cf_refund_id>`, …
        "reference" reference: String = m.reference, reads [reference];
        /// What of Cashfree's this entry books, and the step: `cf_payment_id:<id>:captured` or `:settled`,
        /// `cf_refund_id:<id>:paid`, `refund_id:<id>:asked` or `:failed`, `dispute_id:<id>:held:<n>`, `:won:<n>` or
        /// `:lost`, `transfer_id:<id>:sent`, `:paid`, `:returned` or `:charged`. No two entries name the same;
        /// null on paydesk's own movements (adjustments, funds released, payouts paid by hand) and on entries booked
        /// before entries named it.
        "providerObject" provider_object: Option<String> = m.provider_object, reads [provider_object];
        "paymentId" payment_id: Option<Uuid> = m.payment_id, reads [payment_id];
        "payoutRequestId" payout_request_id: Option<Uuid> = m.payout_request_id, reads [payout_request_id];
        "description" description: String = m.description, reads [description];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
    }
    reads {
        "lines" => [id];
    }
}

#[ComplexObject]
impl JournalEntry {
    /// The entry's lines, in order; they sum to zero.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<JournalLine>> {
        let rows =
            ctx.data_unchecked::<DataLoader<Db>>().load_one(LinesOfEntry(self.id)).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(JournalLine::from).collect())
    }
}

/// One line of a journal entry.
#[derive(SimpleObject, Clone)]
pub struct JournalLine {
    /// Its place in the entry, from 1.
    pub line: i32,
    pub account: Account,
    /// The wallet, on a `WALLET` line.
    pub wallet_id: Option<Uuid>,
    pub currency: String,
    /// Signed from the account's side: a credit positive, a debit negative.
    pub amount: Decimal,
    /// Which side of the account the line is on.
    pub side: BalanceSide,
}

impl From<posting::Model> for JournalLine {
    fn from(p: posting::Model) -> Self {
        let side = if p.amount < Money::ZERO { Side::Debit } else { Side::Credit };
        JournalLine {
            line: p.line,
            account: p.account.into(),
            wallet_id: p.wallet_id,
            currency: p.currency,
            amount: p.amount.into(),
            side: side.into(),
        }
    }
}

/// What an account holds in one currency (all wallets together are one `WALLET` account).
#[derive(SimpleObject, Clone)]
pub struct AccountBalance {
    pub account: Account,
    pub currency: String,
    /// The sum of its debit lines.
    pub debits: Decimal,
    /// The sum of its credit lines.
    pub credits: Decimal,
    /// Its balance on its normal side: debits less credits for an asset or expense, credits less debits for a
    /// liability or income.
    pub balance: Decimal,
    pub normal_side: BalanceSide,
}

impl From<Balance> for AccountBalance {
    fn from(b: Balance) -> Self {
        let side = b.account.normal_side();
        let balance = match side {
            Side::Credit => b.net(),
            Side::Debit => b.net().negate(),
        };
        AccountBalance {
            account: b.account.into(),
            currency: b.currency.as_str().to_owned(),
            debits: b.debits.into(),
            credits: b.credits.into(),
            balance: balance.into(),
            normal_side: side.into(),
        }
    }
}

/// Every account's balance in one currency at one moment; debits and credits are equal, so `total` is zero.
#[derive(SimpleObject, Clone)]
pub struct TrialBalance {
    /// The moment: entries booked then or before count.
    pub at: DateTime,
    pub currency: String,
    pub accounts: Vec<AccountBalance>,
    pub total_debits: Decimal,
    pub total_credits: Decimal,
    /// Credits less debits over every account: zero in books that balance.
    pub total: Decimal,
    /// Whether `total` is zero.
    pub balanced: bool,
}

impl TrialBalance {
    pub fn new(at: DateTime, currency: String, balances: Vec<Balance>) -> Self {
        let sum = |f: fn(&Balance) -> Money| Money::from_minor(balances.iter().map(|b| f(b).minor()).sum());
        let (debits, credits) = (sum(|b| b.debits), sum(|b| b.credits));
        let total = Money::from_minor(credits.minor() - debits.minor());
        TrialBalance {
            at,
            currency,
            accounts: balances.into_iter().map(Into::into).collect(),
            total_debits: debits.into(),
            total_credits: credits.into(),
            total: total.into(),
            balanced: total == Money::ZERO,
        }
    }
}
