//! Suspicious activity: the rules (`PAYDESK_RISK_*`) a new payout request is checked against, inside its
//! transaction so the flags are stored with it. A flag never refuses a request: it is shown to the admin deciding
//! (`PayoutRequest.riskFlags`) and raised as an alert.

use crate::domain::risk::{median, RiskFlag, RiskRule, RiskRules};
use crate::error::AppResult;
use chrono::Duration;
use entity::status::{PaymentStatus, PayoutStatus};
use entity::{freelancer_wallet as wallet, payment, payout_request as payout, Money};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// Earlier payouts the median is taken over (the newest).
const MEDIAN_OVER: u64 = 50;
/// Fewer earlier payouts than this say nothing about what is usual.
const MEDIAN_NEEDS: usize = 3;
/// How far back a client's failed payments count.
const FAILED_WINDOW_HOURS: i64 = 24;

/// The rules a request for `amount` from `w` trips, given everything committed before it.
pub async fn assess(
    db: &impl ConnectionTrait,
    rules: &RiskRules,
    w: &wallet::Model,
    amount: Money,
) -> AppResult<Vec<RiskFlag>> {
    let now = crate::clock::now();
    let mut flags = Vec::new();
    if rules.requests_per_hour > 0 {
        let recent = payout::Entity::find()
            .filter(payout::Column::WalletId.eq(w.id))
            .filter(payout::Column::CreatedAt.gte(now - Duration::hours(1)))
            .count(db)
            .await?;
        if recent + 1 > u64::from(rules.requests_per_hour) {
            flags.push(RiskFlag {
                rule: RiskRule::Velocity,
                reason: format!(
                    "{} payout requests from this wallet within an hour (more than {})",
                    recent + 1,
                    rules.requests_per_hour
                ),
            });
        }
    }
    if rules.median_multiple > Decimal::ZERO {
        if let Some(flag) = above_median(db, rules.median_multiple, w, amount).await? {
            flags.push(flag);
        }
    }
    if rules.new_client_hours > 0 || rules.failed_payments > 0 {
        flags.extend(client_flags(db, rules, w, now).await?);
    }
    Ok(flags)
}

async fn above_median(
    db: &impl ConnectionTrait,
    multiple: Decimal,
    w: &wallet::Model,
    amount: Money,
) -> AppResult<Option<RiskFlag>> {
    let earlier: Vec<Money> = payout::Entity::find()
        .select_only()
        .column(payout::Column::Amount)
        .filter(payout::Column::WalletId.eq(w.id))
        .filter(payout::Column::Status.is_in([PayoutStatus::Paid, PayoutStatus::Processing, PayoutStatus::Pending]))
        .order_by_desc(payout::Column::CreatedAt)
        .limit(MEDIAN_OVER)
        .into_tuple()
        .all(db)
        .await?;
    if earlier.len() < MEDIAN_NEEDS {
        return Ok(None);
    }
    let Some(usual) = median(earlier) else { return Ok(None) };
    let limit = usual.to_decimal() * multiple;
    Ok((amount.to_decimal() > limit).then(|| RiskFlag {
        rule: RiskRule::AboveMedian,
        reason: format!(
            "{amount} {cur} is more than {multiple} x this wallet's median payout of {usual} {cur}",
            cur = w.currency
        ),
    }))
}

/// The client rules: funds from a first-time client arrived recently, or a funding client's payments keep failing.
async fn client_flags(
    db: &impl ConnectionTrait,
    rules: &RiskRules,
    w: &wallet::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<RiskFlag>> {
    let clients: Vec<String> = payment::Entity::find()
        .select_only()
        .column(payment::Column::ClientId)
        .distinct()
        .filter(payment::Column::FreelancerId.eq(w.freelancer_id))
        .filter(payment::Column::Status.eq(PaymentStatus::Success))
        .filter(payment::Column::ClientId.is_not_null())
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    if clients.is_empty() {
        return Ok(Vec::new());
    }
    let mut flags = Vec::new();
    if rules.new_client_hours > 0 {
        let since = now - Duration::hours(i64::from(rules.new_client_hours));
        // Clients whose first successful payment anywhere is recent, among those who funded this wallet.
        // Each funding client's first successful payment anywhere, aggregated in the database.
        let firsts: Vec<(Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = payment::Entity::find()
            .select_only()
            .column(payment::Column::ClientId)
            .column_as(payment::Column::PaidAt.min(), "first_paid")
            .filter(payment::Column::ClientId.is_in(clients.clone()))
            .filter(payment::Column::Status.eq(PaymentStatus::Success))
            .group_by(payment::Column::ClientId)
            .into_tuple()
            .all(db)
            .await?;
        let mut new: Vec<&str> = firsts
            .iter()
            .filter(|(_, first)| first.is_none_or(|t| t >= since))
            .filter_map(|(c, _)| c.as_deref())
            .collect();
        // Sorted here, not by SQL: the databases' collations order text differently.
        new.sort_unstable();
        if !new.is_empty() {
            flags.push(RiskFlag {
                rule: RiskRule::NewClientFunds,
                reason: format!(
                    "funded within {} h by first-time client(s) {}",
                    rules.new_client_hours,
                    new.join(", ")
                ),
            });
        }
    }
    if rules.failed_payments > 0 {
        let failed: Vec<(Option<String>, i64)> = payment::Entity::find()
            .select_only()
            .column(payment::Column::ClientId)
            .column_as(payment::Column::Id.count(), "failed")
            .filter(payment::Column::ClientId.is_in(clients))
            .filter(payment::Column::Status.is_in([PaymentStatus::Failed, PaymentStatus::UserDropped]))
            .filter(payment::Column::UpdatedAt.gte(now - Duration::hours(FAILED_WINDOW_HOURS)))
            .group_by(payment::Column::ClientId)
            .into_tuple()
            .all(db)
            .await?;
        let mut repeated: Vec<(String, i64)> = failed
            .into_iter()
            .filter(|(_, n)| *n >= i64::from(rules.failed_payments))
            .filter_map(|(c, n)| c.map(|c| (c, n)))
            .collect();
        repeated.sort_unstable();
        let repeated: Vec<String> = repeated.into_iter().map(|(c, n)| format!("{c} ({n} failed)")).collect();
        if !repeated.is_empty() {
            flags.push(RiskFlag {
                rule: RiskRule::ClientFailedPayments,
                reason: format!(
                    "funded by client(s) with repeated failed payments in {FAILED_WINDOW_HOURS} h: {}",
                    repeated.join(", ")
                ),
            });
        }
    }
    Ok(flags)
}
