//! A local stand-in for Cashfree, for tests and for running the whole loop on one machine (`cargo run --release
//! --bin cashfree-double`; its flags are [`Args`]). Kept out of the `paydesk` binary: production never carries it. It speaks the subset paydesk uses (create order, payment link, an order's payments, create
//! refund, beneficiary, create and look up a transfer) with Cashfree's auth headers, and plays Cashfree's part afterwards:
//! a customer paying (`pay`, or the link's page), a transfer ending (`complete_transfer`, or by itself after a
//! delay), a client's bank disputing a payment and the dispute being decided (`open_dispute`, `move_dispute`), each
//! sent back as a signed webhook and retried on any answer but 200. It can be told to fail, delay,
//! time out or answer 5xx.

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod run;
pub use run::{run, Args};

/// Who the double accepts and where it sends webhooks.
#[derive(Clone, Debug)]
pub struct DoubleConfig {
    pub pg_client_id: String,
    pub pg_secret: String,
    pub payout_client_id: String,
    pub payout_secret: String,
    /// paydesk's base URL (`http://127.0.0.1:3000`): webhooks go to its Cashfree routes.
    pub paydesk_url: String,
    /// Transfers end SUCCESS by themselves after this long (for a person trying the loop); `None`: only when told.
    pub complete_transfers_after: Option<Duration>,
}

/// A fault to inject on calls whose path starts with `path`.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status without doing anything.
    Status(u16),
    /// Do the work, then answer this status (the caller cannot tell it happened).
    StatusAfter(u16),
    /// Do nothing for this long before answering (longer than the caller's timeout: a timeout).
    Delay(Duration),
}

#[derive(Default)]
struct Store {
    orders: HashMap<String, Value>,
    payments: HashMap<String, Vec<Value>>,
    /// Payment links by `link_id`, as created (`LinkEntity`).
    links: HashMap<String, Value>,
    transfers: HashMap<String, Value>,
    /// Beneficiaries by their `beneficiary_id`, as created.
    beneficiaries: HashMap<String, Value>,
    /// Refunds by their `refund_id`, as Create Refund answered (and their status as last reported).
    refunds: HashMap<String, Value>,
    /// Dispute webhooks' `data` by dispute id, as last sent.
    disputes: HashMap<String, Value>,
    faults: Vec<(String, Fault, u32)>,
    calls: Vec<String>,
    /// Every authenticated call with its request and answer bodies, and every webhook sent, for `transcript`.
    exchanges: Vec<Value>,
    webhooks: Vec<Value>,
    /// The W3C `traceparent` each call came with, if any, beside `calls`.
    traceparents: Vec<Option<String>>,
    /// How the settlement of an order's payment departs from the truth (`amount`, `settled`, `service_charge`,
    /// `service_tax`, or `withhold: true` for not settled at all), by order id.
    settlement_tweaks: HashMap<String, Value>,
    /// Settlement events of payments paydesk never saw.
    foreign_settlements: Vec<Value>,
    /// The Payouts account's balance (`None`: the default of 1,000,000.00).
    payout_balance: Option<String>,
    /// The secret payout webhooks are signed with, when not the one calls authenticate with: during a key
    /// rotation Cashfree signs with the oldest active key.
    payout_signing_secret: Option<String>,
    /// Other paydesk instances (base URLs) each delivery also goes to, at the same moment and under the same key.
    mirrors: Vec<String>,
    seq: u64,
}

impl Store {
    /// The fault planned for the next call (`METHOD path`), if any, used up: one planned for a prefix of the path,
    /// or of the method and the path.
    fn take_fault(&mut self, call: &str) -> Option<Fault> {
        let path = call.split_once(' ').map_or(call, |(_, path)| path);
        let planned = |p: &str| path.starts_with(p) || call.starts_with(p);
        let (_, fault, times) = self.faults.iter_mut().find(|(p, _, n)| planned(p) && *n > 0)?;
        *times -= 1;
        Some(fault.clone())
    }

    /// Records a call (`METHOD path`) and the trace context it came with.
    fn called(&mut self, call: String, headers: &axum::http::HeaderMap) {
        self.calls.push(call);
        self.traceparents.push(headers.get("traceparent").and_then(|v| v.to_str().ok()).map(str::to_owned));
    }
}

/// The running double.
pub struct Double {
    config: DoubleConfig,
    store: Mutex<Store>,
    http: reqwest::Client,
    url: String,
    /// paydesk's base URL, settable after start (a test's server may start after its double).
    paydesk_url: Mutex<String>,
}

impl Double {
    /// Starts the double on `addr` (port 0 for any) and returns it once it listens.
    pub async fn start(config: DoubleConfig, addr: SocketAddr) -> anyhow::Result<Arc<Double>> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let paydesk_url = Mutex::new(config.paydesk_url.clone());
        let double = Arc::new(Double { config, store: Mutex::new(Store::default()), http, url, paydesk_url });
        let app = Router::new()
            .route("/pg/orders", post(create_order))
            .route("/pg/links", post(create_link))
            .route("/pg/links/{link_id}/orders", get(link_orders))
            .route("/pg/orders/{order_id}/payments", get(order_payments))
            .route("/pg/orders/{order_id}/refunds", post(create_refund))
            .route("/pg/orders/{order_id}/refunds/{refund_id}", get(get_refund))
            .route("/payout/beneficiary", post(create_beneficiary).get(get_beneficiary))
            .route("/payout/transfers", post(create_transfer).get(get_transfer))
            .route("/pg/settlement/recon", post(settlement_recon))
            .layer(axum::middleware::from_fn_with_state(double.clone(), authenticate))
            .route("/links/{link_id}", get(link_page))
            .route("/links/{link_id}/pay", post(link_pay))
            .route("/__double/orders/{order_id}/pay", post(control_pay))
            .route("/__double/transfers/{transfer_id}/{status}", post(control_transfer))
            .route("/__double/orders/{order_id}/disputes", post(control_open_dispute))
            .route("/__double/refunds/{refund_id}/{status}", post(control_refund))
            .route("/__double/disputes/{dispute_id}/{status}", post(control_move_dispute))
            .route("/__double/faults", post(control_fault))
            .route("/__double/settlements/{order_id}", post(control_settlement))
            .route("/__double/settlements", post(control_foreign_settlement))
            .route("/__double/payout-balance", post(control_payout_balance))
            .route("/payout/v1/authorize", post(payout_authorize))
            .route("/payout/v1/getBalance", get(payout_balance))
            .with_state(double.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(double)
    }

    /// The double's base URL, for `CASHFREE_BASE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends webhooks to the paydesk at `url` from now on.
    pub fn send_webhooks_to(&self, url: &str) {
        *self.paydesk_url.lock().unwrap_or_else(|e| e.into_inner()) = url.trim_end_matches('/').to_owned();
    }

    /// Delivers every webhook from now on also to the paydesk instance at `url`, at the same moment and under the
    /// same `x-idempotency-key`: as a retry Cashfree sends before its first attempt was answered, which a load
    /// balancer gives to another instance.
    pub fn also_deliver_to(&self, url: &str) {
        self.store().mirrors.push(url.trim_end_matches('/').to_owned());
    }

    fn paydesk(&self) -> String {
        self.paydesk_url.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `times` calls whose path starts with `path` meet `fault`; `path` may begin with the method
    /// (`POST /pg/orders/`) to leave the other methods' calls alone.
    pub fn fail_next(&self, path: &str, fault: Fault, times: u32) {
        self.store().faults.push((path.to_owned(), fault, times));
    }

    /// How many calls were made whose `METHOD path` starts with `prefix` (e.g. `POST /payout/transfers`).
    pub fn calls(&self, prefix: &str) -> usize {
        self.store().calls.iter().filter(|c| c.starts_with(prefix)).count()
    }

    /// The `traceparent` of each call whose `METHOD path` starts with `prefix`, in order (`None`: it had none).
    pub fn traceparents(&self, prefix: &str) -> Vec<Option<String>> {
        let s = self.store();
        s.calls.iter().zip(&s.traceparents).filter(|(c, _)| c.starts_with(prefix)).map(|(_, t)| t.clone()).collect()
    }

    /// Settles `order_id`'s payment otherwise than it was paid: `tweak` holds `amount`, `settled`,
    /// `service_charge` or `service_tax` to report instead, or `withhold: true` to leave it unsettled.
    pub fn tweak_settlement(&self, order_id: &str, tweak: Value) {
        self.store().settlement_tweaks.insert(order_id.to_owned(), tweak);
    }

    /// Reports the settlement of a payment paydesk never saw (`order_id`, `amount`).
    pub fn foreign_settlement(&self, order_id: &str, amount: &str) {
        let cf_payment_id = self.next_id();
        let amount: rust_decimal::Decimal = amount.parse().unwrap_or_default();
        let event = settlement_event(order_id, cf_payment_id, amount, &chrono::Utc::now().to_rfc3339(), &json!({}));
        self.store().foreign_settlements.push(event);
    }

    /// Reports the settlement of `order_id`'s first successful payment once more, under another event id (as a second
    /// settlement event for the same payment would come).
    pub fn settle_again(&self, order_id: &str) -> Result<(), String> {
        let mut s = self.store();
        let paid =
            s.payments.get(order_id).and_then(|ps| ps.iter().find(|p| p["payment_status"] == "SUCCESS").cloned());
        let paid = paid.ok_or_else(|| format!("order {order_id} has no successful payment"))?;
        let amount = paid["payment_amount"].to_string().trim_matches('"').parse().unwrap_or_default();
        let cf: u64 = paid["cf_payment_id"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut event =
            settlement_event(order_id, cf, amount, paid["payment_time"].as_str().unwrap_or_default(), &json!({}));
        event["event_details"]["event_id"] = json!(format!("{cf}_PAYMENT_AGAIN"));
        s.foreign_settlements.push(event);
        Ok(())
    }

    /// Tells paydesk a settlement reached the bank (`SETTLEMENT_SUCCESS`, signed like every payment webhook).
    /// Returns paydesk's answer.
    pub async fn send_settlement_webhook(&self) -> Result<u16, String> {
        let id = self.next_id();
        let from = (chrono::Utc::now() - chrono::Duration::hours(2)).format("%Y-%m-%d %H:%M:%S").to_string();
        let body = json!({
            "data": { "settlement": {
                "settlement_id": id, "utr": 1_700_000_000_000_000u64 + id, "status": "SUCCESS", "adjustment": 0,
                "payment_from": from, "payment_till": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
                "settled_on": chrono::Utc::now().to_rfc3339(), "settlement_type": "STANDARD",
            } },
            "event_time": chrono::Utc::now().to_rfc3339(), "type": "SETTLEMENT_SUCCESS",
        });
        let url = format!("{}/api/webhooks/cashfree", self.paydesk());
        self.send_webhook(&url, &self.config.pg_secret, &body).await
    }

    /// Sends Payouts' V1 `LOW_BALANCE_ALERT` (form-encoded, signed in the body) to paydesk; returns its answer.
    pub async fn send_low_balance_alert(&self, balance: &str) -> Result<u16, String> {
        let mut fields = vec![
            ("alertTime".to_owned(), chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()),
            ("currentBalance".to_owned(), balance.to_owned()),
            ("event".to_owned(), "LOW_BALANCE_ALERT".to_owned()),
        ];
        fields.sort();
        let concatenated: String = fields.iter().map(|(_, v)| v.as_str()).collect();
        let signature = hmac_base64(&self.payout_signing_secret(), &[concatenated.as_bytes()]);
        fields.push(("signature".to_owned(), signature));
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
        let res = self
            .http
            .post(format!("{}/api/webhooks/cashfree/payouts/v1", self.paydesk()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(res.status().as_u16())
    }

    /// Signs payout webhooks with `secret` from now on (another active key of the account, as during a rotation).
    pub fn sign_payout_webhooks_with(&self, secret: &str) {
        self.store().payout_signing_secret = Some(secret.to_owned());
    }

    /// The secret payout webhooks are signed with now.
    fn payout_signing_secret(&self) -> String {
        self.store().payout_signing_secret.clone().unwrap_or_else(|| self.config.payout_secret.clone())
    }

    /// Sets the Payouts account's balance.
    pub fn set_payout_balance(&self, balance: &str) {
        self.store().payout_balance = Some(balance.to_owned());
    }

    /// The ids of the beneficiaries Cashfree holds.
    pub fn beneficiary_ids(&self) -> Vec<String> {
        self.store().beneficiaries.keys().cloned().collect()
    }

    /// The transfers Cashfree holds, by transfer id.
    pub fn transfer(&self, transfer_id: &str) -> Option<Value> {
        self.store().transfers.get(transfer_id).cloned()
    }

    fn next_id(&self) -> u64 {
        let mut s = self.store();
        s.seq += 1;
        5_000_000 + s.seq
    }

    /// A customer pays `order_id` (`SUCCESS`, `FAILED` or `USER_DROPPED`): the payment is recorded and its
    /// webhook sent to paydesk. Returns paydesk's last answer.
    pub async fn pay(&self, order_id: &str, status: &str) -> Result<u16, String> {
        let body = self.record_payment(order_id, status)?;
        let url = format!("{}/api/webhooks/cashfree", self.paydesk());
        self.send_webhook(&url, &self.config.pg_secret, &body).await
    }

    /// A customer pays the payment link `link_id` (`SUCCESS`, `FAILED` or `USER_DROPPED`) as Cashfree takes it: on
    /// an order Cashfree makes for the payment (`CFPay_…`), whose `order_tags` name the link (`link_id`, and
    /// `cf_link_id` its own id). Returns paydesk's last answer and that order's id.
    pub async fn pay_link(&self, link_id: &str, status: &str) -> Result<(u16, String), String> {
        let order_id = self.link_order(link_id)?;
        Ok((self.pay(&order_id, status).await?, order_id))
    }

    /// Makes the order Cashfree opens when a customer starts paying the link `link_id`; returns its id.
    pub fn link_order(&self, link_id: &str) -> Result<String, String> {
        let n = self.next_id();
        let order_id = {
            let mut s = self.store();
            let link = s.links.get(link_id).cloned().ok_or_else(|| format!("no link {link_id}"))?;
            let order_id = format!("CFPay_{}_{n}", link["cf_link_id"].as_str().unwrap_or_default());
            let order = json!({
                "cf_order_id": n.to_string(), "order_id": order_id, "order_amount": link["link_amount"],
                "order_currency": link["link_currency"], "order_status": "ACTIVE",
                "payment_session_id": format!("session_{n}"), "created_at": chrono::Utc::now().to_rfc3339(),
                "order_tags": { "cf_link_id": link["cf_link_id"], "link_id": link_id },
                "customer_details": { "customer_phone": link["customer_details"]["customer_phone"] },
            });
            s.orders.insert(order_id.clone(), order);
            order_id
        };
        Ok(order_id)
    }

    /// Records a payment attempt on `order_id` without telling paydesk (a webhook that never arrived);
    /// returns the webhook body that would have been sent.
    pub fn record_payment(&self, order_id: &str, status: &str) -> Result<Value, String> {
        let order = self.store().orders.get(order_id).cloned().ok_or_else(|| format!("no order {order_id}"))?;
        let cf_payment_id = self.next_id().to_string();
        let payment = json!({
            "cf_payment_id": cf_payment_id, "payment_status": status,
            "payment_amount": order["order_amount"], "payment_currency": order["order_currency"],
            "payment_message": if status == "SUCCESS" { "Transaction successful" } else { "Payment failed" },
            "payment_time": chrono::Utc::now().to_rfc3339(), "bank_reference": format!("UTR{cf_payment_id}"),
            "payment_group": "upi",
        });
        self.store().payments.entry(order_id.to_owned()).or_default().push(payment.clone());
        let kind = match status {
            "SUCCESS" => "PAYMENT_SUCCESS_WEBHOOK",
            "USER_DROPPED" => "PAYMENT_USER_DROPPED_WEBHOOK",
            _ => "PAYMENT_FAILED_WEBHOOK",
        };
        let mut order_ref = json!({ "order_id": order_id, "order_amount": order["order_amount"],
                                     "order_currency": order["order_currency"] });
        if order["order_tags"].is_object() {
            order_ref["order_tags"] = order["order_tags"].clone();
        }
        Ok(json!({
            "data": { "order": order_ref, "payment": payment },
            "event_time": chrono::Utc::now().to_rfc3339(), "type": kind,
        }))
    }

    /// A transfer ends with `status` (`SUCCESS`, `ACKNOWLEDGED`, `FAILED`, `REJECTED` or `REVERSED`): recorded, and
    /// its webhook sent to paydesk. `SUCCESS` is followed by `TRANSFER_ACKNOWLEDGED`, as Payouts V2 sends both for a
    /// paid transfer; the charges come on the acknowledgement. Returns paydesk's last answer (the first that was
    /// not 200, if any).
    pub async fn complete_transfer(&self, transfer_id: &str, status: &str) -> Result<u16, String> {
        let answer = self.transfer_event(transfer_id, status).await?;
        if status != "SUCCESS" || answer != 200 {
            return Ok(answer);
        }
        self.transfer_event(transfer_id, "ACKNOWLEDGED").await
    }

    /// Sends one Payouts V2 transfer event (`TRANSFER_<event>`) for the transfer as it then stands.
    pub async fn transfer_event(&self, transfer_id: &str, event: &str) -> Result<u16, String> {
        let transfer = {
            let mut s = self.store();
            let t = s.transfers.get_mut(transfer_id).ok_or_else(|| format!("no transfer {transfer_id}"))?;
            // `status` and `status_code` as the Payouts V2 webhooks page has them: a paid transfer is SUCCESS,
            // SENT_TO_BENEFICIARY when the bank has it and COMPLETED once Cashfree acknowledged it, with its
            // charges (`transfer_service_charge`, `transfer_service_tax` of the SDK's transfer model).
            let (status, code) = match event {
                "SUCCESS" => ("SUCCESS", "SENT_TO_BENEFICIARY"),
                "ACKNOWLEDGED" => ("SUCCESS", "COMPLETED"),
                other => (other, other),
            };
            t["status"] = json!(status);
            t["status_code"] = json!(code);
            t["status_description"] = json!(match event {
                "SUCCESS" => "Transfer sent to the beneficiary's bank",
                "ACKNOWLEDGED" => "Transfer completed",
                "REVERSED" => "The beneficiary bank returned the transfer",
                _ => "The beneficiary bank declined the transfer",
            });
            t["updated_on"] = json!(chrono::Utc::now().to_rfc3339());
            if status == "SUCCESS" {
                t["transfer_utr"] = json!(format!("UTR{}", t["cf_transfer_id"].as_str().unwrap_or_default()));
            }
            if event == "ACKNOWLEDGED" {
                // Cashfree's charge for an IMPS transfer and the 18% GST on it.
                t["transfer_service_charge"] = json!(serde_json::Number::from_string_unchecked("3.00".into()));
                t["transfer_service_tax"] = json!(serde_json::Number::from_string_unchecked("0.54".into()));
            }
            t.clone()
        };
        let body = json!({ "data": transfer, "event_time": chrono::Utc::now().to_rfc3339(),
                           "type": format!("TRANSFER_{event}") });
        let url = format!("{}/api/webhooks/cashfree/payouts", self.paydesk());
        self.send_webhook(&url, &self.payout_signing_secret(), &body).await
    }

    /// The payments made on `order_id`, in order.
    pub fn payments(&self, order_id: &str) -> Vec<Value> {
        self.store().payments.get(order_id).cloned().unwrap_or_default()
    }

    /// The refund whose `refund_id` is this, as the double holds it.
    pub fn refund(&self, refund_id: &str) -> Option<Value> {
        self.store().refunds.get(refund_id).cloned()
    }

    /// A refund ends with `status` (`SUCCESS`, `CANCELLED`, `FAILED`): recorded, and its `REFUND_STATUS_WEBHOOK`
    /// sent to paydesk. Returns paydesk's last answer.
    pub async fn complete_refund(&self, refund_id: &str, status: &str) -> Result<u16, String> {
        let refund = {
            let mut s = self.store();
            let r = s.refunds.get_mut(refund_id).ok_or_else(|| format!("no refund {refund_id}"))?;
            r["refund_status"] = json!(status);
            r["processed_at"] = json!(chrono::Utc::now().to_rfc3339());
            r.clone()
        };
        let body = json!({ "data": { "refund": refund }, "event_time": chrono::Utc::now().to_rfc3339(),
                           "type": "REFUND_STATUS_WEBHOOK" });
        let url = format!("{}/api/webhooks/cashfree", self.paydesk());
        self.send_webhook(&url, &self.config.pg_secret, &body).await
    }

    /// The client's bank disputes `amount` (`"250.00"`) of `order_id`'s successful payment: a `CHARGEBACK`, its
    /// `DISPUTE_CREATED` webhook sent to paydesk. Returns paydesk's last answer and the dispute's id.
    pub async fn open_dispute(&self, order_id: &str, amount: &str) -> Result<(u16, String), String> {
        let (order, paid) = {
            let s = self.store();
            let order = s.orders.get(order_id).cloned().ok_or_else(|| format!("no order {order_id}"))?;
            let payments = s.payments.get(order_id).cloned().unwrap_or_default();
            let paid = payments.into_iter().find(|p| p["payment_status"] == "SUCCESS");
            (order, paid.ok_or_else(|| format!("order {order_id} has no successful payment to dispute"))?)
        };
        // A JSON number written as given (exact: serde_json keeps its digits), as Cashfree sends amounts.
        let amount: Value = serde_json::from_str(amount)
            .ok()
            .filter(Value::is_number)
            .ok_or_else(|| format!("{amount:?} is not an amount"))?;
        let dispute_id = self.next_id().to_string();
        let now = chrono::Utc::now();
        let data = json!({
            "dispute": {
                "dispute_id": dispute_id, "dispute_type": "CHARGEBACK", "reason_code": "4855",
                "reason_description": "Goods or services not provided", "dispute_amount": amount,
                "dispute_amount_currency": order["order_currency"], "created_at": now.to_rfc3339(),
                "updated_at": now.to_rfc3339(), "respond_by": (now + chrono::Duration::days(7)).to_rfc3339(),
                "dispute_status": "CHARGEBACK_CREATED", "cf_dispute_remarks": "Dispute is created, please take action",
                "dispute_action_on": "MERCHANT",
            },
            "order_details": {
                "order_id": order_id, "order_amount": order["order_amount"], "order_currency": order["order_currency"],
                "cf_payment_id": paid["cf_payment_id"], "payment_amount": paid["payment_amount"],
                "payment_currency": paid["payment_currency"],
            },
            "customer_details": { "customer_phone": order["customer_details"]["customer_phone"] },
        });
        self.store().disputes.insert(dispute_id.clone(), data.clone());
        let answer = self.send_dispute("DISPUTE_CREATED", &data).await?;
        Ok((answer, dispute_id))
    }

    /// A dispute moves to `status` (`CHARGEBACK_MERCHANT_WON`, `CHARGEBACK_MERCHANT_LOST`,
    /// `CHARGEBACK_UNDER_REVIEW`, …): `DISPUTE_CLOSED` for a decision, `DISPUTE_UPDATED` otherwise.
    pub async fn move_dispute(&self, dispute_id: &str, status: &str) -> Result<u16, String> {
        let data = {
            let mut s = self.store();
            let d = s.disputes.get_mut(dispute_id).ok_or_else(|| format!("no dispute {dispute_id}"))?;
            d["dispute"]["dispute_status"] = json!(status);
            d["dispute"]["updated_at"] = json!(chrono::Utc::now().to_rfc3339());
            d.clone()
        };
        let decided = ["_MERCHANT_WON", "_MERCHANT_LOST", "_MERCHANT_ACCEPTED"].iter().any(|s| status.ends_with(s));
        self.send_dispute(if decided { "DISPUTE_CLOSED" } else { "DISPUTE_UPDATED" }, &data).await
    }

    /// The dispute webhook's body for `dispute_id` as it stands, of type `kind` (to send it again, as Cashfree may).
    pub fn dispute_webhook(&self, kind: &str, dispute_id: &str) -> Option<Value> {
        let data = self.store().disputes.get(dispute_id).cloned()?;
        Some(json!({ "data": data, "event_time": chrono::Utc::now().to_rfc3339(), "type": kind }))
    }

    async fn send_dispute(&self, kind: &str, data: &Value) -> Result<u16, String> {
        let body = json!({ "data": data, "event_time": chrono::Utc::now().to_rfc3339(), "type": kind });
        let url = format!("{}/api/webhooks/cashfree", self.paydesk());
        self.send_webhook(&url, &self.config.pg_secret, &body).await
    }

    /// What paydesk and the double said to each other so far: `exchanges` (each call with its request and answer
    /// bodies, its status, and whether a fault answered it) and `webhooks` (each sent, with its route), for the
    /// conformance suite to judge by Cashfree's SDKs.
    pub fn transcript(&self) -> Value {
        let s = self.store();
        json!({ "exchanges": s.exchanges, "webhooks": s.webhooks })
    }

    /// Signs and posts a webhook as Cashfree does, trying up to four times while the answer is not 200.
    async fn send_webhook(&self, url: &str, secret: &str, body: &Value) -> Result<u16, String> {
        let route = url.parse::<reqwest::Url>().map(|u| u.path().to_owned()).unwrap_or_default();
        let mirrors = {
            let mut s = self.store();
            s.webhooks.push(json!({ "route": route, "body": body }));
            s.mirrors.iter().map(|base| format!("{base}{route}")).collect::<Vec<_>>()
        };
        let raw = body.to_string();
        let key = format!("whk_{}", self.next_id());
        let targets = std::iter::once(url.to_owned()).chain(mirrors);
        let answers = futures_util::future::join_all(targets.map(|to| self.deliver(to, secret, &raw, &key))).await;
        // The first answer that was not 200, if any.
        answers.iter().find(|a| **a != Ok(200)).cloned().unwrap_or_else(|| answers[0].clone())
    }

    /// One delivery of `raw` to `url`, tried up to four times until it is answered 200, as Cashfree retries.
    async fn deliver(&self, url: String, secret: &str, raw: &str, key: &str) -> Result<u16, String> {
        let mut last = Err("never sent".to_owned());
        for attempt in 1..=4u32 {
            let ts = chrono::Utc::now().timestamp_millis().to_string();
            let signature = sign(secret, &ts, raw.as_bytes());
            let sent = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-webhook-timestamp", &ts)
                .header("x-webhook-signature", signature)
                .header("x-webhook-version", "2025-01-01")
                .header("x-webhook-attempt", attempt.to_string())
                .header("x-idempotency-key", key)
                .body(raw.to_owned())
                .send()
                .await;
            last = sent.map(|r| r.status().as_u16()).map_err(|e| e.to_string());
            if last == Ok(200) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        last
    }
}

/// Cashfree's webhook signature: Base64(HMAC-SHA256(secret, timestamp ‖ body)).
fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    hmac_base64(secret, &[timestamp.as_bytes(), body])
}

/// Base64(HMAC-SHA256(secret, the parts one after another)): how Cashfree signs, written here apart from the
/// server's check of it.
fn hmac_base64(secret: &str, parts: &[&[u8]]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    parts.iter().for_each(|part| mac.update(part));
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "message": message, "code": code, "type": "invalid_request_error" }))).into_response()
}

/// Cashfree's auth headers, then any fault planned for the path; records every call, and every exchange (request
/// and answer bodies) for the conformance suite (`transcript`).
async fn authenticate(State(d): State<Arc<Double>>, req: Request, next: Next) -> Response {
    let call = format!("{} {}", req.method(), req.uri().path_and_query().map_or("", |p| p.as_str()));
    let (parts, body) = req.into_parts();
    let sent = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let request = (!sent.is_empty()).then(|| serde_json::from_slice::<Value>(&sent).unwrap_or(Value::Null));
    let req = Request::from_parts(parts, axum::body::Body::from(sent));
    let (answer, faulted) = answer(d.clone(), req, next).await;
    let (parts, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let exchange = json!({
        "call": call, "request": request, "status": parts.status.as_u16(), "fault": faulted,
        "answer": serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
    });
    d.store().exchanges.push(exchange);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// The double's answer to an authenticated call, and whether a planned fault made it.
async fn answer(d: Arc<Double>, req: Request, next: Next) -> (Response, bool) {
    let path = req.uri().path().to_owned();
    let (id, secret) = if path.starts_with("/pg") {
        (&d.config.pg_client_id, &d.config.pg_secret)
    } else {
        (&d.config.payout_client_id, &d.config.payout_secret)
    };
    let given: Vec<String> = ["x-client-id", "x-client-secret", "x-api-version"]
        .iter()
        .map(|name| req.headers().get(*name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned())
        .collect();
    if given[0] != *id || given[1] != *secret || given[2].is_empty() {
        return (error(StatusCode::UNAUTHORIZED, "authentication_error", "authentication Failed"), false);
    }
    let fault = {
        let mut s = d.store();
        let call = format!("{} {path}", req.method());
        s.called(call.clone(), req.headers());
        s.take_fault(&call)
    };
    let faulted = fault.is_some();
    let answer = match fault {
        Some(Fault::Status(code)) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY), "fault", "injected")
        }
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            next.run(req).await
        }
        Some(Fault::StatusAfter(code)) => {
            let _ = next.run(req).await;
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY), "fault", "injected after the work")
        }
        None => next.run(req).await,
    };
    (answer, faulted)
}

async fn create_order(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(order_id) = body["order_id"].as_str().map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "order_id_missing", "order_id is missing in the request");
    };
    if d.store().orders.contains_key(&order_id) {
        return error(StatusCode::CONFLICT, "order_already_exists", "order with same id is already present");
    }
    let cf_order_id = d.next_id().to_string();
    let order = json!({
        "cf_order_id": cf_order_id, "order_id": order_id, "order_amount": body["order_amount"],
        "order_currency": body["order_currency"], "order_status": "ACTIVE",
        "payment_session_id": format!("session_{cf_order_id}"), "customer_details": body["customer_details"],
    });
    let mut order = order;
    if body["order_tags"].is_object() {
        order["order_tags"] = body["order_tags"].clone();
    }
    d.store().orders.insert(order_id, order.clone());
    Json(order).into_response()
}

/// Create Refund: on a paid order, at most what it has left, once per `refund_id` (a repeat answers the same refund).
async fn create_refund(
    State(d): State<Arc<Double>>,
    Path(order_id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    use rust_decimal::Decimal;
    let Some(refund_id) = body["refund_id"].as_str().filter(|r| (3..=40).contains(&r.len())).map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "refund_id_invalid", "refund_id must be 3 to 40 characters");
    };
    let amount = |v: &Value| v.to_string().trim_matches('"').parse::<Decimal>().ok();
    let Some(wanted) = amount(&body["refund_amount"]).filter(|a| *a > Decimal::ZERO) else {
        return error(StatusCode::BAD_REQUEST, "refund_amount_invalid", "refund_amount must be greater than zero");
    };
    let mut s = d.store();
    if let Some(same) = s.refunds.get(&refund_id) {
        return Json(same.clone()).into_response();
    }
    let Some(order) = s.orders.get(&order_id).cloned() else {
        return error(StatusCode::NOT_FOUND, "order_not_found", "order not found");
    };
    let payments = s.payments.get(&order_id).cloned().unwrap_or_default();
    let Some(paid) = payments.into_iter().find(|p| p["payment_status"] == "SUCCESS") else {
        return error(StatusCode::BAD_REQUEST, "refund_invalid_request", "the order has no successful payment");
    };
    let refunded: Decimal = s
        .refunds
        .values()
        .filter(|r| r["order_id"] == order_id.as_str() && r["refund_status"] != "CANCELLED")
        .filter_map(|r| amount(&r["refund_amount"]))
        .sum();
    if refunded + wanted > amount(&paid["payment_amount"]).unwrap_or_default() {
        return error(
            StatusCode::BAD_REQUEST,
            "refund_amount_invalid",
            "refund amount is greater than refundable amount",
        );
    }
    s.seq += 1;
    let cf_refund_id = format!("{}", 7_000_000 + s.seq);
    let refund = json!({
        "cf_payment_id": paid["cf_payment_id"], "cf_refund_id": cf_refund_id, "refund_id": refund_id,
        "order_id": order_id, "entity": "refund", "refund_amount": body["refund_amount"],
        "refund_currency": order["order_currency"], "refund_note": body["refund_note"], "refund_status": "PENDING",
        "refund_type": "MERCHANT_INITIATED", "refund_speed": { "requested": body["refund_speed"] },
        "created_at": chrono::Utc::now().to_rfc3339(),
    });
    s.refunds.insert(refund_id, refund.clone());
    Json(refund).into_response()
}

/// Get Refund: the refund as it stands, or 404 if there is none of that id on the order.
async fn get_refund(State(d): State<Arc<Double>>, Path((order_id, refund_id)): Path<(String, String)>) -> Response {
    match d.store().refunds.get(&refund_id).filter(|r| r["order_id"] == order_id.as_str()) {
        Some(r) => Json(r.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "refund_not_found", "refund does not exist"),
    }
}

/// `POST /__double/refunds/{refund_id}/SUCCESS` (or `CANCELLED`, `FAILED`): Cashfree reports the refund's end.
async fn control_refund(State(d): State<Arc<Double>>, Path((id, status)): Path<(String, String)>) -> Response {
    match d.complete_refund(&id, &status.to_ascii_uppercase()).await {
        Ok(answer) => Json(json!({ "webhook_answer": answer })).into_response(),
        Err(why) => error(StatusCode::NOT_FOUND, "not_found", &why),
    }
}

/// Create Payment Link: the link answered as `LinkEntity`. Its payments are made on orders Cashfree makes for them
/// (`pay_link`), not on an order of the merchant's.
async fn create_link(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(link_id) = body["link_id"].as_str().map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "link_id_missing", "link_id is missing in the request");
    };
    if d.store().links.contains_key(&link_id) {
        return error(StatusCode::CONFLICT, "link_already_exists", "link with same link_id is already present");
    }
    let link = json!({
        "cf_link_id": d.next_id().to_string(), "link_id": link_id, "link_status": "ACTIVE",
        "link_currency": body["link_currency"], "link_amount": body["link_amount"], "link_amount_paid": 0,
        "link_purpose": body["link_purpose"], "link_created_at": chrono::Utc::now().to_rfc3339(),
        "customer_details": body["customer_details"], "link_notes": body["link_notes"],
        "link_url": format!("{}/links/{link_id}", d.url),
    });
    d.store().links.insert(link_id, link.clone());
    Json(link).into_response()
}

/// `GET /pg/links/{link_id}/orders`: the orders Cashfree made for the link's payments (`PaymentLinkOrderEntity`).
async fn link_orders(State(d): State<Arc<Double>>, Path(link_id): Path<String>) -> Response {
    let s = d.store();
    if !s.links.contains_key(&link_id) {
        return error(StatusCode::NOT_FOUND, "link_not_found", "link does not exist");
    }
    let mut made: Vec<Value> =
        s.orders.values().filter(|o| o["order_tags"]["link_id"] == link_id.as_str()).cloned().collect();
    made.sort_by(|a, b| a["order_id"].as_str().cmp(&b["order_id"].as_str()));
    for o in &mut made {
        o["link_id"] = json!(link_id);
        o["entity"] = json!("order");
    }
    Json(Value::Array(made)).into_response()
}

async fn order_payments(State(d): State<Arc<Double>>, Path(order_id): Path<String>) -> Response {
    let s = d.store();
    if !s.orders.contains_key(&order_id) {
        return error(StatusCode::NOT_FOUND, "order_not_found", "order does not exist");
    }
    Json(Value::Array(s.payments.get(&order_id).cloned().unwrap_or_default())).into_response()
}

/// Create Beneficiary V2: one beneficiary per id and per instrument (a bank account and IFSC, or a UPI handle);
/// a second for either is refused 409 `beneficiary_already_exists`.
async fn create_beneficiary(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(id) = body["beneficiary_id"].as_str().filter(|id| !id.is_empty()).map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "beneficiary_id_missing", "beneficiary_id is missing in the request");
    };
    let instrument = body["beneficiary_instrument_details"].clone();
    let mut s = d.store();
    let same = |b: &Value| {
        let (mine, theirs) = (&instrument, &b["beneficiary_instrument_details"]);
        let same_account =
            ["bank_account_number", "bank_ifsc"].iter().all(|k| mine[k].is_string() && mine[k] == theirs[k]);
        same_account || (mine["vpa"].is_string() && mine["vpa"] == theirs["vpa"])
    };
    if s.beneficiaries.contains_key(&id) || s.beneficiaries.values().any(same) {
        return error(StatusCode::CONFLICT, "beneficiary_already_exists", "Beneficiary already exists");
    }
    let beneficiary = json!({
        "beneficiary_id": id, "beneficiary_name": body["beneficiary_name"],
        "beneficiary_instrument_details": instrument, "beneficiary_status": "VERIFIED",
        "added_on": chrono::Utc::now().to_rfc3339(),
    });
    s.beneficiaries.insert(id, beneficiary.clone());
    Json(beneficiary).into_response()
}

/// Get Beneficiary V2: by `beneficiary_id`, or by `bank_account_number` with `bank_ifsc`.
async fn get_beneficiary(State(d): State<Arc<Double>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let s = d.store();
    let found = match (q.get("beneficiary_id"), q.get("bank_account_number"), q.get("bank_ifsc")) {
        (Some(id), _, _) => s.beneficiaries.get(id),
        (None, Some(account), Some(ifsc)) => s.beneficiaries.values().find(|b| {
            let i = &b["beneficiary_instrument_details"];
            i["bank_account_number"] == account.as_str() && i["bank_ifsc"] == ifsc.as_str()
        }),
        _ => return error(StatusCode::BAD_REQUEST, "beneficiary_id_missing", "give beneficiary_id or bank details"),
    };
    match found {
        Some(b) => Json(b.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "beneficiary_not_found", "Beneficiary does not exist"),
    }
}

async fn create_transfer(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(transfer_id) = body["transfer_id"].as_str().map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "transfer_id_missing", "transfer_id is missing");
    };
    if d.store().transfers.contains_key(&transfer_id) {
        return error(StatusCode::CONFLICT, "transfer_id_already_exists", "transfer with same transfer_id exists");
    }
    let beneficiary = body["beneficiary_details"]["beneficiary_id"].as_str().unwrap_or_default();
    if !d.store().beneficiaries.contains_key(beneficiary) {
        return error(StatusCode::NOT_FOUND, "beneficiary_not_found", "Beneficiary does not exist");
    }
    let transfer = json!({
        "transfer_id": transfer_id, "cf_transfer_id": d.next_id().to_string(), "status": "RECEIVED",
        "status_code": "RECEIVED", "status_description": "Transfer received", "transfer_amount": body["transfer_amount"],
        "transfer_mode": body["transfer_mode"],
        "beneficiary_details": body["beneficiary_details"],
    });
    d.store().transfers.insert(transfer_id.clone(), transfer.clone());
    if let Some(after) = d.config.complete_transfers_after {
        let d = d.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = d.complete_transfer(&transfer_id, "SUCCESS").await;
        });
    }
    Json(transfer).into_response()
}

async fn get_transfer(State(d): State<Arc<Double>>, Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("transfer_id").and_then(|id| d.transfer(id)) {
        Some(t) => Json(t).into_response(),
        None => error(StatusCode::NOT_FOUND, "transfer_not_found", "transfer does not exist"),
    }
}

async fn link_page(State(d): State<Arc<Double>>, Path(link_id): Path<String>) -> Response {
    let Some(link) = d.store().links.get(&link_id).cloned() else {
        return (StatusCode::NOT_FOUND, "no such link").into_response();
    };
    let amount = format!("{} {}", link["link_amount"], link["link_currency"].as_str().unwrap_or_default());
    Html(format!(
        "<!doctype html><title>Pay {amount}</title><h1>Cashfree double</h1><p>Order <b>{link_id}</b>: {amount}</p>\
         <form method=post action=\"/links/{link_id}/pay\"><button>Pay {amount}</button></form>"
    ))
    .into_response()
}

async fn link_pay(State(d): State<Arc<Double>>, Path(link_id): Path<String>) -> Response {
    match d.pay_link(&link_id, "SUCCESS").await {
        Ok((status, _)) => Html(format!("<p>Paid. paydesk answered the webhook with {status}.</p>")).into_response(),
        Err(why) => (StatusCode::NOT_FOUND, why).into_response(),
    }
}

async fn control_pay(
    State(d): State<Arc<Double>>,
    Path(order_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = q.get("status").map(String::as_str).unwrap_or("SUCCESS");
    match d.pay(&order_id, status).await {
        Ok(answer) => Json(json!({ "webhook_answer": answer })).into_response(),
        Err(why) => error(StatusCode::NOT_FOUND, "not_found", &why),
    }
}

async fn control_transfer(State(d): State<Arc<Double>>, Path((id, status)): Path<(String, String)>) -> Response {
    // paydesk's transfer ids are payout ids without dashes; a person may paste the payout id as GraphQL shows it.
    let id = uuid::Uuid::parse_str(&id).map_or(id, |u| u.simple().to_string());
    match d.complete_transfer(&id, &status.to_ascii_uppercase()).await {
        Ok(answer) => Json(json!({ "webhook_answer": answer })).into_response(),
        Err(why) => error(StatusCode::NOT_FOUND, "not_found", &why),
    }
}

/// `POST /__double/orders/{order_id}/disputes?amount=250.00`: the client's bank disputes the order's payment.
async fn control_open_dispute(
    State(d): State<Arc<Double>>,
    Path(order_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(amount) = q.get("amount") else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "amount (e.g. ?amount=250.00) is required");
    };
    match d.open_dispute(&order_id, amount).await {
        Ok((answer, dispute_id)) => Json(json!({ "dispute_id": dispute_id, "webhook_answer": answer })).into_response(),
        Err(why) => error(StatusCode::NOT_FOUND, "not_found", &why),
    }
}

/// `POST /__double/disputes/{dispute_id}/CHARGEBACK_MERCHANT_WON` (or `_LOST`, `_UNDER_REVIEW`, …).
async fn control_move_dispute(State(d): State<Arc<Double>>, Path((id, status)): Path<(String, String)>) -> Response {
    match d.move_dispute(&id, &status.to_ascii_uppercase()).await {
        Ok(answer) => Json(json!({ "webhook_answer": answer })).into_response(),
        Err(why) => error(StatusCode::NOT_FOUND, "not_found", &why),
    }
}

/// `POST /__double/faults` with `{"path": "/payout/transfers", "status": 503, "after": false, "times": 1}` or
/// `{"path": …, "delayMs": 15000}`: what `fail_next` does, for a person driving the double with curl.
async fn control_fault(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(path) = body["path"].as_str().filter(|p| p.starts_with('/')) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "path (starting with /) is required");
    };
    let times = body["times"].as_u64().map_or(1, |t| t.min(1000) as u32);
    let fault = match (body["status"].as_u64(), body["delayMs"].as_u64()) {
        (Some(status @ 100..=599), None) if body["after"].as_bool() == Some(true) => Fault::StatusAfter(status as u16),
        (Some(status @ 100..=599), None) => Fault::Status(status as u16),
        (None, Some(ms)) => Fault::Delay(Duration::from_millis(ms.min(600_000))),
        _ => return error(StatusCode::BAD_REQUEST, "bad_request", "give either status (100-599) or delayMs"),
    };
    d.fail_next(path, fault.clone(), times);
    Json(json!({ "path": path, "fault": format!("{fault:?}"), "times": times })).into_response()
}

/// Cashfree's charge on a settled payment in the double: 2% of it, and 18% tax on that, each to the paisa.
fn charges(amount: rust_decimal::Decimal) -> (rust_decimal::Decimal, rust_decimal::Decimal) {
    let charge = (amount * rust_decimal::Decimal::new(2, 2)).round_dp(2);
    (charge, (charge * rust_decimal::Decimal::new(18, 2)).round_dp(2))
}

/// One settlement reconciliation event for a payment, as Cashfree's `POST /pg/settlement/recon` lists it.
fn settlement_event(
    order_id: &str,
    cf_payment_id: u64,
    amount: rust_decimal::Decimal,
    paid: &str,
    tweak: &Value,
) -> Value {
    let (charge, tax) = charges(amount);
    let dec = |field: &str, default: rust_decimal::Decimal| {
        tweak[field].as_str().and_then(|v| v.parse::<rust_decimal::Decimal>().ok()).unwrap_or(default)
    };
    let reported = dec("amount", amount);
    let (charge, tax) = (dec("service_charge", charge), dec("service_tax", tax));
    let settled = dec("settled", reported - charge - tax);
    let number = |d: rust_decimal::Decimal| Value::Number(d.to_string().parse().expect("a decimal is a JSON number"));
    let settlement = 700_000 + cf_payment_id % 1000;
    // API 2025-01-01 nests each event by what it describes (`SettlementReconEntityDataInner`, npm `cashfree-pg`
    // 5.1.3); ids are strings there.
    json!({
        "event_details": {
            "event_id": format!("{cf_payment_id}_PAYMENT"), "event_type": "PAYMENT", "event_status": "SUCCESS",
            "event_amount": number(reported), "event_settlement_amount": number(settled), "sale_type": "CREDIT",
            "entity": "recon", "event_time": paid, "event_currency": "INR",
            "event_service_charge": number(charge), "event_service_tax": number(tax),
        },
        "order_details": { "order_id": order_id, "order_amount": number(amount), "order_currency": "INR" },
        "payment_details": {
            "cf_payment_id": cf_payment_id.to_string(), "payment_amount": number(reported), "payment_currency": "INR",
            "payment_time": paid, "payment_service_charge": number(charge), "payment_service_tax": number(tax),
        },
        "settlement_details": {
            "cf_settlement_id": settlement.to_string(), "settlement_date": chrono::Utc::now().to_rfc3339(),
            "utr": format!("SETTLUTR{settlement}"),
        },
    })
}

/// `POST /pg/settlement/recon`: every successful payment settled (as tweaked), then the foreign ones, a page at a
/// time (the cursor is the offset of the next page).
async fn settlement_recon(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let limit = body["pagination"]["limit"].as_u64().unwrap_or(10).clamp(1, 1000) as usize;
    let from = body["pagination"]["cursor"].as_str().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
    if body["filters"]["start_date"].as_str().is_none() || body["filters"]["end_date"].as_str().is_none() {
        return error(StatusCode::BAD_REQUEST, "filters_missing", "start_date and end_date are required");
    }
    let s = d.store();
    let mut events = Vec::new();
    let mut orders: Vec<_> = s.payments.iter().collect();
    orders.sort_by(|a, b| a.0.cmp(b.0));
    for (order_id, payments) in orders {
        let tweak = s.settlement_tweaks.get(order_id).cloned().unwrap_or(Value::Null);
        if tweak["withhold"] == true {
            continue;
        }
        for p in payments.iter().filter(|p| p["payment_status"] == "SUCCESS") {
            let amount = p["payment_amount"].to_string().trim_matches('"').parse().unwrap_or_default();
            let cf: u64 = p["cf_payment_id"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0);
            events.push(settlement_event(order_id, cf, amount, p["payment_time"].as_str().unwrap_or_default(), &tweak));
        }
    }
    events.extend(s.foreign_settlements.iter().cloned());
    let page: Vec<Value> = events.iter().skip(from).take(limit).cloned().collect();
    let next = (from + limit < events.len()).then(|| (from + limit).to_string());
    Json(json!({ "cursor": next, "limit": limit, "data": page })).into_response()
}

async fn control_settlement(
    State(d): State<Arc<Double>>,
    Path(order_id): Path<String>,
    Json(tweak): Json<Value>,
) -> Response {
    d.tweak_settlement(&order_id, tweak.clone());
    Json(json!({ "order_id": order_id, "tweak": tweak })).into_response()
}

async fn control_foreign_settlement(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let (Some(order_id), Some(amount)) = (body["order_id"].as_str(), body["amount"].as_str()) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "order_id and amount (a string) are required");
    };
    d.foreign_settlement(order_id, amount);
    Json(json!({ "order_id": order_id, "amount": amount })).into_response()
}

async fn control_payout_balance(State(d): State<Arc<Double>>, Json(body): Json<Value>) -> Response {
    let Some(balance) = body["balance"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "balance (a string) is required");
    };
    d.set_payout_balance(balance);
    Json(json!({ "balance": balance })).into_response()
}

/// `POST /payout/v1/authorize`: a bearer token for the Payouts V1 calls (the balance), for the right credentials.
async fn payout_authorize(State(d): State<Arc<Double>>, headers: axum::http::HeaderMap) -> Response {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if get("x-client-id") != d.config.payout_client_id || get("x-client-secret") != d.config.payout_secret {
        return Json(
            json!({ "status": "ERROR", "subCode": "403", "message": "Invalid clientId and clientSecret combination" }),
        )
        .into_response();
    }
    d.store().called("POST /payout/v1/authorize".into(), &headers);
    let token = format!("double-token-{}", d.config.payout_client_id);
    Json(json!({ "status": "SUCCESS", "subCode": "200", "message": "Token generated",
                 "data": { "token": token, "expiry": chrono::Utc::now().timestamp() + 600 } }))
    .into_response()
}

/// `GET /payout/v1/getBalance`: the account's ledger and available balance, for a token from `authorize`.
async fn payout_balance(State(d): State<Arc<Double>>, headers: axum::http::HeaderMap) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("Bearer double-token-{}", d.config.payout_client_id) {
        return Json(json!({ "status": "ERROR", "subCode": "403", "message": "Token is not valid" })).into_response();
    }
    let fault = {
        let mut s = d.store();
        s.called("GET /payout/v1/getBalance".into(), &headers);
        s.take_fault("GET /payout/v1/getBalance")
    };
    if let Some(Fault::Status(code)) = fault {
        return error(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY), "fault", "injected");
    }
    let balance = d.store().payout_balance.clone().unwrap_or_else(|| "1000000.00".into());
    Json(json!({ "status": "SUCCESS", "subCode": "200", "message": "Ledger balance for the account",
                 "data": { "balance": balance, "availableBalance": balance } }))
    .into_response()
}
