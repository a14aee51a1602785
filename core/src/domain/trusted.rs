//! A trusted-documents manifest: the operations the marketplace's frontends ship, by id and text
//! (`PAYDESK_TRUSTED_DOCUMENTS`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The operations a manifest lists: text by id, and every text.
#[derive(Debug)]
pub struct Trusted {
    by_id: HashMap<String, Arc<str>>,
    texts: HashSet<Arc<str>>,
}

impl Trusted {
    /// Reads a manifest: Apollo's (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body"}]}`)
    /// or Relay's and graphql-codegen's (`{"<id>": "<text>", …}`).
    pub fn parse(json: &str) -> anyhow::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json)?;
        let pairs: Vec<(String, String)> = match value.get("operations") {
            Some(ops) => ops
                .as_array()
                .ok_or_else(|| anyhow::anyhow!("`operations` must be a list"))?
                .iter()
                .map(|op| match (op["id"].as_str(), op["body"].as_str()) {
                    (Some(id), Some(body)) => Ok((id.to_owned(), body.to_owned())),
                    _ => Err(anyhow::anyhow!("every operation needs an `id` and a `body`: {op}")),
                })
                .collect::<anyhow::Result<_>>()?,
            None => value
                .as_object()
                .ok_or_else(|| anyhow::anyhow!("a manifest is an object: Apollo's, or a map of id to text"))?
                .iter()
                .map(|(id, text)| match text.as_str() {
                    Some(text) => Ok((id.clone(), text.to_owned())),
                    None => Err(anyhow::anyhow!("the text of `{id}` is not a string")),
                })
                .collect::<anyhow::Result<_>>()?,
        };
        anyhow::ensure!(!pairs.is_empty(), "the manifest lists no operation");
        let mut trusted = Trusted { by_id: HashMap::new(), texts: HashSet::new() };
        for (id, text) in pairs {
            let text: Arc<str> = text.into();
            trusted.texts.insert(text.clone());
            trusted.by_id.insert(id, text);
        }
        Ok(trusted)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Trusted {
    /// The text listed under `id`.
    pub fn text_of(&self, id: &str) -> Option<Arc<str>> {
        self.by_id.get(id).cloned()
    }

    /// Whether `text` is exactly one listed.
    pub fn lists(&self, text: &str) -> bool {
        self.texts.contains(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apollos_manifest_and_a_map_of_id_to_text_are_read_and_anything_else_refused() {
        let apollo = r#"{"format":"apollo-persisted-query-manifest","version":1,
            "operations":[{"id":"abc","body":"query A { me { role } }","name":"A","type":"query"}]}"#;
        let t = Trusted::parse(apollo).unwrap();
        assert_eq!(t.by_id["abc"].as_ref(), "query A { me { role } }");
        let relay = Trusted::parse(r#"{"1f2e": "query B { me { id } }"}"#).unwrap();
        assert!(relay.texts.contains("query B { me { id } }"));
        assert!(Trusted::parse("[]").is_err());
        assert!(Trusted::parse(r#"{"operations": [{"id": "x"}]}"#).is_err());
        assert!(Trusted::parse("{}").is_err());
    }
}
