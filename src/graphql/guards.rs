//! Deny by default: every field says which roles may use it, checked against the caller built at the edge.

use crate::auth::{Caller, Principal};
use crate::error::AppError;
use crate::state::AppState;
use async_graphql::{Context, Guard, Result};
use entity::status::Role;

pub use crate::auth::roles::{ADMIN, ADMIN_OR_FREELANCER, ANYONE, STAFF};

/// Lets a field run only for callers holding one of `roles`.
pub struct RoleGuard(pub &'static [Role]);

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        principal(ctx).and_then(|who| who.require(self.0)).map_err(|e| super::error::to_graphql(&e))
    }
}

/// The authenticated caller, or UNAUTHENTICATED.
pub fn principal(ctx: &Context<'_>) -> Result<Principal, AppError> {
    ctx.data_opt::<Caller>().unwrap_or(&Caller::Anonymous).principal()
}

/// Spends one of the caller's money-moving mutations a minute (`PAYDESK_RATE_LIMIT_MONEY`), or refuses with
/// `RATE_LIMITED`.
pub fn spend_money(ctx: &Context<'_>) -> Result<(), AppError> {
    let who = principal(ctx)?;
    match ctx.data_opt::<std::sync::Arc<crate::http::rate::Limits>>() {
        Some(limits) => limits.money(who.id),
        None => Ok(()),
    }
}

/// The shared application state.
pub fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

/// The request's `Idempotency-Key` header, if it had one.
#[derive(Clone)]
pub struct IdempotencyHeader(pub String);

/// The idempotency key of a write: its input field, else the request's `Idempotency-Key` header; both given must
/// agree.
pub fn idempotency_key(ctx: &Context<'_>, field: Option<String>) -> Result<Option<String>, AppError> {
    let header = ctx.data_opt::<IdempotencyHeader>().map(|h| h.0.clone());
    match (field, header) {
        (Some(f), Some(h)) if f != h => {
            Err(AppError::BadInput("idempotencyKey and the Idempotency-Key header differ; send one of them".into()))
        }
        (f, h) => Ok(f.or(h)),
    }
}
