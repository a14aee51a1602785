//! The `Subscription` root: live events over `/graphql/ws`, fed by the event bus.
//!
//! A subscriber that falls more than the bus's buffer behind receives one error (`extensions.code`
//! `EVENTS_MISSED`, with how many) and then carries on with the newest events: re-query to catch up.

use super::guards::{principal, state, RoleGuard, ANYONE, STAFF};
use super::types::{Alert, PayoutRequest, Severity};
use crate::events::Event;
use async_graphql::{Context, ErrorExtensions, Result, Subscription};
use entity::status::Role;
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};
use uuid::Uuid;

/// Live events.
pub struct Subscription;

/// The bus's events as a stream, `pick` choosing and converting the ones a subscription wants.
pub fn events<T: Send + 'static>(
    rx: tokio::sync::broadcast::Receiver<Event>,
    pick: impl Fn(Event) -> Option<T> + Send + 'static,
) -> impl Stream<Item = Result<T>> {
    BroadcastStream::new(rx).filter_map(move |item| {
        let out = match item {
            Ok(event) => pick(event).map(Ok),
            Err(BroadcastStreamRecvError::Lagged(n)) => Some(Err(async_graphql::Error::new(format!(
                "you missed {n} events while this subscription lagged behind; re-query to catch up"
            ))
            .extend_with(|_, e| {
                e.set("code", "EVENTS_MISSED");
                e.set("missed", n);
            }))),
        };
        std::future::ready(out)
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
    /// processing, refused payouts (admin, ops).
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        min_severity: Option<Severity>,
    ) -> Result<impl Stream<Item = Result<Alert>>> {
        let floor: entity::status::Severity = min_severity.unwrap_or(Severity::Info).into();
        Ok(events(state(ctx).events.subscribe(), move |e| match e {
            Event::Alert(a) if a.severity >= floor => Some(Alert::from(a)),
            _ => None,
        }))
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
        let alerts = (0..10)
            .map(|i| Event::Alert(crate::events::Alert::new(entity::status::Severity::Info, "t", format!("{i}"))));
        bus.deliver(alerts); // never blocks, however far behind the subscriber is
        let first = stream.next().await.unwrap().unwrap_err();
        assert!(first.message.contains("missed 6 events"), "{}", first.message);
        let rest: Vec<String> = stream.take(4).map(|r| r.unwrap()).collect().await;
        assert_eq!(rest, ["6", "7", "8", "9"]);
    }
}
