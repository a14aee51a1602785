//! Persisted documents. Automatic persisted queries as Apollo Client and urql send them: a request names its
//! document by `extensions.persistedQuery.sha256Hash` (over GET or POST) and leaves the text out; a hash paydesk
//! does not know is answered `PERSISTED_QUERY_NOT_FOUND`, and the client sends text and hash together once, which
//! paydesk keeps in the database, so every instance knows it from then on.
//!
//! With `PAYDESK_TRUSTED_DOCUMENTS` (a manifest of the operations the marketplace's frontends ship: Apollo's
//! persisted-query manifest, or the map of id to text that Relay and graphql-codegen's client preset write), callers
//! other than admins may run only those operations, named by their id (in `persistedQuery.sha256Hash`) or sent with
//! identical text; an admin, in GraphiQL say, may still run anything.

use crate::auth::Caller;
use crate::domain::trusted::Trusted;
use async_graphql::{Request, ServerError, ServerResult};
use entity::persisted_document as document;
use entity::status::Role;
use sea_orm::{DatabaseConnection, EntityTrait};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Texts remembered by hash on this instance, so a known hash costs no query.
const REMEMBERED: usize = 4096;
/// How often an instance notes that a document is still used (its `used_at`), which retention reads.
const NOTED_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The persisted documents of this deployment.
pub struct Persisted {
    db: DatabaseConnection,
    remembered: quick_cache::sync::Cache<String, Arc<str>>,
    /// When this instance last noted each document's use in the database.
    noted: quick_cache::sync::Cache<String, std::time::Instant>,
    trusted: Option<Arc<Trusted>>,
}

fn error(code: &str, message: impl Into<String>) -> ServerError {
    let mut e = ServerError::new(message, None);
    e.extensions.get_or_insert_with(Default::default).set("code", code);
    e
}

impl Persisted {
    pub fn new(db: DatabaseConnection, trusted: Option<Arc<Trusted>>) -> Self {
        let (remembered, noted) =
            (quick_cache::sync::Cache::new(REMEMBERED), quick_cache::sync::Cache::new(REMEMBERED));
        Persisted { db, remembered, noted, trusted }
    }

    /// Gives `request` its document's text when it names a persisted one, keeps a new one it registers, and in
    /// trusted-documents mode refuses what the manifest does not list (unless `caller` is an admin).
    pub async fn resolve(&self, request: &mut Request, caller: Option<&Caller>) -> ServerResult<Option<Keep>> {
        let admin = matches!(caller, Some(Caller::User(p)) if p.role == Role::Admin);
        let mut keep = None;
        if let Some(hash) = named(request)? {
            if request.query.is_empty() {
                request.query = self.text_of(&hash, admin).await?.to_string();
                self.note_use(&hash);
            } else {
                let actual = hex::encode(Sha256::digest(request.query.as_bytes()));
                if actual != hash {
                    return Err(error(
                        "BAD_USER_INPUT",
                        format!("persistedQuery.sha256Hash is {hash}, but the query's SHA-256 is {actual}"),
                    ));
                }
                if self.trusted.is_none() || admin {
                    super::limits::check_size(&request.query)?;
                    keep = Some(Keep { hash, text: request.query.clone() });
                }
            }
        }
        match &self.trusted {
            Some(trusted) if !admin && !trusted.lists(&request.query) => Err(error(
                "DOCUMENT_NOT_TRUSTED",
                "this server runs only the operations its frontends ship (PAYDESK_TRUSTED_DOCUMENTS): send one by its \
                 id in extensions.persistedQuery.sha256Hash, or its exact text",
            )),
            _ => Ok(keep),
        }
    }

    /// The text persisted under `hash`: from the manifest, this instance's memory or the database.
    async fn text_of(&self, hash: &str, admin: bool) -> ServerResult<Arc<str>> {
        if let Some(text) = self.trusted.as_ref().and_then(|t| t.text_of(hash)) {
            return Ok(text);
        }
        let not_found = || error("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound");
        if self.trusted.is_some() && !admin {
            return Err(not_found());
        }
        if let Some(text) = self.remembered.get(hash) {
            return Ok(text);
        }
        match document::Entity::find_by_id(hash.to_owned()).one(&self.db).await {
            Ok(Some(found)) => {
                let text: Arc<str> = found.body.into();
                self.remembered.insert(hash.to_owned(), text.clone());
                Ok(text)
            }
            Ok(None) => Err(not_found()),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a persisted document");
                Err(error("UNAVAILABLE", "persisted documents cannot be read now; send the query's text"))
            }
        }
    }

    /// Notes, at most hourly per instance and without waiting for it, that the document `hash` is still run: a
    /// document unused for `PAYDESK_PERSISTED_RETENTION_DAYS` is forgotten (a client sends its text again).
    fn note_use(&self, hash: &str) {
        if self.trusted.as_ref().is_some_and(|t| t.text_of(hash).is_some()) {
            return; // the manifest's, never stored
        }
        if self.noted.get(hash).is_some_and(|at| at.elapsed() < NOTED_EVERY) {
            return;
        }
        self.noted.insert(hash.to_owned(), std::time::Instant::now());
        let (db, hash) = (self.db.clone(), hash.to_owned());
        tokio::spawn(async move {
            use sea_orm::{sea_query::Expr, ColumnTrait, QueryFilter};
            let noted = document::Entity::update_many()
                .col_expr(document::Column::UsedAt, Expr::value(crate::clock::now()))
                .filter(document::Column::Hash.eq(hash))
                .exec(&db)
                .await;
            if let Err(e) = noted {
                tracing::warn!(error = %e, "could not note a persisted document's use");
            }
        });
    }

    /// Keeps `text` under `hash` (once; a failure to store only means it is not kept). Called only for a document
    /// that parsed and validated: text that is not GraphQL, or not this schema's, is never stored.
    pub async fn keep(&self, Keep { hash, text }: Keep) {
        let (hash, text) = (hash.as_str(), text.as_str());
        if self.remembered.get(hash).is_some() {
            return;
        }
        let row = document::ActiveModel {
            hash: sea_orm::Set(hash.to_owned()),
            body: sea_orm::Set(text.to_owned()),
            created_at: sea_orm::Set(crate::clock::now()),
            used_at: sea_orm::Set(None),
        };
        let stored =
            document::Entity::insert(row).on_conflict_do_nothing_on([document::Column::Hash]).exec(&self.db).await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "could not keep a persisted document");
        }
        self.remembered.insert(hash.to_owned(), text.into());
    }
}

/// A document sent with its hash, to keep once it has run (`Persisted::keep`).
pub struct Keep {
    hash: String,
    text: String,
}

/// The hash `extensions.persistedQuery` names, if the request names one (taking the extension out).
fn named(request: &mut Request) -> ServerResult<Option<String>> {
    let Some(value) = request.extensions.remove("persistedQuery") else { return Ok(None) };
    let json = value.into_json().unwrap_or_default();
    if json["version"].as_i64() != Some(1) {
        return Err(error("BAD_USER_INPUT", "persistedQuery.version must be 1"));
    }
    match json["sha256Hash"].as_str() {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) => {
            Ok(Some(h.to_owned()))
        }
        _ => Err(error("BAD_USER_INPUT", "persistedQuery.sha256Hash must be 64 lowercase hex digits")),
    }
}
