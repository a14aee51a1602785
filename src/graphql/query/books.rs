//! The books: wallets, their ledger, the journal, accounts and the trial balance.

use super::*;

/// The books: wallets, their ledger, the journal, accounts and the trial balance.
#[derive(Default)]
pub struct BooksQuery;

// Each GraphQL argument is a parameter: a list's filter, four Relay arguments and its order are eight.
#[allow(clippy::too_many_arguments)]
#[Object]
impl BooksQuery {
    /// Wallets, newest first. A freelancer sees only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn wallets(
        &self,
        ctx: &Context<'_>,
        filter: Option<WalletFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Wallet>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::freelancer_wallet::Entity, Wallet>(ctx, cond, first, after, last, before, order_by).await
    }

    /// A freelancer's wallet, or null if they have none or it is not yours.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn wallet(&self, ctx: &Context<'_>, freelancer_id: Uuid) -> Result<Option<Wallet>> {
        Ok(reads::wallet(&state(ctx).reads, principal(ctx)?, freelancer_id).await?.map(Wallet::from))
    }

    /// The ledger across wallets, newest first (a freelancer sees only their own wallet's rows).
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn wallet_transactions(
        &self,
        ctx: &Context<'_>,
        filter: Option<WalletTransactionFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<WalletTransaction>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::wallet_transaction::Entity, WalletTransaction>(ctx, cond, first, after, last, before, order_by)
            .await
    }

    /// The journal, newest first (admin, ops): every movement of money as an entry whose lines sum to zero.
    #[graphql(
        guard = "RoleGuard(STAFF)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn journal(
        &self,
        ctx: &Context<'_>,
        filter: Option<JournalFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<JournalEntry>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::journal_entry::Entity, JournalEntry>(ctx, cond, first, after, last, before, order_by).await
    }

    /// Every account's balance per currency, from the whole journal (admin, ops); `currency` narrows it to one.
    /// All wallets together are one `WALLET` account.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn accounts(&self, ctx: &Context<'_>, currency: Option<String>) -> Result<Vec<AccountBalance>> {
        let currency = currency.map(|c| crate::domain::money::currency(&c)).transpose()?;
        let balances =
            crate::services::books::journal::balances(&state(ctx).reads, principal(ctx)?, currency.as_deref(), None)
                .await?;
        Ok(balances.into_iter().map(Into::into).collect())
    }

    /// The trial balance in `currency` at `at` (now, if not given): every account's balance from the entries
    /// booked then or before, and their total, which is zero (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn trial_balance(&self, ctx: &Context<'_>, at: Option<DateTime>, currency: String) -> Result<TrialBalance> {
        let currency = crate::domain::money::currency(&currency)?;
        let at = at.unwrap_or(DateTime(crate::clock::now()));
        let balances =
            crate::services::books::journal::balances(&state(ctx).reads, principal(ctx)?, Some(&currency), Some(at.0))
                .await?;
        Ok(TrialBalance::new(at, currency, balances))
    }
}
