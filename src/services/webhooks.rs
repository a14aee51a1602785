//! Cashfree webhook deliveries: verify the signature over the raw bytes, record every delivery (invalid ones
//! too), deduplicate on a unique key inside the same transaction that moves the money, and answer so that
//! Cashfree retries only when a retry can help.

use super::payments::{self, Applied, Attempt, Refund, Refunded};
use crate::domain::status::api_name;
use crate::error::AppError;
use crate::events::Alert;
use crate::state::AppState;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use chrono::{DateTime, Utc};
use entity::status::{PaymentStatus, Severity, WebhookOutcome};
use entity::{payment, payment_webhook as webhook, Money};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait, TryInsertResult,
};
use serde_json::Value;
use std::str::FromStr;
use uuid::Uuid;

/// What the route answers.
pub struct Reply {
    pub status: StatusCode,
    pub outcome: WebhookOutcome,
    pub webhook_id: Option<Uuid>,
    pub message: String,
}

/// `Base64(HMAC-SHA256(secret, timestamp ‖ body))` matches `signature` for one of `secrets`; constant time.
pub fn signature_matches(secrets: &[String], timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(timestamp.as_bytes());
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// The `x-webhook-*` headers (and the idempotency key) as a JSON object, for the record.
pub(super) fn headers_json(headers: &HeaderMap) -> Value {
    let kept: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n.starts_with("x-webhook-") || n == "x-idempotency-key" || n == "content-type" || n == "user-agent"
        })
        .map(|(name, value)| {
            (name.as_str().to_owned(), Value::String(String::from_utf8_lossy(value.as_bytes()).into()))
        })
        .collect();
    Value::Object(kept)
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// Why a delivery's signature or timestamp does not hold, if it does not.
fn authenticate(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    authenticate_with(&state.settings.webhook_secrets, state.settings.webhook_tolerance_secs, headers, body)
}

/// Why a delivery's signature (by one of `secrets`) or timestamp (within `tolerance` seconds, 0 = any) does not
/// hold, if it does not.
pub(super) fn authenticate_with(
    secrets: &[String],
    tolerance: u64,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let signature = header(headers, "x-webhook-signature").ok_or("missing x-webhook-signature header")?;
    let timestamp = header(headers, "x-webhook-timestamp").ok_or("missing x-webhook-timestamp header")?;
    let millis: i64 = timestamp.parse().map_err(|_| "x-webhook-timestamp must be epoch milliseconds")?;
    if !signature_matches(secrets, timestamp, body, signature) {
        return Err("signature does not match any configured client secret".into());
    }
    if tolerance > 0 {
        let age = (Utc::now().timestamp_millis() - millis).abs() / 1000;
        if age.unsigned_abs() > tolerance {
            return Err(format!("x-webhook-timestamp is {age} s away from now; at most {tolerance} s is accepted"));
        }
    }
    Ok(())
}

/// A decimal from a JSON number or string, never through a float.
pub(super) fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text).or_else(|_| Decimal::from_scientific(&text)).ok()
}

/// An amount a provider reported (`field` names it): a JSON number or string, greater than zero, at most
/// `MAX_AMOUNT`, and in whole minor units of `currency`. Anything else makes the delivery MALFORMED, so that
/// nothing is ever booked from a negative, zero or sub-paisa amount, however well it is signed.
pub(super) fn amount(field: &str, v: &Value, currency: &str) -> Result<Money, String> {
    let value = decimal(v).ok_or_else(|| format!("{field} is not a number"))?;
    let money = crate::domain::money::positive_amount(field, value).map_err(|e| e.to_string())?;
    crate::domain::money::fits_currency(field, money, currency).map_err(|e| e.to_string())?;
    Ok(money)
}

/// A currency code a provider reported (`field` names it): one paydesk can hold amounts of.
pub(super) fn currency(field: &str, v: &Value) -> Result<String, String> {
    let code = text(v).ok_or_else(|| format!("{field} is missing"))?;
    crate::domain::money::currency(&code).map_err(|e| format!("{field}: {e}"))
}

/// Longest id accepted from a delivery (Cashfree's are at most 50 characters).
const MAX_ID: usize = 100;
/// Longest free text kept from a delivery (messages, references), in characters.
const MAX_TEXT: usize = 500;
/// Longest dedupe key stored as it is; a longer one is stored as its SHA-256.
const MAX_KEY: usize = 200;

/// An id that Cashfree sends as a string or (before 2023-08-01) a number; `field` names it in the refusal.
/// Control characters (a NUL cannot even be stored in PostgreSQL text) and absurd lengths are refused.
pub(super) fn id(field: &str, v: &Value) -> Result<String, String> {
    let s = match v {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{field} is missing")),
    };
    if s.chars().any(char::is_control) {
        return Err(format!("{field} contains control characters"));
    }
    if s.chars().count() > MAX_ID {
        return Err(format!("{field} is longer than {MAX_ID} characters"));
    }
    Ok(s)
}

/// Free text, trimmed, without control characters, at most `MAX_TEXT` characters; "NA" counts as none.
pub(super) fn text(v: &Value) -> Option<String> {
    let s = v.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "NA")?;
    Some(s.chars().filter(|c| !c.is_control()).take(MAX_TEXT).collect())
}

/// The key a delivery is deduplicated on, short enough for its column whatever Cashfree (or anyone) sent.
pub(super) fn storable_key(key: String) -> String {
    if key.len() <= MAX_KEY {
        return key;
    }
    format!("sha256:{}", String::from_utf8_lossy(&sha_hex(key.as_bytes())))
}

fn payment_status(s: &str) -> Option<PaymentStatus> {
    Some(match s {
        "SUCCESS" => PaymentStatus::Success,
        "FAILED" => PaymentStatus::Failed,
        "USER_DROPPED" => PaymentStatus::UserDropped,
        "CANCELLED" | "VOID" => PaymentStatus::Cancelled,
        "PENDING" | "NOT_ATTEMPTED" | "FLAGGED" => PaymentStatus::Pending,
        _ => return None,
    })
}

/// A delivery's event, parsed leniently: unknown fields are ignored.
#[derive(Debug)]
enum Event {
    Payment { order_id: String, attempt: Attempt },
    Refund { order_id: String, status: String, refund: Refund },
    Other,
}

struct Parsed {
    event_type: String,
    order_id: Option<String>,
    cf_payment_id: Option<String>,
    dedupe_key: String,
    event: Event,
}

fn parse(body: &[u8], idempotency_key: Option<&str>) -> Result<Parsed, String> {
    let root: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let event_type = id("type", &root["type"])?;
    let data = &root["data"];
    let key = |parts: &[&str]| storable_key(idempotency_key.map(str::to_owned).unwrap_or_else(|| parts.join(":")));
    if event_type == "REFUND_STATUS_WEBHOOK" {
        let r = &data["refund"];
        let cf_refund_id = id("data.refund.cf_refund_id", &r["cf_refund_id"])?;
        let order_id = id("data.refund.order_id", &r["order_id"])?;
        let status = id("data.refund.refund_status", &r["refund_status"])?;
        let currency = currency("data.refund.refund_currency", &r["refund_currency"])?;
        let amount = amount("data.refund.refund_amount", &r["refund_amount"], &currency)?;
        return Ok(Parsed {
            dedupe_key: key(&[&event_type, &cf_refund_id, &status]),
            order_id: Some(order_id.clone()),
            cf_payment_id: id("", &r["cf_payment_id"]).ok(),
            event_type,
            event: Event::Refund { order_id, status, refund: Refund { cf_refund_id, amount, currency } },
        });
    }
    if !event_type.starts_with("PAYMENT_") {
        let order_id = id("", &data["order"]["order_id"]).ok();
        return Ok(Parsed {
            dedupe_key: key(&[&event_type, &String::from_utf8_lossy(&sha_hex(body))]),
            order_id,
            cf_payment_id: None,
            event_type,
            event: Event::Other,
        });
    }
    let (order, pay) = (&data["order"], &data["payment"]);
    let order_id = id("data.order.order_id", &order["order_id"])?;
    let cf_payment_id = id("data.payment.cf_payment_id", &pay["cf_payment_id"])?;
    let raw_status = pay["payment_status"].as_str().ok_or("data.payment.payment_status is missing")?;
    let status = payment_status(raw_status).ok_or_else(|| format!("unknown payment_status {raw_status:?}"))?;
    let raw_status = raw_status.to_owned();
    let currency = currency("data.payment.payment_currency", &pay["payment_currency"])?;
    let amount = amount("data.payment.payment_amount", &pay["payment_amount"], &currency)?;
    let method = text(&pay["payment_group"])
        .or_else(|| pay["payment_method"].as_object().and_then(|m| m.keys().next().cloned()));
    let paid_at = pay["payment_time"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.to_utc());
    let message = text(&data["error_details"]["error_description"]).or_else(|| text(&pay["payment_message"]));
    Ok(Parsed {
        dedupe_key: key(&[&event_type, &cf_payment_id, &raw_status]),
        order_id: Some(order_id.clone()),
        cf_payment_id: Some(cf_payment_id.clone()),
        event_type,
        event: Event::Payment {
            order_id,
            attempt: Attempt {
                cf_payment_id,
                status,
                amount,
                currency,
                method,
                bank_reference: text(&pay["bank_reference"]),
                message,
                paid_at: paid_at.map(|t| chrono::SubsecRound::trunc_subsecs(t, 6)),
            },
        },
    })
}

fn sha_hex(body: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body);
    digest.iter().map(|b| format!("{b:02x}")).collect::<String>().into_bytes()
}

/// The delivery's row, before its outcome is known.
pub(super) fn row(headers: Value, body: &[u8], signature_valid: bool) -> webhook::ActiveModel {
    webhook::ActiveModel {
        id: Set(super::new_id()),
        received_at: Set(super::now()),
        event_type: Set(None),
        idempotency_key: Set(None),
        signature_valid: Set(signature_valid),
        outcome: Set(WebhookOutcome::Processed),
        error: Set(None),
        order_id: Set(None),
        cf_payment_id: Set(None),
        payment_id: Set(None),
        payout_request_id: Set(None),
        headers: Set(headers),
        raw_body: Set(body.to_vec()),
    }
}

/// The row of a delivery whose signature verified and whose body parsed.
fn parsed_row(headers: Value, body: &[u8], parsed: &Parsed) -> webhook::ActiveModel {
    let mut r = row(headers, body, true);
    r.event_type = Set(Some(parsed.event_type.clone()));
    r.order_id = Set(parsed.order_id.clone());
    r.cf_payment_id = Set(parsed.cf_payment_id.clone());
    r
}

/// Records a delivery that was not processed (no dedupe key, so it never blocks a good one).
pub(super) async fn record(
    db: &DatabaseConnection,
    mut r: webhook::ActiveModel,
    outcome: WebhookOutcome,
    error: String,
) -> Option<Uuid> {
    r.outcome = Set(outcome);
    r.error = Set(Some(error));
    match r.insert(db).await {
        Ok(m) => Some(m.id),
        Err(e) => {
            tracing::error!(error = %e, "could not record a webhook delivery");
            None
        }
    }
}

/// Records a delivery whose signature verified but whose body cannot be read (or names an amount nothing may be
/// booked from), and raises a CRITICAL alert: whoever holds the secret sent it, and nothing was booked.
pub(super) async fn malformed(state: &AppState, r: webhook::ActiveModel, why: String) -> Reply {
    let id = record(&state.db, r, WebhookOutcome::Malformed, why.clone()).await;
    let mut alert =
        Alert::new(Severity::Critical, "webhook_malformed", format!("a signed webhook was refused unread: {why}"));
    alert.webhook_id = id;
    state.events.alert(&state.db, alert).await;
    Reply { status: StatusCode::BAD_REQUEST, outcome: WebhookOutcome::Malformed, webhook_id: id, message: why }
}

/// Handles one delivery end to end.
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
pub async fn receive(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Reply {
    let db = &state.db;
    let reply = |status, outcome, webhook_id, message: String| Reply { status, outcome, webhook_id, message };
    if state.settings.webhook_secrets.is_empty() {
        let msg = "CASHFREE_CLIENT_SECRET is not configured; the delivery was recorded but not processed".to_owned();
        let id = record(db, row(headers_json(headers), body, false), WebhookOutcome::Failed, msg.clone()).await;
        return reply(StatusCode::SERVICE_UNAVAILABLE, WebhookOutcome::Failed, id, msg);
    }
    if let Err(why) = authenticate(state, headers, body) {
        tracing::warn!(%why, "webhook signature rejected");
        let id =
            record(db, row(headers_json(headers), body, false), WebhookOutcome::RejectedSignature, why.clone()).await;
        let mut alert = Alert::new(Severity::Warning, "signature_rejected", format!("webhook refused: {why}"));
        alert.webhook_id = id;
        state.events.alert(db, alert).await;
        return reply(StatusCode::UNAUTHORIZED, WebhookOutcome::RejectedSignature, id, why);
    }
    let parsed = match parse(body, header(headers, "x-idempotency-key")) {
        Ok(p) => p,
        Err(why) => return malformed(state, row(headers_json(headers), body, true), why).await,
    };
    let base = parsed_row(headers_json(headers), body, &parsed);
    match process(state, base.clone(), &parsed).await {
        Ok(done) => done,
        Err(e) => {
            let status = if matches!(e, AppError::Unavailable(_)) {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            let msg = e.public_message();
            let id = record(db, base, WebhookOutcome::Failed, format!("processing failed, Cashfree will retry: {msg}"))
                .await;
            let mut alert =
                Alert::new(Severity::Critical, "webhook_failed", format!("webhook processing failed: {msg}"));
            alert.webhook_id = id;
            state.events.alert(db, alert).await;
            reply(status, WebhookOutcome::Failed, id, msg)
        }
    }
}

/// Records a delivery whose body was larger than `limit` bytes: its first bytes are kept (`prefix`), it is
/// MALFORMED, and nothing else is done with it (its signature cannot be checked over a body not read whole).
pub async fn receive_too_large(state: &AppState, headers: &HeaderMap, prefix: &[u8], limit: usize) -> Reply {
    let msg = format!(
        "too large: the body is over {} KiB (Cashfree's are a few KB); its first {} bytes are stored",
        limit / 1024,
        prefix.len()
    );
    let id = record(&state.db, row(headers_json(headers), prefix, false), WebhookOutcome::Malformed, msg.clone()).await;
    Reply { status: StatusCode::PAYLOAD_TOO_LARGE, outcome: WebhookOutcome::Malformed, webhook_id: id, message: msg }
}

/// Applies what paydesk pulled from Cashfree's API (an order's payments) exactly as the same report by webhook
/// would be: recorded (headers say it was pulled; the API call was authenticated), deduplicated, applied.
pub async fn apply_pulled(state: &AppState, body: &[u8]) -> Result<Reply, AppError> {
    let parsed = parse(body, None).map_err(|why| AppError::Internal(anyhow::anyhow!("Cashfree's answer: {why}")))?;
    let headers = serde_json::json!({ "x-paydesk-source": "pulled from Cashfree's API" });
    process(state, parsed_row(headers, body, &parsed), &parsed).await
}

/// Runs a stored delivery again, after an admin fixed what left it unmatched or failed. Only deliveries whose
/// signature verified are trusted; the old row gives up its dedupe key (it moved no money) and a new row records
/// the new outcome.
pub async fn reprocess(state: &AppState, stored: &webhook::Model) -> Result<Reply, AppError> {
    if !stored.signature_valid {
        return Err(AppError::InvalidState("only a delivery whose signature verified can be reprocessed".into()));
    }
    if matches!(stored.outcome, WebhookOutcome::Processed | WebhookOutcome::Duplicate) {
        return Err(AppError::InvalidState(format!(
            "delivery {} was already {}",
            stored.id,
            api_name(&stored.outcome)
        )));
    }
    let key = stored.headers.get("x-idempotency-key").and_then(Value::as_str);
    let parsed =
        parse(&stored.raw_body, key).map_err(|why| AppError::InvalidState(format!("still malformed: {why}")))?;
    webhook::Entity::update_many()
        .col_expr(webhook::Column::IdempotencyKey, sea_orm::sea_query::Expr::value(Option::<String>::None))
        .filter(webhook::Column::Id.eq(stored.id))
        .exec(&state.db)
        .await?;
    let mut headers = stored.headers.clone();
    if let Value::Object(map) = &mut headers {
        map.insert("x-paydesk-reprocessed-from".into(), Value::String(stored.id.to_string()));
    }
    let base = parsed_row(headers, &stored.raw_body, &parsed);
    process(state, base, &parsed).await
}

/// Claims the dedupe key and applies the event, all in one transaction.
async fn process(state: &AppState, mut base: webhook::ActiveModel, parsed: &Parsed) -> Result<Reply, AppError> {
    let txn = state.db.begin().await?;
    base.idempotency_key = Set(Some(parsed.dedupe_key.clone()));
    let claim = webhook::Entity::insert(base.clone())
        .on_conflict_do_nothing_on([webhook::Column::IdempotencyKey])
        .exec(&txn)
        .await?;
    if matches!(claim, TryInsertResult::Conflicted) {
        txn.rollback().await?;
        let msg = format!("already received as {}", parsed.dedupe_key);
        let mut dup = base;
        dup.id = Set(super::new_id());
        dup.idempotency_key = Set(None);
        let id = record(&state.db, dup, WebhookOutcome::Duplicate, msg.clone()).await;
        return Ok(Reply { status: StatusCode::OK, outcome: WebhookOutcome::Duplicate, webhook_id: id, message: msg });
    }
    let fee = state.settings.platform_fee_percent;
    let found = match &parsed.event {
        Event::Payment { order_id, .. } | Event::Refund { order_id, .. } => {
            payment::Entity::find().filter(payment::Column::OrderId.eq(order_id)).one(&txn).await?
        }
        Event::Other => None,
    };
    let mut credited = None;
    // What the delivery did, and the CRITICAL alert it calls for, if any (kind, what to say).
    let (outcome, error, payment_id, alarm): (_, Option<String>, _, Option<(&str, String)>) =
        match (&parsed.event, found) {
            (Event::Other, _) => {
                (WebhookOutcome::Processed, Some(format!("{} is not acted on", parsed.event_type)), None, None)
            }
            (_, None) => {
                let why = format!("no order {} exists here", parsed.order_id.as_deref().unwrap_or("?"));
                let alarm = ("webhook_unmatched", format!("money arrived that matches no order: {why}"));
                (WebhookOutcome::Unmatched, Some(why), None, Some(alarm))
            }
            (Event::Payment { attempt, .. }, Some(p)) => match payments::check_attempt(&p, attempt) {
                Err(m) => {
                    let alarm = ("webhook_unmatched", format!("money arrived that matches no order: {}", m.0));
                    (WebhookOutcome::Unmatched, Some(m.0), Some(p.id), Some(alarm))
                }
                Ok(()) => match payments::apply_attempt(&txn, fee, &p, attempt).await? {
                    Applied::Credited(after) => {
                        credited = Some(after);
                        (WebhookOutcome::Processed, None, Some(p.id), None)
                    }
                    Applied::Updated(_) => (WebhookOutcome::Processed, None, Some(p.id), None),
                    Applied::AlreadyFinal(now)
                        if attempt.status == PaymentStatus::Success
                            && p.cf_payment_id.as_deref() != Some(attempt.cf_payment_id.as_str()) =>
                    {
                        let why = format!(
                            "order {} was already paid (Cashfree payment {}); payment {} of {} {} is a second \
                             charge to the client and was not credited: refund it (the order is {})",
                            p.order_id,
                            p.cf_payment_id.as_deref().unwrap_or("?"),
                            attempt.cf_payment_id,
                            attempt.amount,
                            attempt.currency,
                            api_name(&now)
                        );
                        (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some(("double_charge", why)))
                    }
                    Applied::AlreadyFinal(now) if now == attempt.status => (
                        WebhookOutcome::Duplicate,
                        Some(format!("payment already {} through another delivery", api_name(&now))),
                        Some(p.id),
                        None,
                    ),
                    Applied::AlreadyFinal(now) => (
                        WebhookOutcome::Processed,
                        Some(format!(
                            "ignored: payment is already {}, which a {} cannot undo",
                            api_name(&now),
                            api_name(&attempt.status)
                        )),
                        Some(p.id),
                        None,
                    ),
                },
            },
            (Event::Refund { status, refund, .. }, Some(p)) if status == "SUCCESS" => {
                match payments::apply_refund(&txn, fee, &p, refund).await? {
                    Refunded::Booked { balance } if balance < Money::ZERO => {
                        let why = format!(
                            "refund {} of {} {} on order {} left the wallet of freelancer {} at {balance} {}: the \
                             freelancer owes that and can be paid out nothing until credits cover it",
                            refund.cf_refund_id, refund.amount, p.currency, p.order_id, p.freelancer_id, p.currency
                        );
                        (WebhookOutcome::Processed, None, Some(p.id), Some(("wallet_overdrawn", why)))
                    }
                    Refunded::Booked { .. } => (WebhookOutcome::Processed, None, Some(p.id), None),
                    Refunded::AlreadyBooked => {
                        (WebhookOutcome::Duplicate, Some("refund already booked".into()), Some(p.id), None)
                    }
                    Refunded::NotPaid(why) => {
                        (WebhookOutcome::Failed, Some(why.clone()), Some(p.id), Some(("refund_unpaid", why)))
                    }
                    Refunded::TooMuch(why) => {
                        (WebhookOutcome::Failed, Some(why.clone()), Some(p.id), Some(("over_refund", why)))
                    }
                    Refunded::OtherCurrency(why) => {
                        (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some(("webhook_unmatched", why)))
                    }
                }
            }
            (Event::Refund { status, .. }, Some(p)) => {
                (WebhookOutcome::Processed, Some(format!("refund status {status} needs no booking")), Some(p.id), None)
            }
        };
    let id = base.id.clone().unwrap();
    let settled = webhook::Entity::update_many()
        .col_expr(webhook::Column::Outcome, Expr::value(outcome))
        .col_expr(webhook::Column::Error, Expr::value(error.clone()))
        .col_expr(webhook::Column::PaymentId, Expr::value(payment_id))
        .filter(webhook::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    if settled.rows_affected != 1 {
        return Err(AppError::Internal(anyhow::anyhow!("claimed webhook row {id} vanished")));
    }
    txn.commit().await?;
    if let Some(p) = credited {
        let m = &state.metrics;
        m.money_moved("payments_gross", &p.currency, p.amount);
        m.money_moved("platform_fees", &p.currency, p.platform_fee.unwrap_or_default());
        m.money_moved("net_credited", &p.currency, p.net_amount.unwrap_or_default());
    }
    if let Some((kind, message)) = alarm {
        let mut alert = Alert::new(Severity::Critical, kind, message);
        alert.webhook_id = Some(id);
        alert.payment_id = payment_id;
        state.events.alert(&state.db, alert).await;
    }
    Ok(Reply {
        status: StatusCode::OK,
        outcome,
        webhook_id: Some(id),
        message: error.unwrap_or_else(|| "processed".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../tests/fixtures/payload_success.json");

    #[test]
    fn cashfree_documented_signature_verifies() {
        let body = SAMPLE.trim_end_matches('\n');
        let secrets = vec!["cfsk_ma_test_dummy_secret_123".to_owned()];
        assert!(signature_matches(
            &secrets,
            "1741935031000",
            body.as_bytes(),
            "uESDnfZ3Oa/rzubqQ2gscirM2xqOLW6RwQ8WDm+4W/M="
        ));
        assert!(!signature_matches(
            &secrets,
            "1741935031001",
            body.as_bytes(),
            "uESDnfZ3Oa/rzubqQ2gscirM2xqOLW6RwQ8WDm+4W/M="
        ));
    }

    #[test]
    fn amounts_parse_exactly_and_ids_may_be_numbers() {
        let body = br#"{"type":"PAYMENT_SUCCESS_WEBHOOK","data":{"order":{"order_id":"o1"},"payment":{"cf_payment_id":12345,"payment_status":"SUCCESS","payment_amount":999999999.99,"payment_currency":"INR"}}}"#;
        let p = parse(body, None).unwrap();
        let Event::Payment { attempt, .. } = p.event else { panic!("not a payment") };
        assert_eq!(attempt.amount.to_string(), "999999999.99");
        assert_eq!(attempt.cf_payment_id, "12345");
        assert_eq!(p.dedupe_key, "PAYMENT_SUCCESS_WEBHOOK:12345:SUCCESS");
    }
}
