//! DataLoaders: each nested relation costs one `IN (…)` query per page, however many rows the page holds.
//! Nested lists read each parent's newest rows only (a LATERAL join on PostgreSQL, per-parent LIMITs on SQLite).

use crate::error::AppError;
use async_graphql::dataloader::Loader;
use entity::status::PayoutStatus;
use entity::{freelancer_wallet as wallet, payment, payout_request as payout, wallet_transaction as ledger};
use entity::{ByPosition, Columns, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Holds the connection; one `impl Loader<K>` per relation.
pub struct Db(pub crate::db::Reads);

type Res<T> = Result<T, Arc<AppError>>;

fn fail(e: sea_orm::DbErr) -> Arc<AppError> {
    Arc::new(e.into())
}

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
        let rows = wallet::Entity::find()
            .filter(wallet::Column::FreelancerId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.0)
            .await
            .map_err(fail)?;
        Ok(rows.into_iter().map(|w| (WalletOfFreelancer(w.freelancer_id), w)).collect())
    }
}

impl Loader<WalletById> for Db {
    type Value = wallet::Model;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[WalletById]) -> Res<HashMap<WalletById, wallet::Model>> {
        let rows = wallet::Entity::find()
            .filter(wallet::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.0)
            .await
            .map_err(fail)?;
        Ok(rows.into_iter().map(|w| (WalletById(w.id), w)).collect())
    }
}

impl Loader<PaymentById> for Db {
    type Value = payment::Model;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[PaymentById]) -> Res<HashMap<PaymentById, payment::Model>> {
        let rows = payment::Entity::find()
            .filter(payment::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.0)
            .await
            .map_err(fail)?;
        Ok(rows.into_iter().map(|p| (PaymentById(p.id), p)).collect())
    }
}

impl Loader<PendingOfWallet> for Db {
    type Value = Money;
    type Error = Arc<AppError>;
    async fn load(&self, keys: &[PendingOfWallet]) -> Res<HashMap<PendingOfWallet, Money>> {
        let rows: Vec<(Uuid, Option<i64>)> = payout::Entity::find()
            .select_only()
            .column(payout::Column::WalletId)
            .expr_as(crate::services::ledger::sum_minor(payout::Column::Amount), "total")
            .filter(payout::Column::WalletId.is_in(keys.iter().map(|k| k.0)))
            .filter(payout::Column::Status.eq(PayoutStatus::Pending))
            .group_by(payout::Column::WalletId)
            .into_tuple()
            .all(&self.0)
            .await
            .map_err(fail)?;
        let sums: HashMap<Uuid, i64> = rows.into_iter().map(|(w, t)| (w, t.unwrap_or(0))).collect();
        Ok(keys.iter().map(|k| (*k, Money::from_minor(sums.get(&k.0).copied().unwrap_or(0)))).collect())
    }
}

/// Parents per statement of a nested list (SQLite allows 500 terms in a compound SELECT).
const PARENTS_PER_STATEMENT: usize = 100;

/// The newest `limit` rows of `E` for each parent in `parents`, holding the `wanted` columns and those that place
/// and order them (the parent's, `created_at`, `id`): one statement per hundred parents, each reading just its
/// parents' newest rows off the `(parent, created_at, id)` index instead of numbering whole histories.
/// PostgreSQL joins the parents LATERALly; SQLite unions one `LIMIT`ed select per parent.
async fn latest_per_parent<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parent_col: &'static str,
    parents: Vec<Uuid>,
    limit: u64,
    wanted: Columns,
) -> Result<Vec<E::Model>, sea_orm::DbErr>
where
    E::Model: ByPosition,
{
    let backend = db.get_database_backend();
    let table = E::default().table_name().to_owned();
    let selected = wanted.with::<E::Model>(parent_col).with::<E::Model>("created_at").with::<E::Model>("id");
    // The selected columns in the model's order, so rows can be read by position.
    let columns: Vec<String> = selected.names::<E::Model>().map(|c| format!("\"{c}\"")).collect();
    let columns = columns.join(", ");
    let order = format!("ORDER BY created_at DESC, id DESC LIMIT {limit}");
    let mut rows = Vec::new();
    for chunk in parents.chunks(PARENTS_PER_STATEMENT) {
        let values: Vec<sea_orm::Value> = chunk.iter().map(|p| (*p).into()).collect();
        let sql = if backend == sea_orm::DbBackend::Postgres {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("(${i}::uuid)")).collect();
            format!(
                "SELECT t.* FROM (VALUES {}) AS p(pid) CROSS JOIN LATERAL \
                 (SELECT {columns} FROM {table} WHERE {parent_col} = p.pid {order}) AS t",
                list.join(", ")
            )
        } else {
            let one = format!("SELECT * FROM (SELECT {columns} FROM {table} WHERE {parent_col} = ? {order})");
            vec![one; chunk.len()].join(" UNION ALL ")
        };
        let stmt = sea_orm::Statement::from_sql_and_values(backend, sql, values);
        for row in db.query_all_raw(stmt).await? {
            rows.push(E::Model::from_selected(&row, selected)?);
        }
    }
    Ok(rows)
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
                    let rows = latest_per_parent::<$module::Entity>(&self.0, $parent, parents, limit, columns)
                        .await
                        .map_err(fail)?;
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
