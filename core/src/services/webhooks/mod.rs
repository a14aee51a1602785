//! Provider deliveries (Cashfree's payment and payout webhooks) through one pipeline: record every delivery
//! (invalid ones too), authenticate the signature over the raw bytes, read the body, then let the source claim its
//! dedupe key and apply the event. A `Receipt` says how it ended; the edge picks the answer's status from its
//! `Verdict`, so that Cashfree retries only when a retry can help.

pub mod payouts_v1;
mod rejections;

pub use rejections::spawn_bursts;

use crate::error::AppError;
use crate::events::{Alert, AlertKind};
use crate::state::AppState;
use base64::Engine;
use chrono::Utc;
use entity::payment_webhook as webhook;
use entity::status::{Severity, WebhookOutcome};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set, TryInsertResult, TryIntoModel,
};
use serde_json::Value;
use std::future::Future;
use uuid::Uuid;

/// How a delivery ended, as far as its sender is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Taken (processed, a duplicate, unmatched, or refused on its merits): a retry cannot change it.
    Accepted,
    /// No secret is configured to verify it with.
    Unconfigured,
    /// The signature or timestamp does not hold.
    BadSignature,
    /// Signed, but its body cannot be read or names an amount nothing may be booked from.
    Malformed,
    /// Its body is over the size limit; its first bytes were kept.
    TooLarge,
    /// Refused unread, and its address has had as many such deliveries stored this minute as it may: not stored;
    /// the seconds until one may be again.
    Throttled(u64),
    /// Something paydesk depends on is down: a retry later can help.
    Unavailable,
    /// Applying it failed; a retry may help.
    Failed,
}

/// What became of one delivery.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub verdict: Verdict,
    pub outcome: WebhookOutcome,
    /// The row that records it (none if even recording failed).
    pub webhook_id: Option<Uuid>,
    pub message: String,
}

impl Verdict {
    /// The verdict for a failure to apply: a retry can help either way, but only an outage says "later".
    pub fn of_failure(e: &AppError) -> Verdict {
        if matches!(e, AppError::Unavailable(_)) {
            Verdict::Unavailable
        } else {
            Verdict::Failed
        }
    }
}

impl Receipt {
    pub(crate) fn new(verdict: Verdict, outcome: WebhookOutcome, webhook_id: Option<Uuid>, message: String) -> Self {
        Self { verdict, outcome, webhook_id, message }
    }

    /// A delivery that failed to apply, recorded as `webhook_id`.
    fn failed(e: &AppError, webhook_id: Option<Uuid>, message: String) -> Self {
        Self::new(Verdict::of_failure(e), WebhookOutcome::Failed, webhook_id, message)
    }
}

/// The headers of a delivery that paydesk reads or keeps for the record: the `x-webhook-*` ones, the idempotency
/// key, the content type and the user agent. Names are lower case, as HTTP/1.1 servers hand them over.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<(String, Vec<u8>)>, Option<std::net::IpAddr>);

impl Headers {
    /// Keeps, of `all` (name, raw value), the headers above; the rest are dropped.
    pub fn new<'a>(all: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        let kept = |n: &str| {
            n.starts_with("x-webhook-") || n == "x-idempotency-key" || n == "content-type" || n == "user-agent"
        };
        Self(all.into_iter().filter(|(n, _)| kept(n)).map(|(n, v)| (n.to_owned(), v.to_vec())).collect(), None)
    }

    /// The address the delivery came from (the trusted proxies' entry, else the peer).
    pub fn from(mut self, address: std::net::IpAddr) -> Self {
        self.1 = Some(address);
        self
    }

    /// The first value of `name`, trimmed, if it is present, printable ASCII and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        let (_, value) = self.0.iter().find(|(n, _)| n == name)?;
        let printable = value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b));
        let value = std::str::from_utf8(value).ok().filter(|_| printable)?;
        Some(value.trim()).filter(|v| !v.is_empty())
    }

    /// The headers as a JSON object, for the record.
    pub(crate) fn to_json(&self) -> Value {
        let kept = self.0.iter().map(|(n, v)| (n.clone(), Value::String(String::from_utf8_lossy(v).into())));
        Value::Object(kept.collect())
    }
}

/// One kind of delivery: which secrets sign it, how its body reads, and what applying it does.
pub trait Source {
    /// Names the delivery in alerts ("webhook", "payout webhook").
    const NAME: &'static str;
    /// What a body says, once read.
    type Event: Send + Sync;

    /// The secrets that sign these deliveries, or why there are none.
    fn secrets(state: &AppState) -> Result<Vec<String>, String>;

    /// Reads a signed body (`key`: the sender's idempotency key). An error makes the delivery MALFORMED.
    fn read(body: &[u8], key: Option<&str>) -> Result<Self::Event, String>;

    /// Writes into the delivery's row what the event says of itself (its type, the order or transfer it names).
    fn describe(event: &Self::Event, row: &mut webhook::ActiveModel);

    /// Claims the event's dedupe key and applies it; `row` records the delivery and is to be stored by this.
    /// An error leaves nothing claimed and nothing applied: the pipeline records the delivery FAILED.
    fn apply(
        state: &AppState,
        row: webhook::ActiveModel,
        event: &Self::Event,
    ) -> impl Future<Output = Result<Receipt, AppError>> + Send;
}

/// Takes one delivery of `S` end to end.
#[tracing::instrument(skip_all, fields(source = S::NAME, bytes = body.len()))]
pub async fn receive<S: Source>(state: &AppState, headers: &Headers, body: &[u8]) -> Receipt {
    let db = &state.db;
    let secrets = match S::secrets(state) {
        Ok(secrets) => secrets,
        Err(msg) => return unconfigured(state, headers, body, msg).await,
    };
    if let Err(why) = authenticate(&secrets, state.settings.webhook_tolerance_secs, headers, body) {
        return rejected(state, headers, body, S::NAME, why).await;
    }
    let event = match S::read(body, headers.get("x-idempotency-key")) {
        Ok(event) => event,
        Err(why) => return malformed(state, row(headers.to_json(), body, true), why).await,
    };
    let mut base = row(headers.to_json(), body, true);
    S::describe(&event, &mut base);
    match S::apply(state, base.clone(), &event).await {
        Ok(receipt) => receipt,
        Err(e) => {
            let msg = e.public_message();
            let why = format!("processing failed, Cashfree will retry: {msg}");
            let id = record(db, base, WebhookOutcome::Failed, why).await;
            let mut alert =
                Alert::new(Severity::Critical, AlertKind::WebhookFailed, format!("webhook processing failed: {msg}"));
            alert.webhook_id = id;
            state.events.alert(db, alert).await;
            Receipt::failed(&e, id, msg)
        }
    }
}

/// Records a delivery no secret can verify (`why`: which is missing): FAILED, and answered so Cashfree retries.
pub(crate) async fn unconfigured(state: &AppState, headers: &Headers, body: &[u8], why: String) -> Receipt {
    let id = record(&state.db, row(headers.to_json(), body, false), WebhookOutcome::Failed, why.clone()).await;
    Receipt::new(Verdict::Unconfigured, WebhookOutcome::Failed, id, why)
}

/// Of a delivery refused unread, the bytes of its body that are kept: anyone can send one, so no more than this.
pub const REFUSED_KEPT: usize = 4 * 1024;

/// Records a delivery refused unread (`why`, answered `verdict`, `outcome`), not chained and kept for
/// `PAYDESK_REJECTED_WEBHOOK_RETENTION_DAYS`: its headers, its size, the SHA-256 of what was read, and its first
/// [`REFUSED_KEPT`] bytes; at most `PAYDESK_WEBHOOK_REJECTS_PER_MINUTE` a minute from one address (beyond, 429,
/// nothing stored), and one WARNING `signature_rejected` alert a burst, with counts after.
async fn refused(
    state: &AppState,
    headers: &Headers,
    body: &[u8],
    source: &str,
    why: String,
    (verdict, outcome): (Verdict, WebhookOutcome),
) -> Receipt {
    match verdict {
        Verdict::BadSignature => tracing::warn!(%why, source, address = ?headers.1, "webhook signature rejected"),
        _ => tracing::warn!(%why, source, address = ?headers.1, "webhook refused unread"),
    }
    let noted = state.rejections.refused(headers.1, source, &why);
    if let Some(secs) = noted.throttled {
        if let Some(message) = noted.alert {
            rejections::raise(state, message, None).await;
        }
        let msg = format!("{why}; too many refused deliveries from this address: try again in {secs} s");
        return Receipt::new(Verdict::Throttled(secs), outcome, None, msg);
    }
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
    let kept = &body[..body.len().min(REFUSED_KEPT)];
    let part = match kept.len() < body.len() {
        true => format!("its first {} kept", kept.len()),
        false => "kept whole".to_owned(),
    };
    let stored = format!("{why} (the body read: {} bytes, SHA-256 {digest}; {part})", body.len());
    let id = record(&state.db, row(headers.to_json(), kept, false), outcome, stored).await;
    if let Some(message) = noted.alert {
        rejections::raise(state, message, id).await;
    }
    Receipt::new(verdict, outcome, id, why)
}

/// Records a delivery of `source` whose signature does not hold (`why`), as [`refused`] does.
pub(crate) async fn rejected(state: &AppState, headers: &Headers, body: &[u8], source: &str, why: String) -> Receipt {
    refused(state, headers, body, source, why, (Verdict::BadSignature, WebhookOutcome::RejectedSignature)).await
}

/// Records a delivery whose body was larger than `limit` bytes, as [`refused`] does: MALFORMED, and nothing else is
/// done with it (its signature cannot be checked over a body not read whole).
pub async fn receive_too_large(state: &AppState, headers: &Headers, prefix: &[u8], limit: usize) -> Receipt {
    let msg = format!("too large: the body is over {} KiB (Cashfree's are a few KB)", limit / 1024);
    refused(state, headers, prefix, "webhook", msg, (Verdict::TooLarge, WebhookOutcome::Malformed)).await
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

/// Why a delivery's signature (by one of `secrets`) or timestamp (within `tolerance` seconds, 0 = any) does not
/// hold, if it does not.
fn authenticate(secrets: &[String], tolerance: u64, headers: &Headers, body: &[u8]) -> Result<(), String> {
    let signature = headers.get("x-webhook-signature").ok_or("missing x-webhook-signature header")?;
    let timestamp = headers.get("x-webhook-timestamp").ok_or("missing x-webhook-timestamp header")?;
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

/// The delivery's row, before its outcome is known.
pub(crate) fn row(headers: Value, body: &[u8], signature_valid: bool) -> webhook::ActiveModel {
    webhook::ActiveModel {
        id: Set(crate::clock::new_id()),
        received_at: Set(crate::clock::now()),
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
        content_hash: Set(None),
    }
}

/// `row` with the hash of what it received, which its history link will carry: taken as it is stored, after
/// every change to its id or content.
fn sealed(mut row: webhook::ActiveModel) -> Result<webhook::ActiveModel, DbErr> {
    let model = row.clone().try_into_model()?;
    row.content_hash = Set(Some(crate::services::evidence::history::content::seal::<webhook::Entity>(&model)));
    Ok(row)
}

/// Claims `row`'s dedupe key by storing the row (on `db`, a transaction of the source's if the money moves in it):
/// `false` if a delivery with the same key claimed it first.
pub(crate) async fn claim(db: &impl ConnectionTrait, row: &webhook::ActiveModel) -> Result<bool, DbErr> {
    let claimed = webhook::Entity::insert(sealed(row.clone())?)
        .on_conflict_do_nothing_on([webhook::Column::IdempotencyKey])
        .exec(db)
        .await?;
    Ok(!matches!(claimed, TryInsertResult::Conflicted))
}

/// Records `row`, whose key another delivery claimed, as a DUPLICATE of it (a row of its own, without the key).
pub(crate) async fn duplicate(db: &DatabaseConnection, mut row: webhook::ActiveModel, message: String) -> Receipt {
    row.id = Set(crate::clock::new_id());
    row.idempotency_key = Set(None);
    let id = record(db, row, WebhookOutcome::Duplicate, message.clone()).await;
    Receipt::new(Verdict::Accepted, WebhookOutcome::Duplicate, id, message)
}

/// Records a delivery that was not processed (no dedupe key, so it never blocks a good one).
pub(crate) async fn record(
    db: &DatabaseConnection,
    mut r: webhook::ActiveModel,
    outcome: WebhookOutcome,
    error: String,
) -> Option<Uuid> {
    r.outcome = Set(outcome);
    r.error = Set(Some(error));
    let stored = match sealed(r) {
        Ok(r) => r.insert(db).await,
        Err(e) => Err(e),
    };
    match stored {
        Ok(m) => Some(m.id),
        Err(e) => {
            tracing::error!(error = %e, "could not record a webhook delivery");
            None
        }
    }
}

/// Records a delivery whose signature verified but whose body cannot be read (or names an amount nothing may be
/// booked from), and raises a CRITICAL alert: whoever holds the secret sent it, and nothing was booked.
async fn malformed(state: &AppState, r: webhook::ActiveModel, why: String) -> Receipt {
    let id = record(&state.db, r, WebhookOutcome::Malformed, why.clone()).await;
    let mut alert = Alert::new(
        Severity::Critical,
        AlertKind::WebhookMalformed,
        format!("a signed webhook was refused unread: {why}"),
    );
    alert.webhook_id = id;
    state.events.alert(&state.db, alert).await;
    Receipt::new(Verdict::Malformed, WebhookOutcome::Malformed, id, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../../tests/fixtures/payload_success.json");

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
    fn headers_keep_what_the_record_needs_and_read_only_printable_values() {
        let raw: [(&str, &[u8]); 4] = [
            ("x-webhook-signature", b" abc= "),
            ("authorization", b"Bearer secret"),
            ("x-webhook-timestamp", b"12\xff3"),
            ("x-idempotency-key", b"   "),
        ];
        let h = Headers::new(raw);
        assert_eq!(h.get("x-webhook-signature"), Some("abc="));
        assert_eq!(h.get("authorization"), None, "not kept");
        assert_eq!(h.get("x-webhook-timestamp"), None, "not printable");
        assert_eq!(h.get("x-idempotency-key"), None, "blank");
        assert!(h.to_json().get("authorization").is_none());
        assert_eq!(h.to_json()["x-webhook-timestamp"], "12\u{fffd}3");
    }
}
