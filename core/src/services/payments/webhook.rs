//! Cashfree's payment webhooks (payments, refunds and disputes of an order): read, then deduplicated on a unique key
//! inside the same transaction that moves the money. Deliveries pulled from Cashfree's API and deliveries an admin
//! reprocesses take the same way in.

use crate::cashfree::fields::{amount, currency, id, sha_hex, storable_key};
use crate::cashfree::payloads::{
    self, CfId, DisputeWebhookData, Envelope, OrderRef, Payment, PaymentWebhook, PaymentWebhookData,
};
use crate::domain::status::api_name;
use crate::error::AppError;
use crate::events::{Alert, AlertKind};
use crate::services::payments::{self, Applied, Attempt, Refund, Refunded};
use crate::services::payments::{disputes, refunds};
use crate::services::webhooks::{Receipt, Source, Verdict};
use crate::state::AppState;
use chrono::DateTime;
use entity::status::{PaymentStatus, RefundStatus, Severity, WebhookOutcome};
use entity::{payment, payment_webhook as webhook, Money};
use sea_orm::sea_query::Expr;
use sea_orm::DatabaseTransaction;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

/// `POST /api/webhooks/cashfree`: payments and refunds, signed with the Payment Gateway's client secret.
pub struct Payments;

impl Source for Payments {
    const NAME: &'static str = "webhook";
    type Event = Parsed;

    fn secrets(state: &AppState) -> Result<Vec<String>, String> {
        let secrets = &state.settings.webhook_secrets;
        if secrets.is_empty() {
            return Err("CASHFREE_CLIENT_SECRET is not configured; the delivery was recorded but not processed".into());
        }
        Ok(secrets.clone())
    }

    fn read(body: &[u8], key: Option<&str>) -> Result<Parsed, String> {
        parse(body, key)
    }

    fn describe(parsed: &Parsed, row: &mut webhook::ActiveModel) {
        row.event_type = Set(Some(parsed.event_type.clone()));
        row.order_id = Set(parsed.order_id.clone());
        row.cf_payment_id = Set(parsed.cf_payment_id.clone());
    }

    async fn apply(state: &AppState, row: webhook::ActiveModel, parsed: &Parsed) -> Result<Receipt, AppError> {
        process(state, row, parsed).await
    }
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

/// The types of payment webhooks (Cashfree's "Payment Webhooks" page).
const PAYMENTS: [&str; 3] = ["PAYMENT_SUCCESS_WEBHOOK", "PAYMENT_FAILED_WEBHOOK", "PAYMENT_USER_DROPPED_WEBHOOK"];
/// Types Cashfree documents for this route that paydesk records and does not act on: settlements on their way
/// (their payments are reconciled when settled), auto-refunds of payments never credited here, incidents at
/// payment methods, a payment's charges, and a link's own event (its payment's webhook books it). Any other type it
/// does not act on is one it has never seen, and an operator is told.
const RECORDED: [&str; 7] = [
    "SETTLEMENT_INITIATED",
    "SETTLEMENT_FAILED",
    "SETTLEMENT_REVERSED",
    "AUTO_REFUND_STATUS_WEBHOOK",
    "HEALTH_ALERT",
    "PAYMENT_CHARGES_WEBHOOK",
    "PAYMENT_LINK_EVENT",
];
/// The type of refund webhooks.
const REFUND: &str = "REFUND_STATUS_WEBHOOK";
/// The types of dispute webhooks: `DISPUTE_CREATED`, `DISPUTE_UPDATED`, `DISPUTE_CLOSED`.
const DISPUTE: &str = "DISPUTE_";
/// A settlement paid to the platform's bank: its payments are reconciled (`services::payments::settlements`).
const SETTLED: &str = "SETTLEMENT_SUCCESS";

/// A delivery's event, parsed leniently: unknown fields are ignored.
#[derive(Debug)]
enum Event {
    Payment {
        order_id: String,
        /// The payment link the order was made for (`order_tags.link_id`), when Cashfree made the order.
        link_id: Option<String>,
        attempt: Attempt,
    },
    Refund {
        order_id: String,
        status: String,
        refund: Refund,
    },
    Dispute {
        order_id: String,
        report: disputes::Report,
    },
    /// A settlement reached the bank: reconcile the payments paid from `from` on.
    Settlement {
        cf_settlement_id: String,
        from: Option<chrono::DateTime<chrono::Utc>>,
    },
    Other,
}

pub struct Parsed {
    event_type: String,
    order_id: Option<String>,
    cf_payment_id: Option<String>,
    dedupe_key: String,
    event: Event,
}

fn parse(body: &[u8], idempotency_key: Option<&str>) -> Result<Parsed, String> {
    let root: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let hook: Envelope<Value> = payloads::read(root)?;
    let event_type = id("type", hook.kind.as_ref())?;
    if event_type.starts_with(DISPUTE) {
        let data: DisputeWebhookData = payloads::read_at("data", hook.data)?;
        return read_dispute(event_type, data, idempotency_key);
    }
    if event_type == SETTLED {
        let data: payloads::SettlementWebhookData = payloads::read_at("data", hook.data)?;
        let settlement = data.settlement.unwrap_or_default();
        let cf_settlement_id = id("data.settlement.settlement_id", settlement.settlement_id.as_ref())?;
        // India time without a zone: a day's margin either way covers it.
        let from = settlement.payment_from.0.as_deref().and_then(|t| {
            chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|n| n.and_utc() - chrono::Duration::days(1))
        });
        let key = idempotency_key.map(str::to_owned).unwrap_or_else(|| format!("{event_type}:{cf_settlement_id}"));
        return Ok(Parsed {
            dedupe_key: storable_key(key),
            order_id: None,
            cf_payment_id: None,
            event_type,
            event: Event::Settlement { cf_settlement_id, from },
        });
    }
    let acted_on = event_type == REFUND || PAYMENTS.contains(&event_type.as_str());
    if !acted_on {
        // Not acted on: only the order it names is kept, if it names one in the usual place.
        let data = payloads::read::<PaymentWebhookData>(hook.data).unwrap_or_default();
        let order_id = id("", data.order.and_then(|o| o.order_id).as_ref()).ok();
        let key = idempotency_key.map(str::to_owned).unwrap_or_else(|| format!("{event_type}:{}", sha_hex(body)));
        return Ok(Parsed {
            dedupe_key: storable_key(key),
            order_id,
            cf_payment_id: None,
            event_type,
            event: Event::Other,
        });
    }
    let data: PaymentWebhookData = payloads::read_at("data", hook.data)?;
    read_event(event_type, data, idempotency_key)
}

/// The event of a dispute webhook whose type and data have been read.
fn read_dispute(event_type: String, data: DisputeWebhookData, key: Option<&str>) -> Result<Parsed, String> {
    let mut d = data.dispute.unwrap_or_default();
    // The documentation pages put `order_details` beside the dispute, the SDK's `DisputesEntity` inside it.
    let order = data.order_details.or_else(|| d.order_details.take()).unwrap_or_default();
    let cf_dispute_id = id("data.dispute.dispute_id", d.dispute_id.as_ref())?;
    let cf_status = id("data.dispute.dispute_status", d.dispute_status.as_ref())?;
    let order_id = id("data.order_details.order_id", order.order_id.as_ref())?;
    // The dispute's own currency where the version sends it, else the order's.
    let named = [&d.dispute_amount_currency, &order.order_currency, &order.payment_currency];
    let code = named.into_iter().find(|c| c.0.is_some()).cloned().unwrap_or_default();
    let currency = currency("data.dispute.dispute_amount_currency", &code)?;
    let amount = amount("data.dispute.dispute_amount", d.dispute_amount, &currency)?;
    let at = |t: Option<String>| t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc());
    let report = disputes::Report {
        kind: id("", d.dispute_type.as_ref()).unwrap_or_else(|_| "DISPUTE".into()),
        reason_code: id("", d.reason_code.as_ref()).ok(),
        reason: d.reason_description.0.map(|r| r.chars().filter(|c| !c.is_control()).take(500).collect()),
        respond_by: at(d.respond_by.0).map(|t| chrono::SubsecRound::trunc_subsecs(t, 6)),
        closed: event_type == "DISPUTE_CLOSED",
        cf_dispute_id,
        cf_status,
        amount,
        currency,
    };
    let dedupe =
        key.map(str::to_owned).unwrap_or_else(|| format!("{event_type}:{}:{}", report.cf_dispute_id, report.cf_status));
    Ok(Parsed {
        dedupe_key: storable_key(dedupe),
        order_id: Some(order_id.clone()),
        cf_payment_id: id("", order.cf_payment_id.as_ref()).ok(),
        event_type,
        event: Event::Dispute { order_id, report },
    })
}

/// The event of a payment or refund webhook whose type and data have been read.
fn read_event(event_type: String, data: PaymentWebhookData, idempotency_key: Option<&str>) -> Result<Parsed, String> {
    let key = |parts: &[&str]| storable_key(idempotency_key.map(str::to_owned).unwrap_or_else(|| parts.join(":")));
    if event_type == REFUND {
        let r = data.refund.unwrap_or_default();
        let cf_refund_id = id("data.refund.cf_refund_id", r.cf_refund_id.as_ref())?;
        let order_id = id("data.refund.order_id", r.order_id.as_ref())?;
        let status = id("data.refund.refund_status", r.refund_status.as_ref())?;
        let currency = currency("data.refund.refund_currency", &r.refund_currency)?;
        let amount = amount("data.refund.refund_amount", r.refund_amount, &currency)?;
        return Ok(Parsed {
            dedupe_key: key(&[&event_type, &cf_refund_id, &status]),
            order_id: Some(order_id.clone()),
            cf_payment_id: id("", r.cf_payment_id.as_ref()).ok(),
            event_type,
            event: Event::Refund {
                order_id,
                status,
                refund: Refund { cf_refund_id, refund_id: id("", r.refund_id.as_ref()).ok(), amount, currency },
            },
        });
    }
    let order = data.order.unwrap_or_default();
    let order_id = id("data.order.order_id", order.order_id.as_ref())?;
    let tag = |name: &str| order.order_tags.as_ref().and_then(|t| t.get(name)).and_then(Value::as_str);
    let link_id = tag("link_id").map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned);
    let offers: Vec<String> = data
        .payment_offers
        .iter()
        .flatten()
        .map(|o| o.get("offer_id").and_then(Value::as_str).unwrap_or("unnamed").chars().take(64).collect())
        .collect();
    let pay = data.payment.unwrap_or_default();
    let cf_payment_id = id("data.payment.cf_payment_id", pay.cf_payment_id.as_ref())?;
    let raw_status = pay.payment_status.ok_or("data.payment.payment_status is missing")?;
    let status = payment_status(&raw_status).ok_or_else(|| format!("unknown payment_status {raw_status:?}"))?;
    let currency = currency("data.payment.payment_currency", &pay.payment_currency)?;
    let amount = amount("data.payment.payment_amount", pay.payment_amount, &currency)?;
    let method = pay.payment_group.0.or_else(|| pay.payment_method.and_then(|m| m.keys().next().cloned()));
    let paid_at = pay.payment_time.0.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc());
    let message = data.error_details.and_then(|e| e.error_description.0).or(pay.payment_message.0);
    Ok(Parsed {
        dedupe_key: key(&[&event_type, &cf_payment_id, &raw_status]),
        order_id: Some(order_id.clone()),
        cf_payment_id: Some(cf_payment_id.clone()),
        event_type,
        event: Event::Payment {
            order_id: order_id.clone(),
            link_id,
            attempt: Attempt {
                cf_payment_id,
                status,
                amount,
                currency,
                method,
                bank_reference: pay.bank_reference.0,
                message,
                paid_at: paid_at.map(|t| chrono::SubsecRound::trunc_subsecs(t, 6)),
                paid_on: Some(order_id),
                offers: (!offers.is_empty()).then(|| offers.join(", ")),
            },
        },
    })
}

/// The row of a delivery whose signature verified (or that paydesk pulled itself) and whose body parsed.
fn parsed_row(headers: Value, body: &[u8], parsed: &Parsed) -> webhook::ActiveModel {
    let mut r = crate::services::webhooks::row(headers, body, true);
    Payments::describe(parsed, &mut r);
    r
}

/// Applies what paydesk pulled from Cashfree's API (an order's payments) exactly as the same report by webhook
/// would be: recorded (headers say it was pulled; the API call was authenticated), deduplicated, applied.
/// The delivery is recorded in the shape of the webhook that would have said the same (so that a reprocess reads
/// it like any other), and its event read from the typed payload, not from that record.
pub async fn apply_pulled(state: &AppState, order: OrderRef, payment: Payment) -> Result<Receipt, AppError> {
    let event_type = match payment.payment_status.as_deref() {
        Some("SUCCESS") => "PAYMENT_SUCCESS_WEBHOOK",
        Some("USER_DROPPED") => "PAYMENT_USER_DROPPED_WEBHOOK",
        _ => "PAYMENT_FAILED_WEBHOOK",
    };
    let kind = Some(CfId(event_type.into()));
    let data = PaymentWebhookData { order: Some(order), payment: Some(payment), ..Default::default() };
    let hook: PaymentWebhook = Envelope { kind, data };
    let body = serde_json::to_vec(&hook).map_err(|e| AppError::Internal(e.into()))?;
    let parsed = read_event(event_type.into(), hook.data, None)
        .map_err(|why| AppError::Internal(anyhow::anyhow!("Cashfree's answer: {why}")))?;
    let headers = serde_json::json!({ "x-paydesk-source": "pulled from Cashfree's API" });
    process(state, parsed_row(headers, &body, &parsed), &parsed).await
}

/// Runs a stored delivery again, after an admin fixed what left it unmatched or failed. Only deliveries whose
/// signature verified are trusted; the old row gives up its dedupe key (it moved no money) and a new row records
/// the new outcome.
pub async fn reprocess(state: &AppState, stored: &webhook::Model) -> Result<Receipt, AppError> {
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
async fn process(state: &AppState, base: webhook::ActiveModel, parsed: &Parsed) -> Result<Receipt, AppError> {
    process_keyed(state, base, parsed, parsed.dedupe_key.clone(), None).await
}

/// `process` under `key`; `reused` says why the sender's own key was not used (and raises it as CRITICAL).
async fn process_keyed(
    state: &AppState,
    mut base: webhook::ActiveModel,
    parsed: &Parsed,
    key: String,
    reused: Option<String>,
) -> Result<Receipt, AppError> {
    let txn = crate::db::begin(&state.db).await?;
    base.idempotency_key = Set(Some(key.clone()));
    if !crate::services::webhooks::claim(&txn, &base).await? {
        txn.rollback().await?;
        if reused.is_none() {
            if let Some((natural, why)) = reused_key(&state.db, &base, parsed).await? {
                return Box::pin(process_keyed(state, base, parsed, natural, Some(why))).await;
            }
        }
        return Ok(crate::services::webhooks::duplicate(&state.db, base, format!("already received as {key}")).await);
    }
    let found = match &parsed.event {
        Event::Payment { order_id, link_id, .. } => paid_on(&txn, order_id, link_id.as_deref()).await?,
        Event::Refund { order_id, .. } | Event::Dispute { order_id, .. } => paid_on(&txn, order_id, None).await?,
        Event::Other | Event::Settlement { .. } => None,
    };
    let done = apply(&txn, &state.settings, parsed, found).await?;
    let Done { outcome, error, payment_id, alarms, credited } = done;
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
    if let Event::Settlement { from, .. } = &parsed.event {
        // Outside the delivery's answer: Cashfree is not kept waiting for paydesk's calls back to it.
        let (state, now) = (state.clone(), crate::clock::now());
        let from = from.unwrap_or(now - chrono::Duration::days(7));
        tokio::spawn(async move {
            if let Err(e) =
                crate::services::payments::settlements::reconcile(&state, from, now + chrono::Duration::hours(1)).await
            {
                tracing::warn!(error = %e, "reconciling a settled settlement failed; the next poll tries again");
            }
        });
    }
    if let Some(p) = credited {
        let m = &state.metrics;
        m.money_moved("payments_gross", &p.currency, p.amount);
        m.money_moved("platform_fees", &p.currency, p.platform_fee.unwrap_or_default());
        m.money_moved("net_credited", &p.currency, p.net_amount.unwrap_or_default());
    }
    let reused = reused.map(|why| (Severity::Critical, AlertKind::WebhookKeyReused, why));
    for (severity, kind, message) in alarms.into_iter().chain(reused) {
        let mut alert = Alert::new(severity, kind, message);
        alert.webhook_id = Some(id);
        alert.payment_id = payment_id;
        state.events.alert(&state.db, alert).await;
    }
    Ok(Receipt::new(Verdict::Accepted, outcome, Some(id), error.unwrap_or_else(|| "processed".into())))
}

/// When a delivery's `x-idempotency-key` was claimed by another delivery of another event (not a retry of this one,
/// whatever else differs), the key this one is to be taken under (what it says of itself) and why. A repeat of the
/// same event, and an event paydesk does not act on, is a plain duplicate.
async fn reused_key(
    db: &sea_orm::DatabaseConnection,
    base: &webhook::ActiveModel,
    parsed: &Parsed,
) -> Result<Option<(String, String)>, AppError> {
    if matches!(parsed.event, Event::Other) {
        return Ok(None);
    }
    let Some(body) = base.raw_body.try_as_ref() else { return Ok(None) };
    let Ok(natural) = parse(body, None).map(|p| p.dedupe_key) else { return Ok(None) };
    if natural == parsed.dedupe_key {
        return Ok(None); // no key of the sender's: what the event says was claimed already
    }
    let claimed =
        webhook::Entity::find().filter(webhook::Column::IdempotencyKey.eq(&parsed.dedupe_key)).one(db).await?;
    let Some(claimed) = claimed else { return Ok(None) };
    if parse(&claimed.raw_body, None).is_ok_and(|p| p.dedupe_key == natural) {
        return Ok(None);
    }
    let why = format!(
        "a delivery of {natural} came with x-idempotency-key {}, which delivery {} of another event had: taken by \
         what it says, not dropped as a duplicate; Cashfree gives each event a key of its own, so ask who sent it",
        parsed.dedupe_key, claimed.id
    );
    Ok(Some((natural, why)))
}

/// The payment a Cashfree order belongs to: the payment of that order id, or the one paid on it (a link's order,
/// which Cashfree made), or, for a payment on an order Cashfree made for a link, the payment whose link it is.
async fn paid_on(
    txn: &DatabaseTransaction,
    order_id: &str,
    link_id: Option<&str>,
) -> Result<Option<payment::Model>, AppError> {
    // One indexed lookup each, the common one first: a webhook of paydesk's own order costs what it always did.
    for by in [payment::Column::OrderId, payment::Column::PaidOrderId] {
        if let Some(p) = payment::Entity::find().filter(by.eq(order_id)).one(txn).await? {
            return Ok(Some(p));
        }
    }
    let Some(link) = link_id else { return Ok(None) };
    // paydesk names each link after its order; only an order that has a link is paid through one.
    let linked = payment::Entity::find().filter(payment::Column::OrderId.eq(link));
    Ok(linked.filter(payment::Column::LinkUrl.is_not_null()).one(txn).await?)
}

/// Whether a refund of Cashfree payment `charge` returns another charge than the one `p` was credited with (a
/// client's second charge for the order). A payment verified by hand without Cashfree's id is taken to be that
/// charge.
fn another_charge(p: &payment::Model, charge: &str) -> bool {
    let credited = p.cf_payment_id.as_deref().filter(|c| !c.starts_with("manual:"));
    credited.is_some_and(|c| c != charge) && matches!(p.status, PaymentStatus::Success | PaymentStatus::Refunded)
}

/// What applying a delivery did: its outcome, why (when it did not book what it said), the payment it concerned,
/// the alerts it calls for (how loud, kind, what to say), and the payment as credited (for the money metrics).
struct Done {
    outcome: WebhookOutcome,
    error: Option<String>,
    payment_id: Option<Uuid>,
    alarms: Vec<(Severity, AlertKind, String)>,
    credited: Option<payment::Model>,
}

impl Done {
    fn of(
        outcome: WebhookOutcome,
        error: Option<String>,
        payment_id: Option<Uuid>,
        alarm: Option<(AlertKind, String)>,
    ) -> Self {
        let alarms = alarm.map(|(kind, message)| (Severity::Critical, kind, message)).into_iter().collect();
        Done { outcome, error, payment_id, alarms, credited: None }
    }
}

/// Settles a refund paydesk started, as Cashfree's refund webhook reports it: only with the amount and currency
/// it was started with, on its own payment.
async fn settle_ours(
    txn: &DatabaseTransaction,
    p: &payment::Model,
    status: &str,
    reported: &Refund,
    mine: entity::refund::Model,
) -> Result<Done, AppError> {
    if mine.payment_id != p.id || mine.amount != reported.amount || mine.currency != reported.currency {
        let why = format!(
            "refund {} was started for {} {} on another order or amount than Cashfree reports ({} {} on order {}); \
             nothing was booked",
            mine.refund_id, mine.amount, mine.currency, reported.amount, reported.currency, p.order_id
        );
        return Ok(Done::of(
            WebhookOutcome::Unmatched,
            Some(why.clone()),
            Some(p.id),
            Some((AlertKind::WebhookUnmatched, why)),
        ));
    }
    let cf = Some(reported.cf_refund_id.clone());
    let given_up = mine.status == RefundStatus::Failed;
    Ok(match refunds::settle(txn, &mine, status, cf).await? {
        Some((now, true)) if given_up && now.status == RefundStatus::Succeeded => {
            let why = format!(
                "Cashfree paid refund {} of {} {} on order {}, which paydesk had marked failed and given back: it is \
                 booked now and the freelancer's share taken again; check why it was given up",
                now.refund_id, now.amount, now.currency, p.order_id
            );
            let mut done = Done::of(WebhookOutcome::Processed, Some(why.clone()), Some(p.id), None);
            done.alarms.push((Severity::Critical, AlertKind::RefundPaidAfterFailure, why));
            done
        }
        Some((_, true)) => Done::of(WebhookOutcome::Processed, None, Some(p.id), None),
        Some((now, false)) => Done::of(
            WebhookOutcome::Duplicate,
            Some(format!("refund {} was already {}", now.refund_id, api_name(&now.status))),
            Some(p.id),
            None,
        ),
        None => Done::of(
            WebhookOutcome::Processed,
            Some(format!("refund status {status} needs no booking")),
            Some(p.id),
            None,
        ),
    })
}

/// Applies a claimed delivery's event to its payment (`found`, if its order exists), inside the claim's
/// transaction.
async fn apply(
    txn: &DatabaseTransaction,
    settings: &crate::state::Settings,
    parsed: &Parsed,
    found: Option<payment::Model>,
) -> Result<Done, AppError> {
    if let (Event::Refund { status, refund, .. }, Some(p)) = (&parsed.event, &found) {
        // Ours by the `refund_id` paydesk gave it, else by the `cf_refund_id` Cashfree answered its creation with (a
        // webhook may come without ours): a refund started here is never booked a second time as one of Cashfree's.
        let started_here = match &refund.refund_id {
            Some(refund_id) => refunds::ours(txn, refund_id).await?,
            None => None,
        };
        let started_here = match started_here {
            Some(mine) => Some(mine),
            None => refunds::by_cf_refund_id(txn, &refund.cf_refund_id).await?,
        };
        if let Some(mine) = started_here {
            return settle_ours(txn, p, status, refund, mine).await;
        }
    }
    let (outcome, error, payment_id, alarm) = match (&parsed.event, found) {
        (Event::Other, _) if RECORDED.contains(&parsed.event_type.as_str()) => {
            (WebhookOutcome::Processed, Some(format!("{} is recorded, not acted on", parsed.event_type)), None, None)
        }
        (Event::Other, _) => {
            let why =
                format!("{} is a webhook type paydesk has never seen: recorded, nothing was done", parsed.event_type);
            let mut done = Done::of(WebhookOutcome::Processed, Some(why.clone()), None, None);
            done.alarms.push((Severity::Warning, AlertKind::WebhookUnknownType, why));
            return Ok(done);
        }
        (Event::Settlement { cf_settlement_id, .. }, _) => (
            WebhookOutcome::Processed,
            Some(format!(
                "settlement {cf_settlement_id}: its payments are reconciled from Cashfree's settlement reconciliation"
            )),
            None,
            None,
        ),
        (_, None) => {
            let why = format!("no order {} exists here", parsed.order_id.as_deref().unwrap_or("?"));
            let alarm = (AlertKind::WebhookUnmatched, format!("money arrived that matches no order: {why}"));
            (WebhookOutcome::Unmatched, Some(why), None, Some(alarm))
        }
        (Event::Payment { attempt, .. }, Some(p)) => match payments::check_attempt(&p, attempt) {
            Err(m) => {
                let alarm = (AlertKind::WebhookUnmatched, format!("money arrived that matches no order: {}", m.0));
                (WebhookOutcome::Unmatched, Some(m.0), Some(p.id), Some(alarm))
            }
            Ok(()) => match payments::apply_attempt(txn, settings, &p, attempt).await? {
                Applied::Credited(after) => {
                    let mut done = Done::of(WebhookOutcome::Processed, None, Some(p.id), None);
                    done.credited = Some(after);
                    return Ok(done);
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
                    (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some((AlertKind::DoubleCharge, why)))
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
        // `cf_payment_id` of a refund is the charge it returns.
        (Event::Refund { status, refund, .. }, Some(p))
            if status == "SUCCESS" && parsed.cf_payment_id.as_deref().is_some_and(|c| another_charge(&p, c)) =>
        {
            let charge = parsed.cf_payment_id.as_deref().unwrap_or_default();
            let second = webhook::Entity::find()
                .filter(webhook::Column::CfPaymentId.eq(charge))
                .filter(webhook::Column::PaymentId.eq(p.id))
                .one(txn)
                .await?
                .is_some();
            let why = format!(
                "refund {} of {} {} returns Cashfree payment {charge} on order {}, which paydesk never credited (it \
                 credited payment {}): nothing was taken from the freelancer",
                refund.cf_refund_id,
                refund.amount,
                refund.currency,
                p.order_id,
                p.cf_payment_id.as_deref().unwrap_or("?")
            );
            if second {
                // The refund an admin was told to make of a client's second charge.
                (WebhookOutcome::Processed, Some(why), Some(p.id), None)
            } else {
                (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some((AlertKind::WebhookUnmatched, why)))
            }
        }
        (Event::Refund { status, refund, .. }, Some(p)) if status == "SUCCESS" => {
            match payments::apply_refund(txn, settings.platform_fee_percent, &p, refund).await? {
                Refunded::Booked { balance } if balance < Money::ZERO => {
                    let why = format!(
                        "refund {} of {} {} on order {} left the wallet of freelancer {} at {balance} {}: the \
                         freelancer owes that and can be paid out nothing until credits cover it",
                        refund.cf_refund_id, refund.amount, p.currency, p.order_id, p.freelancer_id, p.currency
                    );
                    (WebhookOutcome::Processed, None, Some(p.id), Some((AlertKind::WalletOverdrawn, why)))
                }
                Refunded::Booked { .. } => (WebhookOutcome::Processed, None, Some(p.id), None),
                Refunded::AlreadyBooked => {
                    (WebhookOutcome::Duplicate, Some("refund already booked".into()), Some(p.id), None)
                }
                Refunded::NotPaid(why) => {
                    (WebhookOutcome::Failed, Some(why.clone()), Some(p.id), Some((AlertKind::RefundUnpaid, why)))
                }
                Refunded::TooMuch(why) => {
                    (WebhookOutcome::Failed, Some(why.clone()), Some(p.id), Some((AlertKind::OverRefund, why)))
                }
                Refunded::OtherCurrency(why) => {
                    (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some((AlertKind::WebhookUnmatched, why)))
                }
            }
        }
        (Event::Dispute { report, .. }, Some(p)) => match disputes::apply(txn, settings, &p, report).await? {
            Ok(applied) => {
                return Ok(Done {
                    outcome: WebhookOutcome::Processed,
                    error: applied.note,
                    payment_id: Some(p.id),
                    alarms: applied.alarms,
                    credited: None,
                })
            }
            Err(why) => {
                (WebhookOutcome::Unmatched, Some(why.clone()), Some(p.id), Some((AlertKind::WebhookUnmatched, why)))
            }
        },
        (Event::Refund { status, .. }, Some(p)) => {
            (WebhookOutcome::Processed, Some(format!("refund status {status} needs no booking")), Some(p.id), None)
        }
    };
    Ok(Done::of(outcome, error, payment_id, alarm))
}

#[cfg(test)]
mod tests {
    use super::*;

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
