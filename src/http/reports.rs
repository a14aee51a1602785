//! `GET /api/admin/reports/financial.csv?from=…&to=…&granularity=day|week|month[&currency=INR]`: the financial
//! report as CSV (admin, ops), a row per period and currency, for spreadsheets and accounting; and
//! `GET /api/admin/reports/settlements.csv?from=…&to=…[&status=FEE_MISMATCH,…]`: the settlement reconciliation,
//! a row per payment.

use super::{caller, Http};
use crate::error::AppError;
use crate::services::reads::reports::{self, Granularity, Range};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::fmt::Write;

#[derive(Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    granularity: Option<String>,
    currency: Option<String>,
    status: Option<String>,
}

fn instant(name: &str, value: Option<String>) -> Result<DateTime<Utc>, AppError> {
    let v = value
        .ok_or_else(|| AppError::BadInput(format!("`{name}` is required (RFC 3339, e.g. 2026-11-01T00:00:00Z)")))?;
    DateTime::parse_from_rfc3339(&v)
        .map(|t| t.to_utc())
        .map_err(|_| AppError::BadInput(format!("`{name}` must be RFC 3339, e.g. 2026-11-01T00:00:00Z, not {v:?}")))
}

/// The caller, if staff: exports are for admin and ops.
async fn staff(http: &Http, headers: &HeaderMap, what: &str) -> Result<crate::auth::Principal, AppError> {
    let who = caller(&http.state, headers).await.principal()?;
    http.limits.caller(who.id)?;
    if !who.is_staff() {
        return Err(AppError::Forbidden(format!("only admin and ops may export {what}")));
    }
    Ok(who)
}

/// `csv` as a download named `paydesk-<name>-<from>-<to>.csv`.
fn download(name: &str, from: DateTime<Utc>, to: DateTime<Utc>, csv: String) -> Response {
    let disposition = format!("attachment; filename=\"paydesk-{name}-{}-{}.csv\"", from.date_naive(), to.date_naive());
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], csv)
        .into_response()
}

/// The financial report as `text/csv`.
pub async fn financial_csv(
    State(http): State<Http>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response, super::ApiError> {
    let who = staff(&http, &headers, "financial reports").await?;
    let g = match p.granularity.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("day") => Granularity::Day,
        Some("week") => Granularity::Week,
        Some("month") => Granularity::Month,
        Some(other) => {
            return Err(AppError::BadInput(format!("granularity must be day, week or month, not {other:?}")).into())
        }
    };
    let range = Range::new(instant("from", p.from)?, instant("to", p.to)?)?.in_currency(p.currency.as_deref())?;
    let periods = reports::financial(&http.state.reads, who, range.clone(), g).await?;
    let mut csv = String::from(
        "period_start,currency,payments,gross,fees,net,refunds,payouts,payouts_paid,fee_revenue,transfer_costs,\
         disputes_lost,net_revenue\n",
    );
    for x in &periods {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            x.start,
            x.currency,
            x.payments,
            x.gross,
            x.fees,
            x.net,
            x.refunds,
            x.payouts,
            x.payouts_paid,
            x.fee_revenue,
            x.transfer_costs,
            x.disputes_lost,
            x.net_revenue()
        );
    }
    Ok(download("financial", range.from, range.to, csv))
}

/// Rows a settlement export holds at most.
const SETTLEMENT_ROWS: u64 = 100_000;

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// The settlement reconciliation as `text/csv`.
pub async fn settlements_csv(
    State(http): State<Http>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response, super::ApiError> {
    use crate::services::payments::settlements::{self, Status};
    let who = staff(&http, &headers, "settlements").await?;
    let (from, to) = (instant("from", p.from)?, instant("to", p.to)?);
    let mut statuses = Vec::new();
    for s in p.status.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let status = s.to_ascii_lowercase().parse::<Status>().map_err(|_| {
            AppError::BadInput(format!(
                "status must be MATCHED, MISSING_HERE, MISSING_AT_PROVIDER, AMOUNT_MISMATCH or FEE_MISMATCH, not {s:?}"
            ))
        })?;
        statuses.push(status);
    }
    let rows = settlements::lines(&http.state.reads, who, from, to, &statuses, SETTLEMENT_ROWS).await?;
    let mut csv = String::from(
        "paid_at,status,order_id,cf_payment_id,payment_id,currency,amount,expected_amount,settled_amount,\
         service_charge,service_tax,settlement_utr,cf_settlement_id,settled_at,detail\n",
    );
    for l in &rows {
        let opt = |v: &Option<String>| v.as_deref().map(field).unwrap_or_default();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            l.paid_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            l.status.to_ascii_uppercase(),
            opt(&l.order_id),
            opt(&l.cf_payment_id),
            l.payment_id.map(|p| p.to_string()).unwrap_or_default(),
            l.currency,
            l.amount,
            l.expected_amount.map(|m| m.to_string()).unwrap_or_default(),
            l.settled_amount,
            l.service_charge,
            l.service_tax,
            opt(&l.settlement_utr),
            opt(&l.cf_settlement_id),
            l.settled_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default(),
            field(&l.detail),
        );
    }
    Ok(download("settlements", from, to, csv))
}
