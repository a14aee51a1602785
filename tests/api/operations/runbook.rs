//! The runbook's queries are the ones an operator pastes during an incident: each must be valid against the served
//! schema, so a renamed field breaks this test instead of the runbook.

use crate::helpers::*;
use serde_json::{json, Value};

/// The GraphQL documents quoted in `docs/OPERATIONS.md` (inline code that starts like one), whitespace collapsed and
/// placeholders filled: `"…"` is an id, except as a range's `from` or `to`.
fn documents() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/OPERATIONS.md")).unwrap();
    let mut docs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let span = after[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        rest = &after[end + 1..];
        if span.starts_with("{ ") || span.starts_with("mutation {") {
            let span = span
                .replace("from: \"…\"", "from: \"2026-11-01T00:00:00Z\"")
                .replace("to: \"…\"", "to: \"2026-12-01T00:00:00Z\"")
                .replace("\"…\"", "\"0193a000-0000-7000-8000-000000000001\"");
            docs.push(span);
        }
    }
    docs
}

#[tokio::test]
async fn every_query_in_the_runbook_is_valid_against_the_served_schema() {
    let app = TestApp::spawn().await;
    let docs = documents();
    assert!(docs.len() >= 20, "the runbook quotes its queries: {}", docs.len());
    let mut wrong = Vec::new();
    for doc in docs {
        let body = app.gql(Some(&app.admin()), &doc, json!({})).await;
        // Validation errors have no path; a field's own error (a payout that does not exist, say) has one.
        let invalid: Vec<&Value> = body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter(|e| e["path"].is_null()).collect())
            .unwrap_or_default();
        if !invalid.is_empty() {
            wrong.push(format!(
                "{doc}\n  {}",
                invalid.iter().map(|e| e["message"].to_string()).collect::<Vec<_>>().join("\n  ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
