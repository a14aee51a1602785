//! `Wallet`: a freelancer's balance, its ledger, payouts and payments.

use super::columns::listed;
use super::{connection, loader_error, nested_first, Conn, Inline, Payment, PayoutRequest, WalletTransaction};
use crate::graphql::error::Result;
use crate::graphql::filters::{page_request, ListOrder};
use crate::graphql::guards::{principal, state};
use crate::graphql::loaders::{Db, LedgerOfWallet, PaymentsOfFreelancer, PayoutsOfWallet, PendingOfWallet};
use crate::graphql::scalars::DateTime;
use crate::graphql::scalars::Decimal;
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, SimpleObject};
use entity::{freelancer_wallet as wallet, Money};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

super::columns::object_of_rows! {
    /// A freelancer's wallet. Its balance always equals the sum of its ledger rows.
    #[derive(SimpleObject, Clone)]
    #[graphql(complex)]
    pub struct Wallet from wallet::Model as m {
        "id" id: Uuid = m.id, reads [id];
        /// The global id, for `node(id:)`.
        "globalId" global_id: super::node::GlobalId = super::node::GlobalId::new("Wallet", m.id), reads [id];
        "freelancerId" freelancer_id: Uuid = m.freelancer_id, reads [freelancer_id];
        /// ISO 4217 code.
        "currency" currency: String = m.currency, reads [currency];
        "balance" balance: Decimal = m.balance.into(), reads [balance];
        "createdAt" created_at: DateTime = DateTime(m.created_at), reads [created_at];
        "updatedAt" updated_at: DateTime = DateTime(m.updated_at), reads [updated_at];
    }
    keeps {
        balance_money: Money = m.balance;
        pending_money: Money = m.pending_balance;
        own_hold: Option<i64> = m.funds_hold_secs;
    }
    reads {
        "pendingPayouts" => [id];
        "transactions" => [id];
        "ledger" => [id];
        "payoutRequests" => [id];
        "payments" => [freelancer_id];
        "reserve" => [currency];
        "available" => [id, currency, balance, pending_balance];
        "pendingBalance" => [pending_balance];
        "availableBalance" => [balance, pending_balance];
        "fundsHold" | "fundsHoldIsOwn" => [funds_hold_secs];
    }
}

#[ComplexObject]
impl Wallet {
    /// The balance a payout may never take this wallet below (`PAYOUT_RESERVES` for its currency, else
    /// `PAYOUT_RESERVE`).
    async fn reserve(&self, ctx: &Context<'_>) -> Decimal {
        state(ctx).settings.reserves.of(&self.currency).into()
    }

    /// The sum of pending payout requests.
    async fn pending_payouts(&self, ctx: &Context<'_>) -> Result<Decimal> {
        Ok(self.pending(ctx).await?.into())
    }

    /// What can still be requested: the available balance less the reserve and pending requests (never below
    /// zero).
    async fn available(&self, ctx: &Context<'_>) -> Result<Decimal> {
        let pending = self.pending(ctx).await?;
        let reserve = state(ctx).settings.reserves.of(&self.currency);
        let free = self.available_money();
        let left = free.checked_sub(reserve).and_then(|m| m.checked_sub(pending)).unwrap_or_default();
        Ok(left.max(Money::ZERO).into())
    }

    /// The part of the balance that is not available yet: payment credits still waiting out their hold
    /// (`fundsHold`). Payouts count only `availableBalance`.
    async fn pending_balance(&self) -> Decimal {
        self.pending_money.into()
    }

    /// The balance less `pendingBalance`: what payouts may take (down to the reserve). Below zero when refunds or
    /// disputes took more than was available.
    async fn available_balance(&self) -> Decimal {
        self.available_money().into()
    }

    /// How long this wallet's payment credits wait before they are available (`7days`, `0s`): its own hold if an
    /// admin set one (`setFundsHold`), else `PAYDESK_FUNDS_HOLD`.
    async fn funds_hold(&self, ctx: &Context<'_>) -> String {
        crate::domain::hold::format(crate::services::books::funds::hold(&state(ctx).settings, self.own_hold))
    }

    /// Whether `fundsHold` is this wallet's own (set by an admin) rather than the setting.
    async fn funds_hold_is_own(&self) -> bool {
        self.own_hold.is_some()
    }

    /// The newest ledger rows, newest first (`first` at most 100).
    #[graphql(complexity = "crate::graphql::limits::page_complexity(first, None, child_complexity)")]
    async fn transactions(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<Inline<WalletTransaction>>> {
        let key = LedgerOfWallet(self.id, nested_first(first)?, listed::<WalletTransaction>(ctx));
        let rows = ctx.data_unchecked::<DataLoader<Db>>().load_one(key).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(|m| Inline(m.into())).collect())
    }

    /// This wallet's ledger as a pageable connection, newest first: `first`/`after`, `last`/`before`, `orderBy`.
    /// One statement per wallet; for the newest rows of many wallets at once, `transactions(first:)` is cheaper.
    #[graphql(complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)")]
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<WalletTransaction>> {
        let cond = Condition::all().add(entity::wallet_transaction::Column::WalletId.eq(self.id));
        let req = page_request::<WalletTransaction>(ctx, first, after, last, before, order_by);
        let page = crate::services::reads::list::<entity::wallet_transaction::Entity>(
            &state(ctx).reads,
            principal(ctx)?,
            cond,
            req,
        )
        .await?;
        Ok(connection(page, WalletTransaction::from))
    }

    /// The newest payout requests, newest first (`first` at most 100).
    #[graphql(complexity = "crate::graphql::limits::page_complexity(first, None, child_complexity)")]
    async fn payout_requests(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<Inline<PayoutRequest>>> {
        let key = PayoutsOfWallet(self.id, nested_first(first)?, listed::<PayoutRequest>(ctx));
        let rows = ctx.data_unchecked::<DataLoader<Db>>().load_one(key).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(|m| Inline(m.into())).collect())
    }

    /// The newest payments to this freelancer, newest first (`first` at most 100).
    #[graphql(complexity = "crate::graphql::limits::page_complexity(first, None, child_complexity)")]
    async fn payments(&self, ctx: &Context<'_>, first: Option<i32>) -> Result<Vec<Inline<Payment>>> {
        let key = PaymentsOfFreelancer(self.freelancer_id, nested_first(first)?, listed::<Payment>(ctx));
        let rows = ctx.data_unchecked::<DataLoader<Db>>().load_one(key).await.map_err(loader_error)?;
        Ok(rows.unwrap_or_default().into_iter().map(|m| Inline(m.into())).collect())
    }
}

impl Wallet {
    fn available_money(&self) -> Money {
        crate::services::books::funds::available_of(self.balance_money, self.pending_money)
    }

    async fn pending(&self, ctx: &Context<'_>) -> Result<Money> {
        let loader = ctx.data_unchecked::<DataLoader<Db>>();
        Ok(loader.load_one(PendingOfWallet(self.id)).await.map_err(loader_error)?.unwrap_or_default())
    }
}
