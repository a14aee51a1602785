//! The `Subscription` root: live events over `/graphql/ws`, fed by the event bus.
//!
//! `alerts` and `events` read the event log: they can start after a cursor (replaying what was missed while a bot
//! was away) and a subscriber that falls behind the live buffer is caught up from the table, so they lose nothing.
//! `payoutRequested` and `payoutStatusChanged` are live only: one that falls more than the bus's buffer behind
//! receives one error (`extensions.code` `EVENTS_MISSED`, with how many) and carries on with the newest events.

use super::guards::{principal, state, RoleGuard, ANYONE, STAFF};
use super::types::{parse_cursor, Alert, EventKind, EventRecord, PayoutRequest, Severity};
use crate::events::{Event, Filter, Stored};
use crate::graphql::error::Result;
use crate::state::AppState;
use async_graphql::{Context, ErrorExtensions, Subscription};
use entity::status::Role;
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};
use uuid::Uuid;

/// Live events.
pub struct Subscription;

/// The bus's events as a stream, `pick` choosing and converting the ones a subscription wants.
pub fn events<T: Send + 'static>(
    rx: tokio::sync::broadcast::Receiver<Stored>,
    pick: impl Fn(Event) -> Option<T> + Send + 'static,
) -> impl Stream<Item = Result<T>> {
    BroadcastStream::new(rx).filter_map(move |item| {
        let out = match item {
            Ok(stored) => pick(stored.event).map(Ok),
            Err(BroadcastStreamRecvError::Lagged(n)) => Some(Err(async_graphql::Error::new(format!(
                "you missed {n} events while this subscription lagged behind; re-query to catch up"
            ))
            .extend_with(|_, e| {
                e.set("code", "EVENTS_MISSED");
                e.set("missed", n);
            })
            .into())),
        };
        std::future::ready(out)
    })
}

/// Events read from the log after `after` (or from now), then live, as one ordered stream without gaps or
/// repeats: when this subscriber falls behind the live buffer it is caught up from the table. A cursor from
/// before what retention kept is refused (`EVENTS_MISSED`).
pub async fn replay<T: Send + 'static>(
    state: AppState,
    after: Option<i64>,
    filter: Filter,
    pick: impl Fn(Stored) -> Option<T> + Send + 'static,
) -> Result<impl Stream<Item = Result<T>>> {
    use tokio::sync::broadcast::error::RecvError;
    const BATCH: u64 = 200;
    if let Some(cursor) = after {
        crate::events::resumable(&state.db, cursor).await?;
    }
    Ok(async_stream::try_stream! {
        // Subscribe before reading the table, so nothing committed in between is missed.
        let mut rx = state.events.subscribe();
        let db_error = |e: sea_orm::DbErr| crate::graphql::error::Error::from(crate::error::AppError::from(e));
        let mut last = match after {
            Some(cursor) => cursor,
            None => crate::events::newest(&state.db).await.map_err(db_error)?,
        };
        loop {
            loop {
                let batch = crate::events::read_after(&state.db, last, BATCH, &filter).await.map_err(db_error)?;
                last = batch.through.unwrap_or(last);
                for stored in batch.events {
                    if let Some(item) = pick(stored) {
                        yield item;
                    }
                }
                if !batch.full {
                    break;
                }
            }
            loop {
                match rx.recv().await {
                    Ok(stored) if stored.seq <= last => {}
                    Ok(stored) => {
                        last = stored.seq;
                        if filter.admits(&stored.event) {
                            if let Some(item) = pick(stored) {
                                yield item;
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => break, // read what the buffer dropped from the table
                    Err(RecvError::Closed) => return,
                }
            }
        }
    })
}

#[Subscription]
impl Subscription {
    /// Every new payout request, once its transaction has committed (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn payout_requested(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Result<PayoutRequest>>> {
        Ok(events(state(ctx).events.subscribe(), |e| match e {
            Event::PayoutRequested { payout } => Some(PayoutRequest::from(payout)),
            _ => None,
        }))
    }

    /// Payout decisions (paid, rejected, cancelled), optionally for one request. Admin and ops see all;
    /// a freelancer sees only their own.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn payout_status_changed(
        &self,
        ctx: &Context<'_>,
        payout_request_id: Option<Uuid>,
    ) -> Result<impl Stream<Item = Result<PayoutRequest>>> {
        let who = principal(ctx)?;
        let own_only = (who.role == Role::Freelancer).then_some(who.id);
        Ok(events(state(ctx).events.subscribe(), move |e| match e {
            Event::PayoutStatusChanged { payout }
                if payout_request_id.is_none_or(|id| id == payout.id)
                    && own_only.is_none_or(|me| me == payout.freelancer_id) =>
            {
                Some(PayoutRequest::from(payout))
            }
            _ => None,
        }))
    }

    /// Alerts at `minSeverity` or above (default: all): refused signatures, money matching no order, failed
    /// processing, refused payouts, Cashfree outages (admin, ops). With `after` (an alert's or event's `cursor`),
    /// first every stored alert after it, so a bot that reconnects gets what it missed; then live. Never loses an
    /// alert, even when the subscriber is slow.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        min_severity: Option<Severity>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Alert>>> {
        let after = parse_cursor("after", after.as_deref())?;
        let filter = crate::events::Filter::alerts(min_severity.unwrap_or(Severity::Info).into());
        replay(state(ctx).clone(), after, filter, |s| match s.event {
            Event::Alert(a) => Some(Alert::new(s.seq, a)),
            _ => None,
        })
        .await
    }

    /// The event log (admin, ops): every payout requested or decided and every alert, in commit order, each with
    /// the `cursor` to resume after. With `after`, first every stored event after it; then live. Never loses an
    /// event, even when the subscriber is slow or reconnects (pass the last cursor it saw).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        kinds: Option<Vec<EventKind>>,
    ) -> Result<impl Stream<Item = Result<EventRecord>>> {
        let after = parse_cursor("after", after.as_deref())?;
        let filter =
            Filter { kinds: kinds.map(|k| k.into_iter().map(EventKind::stored).collect()), min_severity: None };
        replay(state(ctx).clone(), after, filter, |s| Some(EventRecord::from(s))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_how_many_events_it_missed_and_carries_on() {
        let bus = crate::events::EventBus::new(sea_orm::DbBackend::Sqlite, 4);
        let mut stream = Box::pin(events(bus.subscribe(), |e| match e {
            Event::Alert(a) => Some(a.message),
            _ => None,
        }));
        let alerts = (0..10).map(|i| {
            Event::Alert(crate::events::Alert::new(
                entity::status::Severity::Info,
                crate::events::AlertKind::CashfreeUp,
                format!("{i}"),
            ))
        });
        bus.deliver(alerts); // never blocks, however far behind the subscriber is
        let first = async_graphql::Error::from(stream.next().await.unwrap().unwrap_err());
        assert!(first.message.contains("missed 6 events"), "{}", first.message);
        let rest: Vec<String> = stream.take(4).map(|r| r.unwrap()).collect().await;
        assert_eq!(rest, ["6", "7", "8", "9"]);
    }
}
