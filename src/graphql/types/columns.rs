//! Which columns a list's selection reads, so that a page selects only those.
//!
//! A page of payout requests asked for six fields need not select, send and decode all nineteen columns of every
//! row. An object type read from one
//! entity's rows is declared with [`object_of_rows!`], each field once with the columns it reads (and its computed
//! fields' columns beside them); a field the map does not name (one that reads the whole row) makes the page select
//! every column, so a map that lags behind the type costs speed, never a wrong value. Nested lists (`Wallet.transactions` and the like) select the same way,
//! their loaders batching the parents that ask for the same columns. The API tests resolve every field of every
//! list, top-level and nested, from rows holding only its columns and from whole rows (`nodes(ids:)`), and compare.

use async_graphql::{Context, SelectionField};
use entity::{ByPosition, Columns};

/// An object type made from one entity's rows.
pub trait FromColumns {
    type Model: ByPosition;
    /// The model's columns that `field` reads, or `None` if it may read any of them.
    fn columns(field: &str) -> Option<&'static [&'static str]>;
}

/// The columns of `N`'s model that the connection being resolved reads for its `nodes` and `edges { node }`:
/// every column if one of them is not named by `N`'s map. The list's order and cursors add their own
/// (`read::page`).
pub fn selected<N: FromColumns>(ctx: &Context<'_>) -> Columns {
    let mut nodes = Vec::new();
    for part in ctx.field().selection_set() {
        match part.name() {
            "nodes" => nodes.push(part),
            "edges" => nodes.extend(part.selection_set().filter(|f| f.name() == "node")),
            _ => {}
        }
    }
    reading::<N>(nodes)
}

/// The columns of `N`'s model that the plain list being resolved (`[N]`) reads for its items; as [`selected`].
pub fn listed<N: FromColumns>(ctx: &Context<'_>) -> Columns {
    reading::<N>([ctx.field()])
}

/// The columns that the fields below `objects` (selections of `N`) read.
fn reading<'a, N: FromColumns>(objects: impl IntoIterator<Item = SelectionField<'a>>) -> Columns {
    let mut wanted = Columns::NONE;
    for object in objects {
        for field in object.selection_set() {
            if field.name() == "__typename" {
                continue;
            }
            let Some(columns) = N::columns(field.name()) else { return Columns::ALL };
            for column in columns {
                wanted = wanted.with::<N::Model>(column);
            }
        }
    }
    wanted
}

/// Implements [`FromColumns`] for an object type: each arm names fields (by their GraphQL names) and the model's
/// columns they read. The compiler checks that each column is a field of the model.
macro_rules! columns_of {
    ($object:ty, $model:ty { $($($field:literal)|+ => [$($column:ident),+]),+ $(,)? }) => {
        impl $crate::graphql::types::columns::FromColumns for $object {
            type Model = $model;

            fn columns(field: &str) -> Option<&'static [&'static str]> {
                // Names each column as a field of the model, so that a misspelt one does not compile.
                let _ = |m: &$model| {
                    $($(let _ = &m.$column;)+)+
                };
                match field {
                    $($($field)|+ => Some(&[$(stringify!($column)),+]),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use columns_of;

/// Declares an object type read from one entity's rows, each of its plain fields once: its GraphQL name, its Rust
/// field and type, how it is made from the row (`m`), and the row's columns it reads. From that one declaration come
/// the struct, its [`PlainFields`](super::PlainFields) (all its fields are plain), its [`FromColumns`] map and its
/// `From<Model>`. `keeps` holds what is kept from the row but not shown (made last, so it may move the row);
/// `reads` names the columns the type's computed fields read.
macro_rules! object_of_rows {
    (
        $(#[$meta:meta])*
        pub struct $name:ident from $model:ty as $m:ident {
            $(
                $(#[$fmeta:meta])*
                $gql:literal $field:ident: $ty:ty = $make:expr, reads [$($col:ident),+];
            )+
        }
        $(keeps { $($kept:ident: $kty:ty = $kmake:expr;)+ })?
        $(reads { $($($more:literal)|+ => [$($mcol:ident),+];)+ })?
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)+
            $($(#[graphql(skip)] pub $kept: $kty,)+)?
        }

        impl $crate::graphql::types::PlainFields for $name {
            const PLAIN: &'static [&'static str] = &[$($gql),+];
        }

        $crate::graphql::types::columns::columns_of!($name, $model {
            $($gql => [$($col),+],)+
            $($($($more)|+ => [$($mcol),+],)+)?
        });

        impl From<$model> for $name {
            fn from($m: $model) -> Self {
                Self { $($field: $make,)+ $($($kept: $kmake,)+)? }
            }
        }
    };
}
pub(crate) use object_of_rows;

#[cfg(test)]
mod tests {
    use crate::graphql::types::{
        AuditEntry, Dispute, JournalEntry, Notification, Payment, PaymentWebhook, PayoutRequest, PlainFields, Wallet,
        WalletTransaction,
    };

    /// A GraphQL name written wrong in an `object_of_rows!` declaration would only make its field slower (resolved
    /// the long way, every column selected); this says so instead.
    #[tokio::test]
    async fn every_declared_field_is_named_as_the_schema_names_it() {
        let schema = crate::graphql::schema_only();
        let declared = [
            ("Payment", Payment::PLAIN),
            ("Wallet", Wallet::PLAIN),
            ("PayoutRequest", PayoutRequest::PLAIN),
            ("WalletTransaction", WalletTransaction::PLAIN),
            ("Notification", Notification::PLAIN),
            ("AuditEntry", AuditEntry::PLAIN),
            ("PaymentWebhook", PaymentWebhook::PLAIN),
            ("Dispute", Dispute::PLAIN),
            ("JournalEntry", JournalEntry::PLAIN),
        ];
        for (ty, plain) in declared {
            let answer = schema.execute(format!("{{ __type(name: \"{ty}\") {{ fields {{ name }} }} }}")).await;
            let data = answer.data.into_json().unwrap();
            let served: Vec<&str> =
                data["__type"]["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
            for name in plain {
                assert!(served.contains(name), "{ty}.{name} is not a field the schema serves: {served:?}");
            }
        }
    }
}
