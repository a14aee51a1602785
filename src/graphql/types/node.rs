//! Relay's `Node`: every record a dashboard caches has a global id (`globalId`, the type and the UUID, opaque) that
//! `node(id:)` and `nodes(ids:)` fetch back, scoped to the caller like every other read. (The contract's `id` stays
//! the UUID; point Relay's compiler at `globalId` with `nodeInterfaceIdField`.)

use super::{AuditEntry, Notification, Payment, PaymentWebhook, PayoutRequest, Wallet, WalletTransaction};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::services::reads;
use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, Interface, OutputType, Positioned, ServerResult, Value, ID};
use base64::Engine;
use sea_orm::ConnectionTrait;
use std::borrow::Cow;
use uuid::Uuid;

/// A record with a global id.
#[derive(Interface, Clone)]
#[graphql(field(name = "global_id", ty = "&GlobalId", desc = "An opaque id, unique across types, for `node(id:)`."))]
pub enum Node {
    Payment(Payment),
    Wallet(Wallet),
    PayoutRequest(PayoutRequest),
    WalletTransaction(WalletTransaction),
    Notification(Notification),
    AuditEntry(AuditEntry),
    PaymentWebhook(PaymentWebhook),
}

/// The global id of `typename`'s record `id`: an `ID` in the schema, encoded only when a client asks for it
/// (encoding it is about as costly as resolving a row's other fields, and most lists never ask).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalId {
    typename: &'static str,
    id: Uuid,
}

impl GlobalId {
    pub fn new(typename: &'static str, id: Uuid) -> Self {
        Self { typename, id }
    }

    /// The opaque text `parse` reads back.
    fn encode(&self) -> String {
        let GlobalId { typename, id } = self;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{typename}:{id}"))
    }
}

impl OutputType for GlobalId {
    fn type_name() -> Cow<'static, str> {
        <ID as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <ID as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, _: &ContextSelectionSet<'_>, _: &Positioned<Field>) -> ServerResult<Value> {
        Ok(Value::String(self.encode()))
    }
}

fn parse(id: &str) -> AppResult<(String, Uuid)> {
    let bad = || AppError::BadInput(format!("{id:?} is not a global id this API issued (`globalId`)"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (typename, uuid) = text.split_once(':').ok_or_else(bad)?;
    Ok((typename.to_owned(), uuid.parse().map_err(|_| bad())?))
}

/// The record behind a global id, or `None` if it does not exist or the caller may not see it.
pub async fn fetch(db: &impl ConnectionTrait, who: Principal, id: &str) -> AppResult<Option<Node>> {
    let (typename, id) = parse(id)?;
    Ok(match typename.as_str() {
        "Payment" => reads::payment(db, who, id).await?.map(|m| Node::Payment(m.into())),
        "Wallet" => reads::wallet_by_id(db, who, id).await?.map(|m| Node::Wallet(m.into())),
        "PayoutRequest" => reads::payout_request(db, who, id).await?.map(|m| Node::PayoutRequest(m.into())),
        "WalletTransaction" => reads::ledger_row(db, who, id).await?.map(|m| Node::WalletTransaction(m.into())),
        "Notification" => reads::notification(db, who, id).await?.map(|m| Node::Notification(m.into())),
        "AuditEntry" => reads::audit_entry(db, who, id).await?.map(|m| Node::AuditEntry(m.into())),
        "PaymentWebhook" => reads::webhook(db, who, id).await?.map(|m| Node::PaymentWebhook(m.into())),
        _ => None,
    })
}
