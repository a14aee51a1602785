//! Batched reads behind the API's relations: each reads what many parents need in one statement (the GraphQL
//! layer's DataLoaders call these once per page). Nested lists read each parent's newest rows only (a LATERAL join
//! on PostgreSQL, per-parent LIMITs on SQLite).

use crate::error::AppResult;
use entity::status::PayoutStatus;
use entity::{freelancer_wallet as wallet, payment, payout_request as payout};
use entity::{ByPosition, Columns, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// The wallets of these freelancers.
pub async fn wallets_of_freelancers(db: &impl ConnectionTrait, freelancers: &[Uuid]) -> AppResult<Vec<wallet::Model>> {
    Ok(wallet::Entity::find().filter(wallet::Column::FreelancerId.is_in(freelancers.iter().copied())).all(db).await?)
}

/// The wallets of these ids.
pub async fn wallets(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<wallet::Model>> {
    Ok(wallet::Entity::find().filter(wallet::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// The payments of these ids.
pub async fn payments(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<payment::Model>> {
    Ok(payment::Entity::find().filter(payment::Column::Id.is_in(ids.iter().copied())).all(db).await?)
}

/// What each of these wallets has in pending payout requests (zero for one with none).
pub async fn pending_of_wallets(db: &impl ConnectionTrait, wallets: &[Uuid]) -> AppResult<HashMap<Uuid, Money>> {
    let rows: Vec<(Uuid, Option<i64>)> = payout::Entity::find()
        .select_only()
        .column(payout::Column::WalletId)
        .expr_as(crate::services::books::ledger::sum_minor(payout::Column::Amount), "total")
        .filter(payout::Column::WalletId.is_in(wallets.iter().copied()))
        .filter(payout::Column::Status.eq(PayoutStatus::Pending))
        .group_by(payout::Column::WalletId)
        .into_tuple()
        .all(db)
        .await?;
    let sums: HashMap<Uuid, i64> = rows.into_iter().map(|(w, t)| (w, t.unwrap_or(0))).collect();
    Ok(wallets.iter().map(|w| (*w, Money::from_minor(sums.get(w).copied().unwrap_or(0)))).collect())
}

/// Parents per statement of a nested list (SQLite allows 500 terms in a compound SELECT).
const PARENTS_PER_STATEMENT: usize = 100;

/// The newest `limit` rows of `E` for each parent in `parents`, holding the `wanted` columns and those that place
/// and order them (the parent's, `created_at`, `id`): one statement per hundred parents, each reading just its
/// parents' newest rows off the `(parent, created_at, id)` index instead of numbering whole histories.
/// PostgreSQL joins the parents LATERALly; SQLite unions one `LIMIT`ed select per parent.
pub async fn latest_per_parent<E: EntityTrait>(
    db: &impl ConnectionTrait,
    parent_col: &'static str,
    parents: Vec<Uuid>,
    limit: u64,
    wanted: Columns,
) -> AppResult<Vec<E::Model>>
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
