//! The `Mutation` root, merged from one root per domain (`money_out`: payouts, `money_in`: payments, `books`,
//! `operations`), each next to its inputs: each field parses, authorizes and calls one service function.

use super::guards::{idempotency_key, principal, spend_money, state, RoleGuard, ADMIN, ADMIN_OR_FREELANCER};
use super::types::{
    Beneficiary, BulkApproval, HistoryChain, IdentityLink, Notification, Payment, PaymentWebhook, PayoutHold,
    PayoutRequest, Refund, SettlementRun, Wallet, WalletTransaction,
};
use crate::domain::money::{amount, currency, positive_amount};
use crate::error::AppError;
use crate::graphql::error::Result;
use crate::graphql::scalars::Decimal;
use crate::notifications;
use crate::services::operations::{delivery, interventions};
use crate::services::payments::{self, gateway};
use crate::services::payouts::{self, beneficiaries, holds};
use async_graphql::{Context, InputObject, Object};
use entity::status::Role;
use uuid::Uuid;

mod books;
mod money_in;
mod money_out;
mod operations;

// Writes: one root per domain, merged into one type (a comment, not a doc: the schema describes no root).
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    money_out::PayoutsMutation,
    money_in::PaymentsMutation,
    books::BooksMutation,
    operations::OperationsMutation,
);
