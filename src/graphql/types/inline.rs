//! Objects of long lists whose plain fields are resolved in place.
//!
//! async-graphql gives every field of every object its own boxed future and runs them through a
//! `FuturesUnordered`: for a page of 50 rows of 6 fields that is 300 boxed futures, each with its task and
//! wake-ups, before a byte is written. [`Inline`] resolves the fields its type names
//! as plain (copied out of the value; nothing awaited) one after another in place, and gives only the others
//! (loaders, lists) their futures, run together as before. Each field is still resolved by the type's own
//! generated resolver, so values and errors are the same; the response keeps the selection's order. A selection
//! with fragments or directives takes async-graphql's own path. Extensions' per-field hooks (`resolve`) are not
//! called for plain fields: paydesk's one extension works per request (`limits::Charge`).

use async_graphql::indexmap::map::Entry;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{ContainerType, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::borrow::Cow;
use std::future::Future;

/// An object type with fields that resolve without waiting.
pub trait PlainFields: ContainerType + OutputType {
    /// Its fields, by GraphQL name, whose resolvers return at once: copied from the value, no loader, no guard.
    /// A field missing here only loses speed; one listed wrongly is asked once in place and, not being ready,
    /// resolved again with the fields that wait (the same result).
    const PLAIN: &'static [&'static str];
}

/// `T`, served with its plain fields resolved in place.
pub struct Inline<T>(pub T);

impl<T: PlainFields> OutputType for Inline<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let items = &ctx.item.node.items;
        let simple = |s: &Positioned<Selection>| matches!(&s.node, Selection::Field(f) if f.node.directives.is_empty());
        if !items.iter().all(simple) {
            // Boxed: this future is held per row while a list resolves, and should not be sized for this path.
            return Box::pin(self.0.resolve(ctx, field)).await;
        }
        let root = &self.0;
        let mut object = IndexMap::with_capacity(items.len());
        let mut later = Vec::new();
        for selection in items {
            let Selection::Field(f) = &selection.node else { unreachable!("checked above") };
            let key = f.node.response_key().node.clone();
            let name = f.node.name.node.as_str();
            if name == "__typename" {
                object.insert(key, Value::String(root.introspection_type_name().into_owned()));
            } else if let Some(result) = plain::<T>(root, ctx, f, name) {
                match result {
                    Ok(value) => merge(&mut object, key, value.unwrap_or_default()),
                    Err(e) => ctx.add_error(e),
                }
            } else {
                // Keeps the key's place in the selection's order until its value comes.
                object.entry(key.clone()).or_insert(Value::Null);
                later.push((key, f));
            }
        }
        if !later.is_empty() {
            // Boxed, as async-graphql boxes them: the set's own stub task is then sized for a pointer, not for the
            // type's largest field resolver.
            let mut waiting: FuturesUnordered<_> = later
                .into_iter()
                .map(|(key, f)| Box::pin(async move { (key, root.resolve_field(&ctx.with_field(f)).await) }))
                .collect();
            while let Some((key, result)) = waiting.next().await {
                match result {
                    Ok(value) => merge(&mut object, key, value.unwrap_or_default()),
                    Err(e) => {
                        // A failed field is left out, as async-graphql leaves it out.
                        if object.get(&key) == Some(&Value::Null) {
                            object.shift_remove(&key);
                        }
                        ctx.add_error(e)
                    }
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// A plain field's value, from the type's resolver polled once in place (its future, sized for the type's
/// largest field, lives on the stack for that call only, not in every row's future while the list resolves).
/// `None` for a field not listed as plain, or listed wrongly and not ready at once: it is then resolved again with
/// the others that wait (the same result, a little later).
fn plain<T: PlainFields>(
    root: &T,
    ctx: &ContextSelectionSet<'_>,
    f: &Positioned<Field>,
    name: &str,
) -> Option<ServerResult<Option<Value>>> {
    if !T::PLAIN.contains(&name) {
        return None;
    }
    // Pinned where it is made: `now_or_never` would first move the whole future into its own frame.
    let ctx = ctx.with_field(f);
    let resolving = std::pin::pin!(root.resolve_field(&ctx));
    match resolving.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(result) => Some(result),
        std::task::Poll::Pending => None,
    }
}

/// A field's value into its object; a key asked for twice (`a { x } a { y }`) has its selections merged, as
/// async-graphql does. The key is hashed once, not once per lookup.
fn merge(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    let into = match object.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            return;
        }
        Entry::Occupied(slot) => slot.into_mut(),
    };
    match (into, value) {
        (Value::Object(into), Value::Object(from)) => {
            for (k, v) in from {
                merge(into, k, v);
            }
        }
        (Value::List(into), Value::List(from)) => {
            for (into, from) in into.iter_mut().zip(from) {
                if let (Value::Object(into), Value::Object(from)) = (into, from) {
                    for (k, v) in from {
                        merge(into, k, v);
                    }
                }
            }
        }
        (into, value) => *into = value,
    }
}
