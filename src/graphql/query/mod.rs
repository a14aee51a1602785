//! The `Query` root, merged from one root per domain (`payments`, `payouts`, `books`, `evidence`, `reports`, and
//! `common` for `node` and `me`): every list is a keyset-paginated Relay connection, newest first, scoped to the
//! caller.

use super::filters::*;
use super::guards::{principal, state, RoleGuard, ANYONE, STAFF};
use super::types::*;
use crate::graphql::error::Result;
use crate::graphql::scalars::DateTime;
use crate::services::reads;
use crate::services::reads::reports::{self, Party, Range};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Object};
use uuid::Uuid;

mod books;
mod common;
mod evidence;
mod payments;
mod payouts;
mod report;

// Reads: one root per domain, merged into one type (a comment, not a doc: the schema describes no root).
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    payments::PaymentsQuery,
    payouts::PayoutsQuery,
    books::BooksQuery,
    evidence::EvidenceQuery,
    report::ReportsQuery,
    common::RootQuery,
);

/// The top freelancers or clients of a range.
async fn ranked(
    ctx: &Context<'_>,
    party: Party,
    from: DateTime,
    to: DateTime,
    currency: Option<String>,
    limit: u64,
) -> Result<Vec<RankedParty>> {
    let range = Range::new(from.0, to.0)?.in_currency(currency.as_deref())?;
    let top = reports::top(&state(ctx).reads, principal(ctx)?, range, party, limit).await?;
    Ok(top.into_iter().map(Into::into).collect())
}

/// A page of the event log as a connection whose cursors are sequence numbers.
fn log_connection<T: PlainFields>(
    page: reads::Page<crate::events::Stored, i64>,
    node: impl Fn(crate::events::Stored) -> Option<T>,
) -> Connection<i64, Inline<T>> {
    let mut conn = Connection::new(page.has_previous, page.has_next);
    let rows = page.cursors.into_iter().zip(page.rows);
    conn.edges.extend(rows.filter_map(|(cursor, s)| node(s).map(|n| Edge::new(cursor, Inline(n)))));
    conn
}

/// One page of a top-level list: the rows of `E` matching `cond` that the caller may see, as `N`s, with only the
/// columns the selection reads.
async fn list<E, N>(
    ctx: &Context<'_>,
    cond: sea_orm::Condition,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    order_by: Option<ListOrder>,
) -> Result<Conn<N>>
where
    E: reads::Listed,
    E::Model: Sync + entity::ByPosition,
    N: From<E::Model> + super::types::columns::FromColumns + super::types::PlainFields,
{
    let req = page_request::<N>(ctx, first, after, last, before, order_by);
    let page = reads::list::<E>(&state(ctx).reads, principal(ctx)?, cond, req).await?;
    Ok(connection(page, N::from))
}
