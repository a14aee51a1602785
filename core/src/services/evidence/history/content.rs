//! What a chained row's hash covers: each table's canonical content, and a link's hash over the one before.
//! Kept apart from the chaining so that the code that writes the rows (`audit`, `journal`, `webhooks`) can seal
//! them without depending on the chainer.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::{audit_log, journal_entry, journal_posting, payment_webhook};
use sea_orm::{ActiveEnum, EntityTrait};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The chained tables, each its own chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chain {
    Audit,
    Journal,
    Webhooks,
}

impl Chain {
    pub const ALL: [Chain; 3] = [Chain::Audit, Chain::Journal, Chain::Webhooks];

    /// The chain's name in `history_links.chain` and in the API.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Journal => "journal",
            Chain::Webhooks => "webhooks",
        }
    }

    /// What its rows are, for people.
    pub(super) fn row(self) -> &'static str {
        match self {
            Chain::Audit => "audit entry",
            Chain::Journal => "journal entry",
            Chain::Webhooks => "webhook delivery",
        }
    }
}

/// The `prev_hash` of a chain's first link.
pub(super) const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 of `prev` followed by `content`: a link's hash.
pub fn link_hash(prev: &[u8], content: &[u8]) -> Vec<u8> {
    Sha256::new().chain_update(prev).chain_update(content).finalize().to_vec()
}

/// Writes `v` as JSON with every object's keys in byte order and no spaces: the same bytes for the same value,
/// whatever order the database hands keys back in.
pub(super) fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(k).unwrap_or_default());
                out.push(b':');
                canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        other => out.extend(serde_json::to_vec(other).unwrap_or_default()),
    }
}

/// SHA-256 of a row's canonical content.
pub(super) fn digest(content: &Value) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(256);
    canonical(content, &mut bytes);
    Sha256::digest(&bytes).to_vec()
}

pub(super) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A table whose rows are chained.
pub(crate) trait Chained: EntityTrait {
    const CHAIN: Chain;
    fn id() -> Self::Column;
    /// When a row was written: the order rows are linked in, and what [`WINDOW`] is measured on.
    fn written() -> Self::Column;
    /// The content hash the row's writer kept.
    fn sealed() -> Self::Column;
    fn id_of(m: &Self::Model) -> Uuid;
    fn written_of(m: &Self::Model) -> DateTime<Utc>;
    /// What the row's hash covers: every column that records what happened, none that a later step fills in.
    fn content(m: &Self::Model) -> Value;
}

/// Implements [`Chained`] for `$entity`, chain `$chain`, written at `$written` (column and field), its content
/// as `$content` makes it of a model.
macro_rules! chained {
    ($entity:ident, $chain:ident, $column:ident, $field:ident, $content:expr) => {
        impl Chained for $entity::Entity {
            const CHAIN: Chain = Chain::$chain;
            fn id() -> Self::Column {
                $entity::Column::Id
            }
            fn written() -> Self::Column {
                $entity::Column::$column
            }
            fn sealed() -> Self::Column {
                $entity::Column::ContentHash
            }
            fn id_of(m: &Self::Model) -> Uuid {
                m.id
            }
            fn written_of(m: &Self::Model) -> DateTime<Utc> {
                m.$field
            }
            fn content(m: &Self::Model) -> Value {
                let content: fn(&$entity::Model) -> Value = $content;
                content(m)
            }
        }
    };
}

chained!(audit_log, Audit, CreatedAt, created_at, |m| json!({
    "id": m.id, "actor_id": m.actor_id, "actor_role": m.actor_role.to_value(), "action": m.action,
    "entity_type": m.entity_type, "entity_id": m.entity_id, "before": m.before, "after": m.after,
    "reason": m.reason, "created_at": time(m.created_at),
}));

// What arrived: its bytes, headers, time and whether its signature held. What became of it (outcome, error, the
// payment it matched) is written later and may change on reprocessing.
chained!(payment_webhook, Webhooks, ReceivedAt, received_at, |m| json!({
    "id": m.id, "received_at": time(m.received_at), "signature_valid": m.signature_valid,
    "headers": m.headers, "raw_body_sha256": hex::encode(Sha256::digest(&m.raw_body)),
}));

// The entry; its lines are added by `journal_content`.
chained!(journal_entry, Journal, CreatedAt, created_at, |m| json!({
    "id": m.id, "kind": m.kind.to_value(), "reference": m.reference, "payment_id": m.payment_id,
    "payout_request_id": m.payout_request_id, "description": m.description, "created_at": time(m.created_at),
}));

/// A journal entry's content with its lines, in line order.
pub(super) fn journal_content(entry: &journal_entry::Model, lines: &[&journal_posting::Model]) -> Value {
    let mut content = <journal_entry::Entity as Chained>::content(entry);
    // Sealed when named: entries booked before entries named their provider object keep the content they were
    // sealed with.
    if let Some(object) = &entry.provider_object {
        content["provider_object"] = json!(object);
    }
    let mut lines: Vec<_> = lines.to_vec();
    lines.sort_by_key(|l| l.line);
    content["lines"] = lines
        .iter()
        .map(|l| {
            json!({
                "line": l.line, "account": l.account.to_value(), "wallet_id": l.wallet_id,
                "currency": l.currency, "amount": l.amount.minor(),
            })
        })
        .collect();
    content
}

/// The content hash of `row`, for its writer to keep in its `content_hash` column: what the chainer links.
pub(crate) fn seal<E: Chained>(row: &E::Model) -> Vec<u8> {
    digest(&E::content(row))
}

/// The content hash of a journal entry with its lines, for the code that books it to keep.
pub(crate) fn seal_entry(entry: &journal_entry::Model, lines: &[journal_posting::Model]) -> Vec<u8> {
    digest(&journal_content(entry, &lines.iter().collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_hashes_the_same_whatever_order_its_keys_come_in() {
        let a: Value =
            serde_json::from_str(r#"{"b": {"y": 1.50, "x": [2, {"d": null, "c": "é"}]}, "a": true}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a": true, "b": {"x": [2, {"c": "é", "d": null}], "y": 1.50}}"#).unwrap();
        let mut bytes = Vec::new();
        canonical(&a, &mut bytes);
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"a":true,"b":{"x":[2,{"c":"é","d":null}],"y":1.50}}"#);
        assert_eq!(digest(&a), digest(&b));
        // An amount written otherwise is other content: the chain keeps what was stored.
        let c: Value =
            serde_json::from_str(r#"{"a": true, "b": {"x": [2, {"c": "é", "d": null}], "y": 1.5}}"#).unwrap();
        assert_ne!(digest(&a), digest(&c));
    }

    #[test]
    fn a_link_hashes_the_previous_hash_then_the_content() {
        let content = digest(&json!({ "id": 1 }));
        let first = link_hash(&GENESIS, &content);
        assert_eq!(first, Sha256::new().chain_update([0u8; 32]).chain_update(&content).finalize().to_vec());
        assert_ne!(link_hash(&first, &content), first, "the same row after another is another link");
    }
}
