//! Which columns a list's selection reads, so that a page selects only those.
//!
//! A page of 50 payout requests asked for six fields used to select, send and decode all nineteen columns of every
//! row: a seventh of the list's instructions went to the columns nobody asked for. An object type read from one
//! entity's rows says, with [`columns_of!`], which columns each of its fields reads; a field it does not name (one
//! that reads the whole row, or one added since) makes the page select every column, so a map that lags behind the
//! type costs speed, never a wrong value. Nested lists (`Wallet.transactions` and the like) select the same way,
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
