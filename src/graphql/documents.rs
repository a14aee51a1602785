//! Parsed documents kept by their text. Dashboards and bots send the same few documents over and over (with
//! different variables); parsing one costs more CPU than the rest of a one-row read, while a copy of the parsed
//! document is cheap. Every request is still checked against its limits, and validated against the schema with
//! its own variables; only a document that declares no variables, whose validation therefore comes out the same
//! every time, is validated in full once (per kind of caller) and from then on checked for its limits alone.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::ServerResult;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How much document text the cache holds: hundreds of typical dashboard documents; the parsed form of a
/// document takes a few times its text.
const CAPACITY_BYTES: u64 = 512 * 1024;

/// Weighs an entry by its text: a few long documents cannot push out many short ones unnoticed.
#[derive(Clone)]
struct TextLength;

impl Weighter<String, Arc<Parsed>> for TextLength {
    fn weight(&self, text: &String, _: &Arc<Parsed>) -> u64 {
        text.len() as u64
    }
}

/// A document that parsed, and what is known of its validation.
pub struct Parsed {
    pub doc: ExecutableDocument,
    /// No operation declares variables: validation depends on the text (and the schema) alone.
    fixed: bool,
    /// Passed full validation, for signed-in [0] and anonymous [1] callers (whose schemas differ).
    validated: [AtomicBool; 2],
}

impl Parsed {
    fn new(doc: ExecutableDocument) -> Self {
        let fixed = doc.operations.iter().all(|(_, op)| op.node.variable_definitions.is_empty());
        Parsed { doc, fixed, validated: Default::default() }
    }

    /// Whether this document has passed full validation for this kind of caller and declares no variables: its
    /// validation can only come out the same again.
    pub fn validated(&self, signed_in: bool) -> bool {
        self.fixed && self.validated[usize::from(!signed_in)].load(Ordering::Relaxed)
    }

    /// Records that this document passed full validation for this kind of caller (kept only if it declares no
    /// variables).
    pub fn passed_validation(&self, signed_in: bool) {
        if self.fixed {
            self.validated[usize::from(!signed_in)].store(true, Ordering::Relaxed);
        }
    }
}

/// Documents that parsed, by their exact text; what is used least recently makes way.
pub struct Documents(Cache<String, Arc<Parsed>, TextLength>);

impl Default for Documents {
    fn default() -> Self {
        Documents(Cache::with_weighter(1024, CAPACITY_BYTES, TextLength))
    }
}

impl Documents {
    /// The parsed form of `text`: from the cache, or parsed now (and kept if it parses).
    pub fn parse(&self, text: &str) -> ServerResult<Arc<Parsed>> {
        if let Some(parsed) = self.0.get(text) {
            return Ok(parsed);
        }
        let parsed = Arc::new(Parsed::new(async_graphql::parser::parse_query(text)?));
        self.0.insert(text.to_owned(), parsed.clone());
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_a_broken_one_is_not_kept() {
        let docs = Documents::default();
        let first = docs.parse("{ viewer { id } }").unwrap();
        assert_eq!(docs.0.len(), 1);
        let again = docs.parse("{ viewer { id } }").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(docs.0.len(), 1);
        assert!(docs.parse("{ viewer { id ").is_err());
        assert_eq!(docs.0.len(), 1);
    }

    #[test]
    fn only_a_document_without_variables_keeps_its_validation() {
        let docs = Documents::default();
        let fixed = docs.parse("{ payoutRequest(id: \"x\") { id } }").unwrap();
        assert!(!fixed.validated(true));
        fixed.passed_validation(true);
        assert!(fixed.validated(true));
        assert!(!fixed.validated(false), "anonymous callers' schema validates on its own");
        let variable = docs.parse("query($id: UUID!) { payoutRequest(id: $id) { id } }").unwrap();
        variable.passed_validation(true);
        assert!(!variable.validated(true), "its next variables may not fit");
    }

    #[test]
    fn the_cache_keeps_to_its_size() {
        let docs = Documents::default();
        let field = "x".repeat(2000);
        for i in 0..2_000 {
            docs.parse(&format!("{{ {field}{i} }}")).unwrap();
        }
        let held = docs.0.weight();
        assert!(held <= CAPACITY_BYTES, "{held} bytes of text held");
    }
}
