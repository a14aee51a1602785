//! `GET /api/admin/reports/financial.csv?from=…&to=…&granularity=day|week|month[&currency=INR]`: the financial
//! report as CSV (admin, ops), a row per period and currency, for spreadsheets and accounting.

use super::{caller, Http};
use crate::error::AppError;
use crate::services::reports::{self, Granularity, Range};
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
}

fn instant(name: &str, value: Option<String>) -> Result<DateTime<Utc>, AppError> {
    let v = value
        .ok_or_else(|| AppError::BadInput(format!("`{name}` is required (RFC 3339, e.g. 2026-11-01T00:00:00Z)")))?;
    DateTime::parse_from_rfc3339(&v)
        .map(|t| t.to_utc())
        .map_err(|_| AppError::BadInput(format!("`{name}` must be RFC 3339, e.g. 2026-11-01T00:00:00Z, not {v:?}")))
}

/// The financial report as `text/csv`.
pub async fn financial_csv(
    State(http): State<Http>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response, super::ApiError> {
    let who = caller(&http.state, &headers).principal()?;
    if !who.is_staff() {
        return Err(AppError::Forbidden("only admin and ops may export financial reports".into()).into());
    }
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
    let disposition =
        format!("attachment; filename=\"paydesk-financial-{}-{}.csv\"", range.from.date_naive(), range.to.date_naive());
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}
