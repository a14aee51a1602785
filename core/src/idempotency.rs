//! Idempotency keys: a caller names a write with a key; a repeat of the same request returns what the first one
//! created, and the key reused for a different request is refused. The key is stored in the transaction of the
//! write it names, so a write and its key land together or not at all. Callers run their write through `once`.

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use entity::idempotency_key as key_row;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use sha2::{Digest, Sha256};
use std::future::Future;
use uuid::Uuid;

/// Longest key accepted.
const MAX_KEY: usize = 255;

/// A caller's key for one write, with the fingerprint of what the write asked for.
#[derive(Debug, Clone)]
pub struct Key {
    operation: &'static str,
    key: String,
    fingerprint: String,
}

impl Key {
    /// Checks a key (1 to 255 visible ASCII characters) and fingerprints the request's `parts`.
    pub fn new(operation: &'static str, key: Option<String>, parts: &[String]) -> AppResult<Option<Self>> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::BadInput(format!(
                "idempotency key must be 1 to {MAX_KEY} visible ASCII characters (a UUID is a good choice)"
            )));
        }
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        Ok(Some(Self { operation, key, fingerprint: format!("{:x}", hash.finalize()) }))
    }
}

/// What became of a keyed write.
#[derive(Debug)]
pub enum Ran<T> {
    /// This call did the work.
    Fresh(T),
    /// A request with the same key did it first (before this one, or racing it): this is what it made.
    Replayed(T),
}

impl<T> Ran<T> {
    /// What was made, by this call or the first.
    pub fn into_inner(self) -> T {
        match self {
            Ran::Fresh(t) | Ran::Replayed(t) => t,
        }
    }
}

/// Runs `work` once per key. Without a key it simply runs. With one: a key that already stands for a result gives
/// that result (read by `fetch`) without running `work`; otherwise `work` runs and must `remember` the key in its
/// own transaction; if it fails because a concurrent repeat stored the key first, the repeat's result is given.
pub async fn once<T, Fetched>(
    db: &impl ConnectionTrait,
    who: Principal,
    key: Option<&Key>,
    work: impl Future<Output = AppResult<T>>,
    fetch: impl Fn(Uuid) -> Fetched,
) -> AppResult<Ran<T>>
where
    Fetched: Future<Output = AppResult<T>>,
{
    let Some(key) = key else { return work.await.map(Ran::Fresh) };
    if let Some(id) = replayed(db, who, key).await? {
        return fetch(id).await.map(Ran::Replayed);
    }
    match work.await {
        Ok(done) => Ok(Ran::Fresh(done)),
        Err(e) => match replayed(db, who, key).await? {
            Some(id) => fetch(id).await.map(Ran::Replayed),
            None => Err(e),
        },
    }
}

/// What `key` already stands for: the id the first request created, or `None` if the key is new. A key used
/// before for a different request is refused.
pub async fn replayed(db: &impl ConnectionTrait, who: Principal, key: &Key) -> AppResult<Option<Uuid>> {
    let found = key_row::Entity::find_by_id((who.id, key.operation.to_owned(), key.key.clone())).one(db).await?;
    match found {
        None => Ok(None),
        Some(row) if row.fingerprint == key.fingerprint => Ok(Some(row.result_id)),
        Some(_) => Err(AppError::InvalidState(format!(
            "idempotency key {:?} was already used for a different {} request; use a new key for a new request",
            key.key, key.operation
        ))),
    }
}

/// Stores `key` as standing for `result_id` (inside the write's transaction). Two concurrent requests with one key
/// cannot both store it: the loser's transaction fails and `replayed` then finds the winner's result.
pub async fn remember(db: &impl ConnectionTrait, who: Principal, key: &Key, result_id: Uuid) -> AppResult<()> {
    key_row::ActiveModel {
        caller_id: Set(who.id),
        operation: Set(key.operation.to_owned()),
        key: Set(key.key.clone()),
        fingerprint: Set(key.fingerprint.clone()),
        result_id: Set(result_id),
        created_at: Set(crate::clock::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Frees `key` so a retry makes a fresh attempt: for a write that failed after it was stored (Cashfree refused
/// or could not be reached), which a repeat should try again rather than answer with the failure.
pub async fn forget(db: &impl ConnectionTrait, who: Principal, key: &Key) -> AppResult<()> {
    key_row::Entity::delete_by_id((who.id, key.operation.to_owned(), key.key.clone())).exec(db).await?;
    Ok(())
}
