//! The Payment Gateway side of Cashfree: orders (and payment links) created there when paydesk has credentials,
//! and an order's payments pulled from there, so a manual verification rests on what Cashfree says.

use crate::auth::roles;
use crate::auth::Principal;
use crate::cashfree::payloads::{
    self, CfId, CreateLink, CreateOrder, Customer, Link, LinkCustomer, LinkNotes, LinkOrder, Order, OrderRef,
    OrderTags, Payment,
};
use crate::cashfree::{Api, CallError, Repeat};
use crate::error::{AppError, AppResult};
use crate::idempotency::{self, Ran};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::services::payments::{self, NewOrder};
use crate::state::AppState;
use entity::status::PaymentStatus;
use entity::{payment, Money};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::json;

/// What Cashfree needs besides the order itself.
pub struct Checkout {
    /// The paying customer's phone number (Cashfree requires one).
    pub customer_phone: Option<String>,
    /// Also create a payment link.
    pub link: bool,
    /// The caller's idempotency key: a repeat of the same request returns the first one's payment.
    pub idempotency_key: Option<String>,
}

/// Creates the order here and, with Payment Gateway credentials, at Cashfree (and a link if asked). If Cashfree
/// will not take it, the order here is CANCELLED with the reason and the error is returned: nothing is left
/// half-made.
#[tracing::instrument(skip(state, order, checkout))]
pub async fn open_order(
    state: &AppState,
    who: Principal,
    order: NewOrder,
    checkout: Checkout,
) -> AppResult<payment::Model> {
    who.require(roles::ADMIN)?;
    let remote = state.cashfree.configured(Api::Pg);
    if !remote && checkout.link {
        return Err(AppError::BadInput(
            "payment links need Cashfree credentials (CASHFREE_CLIENT_ID and CASHFREE_CLIENT_SECRET)".into(),
        ));
    }
    // Cashfree's `CustomerDetails` (OpenAPI spec 2025-01-01): `customer_phone` is exactly 10 characters,
    // `customer_id` 3 to 50, and `order_amount` at least 1; an order it would refuse is refused here first.
    let phone = match (&checkout.customer_phone, remote) {
        (Some(p), _) if p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.clone()),
        (Some(p), _) => {
            return Err(AppError::BadInput(format!(
                "customerPhone {p:?} must be the customer's 10-digit phone number, without +91 or spaces \
                 (Cashfree takes no other)"
            )))
        }
        (None, true) => {
            return Err(AppError::BadInput(
                "customerPhone is required: Cashfree needs the paying customer's phone".into(),
            ))
        }
        (None, false) => None,
    };
    if remote {
        if order.amount < Money::from_minor(100) {
            return Err(AppError::BadInput(format!(
                "amount {} is below 1.00, the least Cashfree takes for an order",
                order.amount
            )));
        }
        if let Some(client) = order.client_id.as_deref().map(str::trim).filter(|c| !(3..=50).contains(&c.len())) {
            return Err(AppError::BadInput(format!(
                "clientId {client:?} must be 3 to 50 characters: Cashfree keeps it as the order's customer_id"
            )));
        }
    }
    let parts = [
        order.freelancer_id.to_string(),
        order.amount.to_string(),
        order.currency.clone(),
        order.order_id.clone().unwrap_or_default(),
        order.client_id.clone().unwrap_or_default(),
        order.purpose.clone().unwrap_or_default(),
        phone.clone().unwrap_or_default(),
        checkout.link.to_string(),
    ];
    let key = idempotency::Key::new("createPaymentOrder", checkout.idempotency_key, &parts)?;
    let create = payments::create_order(&state.db, who, order, key.as_ref());
    let created = match idempotency::once(&state.db, who, key.as_ref(), create, |id| existing(state, id)).await? {
        Ran::Replayed(first) => return Ok(first),
        Ran::Fresh(created) if !remote => return Ok(created),
        Ran::Fresh(created) => created,
    };
    match at_cashfree(state, &created, phone.unwrap_or_default(), checkout.link).await {
        Ok((cf_order_id, session, link_url)) => {
            let mut row = created.into_active_model();
            row.cf_order_id = Set(Some(cf_order_id));
            row.payment_session_id = Set(session);
            row.link_url = Set(link_url);
            row.updated_at = Set(crate::clock::now());
            Ok(row.update(&state.db).await?)
        }
        Err(e) => {
            let why = e.to_string();
            let mut row = created.clone().into_active_model();
            row.status = Set(PaymentStatus::Cancelled);
            row.failure_reason = Set(Some(format!("not created at Cashfree: {why}")));
            row.updated_at = Set(crate::clock::now());
            row.update(&state.db).await?;
            audit::record(
                &state.db,
                audit::Entry {
                    actor: Actor::System,
                    action: Action::PaymentOrderFailed,
                    entity_type: Subject::Payment,
                    entity_id: created.id,
                    before: Some(json!({ "status": created.status })),
                    after: Some(json!({ "status": PaymentStatus::Cancelled })),
                    reason: Some(why),
                },
            )
            .await?;
            // The order never reached Cashfree: a retry with the same key should try again, not repeat this.
            if let Some(key) = &key {
                idempotency::forget(&state.db, who, key).await?;
            }
            Err(crate::cashfree::call_error(e))
        }
    }
}

/// Creates the order (and link) at Cashfree; an order Cashfree already holds (a retry) is read back.
async fn existing(state: &AppState, id: uuid::Uuid) -> AppResult<payment::Model> {
    payment::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| AppError::not_found("payment", id))
}

async fn at_cashfree(
    state: &AppState,
    p: &payment::Model,
    phone: String,
    link: bool,
) -> Result<(String, Option<String>, Option<String>), CallError> {
    let cf = &state.cashfree;
    let customer = Customer {
        customer_id: p.client_id.clone().unwrap_or_else(|| format!("client_{}", p.freelancer_id.simple())),
        customer_phone: phone,
    };
    let body = json!(CreateOrder {
        order_id: p.order_id.clone(),
        order_amount: p.amount.into(),
        order_currency: p.currency.clone(),
        customer_details: customer.clone(),
        order_tags: OrderTags { paydesk_payment_id: p.id.to_string(), freelancer_id: p.freelancer_id.to_string() },
    });
    let key = p.id.to_string();
    let order = match cf.call(Api::Pg, Method::POST, "/orders", Some(&body), Some(&key), Repeat::Safe).await {
        Err(CallError::Refused { status: 409, .. }) => {
            cf.call(Api::Pg, Method::GET, &format!("/orders/{}", p.order_id), None, None, Repeat::Safe).await?
        }
        other => other?,
    };
    let order: Order = payloads::read(order).map_err(|why| CallError::Unknown(format!("Cashfree's order: {why}")))?;
    let cf_order_id = order.cf_order_id.map(|id| id.0).unwrap_or_else(|| "null".into());
    let session = order.payment_session_id;
    let link_url = if link {
        let body = json!(CreateLink {
            link_id: p.order_id.clone(),
            link_amount: p.amount.into(),
            link_currency: p.currency.clone(),
            link_purpose: p.purpose.clone().unwrap_or_else(|| format!("Order {}", p.order_id)),
            customer_details: LinkCustomer { customer_phone: customer.customer_phone },
            link_notes: LinkNotes { paydesk_payment_id: p.id.to_string() },
        });
        let made =
            cf.call(Api::Pg, Method::POST, "/links", Some(&body), Some(&format!("{key}:link")), Repeat::Safe).await?;
        let made: Link = payloads::read(made).map_err(|why| CallError::Unknown(format!("Cashfree's link: {why}")))?;
        made.link_url
    } else {
        None
    };
    Ok((cf_order_id, session, link_url))
}

/// Pulls the order's payments from Cashfree and applies each through the webhook path, recorded as pulled
/// deliveries (a repeat of what a webhook already said is a DUPLICATE, as it would be). Returns what Cashfree
/// reported, as `cf_payment_id: STATUS` lines.
pub async fn pull_payments(state: &AppState, p: &payment::Model) -> AppResult<Vec<String>> {
    let mut seen = Vec::new();
    for (order_id, tags) in orders_of(state, p).await? {
        let path = format!("/orders/{order_id}/payments");
        let list = state.cashfree.call(Api::Pg, Method::GET, &path, None, None, Repeat::Safe).await;
        let payments: Vec<Payment> = payloads::read(list.map_err(crate::cashfree::call_error)?).map_err(|why| {
            AppError::Unavailable(format!("Cashfree's payments of order {order_id} did not read: {why}"))
        })?;
        for payment in payments {
            let status = payment.payment_status.clone().unwrap_or_else(|| "PENDING".into());
            let cf_id = payment.cf_payment_id.as_ref().map_or_else(|| "null".into(), |id| id.0.clone());
            let order = OrderRef {
                order_id: Some(CfId(order_id.clone())),
                order_amount: Some(p.amount.into()),
                order_currency: Some(p.currency.clone()),
                order_tags: tags.clone(),
            };
            crate::services::payments::webhook::apply_pulled(state, order, payment).await?;
            seen.push(format!("{cf_id}: {status}"));
        }
    }
    Ok(seen)
}

/// The Cashfree orders a payment may have been paid on, with their tags: its own order, and for a payment with a
/// link, the orders Cashfree made for the link's payments (`GET /pg/links/{link_id}/orders`).
async fn orders_of(
    state: &AppState,
    p: &payment::Model,
) -> AppResult<Vec<(String, Option<serde_json::Map<String, serde_json::Value>>)>> {
    let mut orders = vec![(p.order_id.clone(), None)];
    if p.link_url.is_none() {
        return Ok(orders);
    }
    let path = format!("/links/{}/orders", p.order_id);
    let list = state.cashfree.call(Api::Pg, Method::GET, &path, None, None, Repeat::Safe).await;
    let made: Vec<LinkOrder> = payloads::read(list.map_err(crate::cashfree::call_error)?).map_err(|why| {
        AppError::Unavailable(format!("Cashfree's orders of link {} did not read: {why}", p.order_id))
    })?;
    for o in made {
        let Some(order_id) = o.order_id.map(|id| id.0).filter(|id| *id != p.order_id) else { continue };
        // Its tags name the link; a pulled payment is matched by them as its webhook would be.
        let mut tags = o.order_tags.unwrap_or_default();
        tags.insert("link_id".into(), serde_json::Value::String(p.order_id.clone()));
        orders.push((order_id, Some(tags)));
    }
    Ok(orders)
}

/// The payment as it stands now.
pub async fn reload(state: &AppState, id: uuid::Uuid) -> AppResult<payment::Model> {
    payment::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| AppError::not_found("payment", id))
}
