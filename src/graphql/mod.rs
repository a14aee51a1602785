//! The GraphQL schema: roots, guards, loaders, types, and the extension that gives every error a code.

pub mod filters;
pub mod guards;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use crate::state::AppState;
use async_graphql::dataloader::DataLoader;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};
use async_graphql::{Response, Schema};
use std::sync::Arc;

/// The served schema.
pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Limits that keep one request from costing the server too much.
const MAX_DEPTH: usize = 24;
const MAX_COMPLEXITY: usize = 5_000;

/// The schema without data: enough to print the SDL.
pub fn schema_only() -> AppSchema {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(ErrorCodes)
        .finish()
}

/// The schema with the state and the loaders every request uses.
pub fn build(state: AppState) -> AppSchema {
    let loader = DataLoader::new(loaders::Db(state.db.clone()), tokio::spawn).delay(state.settings.dataloader_delay);
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(ErrorCodes)
        .data(loader)
        .data(state)
        .finish()
}

/// The SDL that `schema.graphql` holds.
pub fn sdl() -> String {
    schema_only().sdl()
}

/// Gives every error without a code (parse and validation errors: the request itself is wrong)
/// `BAD_USER_INPUT`, so clients can always branch on `extensions.code`.
struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let ext = error.extensions.get_or_insert_with(Default::default);
            if ext.get("code").is_none() {
                ext.set("code", "BAD_USER_INPUT");
            }
        }
        response
    }
}
