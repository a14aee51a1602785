//! The GraphQL schema (roots, guards, loaders, types) and the one path every operation runs through ([`Gateway`]),
//! which gives every error a code.

pub mod documents;
pub mod error;
pub mod filters;
pub mod guards;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod persisted;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod types;

use crate::state::AppState;
use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{Response, Schema, ServerResult};
use std::sync::Arc;

/// The served schema.
pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Nesting deeper than any dashboard needs is refused.
const MAX_DEPTH: usize = 24;

/// The schema's shape and its own limits, without extensions: an extension would wrap every field's resolution.
fn plain() -> async_graphql::SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    Schema::build(query::Query::default(), mutation::Mutation::default(), subscription::Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(limits::MAX_COMPLEXITY)
        .limit_directives(8)
}

/// The schema without data: enough to print the SDL.
pub fn schema_only() -> AppSchema {
    plain().finish()
}

/// The SDL that `schema.graphql` holds (printed once).
pub fn sdl() -> &'static str {
    static SDL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| schema_only().sdl());
    &SDL
}

/// One audience's schema (signed-in callers, or anonymous ones, whose schema offers no introspection and no "did you
/// mean" suggestions), in the three forms an operation may run on. Which form runs is an implementation detail of
/// [`Gateway`]: `full` validates a document in full; `known` checks only its limits (depth, complexity, fragment
/// cycles), for a document already validated in full that declares no variables (`documents::Parsed::validated`:
/// its validation can only come out the same); `budgeted` validates in full and charges the operation's
/// complexity to its batch's one budget (`limits::Charge`, the only extension, and the only form that pays for one).
struct Audience {
    full: AppSchema,
    known: AppSchema,
    budgeted: AppSchema,
}

/// The schemas and the documents already parsed, shared by every request.
pub struct Schemas {
    signed_in: Audience,
    anonymous: Audience,
    documents: documents::Documents,
    persisted: persisted::Persisted,
}

/// The schemas with the state and the loaders every request uses.
pub fn build(state: AppState) -> Arc<Schemas> {
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
    let audience = |anonymous: bool| {
        let base = || if anonymous { plain().disable_introspection().disable_suggestions() } else { plain() };
        Audience {
            full: with_data(base()),
            known: with_data(base().validation_mode(async_graphql::ValidationMode::Fast)),
            budgeted: with_data(base().extension(limits::Charge)),
        }
    };
    let persisted = persisted::Persisted::new(state.db.clone(), state.settings.trusted_documents.clone());
    Arc::new(Schemas {
        signed_in: audience(false),
        anonymous: audience(true),
        documents: Default::default(),
        persisted,
    })
}

/// The one way a GraphQL operation runs, single or in a batch over HTTP, or on a WebSocket: the document's size,
/// then its parse (or the copy already parsed), its limits (`limits::check_parsed`), validation and execution on
/// the caller's audience's schema, then a code on every error and the operation metric. One per audience.
#[derive(Clone)]
pub struct Gateway {
    schemas: Arc<Schemas>,
    metrics: Arc<crate::metrics::Metrics>,
    signed_in: bool,
}

impl Gateway {
    /// The gateway for signed-in callers (`signed_in`) or anonymous ones.
    pub fn new(schemas: Arc<Schemas>, metrics: Arc<crate::metrics::Metrics>, signed_in: bool) -> Self {
        Gateway { schemas, metrics, signed_in }
    }

    fn audience(&self) -> &Audience {
        if self.signed_in {
            &self.schemas.signed_in
        } else {
            &self.schemas.anonymous
        }
    }

    /// The document of `request`, parsed (or taken from those already parsed) and within its limits.
    fn checked(&self, request: &async_graphql::Request) -> ServerResult<Arc<documents::Parsed>> {
        limits::check_size(&request.query)?;
        let parsed = self.schemas.documents.parse(&request.query)?;
        limits::check_parsed(&parsed.doc, self.signed_in)?;
        Ok(parsed)
    }

    /// Runs one operation; `budgeted` for an operation of a batch, whose complexity counts against the batch's.
    async fn run(&self, mut request: async_graphql::Request, budgeted: bool) -> Response {
        let caller = caller_of(&request.data);
        let via_get = request.data.contains_key(&std::any::TypeId::of::<ViaGet>());
        let keep = match self.schemas.persisted.resolve(&mut request, caller.as_ref()).await {
            Ok(keep) => keep,
            Err(e) => {
                let mut response = Response::from_errors(vec![e]);
                count(&self.metrics, "invalid", &response);
                fill_codes(&mut response);
                return response;
            }
        };
        let mut response = match self.checked(&request) {
            // Decided on the operation that will run, never on another in the same document.
            Ok(parsed)
                if via_get
                    && matches!(
                        operation_kind(&parsed.doc, request.operation_name.as_deref()),
                        "mutation" | "subscription"
                    ) =>
            {
                Response::from_errors(vec![async_graphql::ServerError::new(GET_REFUSAL, None)])
            }
            Ok(parsed) => {
                let audience = self.audience();
                let kind = operation_kind(&parsed.doc, request.operation_name.as_deref());
                let span = operation_span(kind, &request, &parsed.doc);
                request.set_parsed_query(parsed.doc.clone());
                let response = async {
                    if budgeted {
                        audience.budgeted.execute(request).await
                    } else if parsed.validated(self.signed_in) {
                        audience.known.execute(request).await
                    } else {
                        let response = audience.full.execute(request).await;
                        if !stopped_before_running(&response) {
                            parsed.passed_validation(self.signed_in);
                        }
                        response
                    }
                };
                let response = tracing::Instrument::instrument(response, span.clone()).await;
                if let Some(error) = response.errors.first() {
                    crate::traces::failed(&span, error.message.clone());
                }
                count(&self.metrics, kind, &response);
                response
            }
            Err(e) => {
                let response = Response::from_errors(vec![e]);
                count(&self.metrics, "invalid", &response);
                response
            }
        };
        // A document sent with its hash is kept once it parsed and validated: text that is not an operation of this
        // schema is never stored.
        if let Some(keep) = keep.filter(|_| !stopped_before_running(&response)) {
            self.schemas.persisted.keep(keep).await;
        }
        fill_codes(&mut response);
        response
    }
}

impl async_graphql::Executor for Gateway {
    fn execute(&self, request: async_graphql::Request) -> impl std::future::Future<Output = Response> + Send {
        self.run(request, false)
    }

    fn execute_batch(
        &self,
        batch: async_graphql::BatchRequest,
    ) -> impl std::future::Future<Output = async_graphql::BatchResponse> + Send {
        use async_graphql::{BatchRequest, BatchResponse};
        use futures_util::stream::{FuturesOrdered, StreamExt};
        async move {
            match batch {
                BatchRequest::Single(request) => BatchResponse::Single(self.run(request, false).await),
                BatchRequest::Batch(requests) => BatchResponse::Batch(
                    requests.into_iter().map(|r| self.run(r, true)).collect::<FuturesOrdered<_>>().collect().await,
                ),
            }
        }
    }

    /// On a WebSocket: checked as above, then run on the `full` schema with the connection's data; every
    /// response's errors get their codes. (Socket operations are not counted in the operation metric.)
    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures_util::stream::BoxStream<'static, Response> {
        use futures_util::stream::StreamExt;
        let gateway = self.clone();
        let caller = session_data.as_deref().and_then(caller_of);
        futures_util::stream::once(async move {
            let mut request = request;
            match gateway.schemas.persisted.resolve(&mut request, caller.as_ref()).await {
                Ok(keep) => {
                    // Only signed-in callers reach a socket; their document is kept once it parses within limits.
                    if let Some(keep) = keep.filter(|_| gateway.checked(&request).is_ok()) {
                        gateway.schemas.persisted.keep(keep).await;
                    }
                    gateway.stream(request, session_data)
                }
                Err(e) => {
                    let mut response = Response::from_errors(vec![e]);
                    fill_codes(&mut response);
                    futures_util::stream::once(async move { response }).boxed()
                }
            }
        })
        .flatten()
        .boxed()
    }
}

/// Marks a request that came as `GET /graphql`: it may only read.
pub struct ViaGet;

/// What a mutation or subscription sent with GET is told (HTTP 405, `Allow: POST`).
pub const GET_REFUSAL: &str = "only queries may be sent with GET; send this with POST";

/// Whether `response` has an error from before the operation ran (parsing, validation, a refusal): those have no
/// path, and a field's errors always have one.
fn stopped_before_running(response: &Response) -> bool {
    response.errors.iter().any(|e| e.path.is_empty())
}

/// The caller in a request's (or a socket's) data.
fn caller_of(data: &async_graphql::Data) -> Option<crate::auth::Caller> {
    data.get(&std::any::TypeId::of::<crate::auth::Caller>()).and_then(|c| c.downcast_ref()).cloned()
}

impl Gateway {
    /// A socket's operation once its document is known: checked, then run on the `full` schema with the
    /// connection's data.
    fn stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures_util::stream::BoxStream<'static, Response> {
        use futures_util::stream::StreamExt;
        let coded = |mut response: Response| {
            fill_codes(&mut response);
            response
        };
        match self.checked(&request) {
            Ok(parsed) => {
                request.set_parsed_query(parsed.doc.clone());
                let schema = &self.audience().full;
                schema.execute_stream_with_session_data(request, session_data.unwrap_or_default()).map(coded).boxed()
            }
            Err(e) => futures_util::stream::once(async move { coded(Response::from_errors(vec![e])) }).boxed(),
        }
    }
}

/// Gives every error without a code (parse and validation errors: the request itself is wrong) `BAD_USER_INPUT`, so
/// clients can always branch on `extensions.code`.
fn fill_codes(response: &mut Response) {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "BAD_USER_INPUT");
        }
    }
}

/// Whether a document is a query, mutation or subscription (its first operation's type).
/// The type of the operation that will run: the document's only one (anonymous or named), or the one `name` names
/// (none when a document of several names none, or another: nothing will run).
fn operation_kind(doc: &ExecutableDocument, name: Option<&str>) -> &'static str {
    let ty = match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.iter().find(|(n, _)| n.as_str() == name).map(|(_, op)| op.node.ty)
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    };
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "invalid",
    }
}

/// With traces on, the span of one operation, named as OpenTelemetry names GraphQL spans (`mutation
/// approvePayout`); none otherwise, so that an untraced operation costs nothing here.
fn operation_span(kind: &'static str, request: &async_graphql::Request, doc: &ExecutableDocument) -> tracing::Span {
    if !crate::traces::on() {
        return tracing::Span::none();
    }
    let name = match (&request.operation_name, &doc.operations) {
        (Some(name), _) => name.as_str(),
        (None, DocumentOperations::Multiple(ops)) => ops.keys().next().map_or("", |n| n.as_str()),
        (None, DocumentOperations::Single(_)) => "",
    };
    let title = if name.is_empty() { kind.to_owned() } else { format!("{kind} {name}") };
    tracing::info_span!("graphql", otel.name = %title, graphql.operation.type = kind, graphql.operation.name = name)
}

/// Counts an operation by type and outcome.
fn count(metrics: &crate::metrics::Metrics, kind: &'static str, response: &Response) {
    let outcome = if response.errors.is_empty() { "ok" } else { "error" };
    let labels = crate::metrics::OperationLabels { operation: kind, outcome };
    metrics.graphql_operations.get_or_create(&labels).inc();
}
