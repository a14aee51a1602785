//! Cashfree's payloads as typed structs: what paydesk sends (orders, links, transfers, beneficiaries), what Cashfree
//! answers, and what its webhooks carry. Only the fields paydesk uses are named (docs/CASHFREE.md lists them);
//! others are ignored. Leaves are lenient where Cashfree has varied (ids as strings or numbers, amounts as numbers
//! or strings, free text that may be absent or "NA"); what a field must be to be trusted is checked where the
//! payload becomes a domain value (`services::webhooks`, `services::payouts::transfers`), naming the field.

use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Reads `value` as `T`; a field that does not fit is named by its path (`data.payment.payment_amount: …`).
pub fn read<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    read_at("", value)
}

/// Reads `value`, found at `at` (`data`), as `T`; a field that does not fit is named by its whole path.
pub fn read_at<T: DeserializeOwned>(at: &str, value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = match (at, path.as_str()) {
            ("", ".") => return inner.to_string(),
            (at, ".") => at.to_owned(),
            ("", path) => path.to_owned(),
            (at, path) => format!("{at}.{path}"),
        };
        format!("{path}: {inner}")
    })
}

/// An id Cashfree sends as a string or (before 2023-08-01) a number; kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CfId(pub String);

impl<'de> Deserialize<'de> for CfId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(CfId(s.trim().to_owned())),
            Value::Number(n) => Ok(CfId(n.to_string())),
            other => Err(D::Error::custom(format!("expected an id (a string or a number), not {other}"))),
        }
    }
}

/// An amount, exact: a JSON number (or a string holding one), never read through a float; sent as a JSON number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let text = match &v {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.trim().to_owned(),
            _ => return Err(D::Error::custom(format!("expected an amount, not {v}"))),
        };
        let exact = text.parse::<Decimal>().or_else(|_| Decimal::from_scientific(&text));
        exact.map(Amount).map_err(|_| D::Error::custom(format!("{text:?} is not a number")))
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let number: serde_json::Number = self.0.to_string().parse().map_err(serde::ser::Error::custom)?;
        number.serialize(s)
    }
}

impl From<entity::Money> for Amount {
    fn from(m: entity::Money) -> Self {
        Amount(m.to_decimal())
    }
}

/// Longest free text kept from a payload (messages, references), in characters.
const MAX_TEXT: usize = 500;

/// Free text: trimmed, without control characters, at most 500 characters; absent, empty, "NA" or not a string
/// reads as none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(pub Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let s = v.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "NA");
        Ok(Text(s.map(|s| s.chars().filter(|c| !c.is_control()).take(MAX_TEXT).collect())))
    }
}

// ---- Payment Gateway: settlements ----

/// `POST /pg/settlement/recon`: one page of settlement reconciliation events.
#[derive(Debug, Serialize)]
pub struct SettlementReconRequest {
    pub pagination: Pagination,
    pub filters: SettlementFilters,
}

#[derive(Debug, Serialize)]
pub struct Pagination {
    pub limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The window asked for (RFC 3339).
#[derive(Debug, Serialize)]
pub struct SettlementFilters {
    pub start_date: String,
    pub end_date: String,
}

/// Its answer: events, and the cursor of the next page (none or empty on the last).
#[derive(Debug, Deserialize)]
pub struct SettlementRecon {
    #[serde(default)]
    pub cursor: Text,
    #[serde(default)]
    pub data: Vec<ReconEvent>,
}

/// One event of a settlement, as API version 2025-01-01 nests it: what happened (`event_details`), to which order
/// and payment, and in which settlement (npm `cashfree-pg` 5.1.3, `SettlementReconEntityDataInner`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReconEvent {
    pub event_details: ReconEventDetails,
    #[serde(default)]
    pub order_details: ReconOrder,
    #[serde(default)]
    pub payment_details: ReconPayment,
    #[serde(default)]
    pub settlement_details: ReconSettlement,
}

/// `event_details`: a payment, refund, dispute, chargeback or adjustment settled (or taken back).
#[derive(Debug, Clone, Deserialize)]
pub struct ReconEventDetails {
    pub event_id: CfId,
    /// PAYMENT, REFUND, REFUND_REVERSAL, DISPUTE, DISPUTE_REVERSAL, CHARGEBACK, CHARGEBACK_REVERSAL, OTHER_ADJUSTMENT.
    pub event_type: String,
    /// SUCCESS, FAILED, PENDING, CANCELLED.
    #[serde(default)]
    pub event_status: Text,
    pub event_amount: Amount,
    /// What of the settlement is this event's: for a payment, its amount less Cashfree's charges.
    pub event_settlement_amount: Amount,
    #[serde(default)]
    pub event_currency: Text,
    #[serde(default)]
    pub event_time: Text,
    /// Cashfree's charge on the event and the tax on it.
    #[serde(default)]
    pub event_service_charge: Option<Amount>,
    #[serde(default)]
    pub event_service_tax: Option<Amount>,
}

/// `order_details` of a settlement event.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReconOrder {
    #[serde(default)]
    pub order_id: Text,
}

/// `payment_details` of a settlement event.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReconPayment {
    #[serde(default)]
    pub cf_payment_id: Option<CfId>,
    #[serde(default)]
    pub payment_time: Text,
    #[serde(default)]
    pub payment_service_charge: Option<Amount>,
    #[serde(default)]
    pub payment_service_tax: Option<Amount>,
}

/// `settlement_details` of a settlement event: the settlement that paid it, once there is one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReconSettlement {
    #[serde(default)]
    pub cf_settlement_id: Option<CfId>,
    #[serde(default)]
    pub utr: Text,
    #[serde(default)]
    pub settlement_date: Text,
}

impl ReconEvent {
    /// Cashfree's charge on the event and its tax: the event's own, else the payment's.
    pub fn charges(&self) -> (Option<Amount>, Option<Amount>) {
        let e = &self.event_details;
        let p = &self.payment_details;
        (e.event_service_charge.or(p.payment_service_charge), e.event_service_tax.or(p.payment_service_tax))
    }
}

/// `data` of a settlement webhook (`SETTLEMENT_SUCCESS`, …): the settlement paid to the merchant's bank.
#[derive(Debug, Default, Deserialize)]
pub struct SettlementWebhookData {
    #[serde(default)]
    pub settlement: Option<SettlementSummary>,
}

/// The settlement a settlement webhook is about; its payments are read from the settlement reconciliation.
#[derive(Debug, Default, Deserialize)]
pub struct SettlementSummary {
    #[serde(default)]
    pub settlement_id: Option<CfId>,
    #[serde(default)]
    pub utr: Option<CfId>,
    /// The start of the period whose payments it settles (`2025-02-14 12:00:00`, India time).
    #[serde(default)]
    pub payment_from: Text,
}

// ---- Payment Gateway: requests and answers ----

/// `POST /pg/orders`.
#[derive(Debug, Serialize)]
pub struct CreateOrder {
    pub order_id: String,
    pub order_amount: Amount,
    pub order_currency: String,
    pub customer_details: Customer,
    pub order_tags: OrderTags,
}

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub customer_id: String,
    pub customer_phone: String,
}

/// Tags that tie Cashfree's order to paydesk's payment.
#[derive(Debug, Serialize)]
pub struct OrderTags {
    pub paydesk_payment_id: String,
    pub freelancer_id: String,
}

/// Cashfree's order, as `POST /pg/orders` and `GET /pg/orders/{id}` answer.
#[derive(Debug, Deserialize)]
pub struct Order {
    pub cf_order_id: Option<CfId>,
    pub payment_session_id: Option<String>,
}

/// `POST /pg/links`.
#[derive(Debug, Serialize)]
pub struct CreateLink {
    pub link_id: String,
    pub link_amount: Amount,
    pub link_currency: String,
    pub link_purpose: String,
    pub customer_details: LinkCustomer,
    pub link_notes: LinkNotes,
}

/// A link's customer (`LinkCustomerDetailsEntity`: the phone is all it requires, and it has no `customer_id`).
#[derive(Debug, Clone, Serialize)]
pub struct LinkCustomer {
    pub customer_phone: String,
}

#[derive(Debug, Serialize)]
pub struct LinkNotes {
    pub paydesk_payment_id: String,
}

/// Cashfree's payment link.
#[derive(Debug, Deserialize)]
pub struct Link {
    pub link_url: Option<String>,
}

/// One order of a payment link (`GET /pg/links/{link_id}/orders`; `PaymentLinkOrderEntity` in the SDK): an order
/// Cashfree made for one of the link's payments.
#[derive(Debug, Deserialize)]
pub struct LinkOrder {
    pub order_id: Option<CfId>,
    #[serde(default)]
    pub order_tags: Option<serde_json::Map<String, Value>>,
}

/// One payment of an order (`GET /pg/orders/{id}/payments`, and `data.payment` of a payment webhook).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Payment {
    pub cf_payment_id: Option<CfId>,
    /// SUCCESS, FAILED, USER_DROPPED, CANCELLED, VOID, PENDING, NOT_ATTEMPTED, FLAGGED.
    pub payment_status: Option<String>,
    pub payment_amount: Option<Amount>,
    #[serde(default)]
    pub payment_currency: Text,
    #[serde(default)]
    pub payment_time: Text,
    #[serde(default)]
    pub bank_reference: Text,
    #[serde(default)]
    pub payment_group: Text,
    /// An object with one key, the method (`{"upi": {…}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub payment_message: Text,
}

// ---- Payment Gateway: webhooks ----

/// A webhook: its type names what `data` holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "type")]
    pub kind: Option<CfId>,
    #[serde(default)]
    pub data: T,
}

/// A payment or refund webhook (`POST /api/webhooks/cashfree`).
pub type PaymentWebhook = Envelope<PaymentWebhookData>;

/// `data` of a payment webhook: `order` and `payment` (and `error_details` on failures), or `refund`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PaymentWebhookData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<Refund>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_details: Option<ErrorDetails>,
    /// The offers applied to the payment (`Array<OfferEntity>` in the SDK; null in most deliveries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_offers: Option<Vec<Value>>,
}

/// The order a payment webhook is about.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrderRef {
    pub order_id: Option<CfId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_currency: Option<String>,
    /// The order's tags: on an order Cashfree made for a payment link's payment, `link_id` names the link
    /// (`cf_link_id` Cashfree's own id of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tags: Option<serde_json::Map<String, Value>>,
}

/// Why a payment failed.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ErrorDetails {
    #[serde(default)]
    pub error_description: Text,
}

/// `POST /pg/orders/{order_id}/refunds` (Create Refund); Cashfree answers with the refund as `Refund` below.
#[derive(Debug, Serialize)]
pub struct CreateRefund {
    pub refund_amount: Amount,
    /// Ours: 3 to 40 characters; also the call's idempotency key.
    pub refund_id: String,
    /// 3 to 100 characters.
    pub refund_note: String,
    pub refund_speed: &'static str,
}

/// `data.refund` of a `REFUND_STATUS_WEBHOOK`, and Create Refund's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Refund {
    pub cf_refund_id: Option<CfId>,
    /// The merchant's id of the refund: ours (`pdr_…`) for refunds paydesk started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<CfId>,
    pub cf_payment_id: Option<CfId>,
    pub order_id: Option<CfId>,
    /// SUCCESS, PENDING, CANCELLED, ONHOLD, FAILED.
    pub refund_status: Option<CfId>,
    pub refund_amount: Option<Amount>,
    #[serde(default)]
    pub refund_currency: Text,
}

/// `data` of a dispute webhook (`DISPUTE_CREATED`, `DISPUTE_UPDATED`, `DISPUTE_CLOSED`), signed like payment
/// webhooks and sent to the same route.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DisputeWebhookData {
    pub dispute: Option<Dispute>,
    pub order_details: Option<DisputeOrder>,
}

/// `data.dispute`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Dispute {
    pub dispute_id: Option<CfId>,
    /// DISPUTE, CHARGEBACK, RETRIEVAL, PRE_ARBITRATION, ARBITRATION.
    pub dispute_type: Option<CfId>,
    #[serde(default)]
    pub reason_code: Option<CfId>,
    #[serde(default)]
    pub reason_description: Text,
    pub dispute_amount: Option<Amount>,
    /// Present in newer versions; the order's currency otherwise.
    #[serde(default)]
    pub dispute_amount_currency: Text,
    #[serde(default)]
    pub respond_by: Text,
    /// `<TYPE>_CREATED`, `_DOCS_RECEIVED`, `_UNDER_REVIEW`, `_INSUFFICIENT_EVIDENCE`, `_MERCHANT_WON`,
    /// `_MERCHANT_LOST`, `_MERCHANT_ACCEPTED`.
    pub dispute_status: Option<CfId>,
    #[serde(default)]
    pub cf_dispute_remarks: Text,
    /// Where the SDK's `DisputesEntity` has the order (the documentation pages put it beside the dispute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_details: Option<DisputeOrder>,
}

/// `data.order_details` of a dispute webhook: the order and the payment disputed.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DisputeOrder {
    pub order_id: Option<CfId>,
    #[serde(default)]
    pub order_currency: Text,
    #[serde(default)]
    pub cf_payment_id: Option<CfId>,
    #[serde(default)]
    pub payment_currency: Text,
}

// ---- Payouts V2 ----

/// `POST /payout/transfers` (Standard Transfer V2).
#[derive(Debug, Serialize)]
pub struct CreateTransfer {
    pub transfer_id: String,
    pub transfer_amount: Amount,
    pub transfer_currency: String,
    /// `banktransfer` or `upi`.
    pub transfer_mode: &'static str,
    pub beneficiary_details: BeneficiaryRef,
    pub transfer_remarks: String,
}

#[derive(Debug, Serialize)]
pub struct BeneficiaryRef {
    pub beneficiary_id: String,
}

/// A transfer as Cashfree reports it: the answer to a create or a look-up, and `data` of a payout webhook.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Transfer {
    pub transfer_id: Option<CfId>,
    pub cf_transfer_id: Option<CfId>,
    /// RECEIVED, PENDING, SUCCESS, FAILED, REJECTED, REVERSED, …
    #[serde(default)]
    pub status: Text,
    #[serde(default)]
    pub status_description: Text,
    pub transfer_amount: Option<Amount>,
    #[serde(default)]
    pub transfer_currency: Text,
    /// What Cashfree charged for the transfer, and the tax on that charge (reported once it completed).
    #[serde(default)]
    pub transfer_service_charge: Option<Amount>,
    #[serde(default)]
    pub transfer_service_tax: Option<Amount>,
}

/// `POST /payout/beneficiary`.
#[derive(Debug, Serialize)]
pub struct CreateBeneficiary {
    pub beneficiary_id: String,
    pub beneficiary_name: String,
    pub beneficiary_instrument_details: Instrument,
}

/// A beneficiary as Cashfree holds it (Get Beneficiary V2; `Beneficiary` of npm `cashfree-payout` 0.0.14).
#[derive(Debug, Deserialize)]
pub struct Beneficiary {
    pub beneficiary_id: Option<CfId>,
}

/// A bank account (number and IFSC) or a UPI id.
#[derive(Debug, Clone, Serialize)]
pub struct Instrument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_account_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_ifsc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpa: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_amounts_and_text_read_as_cashfree_has_sent_them() {
        let p: Payment = read(json!({
            "cf_payment_id": 12345, "payment_status": "SUCCESS", "payment_amount": 999999999.99,
            "payment_currency": "INR", "bank_reference": "NA", "payment_message": " ok\u{7} ", "payment_group": 5
        }))
        .unwrap();
        assert_eq!(p.cf_payment_id, Some(CfId("12345".into())));
        assert_eq!(p.payment_amount.unwrap().0.to_string(), "999999999.99");
        assert_eq!(p.bank_reference, Text(None));
        assert_eq!(p.payment_message, Text(Some("ok".into())));
        assert_eq!(p.payment_group, Text(None), "not a string: none");
        let as_text: Payment = read(json!({ "payment_amount": "10.50" })).unwrap();
        assert_eq!(as_text.payment_amount.unwrap().0.to_string(), "10.50");
    }

    #[test]
    fn a_field_that_does_not_fit_is_named_by_its_path() {
        let e = read::<PaymentWebhook>(json!({ "type": "X", "data": { "payment": { "payment_amount": [1] } } }));
        assert!(e.unwrap_err().starts_with("data.payment.payment_amount: expected an amount"));
        let e = read::<PaymentWebhook>(json!({ "type": {}, "data": {} }));
        assert!(e.unwrap_err().starts_with("type: expected an id"));
    }

    #[test]
    fn a_settlement_event_reads_in_the_nested_shape_of_2025_01_01() {
        // The shape of the example in Cashfree's OpenAPI spec for 2025-01-01 (`SettlementReconEntity`), with our
        // own values, its nulls and its "null," text included.
        let page: SettlementRecon = read(
            serde_json::from_str::<Value>(
                r#"{
                "cursor": null, "limit": 200,
                "data": [{
                    "event_details": {
                        "entity": "recon", "event_amount": 1000.00, "event_currency": "INR", "event_id": "88120",
                        "event_remarks": "null,", "event_service_charge": 20.00, "event_service_tax": 3.60,
                        "event_settlement_amount": 976.40, "event_status": "SUCCESS",
                        "event_time": "2025-01-16T15:06:41+05:30", "event_type": "PAYMENT", "sale_type": "CREDIT"
                    },
                    "order_details": { "order_amount": 1000.00, "order_currency": "INR", "order_id": "ord_1" },
                    "payment_details": {
                        "bank_reference": 210396, "cf_payment_id": "5000001", "payment_amount": null,
                        "payment_service_charge": 20.00, "payment_service_tax": 3.60, "payment_time": null
                    },
                    "settlement_details": {
                        "cf_settlement_id": "1639775422", "settlement_date": "2025-01-16T18:33:51+05:30",
                        "utr": "PGI45406", "adjustment": null
                    },
                    "dispute_details": { "closed_in_favor_of": null }
                }]
            }"#,
            )
            .unwrap(),
        )
        .unwrap();
        let e = &page.data[0];
        assert_eq!(e.event_details.event_id, CfId("88120".into()));
        assert_eq!(e.event_details.event_settlement_amount.0.to_string(), "976.40");
        assert_eq!(e.payment_details.cf_payment_id, Some(CfId("5000001".into())));
        assert_eq!(e.order_details.order_id, Text(Some("ord_1".into())));
        assert_eq!(e.settlement_details.utr, Text(Some("PGI45406".into())));
        let (charge, tax) = e.charges();
        assert_eq!((charge.unwrap().0.to_string(), tax.unwrap().0.to_string()), ("20.00".into(), "3.60".into()));
        let flat = read::<SettlementRecon>(json!({ "data": [{ "event_id": "1", "event_type": "PAYMENT" }] }));
        assert!(flat.unwrap_err().starts_with("data[0]: missing field `event_details`"), "2023-08-01's flat shape");
    }

    #[test]
    fn amounts_are_sent_as_exact_json_numbers() {
        let body = serde_json::to_string(&BeneficiaryRef { beneficiary_id: "b".into() }).unwrap();
        assert_eq!(body, r#"{"beneficiary_id":"b"}"#);
        let amount = serde_json::to_string(&Amount("170.00".parse().unwrap())).unwrap();
        assert_eq!(amount, "170.00");
    }
}
