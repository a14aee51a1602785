//! `GET /history/public-key`: the Ed25519 public key the history's checkpoints and erasures are signed with, and
//! the keys a rotation retired (public: anyone may check them); `GET /history/checkpoint`: the latest signed
//! checkpoint (admin, ops), to keep outside the database and hand to `paydesk verify --checkpoint`.

use super::{caller, Http};
use crate::error::AppError;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

pub async fn public_key(State(http): State<Http>) -> Result<Json<Value>, super::error::ApiError> {
    let Some(signer) = &http.state.settings.history_signer else {
        return Err(AppError::NotFound(
            "this deployment signs no history checkpoints: PAYDESK_HISTORY_SIGNING_KEY is not set".into(),
        )
        .into());
    };
    // Keys retired by a rotation still vouch for what they signed: a verifier needs them too.
    let public = signer.public_hex();
    let retired: Vec<String> =
        http.state.settings.history_keys.iter().flat_map(|k| k.to_hex()).filter(|k| *k != public).collect();
    Ok(Json(json!({ "algorithm": "Ed25519", "publicKey": public, "retiredKeys": retired })))
}

pub async fn checkpoint(State(http): State<Http>, headers: HeaderMap) -> Result<Json<Value>, super::error::ApiError> {
    let who = caller(&http.state, &headers).await.principal()?;
    http.limits.caller(who.id)?;
    if !who.is_staff() {
        return Err(AppError::Forbidden("only admin and ops may read the history's checkpoints".into()).into());
    }
    match crate::services::evidence::history::latest_signed(&http.state.db).await? {
        Some(c) => Ok(Json(c)),
        None => Err(AppError::NotFound(
            "no signed checkpoint yet: one is taken every PAYDESK_HISTORY_CHECKPOINT once PAYDESK_HISTORY_SIGNING_KEY \
             is set and something was written"
                .into(),
        )
        .into()),
    }
}
