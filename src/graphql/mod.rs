//! The GraphQL schema: roots, guards, loaders, types, and the extension that gives every error a code.

pub mod documents;
pub mod error;
pub mod filters;
pub mod guards;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use crate::state::AppState;
use async_graphql::dataloader::DataLoader;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Response, Schema};
use async_graphql::{ServerResult, Variables};
use std::sync::Arc;

/// The served schema.
pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Nesting deeper than any dashboard needs is refused.
const MAX_DEPTH: usize = 24;

/// The schema's shape and limits, before data is attached: without extensions, which wrap every field's
/// resolution (the HTTP handler applies their checks to single operations itself, see `http::graphql`).
fn plain() -> async_graphql::SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(limits::MAX_COMPLEXITY)
        .limit_directives(8)
}

/// The schema's shape and limits with the extensions that enforce them (batches, WebSocket operations). They
/// work per request: none may hook each field's resolution, which `types::Inline` does not pass through.
fn builder() -> async_graphql::SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    plain().extension(limits::Limits).extension(ErrorCodes)
}

/// The schema without data: enough to print the SDL.
pub fn schema_only() -> AppSchema {
    builder().finish()
}

/// The schemas every request uses: one for signed-in callers, and one for anonymous callers that offers no
/// introspection and no "did you mean" suggestions (every field needs a caller anyway, so nothing else differs).
pub struct Schemas {
    pub signed_in: AppSchema,
    pub anonymous: AppSchema,
    /// The same two without extensions, for single operations over HTTP, whose limits, error codes and metrics
    /// `run_single` applies around the execution.
    plain_signed_in: Plain,
    plain_anonymous: Plain,
    /// Documents already parsed, for single operations over HTTP.
    documents: documents::Documents,
}

/// A schema without extensions, twice: one validates a document in full; the other checks only its limits
/// (depth, complexity, fragment cycles), for a document already validated in full that declares no variables
/// (`documents::Parsed::validated`). Full validation is a fifth of a one-row read's CPU.
struct Plain {
    full: AppSchema,
    known: AppSchema,
}

/// The schema with the state and the loaders every request uses.
pub fn build(state: AppState) -> Schemas {
    let with_data = |b: async_graphql::SchemaBuilder<_, _, _>| {
        // The fetch task first lets the executor finish the pass that is registering keys (a few yields), so a
        // zero delay still batches a page's keys; a delay then only adds waiting.
        let loader = DataLoader::new(loaders::Db(state.reads.clone()), |fetch| {
            tokio::spawn(async move {
                for _ in 0..4 {
                    tokio::task::yield_now().await;
                }
                fetch.await
            })
        })
        .delay(state.settings.dataloader_delay);
        b.data(loader).data(state.clone()).finish()
    };
    let metered = |b: async_graphql::SchemaBuilder<_, _, _>| b.extension(OperationMetrics(state.metrics.clone()));
    let anonymous = |b: async_graphql::SchemaBuilder<_, _, _>| b.disable_introspection().disable_suggestions();
    let plain_pair = |kind: fn(async_graphql::SchemaBuilder<_, _, _>) -> async_graphql::SchemaBuilder<_, _, _>| Plain {
        full: with_data(kind(plain())),
        known: with_data(kind(plain()).validation_mode(async_graphql::ValidationMode::Fast)),
    };
    Schemas {
        signed_in: with_data(metered(builder())),
        anonymous: with_data(metered(anonymous(builder()))),
        plain_signed_in: plain_pair(|b| b),
        plain_anonymous: plain_pair(anonymous),
        documents: documents::Documents::default(),
    }
}

/// Runs one operation on a plain schema with what the extensions would do around it: the document's limits
/// before execution, then error codes and the operation metric.
pub async fn run_single(
    schemas: &Schemas,
    mut request: async_graphql::Request,
    signed_in: bool,
    metrics: &crate::metrics::Metrics,
) -> Response {
    // Parsed once (or taken from the documents already parsed): the schema executes the document as it is.
    let checked = limits::check_size(&request.query)
        .and_then(|()| schemas.documents.parse(&request.query))
        .and_then(|parsed| limits::check_parsed(&parsed.doc, signed_in).map(|()| parsed));
    let mut response = match checked {
        Ok(parsed) => {
            let plain = if signed_in { &schemas.plain_signed_in } else { &schemas.plain_anonymous };
            let kind = operation_kind(&parsed.doc);
            request.set_parsed_query(parsed.doc.clone());
            let response = if parsed.validated(signed_in) {
                plain.known.execute(request).await
            } else {
                let response = plain.full.execute(request).await;
                // Validation's errors have no path; a field's errors always have one.
                if response.errors.iter().all(|e| !e.path.is_empty()) {
                    parsed.passed_validation(signed_in);
                }
                response
            };
            count(metrics, kind, &response);
            response
        }
        Err(e) => {
            let response = Response::from_errors(vec![e]);
            count(metrics, "invalid", &response);
            response
        }
    };
    fill_codes(&mut response);
    response
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
        fill_codes(&mut response);
        response
    }
}

/// Gives errors without a code `BAD_USER_INPUT`.
fn fill_codes(response: &mut Response) {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "BAD_USER_INPUT");
        }
    }
}

/// Whether a document is a query, mutation or subscription (its first operation's type).
fn operation_kind(doc: &ExecutableDocument) -> &'static str {
    let ty = match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => ops.values().next().map(|op| op.node.ty),
    };
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// Counts an operation by type and outcome.
fn count(metrics: &crate::metrics::Metrics, kind: &'static str, response: &Response) {
    let outcome = if response.errors.is_empty() { "ok" } else { "error" };
    let labels = crate::metrics::OperationLabels { operation: kind, outcome };
    metrics.graphql_operations.get_or_create(&labels).inc();
}

/// Counts queries and mutations by type and outcome for `/metrics`.
struct OperationMetrics(Arc<crate::metrics::Metrics>);

impl ExtensionFactory for OperationMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OperationMetricsExt { metrics: self.0.clone(), kind: std::sync::Mutex::new("invalid") })
    }
}

struct OperationMetricsExt {
    metrics: Arc<crate::metrics::Metrics>,
    /// The operation's type once parsed; "invalid" if it never parsed.
    kind: std::sync::Mutex<&'static str>,
}

#[async_trait::async_trait]
impl Extension for OperationMetricsExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        *self.kind.lock().unwrap_or_else(|e| e.into_inner()) = operation_kind(&doc);
        Ok(doc)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        count(&self.metrics, *self.kind.lock().unwrap_or_else(|e| e.into_inner()), &response);
        response
    }
}
