//! The ops console at `/console`: a page and its ES modules, every byte inside the binary (no build step, no CDN),
//! served with a Content-Security-Policy that lets the page load only these files and talk only to this server.
//! It is a client of the public GraphQL API and its subscriptions like any other (`assets/console/`).

use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Only this server's scripts, styles and connections (its WebSocket included); no inline code, no frames, no forms
/// posted elsewhere.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's files: name, contents, type.
const FILES: [(&str, &[u8], &str); 16] = [
    ("console.css", include_bytes!("../../assets/console/console.css"), "text/css"),
    ("app.js", include_bytes!("../../assets/console/app.js"), "text/javascript"),
    ("api.js", include_bytes!("../../assets/console/api.js"), "text/javascript"),
    ("ui.js", include_bytes!("../../assets/console/ui.js"), "text/javascript"),
    ("queue.js", include_bytes!("../../assets/console/queue.js"), "text/javascript"),
    ("alerts.js", include_bytes!("../../assets/console/alerts.js"), "text/javascript"),
    ("controls.js", include_bytes!("../../assets/console/controls.js"), "text/javascript"),
    ("wallet.js", include_bytes!("../../assets/console/wallet.js"), "text/javascript"),
    ("wallets.js", include_bytes!("../../assets/console/wallets.js"), "text/javascript"),
    ("payments.js", include_bytes!("../../assets/console/payments.js"), "text/javascript"),
    ("webhooks.js", include_bytes!("../../assets/console/webhooks.js"), "text/javascript"),
    ("notifications.js", include_bytes!("../../assets/console/notifications.js"), "text/javascript"),
    ("investigation.js", include_bytes!("../../assets/console/investigation.js"), "text/javascript"),
    ("reports.js", include_bytes!("../../assets/console/reports.js"), "text/javascript"),
    ("audit.js", include_bytes!("../../assets/console/audit.js"), "text/javascript"),
    ("icon.svg", include_bytes!("../../assets/console/icon.svg"), "image/svg+xml"),
];

/// `GET /console`: the page. When the console signs in at the identity provider, the page may also talk to the
/// provider's origin (its discovery document) and to that of the token endpoint the discovery document names (on
/// another origin at Google and Cognito), and to nothing else.
pub async fn page(State(http): State<super::Http>) -> Response {
    let html = include_str!("../../assets/console/index.html");
    let mut response =
        guarded(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], html));
    if let Some(origin) = sign_in(&http).and_then(|(issuer, ..)| url::Url::parse(issuer).ok()) {
        let mut origins = vec![origin.origin().ascii_serialization()];
        if let Some(token) = match &http.state.idp {
            Some(idp) => idp.token_origin().await,
            None => None,
        } {
            if !origins.contains(&token) {
                origins.push(token);
            }
        }
        let policy = POLICY.replace("connect-src 'self'", &format!("connect-src 'self' {}", origins.join(" ")));
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// `GET /console/config.json`: how the console signs in: `{"signIn": null}` (a pasted token only) or the identity
/// provider's issuer, the console's client id there and the scopes to ask for.
pub async fn config(State(http): State<super::Http>) -> Response {
    let sign_in = sign_in(&http)
        .map(|(issuer, client, scope)| serde_json::json!({ "issuer": issuer, "clientId": client, "scope": scope }));
    guarded(axum::Json(serde_json::json!({ "signIn": sign_in })))
}

/// The issuer, the console's client id and its scopes, when the console signs in at the identity provider.
fn sign_in(http: &super::Http) -> Option<(&str, &str, &str)> {
    let oidc = http.state.settings.oidc.as_ref()?;
    let (client, scope) = oidc.console.as_ref()?;
    Some((oidc.issuer.as_str(), client.as_str(), scope.as_str()))
}

/// `GET /console/assets/{file}`: one of the console's files.
pub async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, ..)| *name == file) {
        Some((_, body, mime)) => guarded(([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *body)),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `answer` with the console's security headers.
fn guarded(answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    response
}
