//! Reading a model from its row by column position.
//!
//! SeaORM's derived decoding finds every column by name (hashing the name, per column, per row) and formats a
//! message for every NULL it meets before turning it into `None`, for every row of every page. A model that implements [`ByPosition`] (with [`by_position!`], next to its
//! struct) is read column by column in the order `Entity::find()` selects them, which is the struct's order.
//! Debug builds (every test) check each row's column names against that order, so a statement that selects
//! columns differently fails loudly instead of mixing fields. A row may hold only some of the columns, still in
//! that order ([`ByPosition::from_selected`]): a list page selects only those its asked fields read.
//!
//! Each value is read with [`Get`]. On PostgreSQL, text (and the statuses stored as text), UUIDs, times, integers
//! (and amounts) and booleans are decoded without sqlx's check that the column's type suits the field's (it
//! compares type descriptions for every value, most of it for strings). Debug
//! builds (every test, on both databases) still make that check on every value, so a column whose type does not
//! suit its field fails the tests instead of being misread. Everything else, and every SQLite value, is decoded
//! by SeaORM.

use crate::status::{
    Account, DeliveryStatus, DisputeStatus, EntryKind, LedgerKind, PaymentStatus, PayoutStatus, RefundStatus, Role,
    Severity, WebhookOutcome,
};
use sea_orm::prelude::{DateTimeUtc, Json, Uuid};
use sea_orm::{DbErr, FromQueryResult, QueryResult};

/// A model that can be read from a row whose columns come in the struct's order.
pub trait ByPosition: Sized {
    /// The columns, in the order read.
    const COLUMNS: &'static [&'static str];
    /// Reads a row whose columns are [`Self::COLUMNS`], in that order.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Self::from_selected(row, Columns::ALL)
    }
    /// Reads a row that holds only the `selected` columns, in [`Self::COLUMNS`]' order. A field whose column was
    /// not selected holds a placeholder ([`Get::absent`]), not its value: only for readers that use none of them.
    fn from_selected(row: &QueryResult, selected: Columns) -> Result<Self, DbErr>;
}

/// Some of a model's columns: bit `i` stands for `COLUMNS[i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Columns(u64);

/// Every column.
impl Default for Columns {
    fn default() -> Self {
        Self::ALL
    }
}

impl Columns {
    pub const ALL: Columns = Columns(u64::MAX);
    pub const NONE: Columns = Columns(0);

    /// These and `M`'s column `name`; a name that is not one of `M`'s columns panics (it is a programming error).
    pub fn with<M: ByPosition>(self, name: &str) -> Self {
        let at = M::COLUMNS.iter().position(|c| *c == name);
        let at = at.unwrap_or_else(|| panic!("{name} is not one of the columns {:?}", M::COLUMNS));
        Columns(self.0 | 1 << at)
    }

    /// Whether column `at` (its position in `COLUMNS`) is one of these.
    pub fn has(self, at: usize) -> bool {
        self.0 & 1 << at != 0
    }

    /// The names of these of `M`'s columns, in `M`'s order (as a row holding them has them).
    pub fn names<M: ByPosition>(self) -> impl Iterator<Item = &'static str> {
        M::COLUMNS.iter().enumerate().filter(move |(at, _)| self.has(*at)).map(|(_, name)| *name)
    }

    /// Whether these are all of `M`'s columns.
    pub fn all_of<M: ByPosition>(self) -> bool {
        (0..M::COLUMNS.len()).all(|at| self.has(at))
    }
}

/// Rows read as `M` by position: `select.into_model::<InOrder<M>>()` on a select of `M`'s entity, or on a raw
/// statement that selects `M::COLUMNS` in order.
pub struct InOrder<M>(pub M);

impl<M: ByPosition> FromQueryResult for InOrder<M> {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        debug_assert!(prefix.is_empty(), "positional rows have no prefixed columns");
        M::from_row(row).map(InOrder)
    }
}

/// Panics unless `row` holds exactly `M`'s `selected` columns, in their order.
#[cfg(debug_assertions)]
pub fn check_columns<M: ByPosition>(row: &QueryResult, selected: Columns) {
    use sea_orm::sqlx::{Column, Row};
    let names: Vec<String> = if let Some(r) = row.try_as_pg_row() {
        r.columns().iter().map(|c| c.name().to_owned()).collect()
    } else if let Some(r) = row.try_as_sqlite_row() {
        r.columns().iter().map(|c| c.name().to_owned()).collect()
    } else {
        return;
    };
    let expected: Vec<&str> = selected.names::<M>().collect();
    assert_eq!(names, expected, "a row read by position must hold the model's columns in order");
}

/// Whether the row's column `at` is NULL, asked of the driver without decoding anything.
fn is_null(row: &QueryResult, at: usize) -> bool {
    use sea_orm::sqlx::{Row, ValueRef};
    if let Some(r) = row.try_as_pg_row() {
        r.try_get_raw(at).is_ok_and(|v| v.is_null())
    } else if let Some(r) = row.try_as_sqlite_row() {
        r.try_get_raw(at).is_ok_and(|v| v.is_null())
    } else {
        false
    }
}

/// A field's value read from its column by position.
pub trait Get: Sized {
    /// The value of the row's column `at`.
    fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr>;
    /// What a field whose column was not selected holds.
    fn absent() -> Self;
}

/// A NULL is `None` without a decode.
impl<T: Get> Get for Option<T> {
    fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        if is_null(row, at) {
            Ok(None)
        } else {
            T::get(row, at).map(Some)
        }
    }

    fn absent() -> Self {
        None
    }
}

/// Types that PostgreSQL rows decode without sqlx's type check (see the module's documentation).
macro_rules! unchecked_on_postgres {
    ($($t:ty),+) => {$(
        impl Get for $t {
            fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                use sea_orm::sqlx::Row;
                if let Some(r) = row.try_as_pg_row() {
                    #[cfg(debug_assertions)]
                    if let Err(e) = r.try_get::<Option<$t>, _>(at) {
                        panic!("column {at} cannot be read as {}: {e}", stringify!($t));
                    }
                    return r.try_get_unchecked::<$t, _>(at).map_err(|e| DbErr::Type(e.to_string()));
                }
                row.try_get_by_index(at)
            }

            fn absent() -> Self {
                Self::default()
            }
        }
    )+};
}

unchecked_on_postgres!(String, Uuid, DateTimeUtc, i64, i32, bool);

impl Get for crate::Money {
    fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        i64::get(row, at).map(crate::Money::from_minor)
    }

    fn absent() -> Self {
        Self::default()
    }
}

/// The status enums, stored as their text (as SeaORM reads them: the text, then the variant it names).
macro_rules! by_text {
    ($($t:ty),+) => {$(
        impl Get for $t {
            fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                <$t as sea_orm::ActiveEnum>::try_from_value(&String::get(row, at)?)
            }

            fn absent() -> Self {
                <$t as sea_orm::Iterable>::iter().next().expect("a status has variants")
            }
        }
    )+};
}

by_text!(
    Account,
    DeliveryStatus,
    DisputeStatus,
    EntryKind,
    LedgerKind,
    PaymentStatus,
    PayoutStatus,
    RefundStatus,
    Role,
    Severity,
    WebhookOutcome
);

/// Types decoded by SeaORM as before.
macro_rules! by_sea_orm {
    ($($t:ty),+) => {$(
        impl Get for $t {
            fn get(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                row.try_get_by_index(at)
            }

            fn absent() -> Self {
                Self::default()
            }
        }
    )+};
}

by_sea_orm!(Json, Vec<u8>);

/// Implements [`ByPosition`] for the module's `Model`, given its fields in declaration order. The compiler
/// checks that every field is named; the order is checked against each row in debug builds.
#[macro_export]
macro_rules! by_position {
    ($($field:ident),+ $(,)?) => {
        impl $crate::ByPosition for Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            #[allow(unused_assignments)]
            fn from_selected(
                row: &sea_orm::QueryResult,
                selected: $crate::by_position::Columns,
            ) -> Result<Self, sea_orm::DbErr> {
                #[cfg(debug_assertions)]
                $crate::by_position::check_columns::<Self>(row, selected);
                // `column` counts the model's columns, `at` the row's.
                let (mut column, mut at) = (0usize, 0usize);
                Ok(Model {
                    $($field: {
                        let value = if selected.has(column) {
                            at += 1;
                            $crate::by_position::Get::get(row, at - 1)?
                        } else {
                            $crate::by_position::Get::absent()
                        };
                        column += 1;
                        value
                    }),+
                })
            }
        }

        const _: () = assert!(
            <Model as $crate::ByPosition>::COLUMNS.len() <= 64,
            "a model read by position has at most 64 columns (`Columns` is a 64-bit set)"
        );
    };
}
