//! `EventRecord`: one entry of the event log, with the cursor a reader or subscriber resumes after.

use super::{Alert, PayoutRequest};
use crate::events::{Event, Stored};
use crate::graphql::scalars::DateTime;
use async_graphql::{Enum, SimpleObject};

/// What an event is about.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EventKind {
    PayoutRequested,
    PayoutStatusChanged,
    Alert,
}

impl EventKind {
    /// The kind as stored.
    pub fn stored(self) -> &'static str {
        match self {
            EventKind::PayoutRequested => crate::events::PAYOUT_REQUESTED,
            EventKind::PayoutStatusChanged => crate::events::PAYOUT_STATUS_CHANGED,
            EventKind::Alert => crate::events::ALERT,
        }
    }
}

/// One event of the log, in commit order. Exactly one of `payoutRequest` and `alert` is set.
#[derive(SimpleObject)]
pub struct EventRecord {
    /// The event's sequence number: pass it as `after` to read or subscribe from just after this event.
    pub cursor: String,
    pub kind: EventKind,
    pub created_at: DateTime,
    /// The request as it stood when this event happened (PAYOUT_REQUESTED, PAYOUT_STATUS_CHANGED).
    pub payout_request: Option<PayoutRequest>,
    pub alert: Option<Alert>,
}

impl From<Stored> for EventRecord {
    fn from(s: Stored) -> Self {
        let cursor = s.seq.to_string();
        let (kind, payout_request, alert) = match s.event {
            Event::PayoutRequested { payout } => (EventKind::PayoutRequested, Some(payout.into()), None),
            Event::PayoutStatusChanged { payout } => (EventKind::PayoutStatusChanged, Some(payout.into()), None),
            Event::Alert(a) => (EventKind::Alert, None, Some(Alert::new(s.seq, a))),
        };
        EventRecord { cursor, kind, created_at: DateTime(s.created_at), payout_request, alert }
    }
}

/// The request and the alert are objects, resolved with their own fields.
impl super::PlainFields for EventRecord {
    const PLAIN: &'static [&'static str] = &["cursor", "kind", "createdAt"];
}

/// An event-log cursor as given by a caller: the sequence number, as a string of digits.
pub fn parse_cursor(name: &str, cursor: Option<&str>) -> Result<Option<i64>, crate::error::AppError> {
    cursor
        .map(|c| {
            c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                crate::error::AppError::BadInput(format!(
                    "{name} must be an event cursor (a `cursor` this API returned, digits only), not {c:?}"
                ))
            })
        })
        .transpose()
}
