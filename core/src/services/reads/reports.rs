//! Reports for a time range, computed by SQL aggregates on either database: payment and payout statistics,
//! the financial report by day, week or month, and the top freelancers and clients.
//!
//! Ranges are half-open, `[from, to)`, in UTC. Payment statistics count the orders *created* in the range;
//! the financial report is a cash view: payments by when they were paid, payouts by when they were paid out,
//! refunds by when they were booked.
//!
//! Money in different currencies is never added up: the financial report has a row per period and currency, and
//! the other reports cover one currency, the one asked for or, if none is, the only one the range holds (a range
//! holding several answers BAD_USER_INPUT naming them).

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::status::{PaymentStatus, PayoutStatus};
use entity::Money;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use std::collections::BTreeMap;

/// The period a report covers, and the currency it is in (`None`: whatever the data holds).
#[derive(Debug, Clone)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub currency: Option<String>,
}

impl Range {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Self> {
        if from >= to {
            return Err(AppError::BadInput(format!("from ({from}) must be before to ({to})")));
        }
        Ok(Range { from, to, currency: None })
    }

    /// Narrowed to one currency (an ISO 4217 code), if given.
    pub fn in_currency(mut self, currency: Option<&str>) -> AppResult<Self> {
        self.currency = currency.map(crate::domain::money::currency).transpose()?;
        Ok(self)
    }

    /// ` AND currency = $3` when the range is of one currency, else nothing.
    fn currency_filter(&self) -> &'static str {
        if self.currency.is_some() {
            " AND currency = $3"
        } else {
            ""
        }
    }

    /// Settles the one currency a report over `table` is in: the one asked for, else the only one the rows in the
    /// range hold (`where_` narrows them); several are refused, since their money cannot be added up.
    async fn one_currency(mut self, db: &impl ConnectionTrait, table: &str, where_: &str) -> AppResult<Self> {
        if self.currency.is_some() {
            return Ok(self);
        }
        let sql = format!("SELECT DISTINCT currency FROM {table} WHERE {where_} ORDER BY currency");
        let found: Vec<String> =
            query(db, &sql, &self).await?.iter().map(|r| r.try_get("", "currency")).collect::<Result<_, _>>()?;
        match found.as_slice() {
            [] => Ok(self),
            [one] => {
                self.currency = Some(one.clone());
                Ok(self)
            }
            many => Err(AppError::BadInput(format!(
                "this range holds money in {}; amounts in different currencies are never added up: pass currency",
                many.join(", ")
            ))),
        }
    }
}

/// How the financial report groups time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

/// Backend-specific SQL: the bucket a timestamp column falls in (as `YYYY-MM-DD`, weeks starting Monday), and
/// seconds between two timestamp columns.
fn bucket(backend: DbBackend, col: &str, g: Granularity) -> String {
    match (backend, g) {
        (DbBackend::Postgres, g) => {
            let unit = match g {
                Granularity::Day => "day",
                Granularity::Week => "week",
                Granularity::Month => "month",
            };
            format!("to_char(date_trunc('{unit}', {col} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')")
        }
        (_, Granularity::Day) => format!("strftime('%Y-%m-%d', {col})"),
        (_, Granularity::Week) => format!("date({col}, '-6 days', 'weekday 1')"),
        (_, Granularity::Month) => format!("strftime('%Y-%m-01', {col})"),
    }
}

fn seconds_between(backend: DbBackend, start: &str, end: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("EXTRACT(EPOCH FROM ({end} - {start}))"),
        _ => format!("((julianday({end}) - julianday({start})) * 86400.0)"),
    }
}

/// Runs `sql`, whose `$1` and `$2` are `range.from` and `range.to` and whose `$3`, if it has one, is the range's
/// currency (`Range::currency_filter`). Each is first used in that order: SQLite numbers `$N` parameters by first use.
async fn query(db: &impl ConnectionTrait, sql: &str, range: &Range) -> AppResult<Vec<QueryResult>> {
    let mut values: Vec<Value> = vec![range.from.into(), range.to.into()];
    if sql.contains("$3") {
        values.push(range.currency.clone().into());
    }
    Ok(db.query_all_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await?)
}

fn money(row: &QueryResult, col: &str) -> AppResult<Money> {
    Ok(Money::from_minor(row.try_get::<Option<i64>>("", col)?.unwrap_or(0)))
}

fn int(row: &QueryResult, col: &str) -> AppResult<u64> {
    Ok(row.try_get::<Option<i64>>("", col)?.unwrap_or(0).max(0) as u64)
}

/// `part / whole` as a percentage with two decimals; `None` when `whole` is zero.
fn percent(part: u64, whole: u64) -> Option<Decimal> {
    (whole > 0).then(|| {
        let mut p = (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole)).round_dp(2);
        p.rescale(2);
        p
    })
}

/// A count and a sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub amount: Money,
}

impl Tally {
    fn add(&mut self, count: u64, amount: Money) {
        self.count += count;
        self.amount = self.amount.checked_add(amount).unwrap_or(self.amount);
    }
}

/// Payments by method.
#[derive(Debug, Clone)]
pub struct MethodStats {
    pub method: String,
    pub attempts: u64,
    pub succeeded: u64,
    pub gross: Money,
    pub success_rate: Option<Decimal>,
}

/// What happened to the orders created in a range.
#[derive(Debug, Clone)]
pub struct PaymentStats {
    /// The currency of every amount here (`None`: the range held no payments).
    pub currency: Option<String>,
    pub total: u64,
    pub by_status: Vec<(PaymentStatus, Tally)>,
    /// Succeeded (or later refunded) ÷ orders that reached an outcome (not pending), in percent.
    pub success_rate: Option<Decimal>,
    pub gross: Money,
    pub fees: Money,
    pub net: Money,
    pub by_method: Vec<MethodStats>,
}

const PAID: &str = "('success', 'refunded')";

/// Payment statistics for the orders created in `range`.
pub async fn payment_stats(db: &impl ConnectionTrait, who: Principal, range: Range) -> AppResult<PaymentStats> {
    who.require_staff()?;
    let range = range.one_currency(db, "payments", "created_at >= $1 AND created_at < $2").await?;
    let c = range.currency_filter();
    let rows = query(
        db,
        &format!(
            "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount, \
                    CAST(COALESCE(SUM(platform_fee), 0) AS BIGINT) AS fees, \
                    CAST(COALESCE(SUM(net_amount), 0) AS BIGINT) AS net \
             FROM payments WHERE created_at >= $1 AND created_at < $2{c} GROUP BY status"
        ),
        &range,
    )
    .await?;
    let mut stats = PaymentStats {
        currency: range.currency.clone(),
        total: 0,
        by_status: Vec::new(),
        success_rate: None,
        gross: Money::ZERO,
        fees: Money::ZERO,
        net: Money::ZERO,
        by_method: Vec::new(),
    };
    let (mut succeeded, mut decided) = (0, 0);
    for row in &rows {
        let status: PaymentStatus = row.try_get("", "status")?;
        let n = int(row, "n")?;
        let amount = money(row, "amount")?;
        stats.total += n;
        stats.by_status.push((status, Tally { count: n, amount }));
        if status != PaymentStatus::Pending {
            decided += n;
        }
        if matches!(status, PaymentStatus::Success | PaymentStatus::Refunded) {
            succeeded += n;
            stats.gross = stats.gross.checked_add(amount).unwrap_or(stats.gross);
            stats.fees = stats.fees.checked_add(money(row, "fees")?).unwrap_or(stats.fees);
            stats.net = stats.net.checked_add(money(row, "net")?).unwrap_or(stats.net);
        }
    }
    stats.by_status.sort_by_key(|(s, _)| format!("{s:?}"));
    stats.success_rate = percent(succeeded, decided);
    let methods = query(
        db,
        &format!(
            "SELECT COALESCE(payment_method, 'unknown') AS method, COUNT(*) AS n, \
                    SUM(CASE WHEN status IN {PAID} THEN 1 ELSE 0 END) AS ok, \
                    CAST(COALESCE(SUM(CASE WHEN status IN {PAID} THEN amount ELSE 0 END), 0) AS BIGINT) AS gross \
             FROM payments WHERE created_at >= $1 AND created_at < $2{c} AND status <> 'pending' \
             GROUP BY COALESCE(payment_method, 'unknown') ORDER BY gross DESC, method"
        ),
        &range,
    )
    .await?;
    for row in &methods {
        let (attempts, ok) = (int(row, "n")?, int(row, "ok")?);
        stats.by_method.push(MethodStats {
            method: row.try_get("", "method")?,
            attempts,
            succeeded: ok,
            gross: money(row, "gross")?,
            success_rate: percent(ok, attempts),
        });
    }
    Ok(stats)
}

/// What happened to the payout requests made in a range.
#[derive(Debug, Clone, Default)]
pub struct PayoutStats {
    /// The currency of every amount here (`None`: no payouts in the range or pending).
    pub currency: Option<String>,
    pub requested: Tally,
    pub paid: Tally,
    pub rejected: Tally,
    pub cancelled: Tally,
    pub failed: Tally,
    pub processing: Tally,
    pub reversed: Tally,
    /// Still pending now, whenever requested.
    pub pending_backlog: Tally,
    /// Seconds from request to decision, over the requests in the range that were decided.
    pub average_decision_seconds: Option<u64>,
    pub max_decision_seconds: Option<u64>,
}

/// Payout statistics for the requests made in `range`.
pub async fn payout_stats(db: &impl ConnectionTrait, who: Principal, range: Range) -> AppResult<PayoutStats> {
    who.require_staff()?;
    let backend = db.get_database_backend();
    let range = range
        .one_currency(db, "payout_requests", "(created_at >= $1 AND created_at < $2) OR status = 'pending'")
        .await?;
    let c = range.currency_filter();
    let rows = query(
        db,
        &format!(
            "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount \
             FROM payout_requests WHERE created_at >= $1 AND created_at < $2{c} GROUP BY status"
        ),
        &range,
    )
    .await?;
    let mut stats = PayoutStats { currency: range.currency.clone(), ..PayoutStats::default() };
    for row in &rows {
        let status: PayoutStatus = row.try_get("", "status")?;
        let (n, amount) = (int(row, "n")?, money(row, "amount")?);
        stats.requested.add(n, amount);
        match status {
            PayoutStatus::Paid => stats.paid.add(n, amount),
            PayoutStatus::Rejected => stats.rejected.add(n, amount),
            PayoutStatus::Cancelled => stats.cancelled.add(n, amount),
            PayoutStatus::Failed => stats.failed.add(n, amount),
            PayoutStatus::Processing => stats.processing.add(n, amount),
            PayoutStatus::Reversed => stats.reversed.add(n, amount),
            PayoutStatus::Pending => {}
        }
    }
    // The backlog is of now, whenever requested: the range's bounds are bound but always hold.
    let backlog = query(
        db,
        &format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount FROM payout_requests \
             WHERE status = 'pending' AND ($1 IS NOT NULL OR $2 IS NOT NULL){c}"
        ),
        &range,
    )
    .await?;
    if let Some(row) = backlog.first() {
        stats.pending_backlog = Tally { count: int(row, "n")?, amount: money(row, "amount")? };
    }
    let secs = seconds_between(backend, "created_at", "decided_at");
    let timing = query(
        db,
        &format!(
            "SELECT CAST(ROUND(AVG({secs})) AS BIGINT) AS avg_s, CAST(ROUND(MAX({secs})) AS BIGINT) AS max_s \
             FROM payout_requests WHERE decided_at IS NOT NULL AND created_at >= $1 AND created_at < $2{c}"
        ),
        &range,
    )
    .await?;
    if let Some(row) = timing.first() {
        stats.average_decision_seconds = row.try_get::<Option<i64>>("", "avg_s")?.map(|s| s.max(0) as u64);
        stats.max_decision_seconds = row.try_get::<Option<i64>>("", "max_s")?.map(|s| s.max(0) as u64);
    }
    Ok(stats)
}

/// One period of the financial report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    /// The first day of the period, `YYYY-MM-DD`.
    pub start: String,
    pub currency: String,
    pub payments: u64,
    pub gross: Money,
    pub fees: Money,
    pub net: Money,
    pub refunds: Money,
    pub payouts: u64,
    pub payouts_paid: Money,
    /// What the platform earned in fees, less the fees it gave back with refunds and lost disputes (the journal's
    /// fee revenue in the period).
    pub fee_revenue: Money,
    /// What Cashfree charged for transfers completed in the period.
    pub transfer_costs: Money,
    /// What lost disputes returned to clients in the period.
    pub disputes_lost: Money,
    /// What lost disputes cost the platform itself (what no wallet covered).
    pub dispute_losses: Money,
}

impl Period {
    /// Fee revenue less transfer costs and the platform's own dispute losses.
    pub fn net_revenue(&self) -> Money {
        Money::from_minor(self.fee_revenue.minor() - self.transfer_costs.minor() - self.dispute_losses.minor())
    }
}

fn period<'a>(periods: &'a mut BTreeMap<(String, String), Period>, row: &QueryResult) -> AppResult<&'a mut Period> {
    let (start, currency): (String, String) = (row.try_get("", "period")?, row.try_get("", "currency")?);
    Ok(periods.entry((start.clone(), currency.clone())).or_insert_with(|| Period {
        start,
        currency,
        ..Period::default()
    }))
}

/// The cash view of `range`, one row per period and currency that saw money move, oldest first (then by currency).
pub async fn financial(
    db: &impl ConnectionTrait,
    who: Principal,
    range: Range,
    g: Granularity,
) -> AppResult<Vec<Period>> {
    who.require_staff()?;
    let backend = db.get_database_backend();
    let c = range.currency_filter();
    let mut periods: BTreeMap<(String, String), Period> = BTreeMap::new();
    let b = bucket(backend, "paid_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS gross, \
                    CAST(COALESCE(SUM(platform_fee), 0) AS BIGINT) AS fees, CAST(COALESCE(SUM(net_amount), 0) AS BIGINT) AS net \
             FROM payments WHERE status IN {PAID} AND paid_at >= $1 AND paid_at < $2{c} GROUP BY {b}, currency"
        ),
        &range,
    )
    .await?
    {
        let p = period(&mut periods, &row)?;
        p.payments = int(&row, "n")?;
        p.gross = money(&row, "gross")?;
        p.fees = money(&row, "fees")?;
        p.net = money(&row, "net")?;
    }
    let b = bucket(backend, "decided_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS paid FROM payout_requests \
             WHERE status = 'paid' AND decided_at >= $1 AND decided_at < $2{c} GROUP BY {b}, currency"
        ),
        &range,
    )
    .await?
    {
        let p = period(&mut periods, &row)?;
        p.payouts = int(&row, "n")?;
        p.payouts_paid = money(&row, "paid")?;
    }
    let b = bucket(backend, "t.created_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, currency, CAST(-SUM(t.amount) AS BIGINT) AS refunds \
             FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id \
             WHERE t.kind = 'refund_debit' AND t.created_at >= $1 AND t.created_at < $2{c} GROUP BY {b}, currency"
        ),
        &range,
    )
    .await?
    {
        let p = period(&mut periods, &row)?;
        p.refunds = money(&row, "refunds")?;
    }
    // The platform's side, from the journal: each line counted once, in the period its entry was booked.
    let b = bucket(backend, "e.created_at", g);
    let sum = |cond: &str, sign: &str| {
        format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {sign}p.amount ELSE 0 END), 0) AS BIGINT)")
    };
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, p.currency AS currency, {} AS fee_revenue, {} AS transfer_costs, \
                    {} AS dispute_losses, {} AS disputes_lost \
             FROM journal_postings p JOIN journal_entries e ON e.id = p.entry_id \
             WHERE (p.account IN ('fee_revenue', 'transfer_costs', 'dispute_losses') \
                    OR (p.account = 'gateway_clearing' AND e.kind = 'dispute_lost')) \
               AND e.created_at >= $1 AND e.created_at < $2{c} GROUP BY {b}, p.currency",
            sum("p.account = 'fee_revenue'", ""),
            sum("p.account = 'transfer_costs'", "-"),
            sum("p.account = 'dispute_losses'", "-"),
            sum("p.account = 'gateway_clearing'", ""),
        ),
        &range,
    )
    .await?
    {
        let p = period(&mut periods, &row)?;
        p.fee_revenue = money(&row, "fee_revenue")?;
        p.transfer_costs = money(&row, "transfer_costs")?;
        p.dispute_losses = money(&row, "dispute_losses")?;
        p.disputes_lost = money(&row, "disputes_lost")?;
    }
    Ok(periods.into_values().collect())
}

/// A freelancer or client ranked by volume.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub id: String,
    pub payments: u64,
    pub amount: Money,
    pub currency: Option<String>,
}

/// Whom a ranking is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// Ranked by net credited.
    Freelancers,
    /// Ranked by gross paid.
    Clients,
}

/// Who moved the most money in `range`: freelancers by net credited, or clients by gross paid.
pub async fn top(
    db: &impl ConnectionTrait,
    who: Principal,
    range: Range,
    party: Party,
    limit: u64,
) -> AppResult<Vec<Ranked>> {
    let clients = party == Party::Clients;
    who.require_staff()?;
    if !(1..=100).contains(&limit) {
        return Err(AppError::BadInput(format!("limit must be between 1 and 100, not {limit}")));
    }
    let (key, sum) = if clients { ("client_id", "amount") } else { ("freelancer_id", "net_amount") };
    let paid = format!("status IN {PAID} AND paid_at >= $1 AND paid_at < $2");
    let range = range.one_currency(db, "payments", &paid).await?;
    let c = range.currency_filter();
    let rows = query(
        db,
        &format!(
            "SELECT {key} AS who, COUNT(*) AS n, CAST(SUM({sum}) AS BIGINT) AS total FROM payments \
             WHERE status IN {PAID} AND {key} IS NOT NULL AND paid_at >= $1 AND paid_at < $2{c} \
             GROUP BY {key} ORDER BY total DESC, {key} LIMIT {limit}"
        ),
        &range,
    )
    .await?;
    rows.iter()
        .map(|row| {
            let id = if clients {
                row.try_get::<String>("", "who")?
            } else {
                row.try_get::<uuid::Uuid>("", "who")?.to_string()
            };
            Ok(Ranked { id, payments: int(row, "n")?, amount: money(row, "total")?, currency: range.currency.clone() })
        })
        .collect()
}

/// Money held now in one currency: wallet balances and pending payout requests.
#[derive(Debug, Clone)]
pub struct MoneyTotals {
    pub currency: String,
    pub balances: Money,
    pub pending_payouts: Money,
}

/// The database-wide totals per currency (for `/metrics`), never added across currencies.
pub async fn money_totals(db: &impl ConnectionTrait) -> AppResult<Vec<MoneyTotals>> {
    let backend = db.get_database_backend();
    let sql = "SELECT currency, CAST(SUM(balance) AS BIGINT) AS amount, 'balances' AS what FROM freelancer_wallets \
               GROUP BY currency \
               UNION ALL SELECT currency, CAST(SUM(amount) AS BIGINT), 'pending' FROM payout_requests \
               WHERE status = 'pending' GROUP BY currency";
    let mut by_currency: BTreeMap<String, MoneyTotals> = BTreeMap::new();
    for row in db.query_all_raw(Statement::from_string(backend, sql)).await? {
        let currency: String = row.try_get("", "currency")?;
        let entry = by_currency.entry(currency.clone()).or_insert(MoneyTotals {
            currency,
            balances: Money::ZERO,
            pending_payouts: Money::ZERO,
        });
        let amount = money(&row, "amount")?;
        match row.try_get::<String>("", "what")?.as_str() {
            "balances" => entry.balances = amount,
            _ => entry.pending_payouts = amount,
        }
    }
    Ok(by_currency.into_values().collect())
}
