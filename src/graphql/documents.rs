//! Parsed documents kept by their text. Dashboards and bots send the same few documents over and over (with
//! different variables); parsing one costs more CPU than the rest of a one-row read, while a copy of the parsed
//! document is cheap. Only parsing is skipped: every request is still checked against its limits and validated
//! against the schema with its own variables.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::ServerResult;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// How much document text the cache holds: hundreds of typical dashboard documents; the parsed form of a
/// document takes a few times its text.
const CAPACITY_BYTES: u64 = 512 * 1024;

/// Weighs an entry by its text: a few long documents cannot push out many short ones unnoticed.
#[derive(Clone)]
struct TextLength;

impl Weighter<String, ExecutableDocument> for TextLength {
    fn weight(&self, text: &String, _: &ExecutableDocument) -> u64 {
        text.len() as u64
    }
}

/// Documents that parsed, by their exact text; what is used least recently makes way.
pub struct Documents(Cache<String, ExecutableDocument, TextLength>);

impl Default for Documents {
    fn default() -> Self {
        Documents(Cache::with_weighter(1024, CAPACITY_BYTES, TextLength))
    }
}

impl Documents {
    /// The parsed form of `text`: from the cache, or parsed now (and kept if it parses).
    pub fn parse(&self, text: &str) -> ServerResult<ExecutableDocument> {
        if let Some(doc) = self.0.get(text) {
            return Ok(doc);
        }
        let doc = async_graphql::parser::parse_query(text)?;
        self.0.insert(text.to_owned(), doc.clone());
        Ok(doc)
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
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        assert_eq!(docs.0.len(), 1);
        assert!(docs.parse("{ viewer { id ").is_err());
        assert_eq!(docs.0.len(), 1);
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
