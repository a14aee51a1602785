//! Reports for a time range, computed by SQL aggregates on either database: payment and payout statistics,
//! the financial report by day, week or month, and the top freelancers and clients.
//!
//! Ranges are half-open, `[from, to)`, in UTC. Payment statistics count the orders *created* in the range;
//! the financial report is a cash view: payments by when they were paid, payouts by when they were paid out,
//! refunds by when they were booked.

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use entity::status::{PaymentStatus, PayoutStatus};
use entity::Money;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement, Value};
use std::collections::BTreeMap;

/// The period a report covers.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Range {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Self> {
        if from >= to {
            return Err(AppError::BadInput(format!("from ({from}) must be before to ({to})")));
        }
        Ok(Range { from, to })
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

/// Runs `sql`, in which `{a}` and `{b}` stand for `range.from` and `range.to` (each once, `{a}` first).
async fn query(db: &DatabaseConnection, sql: &str, range: Range) -> AppResult<Vec<QueryResult>> {
    let backend = db.get_database_backend();
    let (a, b) = if backend == DbBackend::Postgres { ("$1", "$2") } else { ("?", "?") };
    let sql = sql.replace("{a}", a).replace("{b}", b);
    let values: [Value; 2] = [range.from.into(), range.to.into()];
    Ok(db.query_all_raw(Statement::from_sql_and_values(backend, sql, values)).await?)
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
pub async fn payment_stats(db: &DatabaseConnection, who: Principal, range: Range) -> AppResult<PaymentStats> {
    super::read::require_staff(who)?;
    let rows = query(
        db,
        "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount, \
                CAST(COALESCE(SUM(platform_fee), 0) AS BIGINT) AS fees, CAST(COALESCE(SUM(net_amount), 0) AS BIGINT) AS net \
         FROM payments WHERE created_at >= {a} AND created_at < {b} GROUP BY status",
        range,
    )
    .await?;
    let mut stats = PaymentStats {
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
             FROM payments WHERE created_at >= {{a}} AND created_at < {{b}} AND status <> 'pending' \
             GROUP BY COALESCE(payment_method, 'unknown') ORDER BY gross DESC, method"
        ),
        range,
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
pub async fn payout_stats(db: &DatabaseConnection, who: Principal, range: Range) -> AppResult<PayoutStats> {
    super::read::require_staff(who)?;
    let backend = db.get_database_backend();
    let rows = query(
        db,
        "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount \
         FROM payout_requests WHERE created_at >= {a} AND created_at < {b} GROUP BY status",
        range,
    )
    .await?;
    let mut stats = PayoutStats::default();
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
    let backlog = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount FROM payout_requests \
             WHERE status = 'pending'",
        ))
        .await?;
    if let Some(row) = backlog {
        stats.pending_backlog = Tally { count: int(&row, "n")?, amount: money(&row, "amount")? };
    }
    let secs = seconds_between(backend, "created_at", "decided_at");
    let timing = query(
        db,
        &format!(
            "SELECT CAST(ROUND(AVG({secs})) AS BIGINT) AS avg_s, CAST(ROUND(MAX({secs})) AS BIGINT) AS max_s \
             FROM payout_requests WHERE decided_at IS NOT NULL AND created_at >= {{a}} AND created_at < {{b}}"
        ),
        range,
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
    pub payments: u64,
    pub gross: Money,
    pub fees: Money,
    pub net: Money,
    pub refunds: Money,
    pub payouts: u64,
    pub payouts_paid: Money,
}

fn period(periods: &mut BTreeMap<String, Period>, key: String) -> &mut Period {
    periods.entry(key.clone()).or_insert_with(|| Period { start: key, ..Period::default() })
}

/// The cash view of `range`, one row per period that saw any money move, oldest first.
pub async fn financial(
    db: &DatabaseConnection,
    who: Principal,
    range: Range,
    g: Granularity,
) -> AppResult<Vec<Period>> {
    super::read::require_staff(who)?;
    let backend = db.get_database_backend();
    let mut periods: BTreeMap<String, Period> = BTreeMap::new();
    let b = bucket(backend, "paid_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS gross, \
                    CAST(COALESCE(SUM(platform_fee), 0) AS BIGINT) AS fees, CAST(COALESCE(SUM(net_amount), 0) AS BIGINT) AS net \
             FROM payments WHERE status IN {PAID} AND paid_at >= {{a}} AND paid_at < {{b}} GROUP BY {b}"
        ),
        range,
    )
    .await?
    {
        let p = period(&mut periods, row.try_get("", "period")?);
        p.payments = int(&row, "n")?;
        p.gross = money(&row, "gross")?;
        p.fees = money(&row, "fees")?;
        p.net = money(&row, "net")?;
    }
    let b = bucket(backend, "decided_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS paid FROM payout_requests \
             WHERE status = 'paid' AND decided_at >= {{a}} AND decided_at < {{b}} GROUP BY {b}"
        ),
        range,
    )
    .await?
    {
        let p = period(&mut periods, row.try_get("", "period")?);
        p.payouts = int(&row, "n")?;
        p.payouts_paid = money(&row, "paid")?;
    }
    let b = bucket(backend, "created_at", g);
    for row in query(
        db,
        &format!(
            "SELECT {b} AS period, CAST(-SUM(amount) AS BIGINT) AS refunds FROM wallet_transactions \
             WHERE kind = 'refund_debit' AND created_at >= {{a}} AND created_at < {{b}} GROUP BY {b}"
        ),
        range,
    )
    .await?
    {
        let p = period(&mut periods, row.try_get("", "period")?);
        p.refunds = money(&row, "refunds")?;
    }
    Ok(periods.into_values().collect())
}

/// A freelancer or client ranked by volume.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub id: String,
    pub payments: u64,
    pub amount: Money,
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
    db: &DatabaseConnection,
    who: Principal,
    range: Range,
    party: Party,
    limit: u64,
) -> AppResult<Vec<Ranked>> {
    let clients = party == Party::Clients;
    super::read::require_staff(who)?;
    if !(1..=100).contains(&limit) {
        return Err(AppError::BadInput(format!("limit must be between 1 and 100, not {limit}")));
    }
    let (key, sum) = if clients { ("client_id", "amount") } else { ("freelancer_id", "net_amount") };
    let rows = query(
        db,
        &format!(
            "SELECT {key} AS who, COUNT(*) AS n, CAST(SUM({sum}) AS BIGINT) AS total FROM payments \
             WHERE status IN {PAID} AND {key} IS NOT NULL AND paid_at >= {{a}} AND paid_at < {{b}} \
             GROUP BY {key} ORDER BY total DESC, {key} LIMIT {limit}"
        ),
        range,
    )
    .await?;
    rows.iter()
        .map(|row| {
            let id = if clients {
                row.try_get::<String>("", "who")?
            } else {
                row.try_get::<uuid::Uuid>("", "who")?.to_string()
            };
            Ok(Ranked { id, payments: int(row, "n")?, amount: money(row, "total")? })
        })
        .collect()
}
