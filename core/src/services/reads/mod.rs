//! Reading lists and rows, scoped to the caller: keyset pagination on `(created_at, id)`, newest first, with
//! opaque cursors, and the rule that a freelancer only ever sees their own rows.

pub mod batches;
pub mod reports;

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use base64::Engine;
use chrono::{DateTime, Utc};
use entity::status::Role;
use entity::{
    audit_log, dispute, freelancer_wallet as wallet, journal_entry, notification, payment, payment_webhook as webhook,
    payout_request as payout, wallet_transaction as ledger,
};
use entity::{ByPosition, Columns, InOrder};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use std::sync::OnceLock;
use uuid::Uuid;

/// Largest page a caller may ask for.
pub const MAX_PAGE: u64 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u64 = 20;

/// What a list is ordered by; ties are broken by `id` in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// When the row was created (received, for webhooks).
    #[default]
    Created,
    /// The row's amount (a wallet's balance).
    Amount,
}

/// A list's order: newest (or largest) first unless `ascending`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    pub by: SortBy,
    pub ascending: bool,
}

/// A row's position in an order: the sort value and the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Time(DateTime<Utc>, Uuid),
    Minor(i64, Uuid),
}

/// An entity listed by keyset on `(created_at, id)`, or `(amount, id)` where it has an amount.
pub trait Keyset: EntityTrait {
    fn created() -> Self::Column;
    fn id() -> Self::Column;
    /// The amount column, for entities that can be ordered by amount.
    fn amount() -> Option<Self::Column>;
    fn key(m: &Self::Model, by: SortBy) -> Key;
}

macro_rules! keyset {
    ($module:ident, $created:ident, $field:ident $(, $amount:ident, $amount_field:ident)?) => {
        impl Keyset for $module::Entity {
            fn created() -> Self::Column {
                $module::Column::$created
            }
            fn id() -> Self::Column {
                $module::Column::Id
            }
            fn amount() -> Option<Self::Column> {
                None$(.or(Some($module::Column::$amount)))?
            }
            fn key(m: &Self::Model, by: SortBy) -> Key {
                $(if by == SortBy::Amount {
                    return Key::Minor(m.$amount_field.minor(), m.id);
                })?
                let _ = by;
                Key::Time(m.$field, m.id)
            }
        }
    };
}
keyset!(payment, CreatedAt, created_at, Amount, amount);
keyset!(webhook, ReceivedAt, received_at);
keyset!(wallet, CreatedAt, created_at, Balance, balance);
keyset!(ledger, CreatedAt, created_at, Amount, amount);
keyset!(payout, CreatedAt, created_at, Amount, amount);
keyset!(notification, CreatedAt, created_at);
keyset!(audit_log, CreatedAt, created_at);
keyset!(journal_entry, CreatedAt, created_at);
keyset!(dispute, CreatedAt, created_at, Amount, amount);

/// The opaque cursor of a row's position.
pub fn encode_cursor(key: Key) -> String {
    let text = match key {
        Key::Time(at, id) => format!("{}:{id}", at.timestamp_micros()),
        Key::Minor(minor, id) => format!("a{minor}:{id}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The position an opaque cursor names, in whichever order it was issued for; `None` for one this API did not issue.
pub fn parse_cursor(cursor: &str) -> Option<Key> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (value, id) = text.split_once(':')?;
    let id = id.parse().ok()?;
    match value.strip_prefix('a') {
        Some(minor) => Some(Key::Minor(minor.parse().ok()?, id)),
        None => Some(Key::Time(DateTime::from_timestamp_micros(value.parse().ok()?)?, id)),
    }
}

/// A cursor back to its position; it must come from a list in the same order (`by`).
fn decode_cursor(cursor: &str, by: SortBy) -> AppResult<Key> {
    match (by, parse_cursor(cursor)) {
        (SortBy::Amount, Some(key @ Key::Minor(..))) | (SortBy::Created, Some(key @ Key::Time(..))) => Ok(key),
        _ => Err(AppError::BadInput(format!("cursor {cursor:?} is not one this API issued for this order"))),
    }
}

/// What page the caller asks for (Relay's `first`/`after` and `last`/`before`) and in what order.
#[derive(Debug, Default, Clone)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// Whether `totalCount` was selected (it costs a COUNT).
    pub want_total: bool,
    pub sort: Sort,
    /// The model's columns the caller reads (the order's and the cursor's are added); the others hold
    /// placeholders. Every column by default.
    pub columns: Columns,
}

/// One page of rows in the asked order, with each row's position (made into an opaque cursor only if a client
/// asks for it: encoding one is about as costly as resolving a row's fields).
pub struct Page<M, C = Key> {
    pub rows: Vec<M>,
    pub cursors: Vec<C>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Option<u64>,
}

fn size(n: Option<i32>, name: &str) -> AppResult<u64> {
    match n {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n >= 0 && (n as u64) <= MAX_PAGE => Ok(n as u64),
        Some(n) => Err(AppError::BadInput(format!("{name} must be between 0 and {MAX_PAGE}, not {n}"))),
    }
}

/// Fetches one page of `select` by keyset: `limit + 1` rows tell whether another page follows.
pub async fn page<E>(db: &impl ConnectionTrait, select: Select<E>, req: PageRequest) -> AppResult<Page<E::Model>>
where
    E: Keyset,
    E::Model: Sync + ByPosition,
{
    if req.first.is_some() && req.last.is_some() {
        return Err(AppError::BadInput("pass either first or last, not both".into()));
    }
    let backward = req.last.is_some() || (req.before.is_some() && req.first.is_none());
    let limit = if backward { size(req.last, "last")? } else { size(req.first, "first")? };
    let total = if req.want_total { Some(select.clone().count(db).await?) } else { None };
    let (by, ascending) = (req.sort.by, req.sort.ascending);
    let col = match by {
        SortBy::Created => E::created(),
        SortBy::Amount => {
            E::amount().ok_or_else(|| AppError::BadInput("this list has no amount to order by".into()))?
        }
    };
    let id = E::id();
    let mut q = select;
    // `after` goes further along the order, `before` back towards its start.
    for (cursor, further) in [(&req.after, true), (&req.before, false)] {
        if let Some(c) = cursor {
            let (value, key): (sea_orm::Value, Uuid) = match decode_cursor(c, by)? {
                Key::Time(at, key) => (at.into(), key),
                Key::Minor(minor, key) => (minor.into(), key),
            };
            let (beyond, tie) = if further != ascending {
                (col.lt(value.clone()), id.lt(key))
            } else {
                (col.gt(value.clone()), id.gt(key))
            };
            q = q.filter(Condition::any().add(beyond).add(Condition::all().add(col.eq(value)).add(tie)));
        }
    }
    let order = if ascending != backward { Order::Asc } else { Order::Desc };
    let q = q.order_by(col, order.clone()).order_by(id, order).limit(limit + 1);
    let (q, columns) = narrowed(q, req.columns, col);
    let rows = db.query_all_raw(q.build(db.get_database_backend())).await?;
    let mut rows = rows.iter().map(|r| E::Model::from_selected(r, columns)).collect::<Result<Vec<_>, _>>()?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backward {
        rows.reverse();
    }
    let (has_next, has_previous) = if backward { (req.before.is_some(), more) } else { (more, req.after.is_some()) };
    let cursors = rows.iter().map(|m| E::key(m, by)).collect();
    Ok(Page { rows, cursors, has_next, has_previous, total })
}

/// `select` narrowed to the `wanted` columns and those a page's order and cursors read (`id` and `sort`), and the
/// columns it then selects: every column, unnarrowed, if every one is wanted.
fn narrowed<E>(select: Select<E>, wanted: Columns, sort: E::Column) -> (Select<E>, Columns)
where
    E: Keyset,
    E::Model: ByPosition,
{
    if wanted.all_of::<E::Model>() {
        return (select, wanted);
    }
    let columns = wanted.with::<E::Model>(E::id().as_str()).with::<E::Model>(sort.as_str());
    // The entity's columns come in its model's order, as `from_selected` reads them.
    let selected = E::Column::iter().enumerate().filter(|(at, _)| columns.has(*at)).map(|(_, c)| c);
    (select.select_only().columns(selected), columns)
}

/// Narrows `cond` to the caller's own rows when the caller is a freelancer; `owner` is the owning column.
pub fn scoped<C: ColumnTrait>(who: Principal, owner: C, cond: Condition) -> Condition {
    if who.role == Role::Freelancer {
        cond.add(owner.eq(who.id))
    } else {
        cond
    }
}

/// A list the API pages through: which of its rows a caller may see.
pub trait Listed: Keyset
where
    Self::Model: Sync + ByPosition,
{
    /// `cond` narrowed to the rows `who` may see (a freelancer their own), or FORBIDDEN if `who` may see none.
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition>;
}

/// One page of the rows of `E` that match `cond` and that `who` may see.
pub async fn list<E>(
    db: &impl ConnectionTrait,
    who: Principal,
    cond: Condition,
    req: PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: Listed,
    E::Model: Sync + ByPosition,
{
    let cond = E::visible(who, cond)?;
    page(db, E::find().filter(cond), req).await
}

impl Listed for payment::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(scoped(who, payment::Column::FreelancerId, cond))
    }
}

impl Listed for wallet::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(scoped(who, wallet::Column::FreelancerId, cond))
    }
}

impl Listed for payout::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(scoped(who, payout::Column::FreelancerId, cond))
    }
}

/// Ledger rows: a freelancer sees only their own wallet's.
impl Listed for ledger::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(if who.role == Role::Freelancer { cond.add(of_freelancer(who.id)) } else { cond })
    }
}

impl Listed for notification::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(scoped(who, notification::Column::RecipientId, cond))
    }
}

/// Webhook deliveries: staff only.
impl Listed for webhook::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        who.require_staff()?;
        Ok(cond)
    }
}

/// The audit trail: staff only.
impl Listed for audit_log::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        who.require_staff()?;
        Ok(cond)
    }
}

/// Disputes: a freelancer sees only those on their own payments.
impl Listed for dispute::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        Ok(scoped(who, dispute::Column::FreelancerId, cond))
    }
}

/// The journal: staff only.
impl Listed for journal_entry::Entity {
    fn visible(who: Principal, cond: Condition) -> AppResult<Condition> {
        who.require_staff()?;
        Ok(cond)
    }
}

/// Ledger rows of `freelancer`'s wallet(s).
pub fn of_freelancer(freelancer: Uuid) -> sea_orm::sea_query::SimpleExpr {
    let wallets = sea_orm::sea_query::Query::select()
        .column(wallet::Column::Id)
        .from(wallet::Entity)
        .and_where(wallet::Column::FreelancerId.eq(freelancer))
        .to_owned();
    ledger::Column::WalletId.in_subquery(wallets)
}

/// Where a page of the event log starts: after a cursor reading forward (a log to replay), or before one reading
/// back from the newest (a list of recent alerts).
pub enum LogPage {
    After(Option<i64>),
    Before(Option<i64>),
}

/// A page of the event log (admin, ops); cursors are sequence numbers.
pub async fn event_log(
    db: &impl ConnectionTrait,
    who: Principal,
    from: LogPage,
    first: Option<i32>,
    filter: &crate::events::Filter,
) -> AppResult<Page<crate::events::Stored, i64>> {
    who.require_staff()?;
    let limit = size(first, "first")?;
    let (mut rows, has_previous) = match from {
        LogPage::After(after) => {
            if let Some(cursor) = after {
                crate::events::resumable(db, cursor).await?;
            }
            (crate::events::read_after(db, after.unwrap_or(0), limit + 1, filter).await?.events, after.is_some())
        }
        LogPage::Before(before) => (crate::events::read_before(db, before, limit + 1, filter).await?, before.is_some()),
    };
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let cursors = rows.iter().map(|e| e.seq).collect();
    Ok(Page { rows, cursors, has_next, has_previous, total: None })
}

/// One payment, if the caller may see it.
pub async fn payment(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<payment::Model>> {
    let cond = scoped(who, payment::Column::FreelancerId, Condition::all().add(payment::Column::Id.eq(id)));
    Ok(payment::Entity::find().filter(cond).one(db).await?)
}

/// A freelancer's wallet, if the caller may see it.
pub async fn wallet(
    db: &impl ConnectionTrait,
    who: Principal,
    freelancer_id: Uuid,
) -> AppResult<Option<wallet::Model>> {
    if who.role == Role::Freelancer && who.id != freelancer_id {
        return Ok(None);
    }
    crate::services::books::wallets::by_freelancer(db, freelancer_id).await
}

/// The SQL text of one entity's read by id, built by sea-query once per backend and kind of caller (any row, or a
/// freelancer's own); each request binds only its values instead of building the statement again.
struct ByIdSql([OnceLock<String>; 4]);

impl ByIdSql {
    const fn new() -> Self {
        ByIdSql([const { OnceLock::new() }; 4])
    }
}

/// Row `id` of `E` as `M`, if the caller may see it: a freelancer only one whose `owner` is them.
async fn by_id<E: Keyset, M: FromQueryResult>(
    db: &impl ConnectionTrait,
    who: Principal,
    id: Uuid,
    owner: E::Column,
    texts: &ByIdSql,
) -> AppResult<Option<M>> {
    let backend = db.get_database_backend();
    let select = || E::find().filter(scoped(who, owner, Condition::all().add(E::id().eq(id)))).build(backend);
    let own = who.role == Role::Freelancer;
    // The values in the order `select` binds them (debug builds check it below).
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    if own {
        values.push(who.id.into());
    }
    // Two backends are supported; any other builds its text every time.
    let slot = match backend {
        DbBackend::Postgres => Some(&texts.0[usize::from(own)]),
        DbBackend::Sqlite => Some(&texts.0[2 + usize::from(own)]),
        _ => None,
    };
    let sql = slot.map_or_else(|| select().sql, |slot| slot.get_or_init(|| select().sql).clone());
    if cfg!(debug_assertions) {
        let built = select();
        assert_eq!((&sql, built.values.map(|v| v.0)), (&built.sql, Some(values.clone())), "stale by-id text");
    }
    let stmt = Statement::from_sql_and_values(backend, sql, values);
    // Straight to the rows: `E::find().from_raw_sql(…)` would first build (and throw away) a select of every
    // column.
    Ok(M::find_by_statement(stmt).one(db).await?)
}

/// One payout request, if the caller may see it.
pub async fn payout_request(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<payout::Model>> {
    static TEXTS: ByIdSql = ByIdSql::new();
    let row = by_id::<payout::Entity, InOrder<_>>(db, who, id, payout::Column::FreelancerId, &TEXTS).await?;
    Ok(row.map(|r| r.0))
}

/// A wallet by id, if the caller may see it.
pub async fn wallet_by_id(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<wallet::Model>> {
    static TEXTS: ByIdSql = ByIdSql::new();
    by_id::<wallet::Entity, _>(db, who, id, wallet::Column::FreelancerId, &TEXTS).await
}

/// One ledger row, if the caller may see it.
pub async fn ledger_row(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<ledger::Model>> {
    let mut cond = Condition::all().add(ledger::Column::Id.eq(id));
    if who.role == Role::Freelancer {
        cond = cond.add(of_freelancer(who.id));
    }
    Ok(ledger::Entity::find().filter(cond).one(db).await?)
}

/// One notification, if the caller may see it.
pub async fn notification(
    db: &impl ConnectionTrait,
    who: Principal,
    id: Uuid,
) -> AppResult<Option<notification::Model>> {
    static TEXTS: ByIdSql = ByIdSql::new();
    by_id::<notification::Entity, _>(db, who, id, notification::Column::RecipientId, &TEXTS).await
}

/// One audit entry (staff only; `None` for others).
pub async fn audit_entry(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<audit_log::Model>> {
    if !who.is_staff() {
        return Ok(None);
    }
    Ok(audit_log::Entity::find_by_id(id).one(db).await?)
}

/// One webhook delivery (staff only; `None` for others).
pub async fn webhook(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<webhook::Model>> {
    if !who.is_staff() {
        return Ok(None);
    }
    Ok(webhook::Entity::find_by_id(id).one(db).await?)
}

/// A payout with what explains it.
pub struct Investigation {
    pub payout: payout::Model,
    pub wallet: Option<wallet::Model>,
    pub ledger: Vec<ledger::Model>,
    pub audit: Vec<audit_log::Model>,
    pub notifications: Vec<notification::Model>,
    /// The credits that funded the payout (`funding::funded_by`).
    pub funded_by: Vec<crate::services::books::funding::Funding>,
}

/// Ledger rows an investigation shows (the newest).
const INVESTIGATION_LEDGER: u64 = 50;

/// Gathers a payout's investigation view (staff only).
pub async fn investigate(db: &impl ConnectionTrait, who: Principal, id: Uuid) -> AppResult<Option<Investigation>> {
    who.require_staff()?;
    let Some(payout) = payout::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    let wallet = wallet::Entity::find_by_id(payout.wallet_id).one(db).await?;
    let ledger = ledger::Entity::find()
        .filter(ledger::Column::WalletId.eq(payout.wallet_id))
        .order_by_desc(ledger::Column::CreatedAt)
        .order_by_desc(ledger::Column::Id)
        .limit(INVESTIGATION_LEDGER)
        .all(db)
        .await?;
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::EntityId.eq(id))
        .order_by_asc(audit_log::Column::CreatedAt)
        .all(db)
        .await?;
    let notifications = notification::Entity::find()
        .filter(notification::Column::PayoutRequestId.eq(id))
        .order_by_asc(notification::Column::CreatedAt)
        .all(db)
        .await?;
    let funded_by = crate::services::books::funding::funded_by(db, &payout).await?;
    Ok(Some(Investigation { payout, wallet, ledger, audit, notifications, funded_by }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = Key::Time(DateTime::from_timestamp_micros(1_732_000_000_123_456).unwrap(), Uuid::now_v7());
        assert_eq!(decode_cursor(&encode_cursor(key), SortBy::Created).unwrap(), key);
        let by_amount = Key::Minor(-150_000, Uuid::now_v7());
        assert_eq!(decode_cursor(&encode_cursor(by_amount), SortBy::Amount).unwrap(), by_amount);
        assert!(matches!(decode_cursor(&encode_cursor(by_amount), SortBy::Created), Err(AppError::BadInput(_))));
        assert!(matches!(decode_cursor("not-a-cursor", SortBy::Created), Err(AppError::BadInput(_))));
    }

    #[test]
    fn a_page_selects_the_columns_wanted_and_those_its_order_needs() {
        let sql = |wanted: Columns, sort| {
            let (select, columns) = narrowed(payout::Entity::find(), wanted, sort);
            (select.build(DbBackend::Postgres).to_string(), columns)
        };
        let amount = Columns::NONE.with::<payout::Model>("amount");
        let (text, columns) = sql(amount, payout::Column::CreatedAt);
        let listed =
            r#"SELECT "payout_requests"."id", "payout_requests"."amount", "payout_requests"."created_at" FROM"#;
        assert!(text.starts_with(listed), "{text}");
        assert_eq!(columns, amount.with::<payout::Model>("id").with::<payout::Model>("created_at"));
        // Nothing wanted (only `totalCount` or cursors asked): the keys alone.
        let (text, _) = sql(Columns::NONE, payout::Column::Amount);
        assert!(text.starts_with(r#"SELECT "payout_requests"."id", "payout_requests"."amount" FROM"#), "{text}");
        // Everything wanted: the statement as SeaORM builds it, every column.
        let (text, columns) = sql(Columns::ALL, payout::Column::CreatedAt);
        assert_eq!(text, payout::Entity::find().build(DbBackend::Postgres).to_string());
        assert_eq!(columns, Columns::ALL);
    }
}
