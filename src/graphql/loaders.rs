//! DataLoaders: each nested relation costs one batched read per page (`services::reads::batches`), however many rows the
//! page holds.

use crate::error::AppError;
use crate::services::reads::batches;
use async_graphql::dataloader::Loader;
use entity::{freelancer_wallet as wallet, payment, payout_request as payout, wallet_transaction as ledger};
use entity::{Columns, Money};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Holds the connection; one `impl Loader<K>` per relation.
pub struct Db(pub crate::db::Reads);

type Res<T> = Result<T, Arc<AppError>>;

/// The wallet of a freelancer (`Payment.wallet`, `Viewer.wallet`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WalletOfFreelancer(pub Uuid);
/// A wallet by id (`PayoutRequest.wallet`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WalletById(pub Uuid);
/// A payment by id (`PaymentWebhook.payment`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentById(pub Uuid);
/// Sum of a wallet's pending payout requests (`Wallet.available`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PendingOfWallet(pub Uuid);
/// The newest `n` ledger rows of a wallet (`Wallet.transactions`), with (at least) the columns asked for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LedgerOfWallet(pub Uuid, pub u64, pub Columns);
/// The newest `n` payout requests of a wallet (`Wallet.payoutRequests`), with (at least) the columns asked for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayoutsOfWallet(pub Uuid, pub u64, pub Columns);
/// The newest `n` payments of a freelancer (`Wallet.payments`), with (at least) the columns asked for.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentsOfFreelancer(pub Uuid, pub u64, pub Columns);

/// Rows by the parent each belongs to, in the order they came.
fn grouped<K: std::hash::Hash + Eq, V>(rows: Vec<V>, parent: impl Fn(&V) -> K) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        out.entry(parent(&row)).or_default().push(row);
    }
    out
}

/// The lines of a journal entry (`JournalEntry.lines`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinesOfEntry(pub Uuid);

impl Loader<LinesOfEntry> for Db {
    type Value = Vec<entity::journal_posting::Model>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[LinesOfEntry]) -> Res<HashMap<LinesOfEntry, Self::Value>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let lines = crate::services::books::journal::lines_of(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(grouped(lines, |l| LinesOfEntry(l.entry_id)))
    }
}

/// The disputes of a payment (`Payment.disputes`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DisputesOfPayment(pub Uuid);

impl Loader<DisputesOfPayment> for Db {
    type Value = Vec<entity::dispute::Model>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[DisputesOfPayment]) -> Res<HashMap<DisputesOfPayment, Self::Value>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let disputes = crate::services::payments::disputes::of_payments(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(grouped(disputes, |d| DisputesOfPayment(d.payment_id)))
    }
}

/// The refunds started from paydesk on a payment (`Payment.refunds`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefundsOfPayment(pub Uuid);

impl Loader<RefundsOfPayment> for Db {
    type Value = Vec<entity::refund::Model>;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[RefundsOfPayment]) -> Res<HashMap<RefundsOfPayment, Self::Value>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let refunds = crate::services::payments::refunds::of_payments(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(grouped(refunds, |r| RefundsOfPayment(r.payment_id)))
    }
}

/// Holds and beneficiary of a freelancer (`PayoutRequest.approvable`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct GateOfFreelancer(pub Uuid);

impl Loader<GateOfFreelancer> for Db {
    type Value = crate::services::payouts::Gate;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[GateOfFreelancer]) -> Res<HashMap<GateOfFreelancer, Self::Value>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let gates = crate::services::payouts::gates(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(gates.into_iter().map(|(f, g)| (GateOfFreelancer(f), g)).collect())
    }
}

impl Loader<WalletOfFreelancer> for Db {
    type Value = wallet::Model;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[WalletOfFreelancer]) -> Res<HashMap<WalletOfFreelancer, wallet::Model>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = batches::wallets_of_freelancers(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|w| (WalletOfFreelancer(w.freelancer_id), w)).collect())
    }
}

impl Loader<WalletById> for Db {
    type Value = wallet::Model;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[WalletById]) -> Res<HashMap<WalletById, wallet::Model>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = batches::wallets(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|w| (WalletById(w.id), w)).collect())
    }
}

impl Loader<PaymentById> for Db {
    type Value = payment::Model;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[PaymentById]) -> Res<HashMap<PaymentById, payment::Model>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let rows = batches::payments(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|p| (PaymentById(p.id), p)).collect())
    }
}

impl Loader<PendingOfWallet> for Db {
    type Value = Money;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[PendingOfWallet]) -> Res<HashMap<PendingOfWallet, Money>> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let sums = batches::pending_of_wallets(&self.0, &ids).await.map_err(Arc::new)?;
        Ok(sums.into_iter().map(|(w, m)| (PendingOfWallet(w), m)).collect())
    }
}

/// Groups a page's nested-list keys by their limit and columns: one statement per distinct pair (normally one).
macro_rules! nested_loader {
    ($key:ident, $module:ident, $parent:literal, $field:ident) => {
        impl Loader<$key> for Db {
            type Value = Vec<$module::Model>;
            type Error = Arc<AppError>;
            async fn load(&self, keys: &[$key]) -> Res<HashMap<$key, Vec<$module::Model>>> {
                let mut by_kind: HashMap<(u64, Columns), Vec<Uuid>> = HashMap::new();
                for k in keys {
                    by_kind.entry((k.1, k.2)).or_default().push(k.0);
                }
                let mut out: HashMap<$key, Vec<$module::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
                for ((limit, columns), parents) in by_kind {
                    let rows = batches::latest_per_parent::<$module::Entity>(&self.0, $parent, parents, limit, columns)
                        .await
                        .map_err(Arc::new)?;
                    for row in rows {
                        out.entry($key(row.$field, limit, columns)).or_default().push(row);
                    }
                }
                // Newest first within each parent, whatever order the join produced.
                for list in out.values_mut() {
                    list.sort_by(|a, b| (b.created_at, b.id).cmp(&(a.created_at, a.id)));
                }
                Ok(out)
            }
        }
    };
}
nested_loader!(LedgerOfWallet, ledger, "wallet_id", wallet_id);
nested_loader!(PayoutsOfWallet, payout, "wallet_id", wallet_id);
nested_loader!(PaymentsOfFreelancer, payment, "freelancer_id", freelancer_id);
