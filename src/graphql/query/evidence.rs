//! The evidence and what was said: alerts, the event log, the audit log, the history's checkpoint and notifications.

use super::*;

/// The evidence and what was said: alerts, the event log, the audit log, the history's checkpoint and notifications.
#[derive(Default)]
pub struct EvidenceQuery;

// Each GraphQL argument is a parameter: a list's filter, four Relay arguments and its order are eight.
#[allow(clippy::too_many_arguments)]
#[Object]
impl EvidenceQuery {
    /// Stored alerts at `minSeverity` or above, newest first (admin, ops); `before` a cursor for older ones. The
    /// `alerts` subscription takes the newest `cursor` as `after` to carry on from here.
    #[graphql(
        guard = "RoleGuard(STAFF)",
        complexity = "crate::graphql::limits::page_complexity(first, None, child_complexity)"
    )]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        min_severity: Option<Severity>,
        first: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<i64, Inline<Alert>>> {
        let before = parse_cursor("before", before.as_deref())?;
        let filter = crate::events::Filter::alerts(min_severity.unwrap_or(Severity::Info).into());
        let page = reads::event_log(&state(ctx).reads, principal(ctx)?, reads::LogPage::Before(before), first, &filter)
            .await?;
        Ok(log_connection(page, |s| match s.event {
            crate::events::Event::Alert(a) => Some(Alert::new(s.seq, a)),
            _ => None,
        }))
    }

    /// The event log, oldest first (admin, ops): everything after `after` (a `cursor`), optionally of some kinds.
    /// Read it forward page by page with `pageInfo.endCursor`; the `events` subscription continues from there.
    #[graphql(
        guard = "RoleGuard(STAFF)",
        complexity = "crate::graphql::limits::page_complexity(first, None, child_complexity)"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        kinds: Option<Vec<EventKind>>,
    ) -> Result<Connection<i64, Inline<EventRecord>>> {
        let after = parse_cursor("after", after.as_deref())?;
        let filter = crate::events::Filter {
            kinds: kinds.map(|k| k.into_iter().map(EventKind::stored).collect()),
            min_severity: None,
        };
        let page =
            reads::event_log(&state(ctx).reads, principal(ctx)?, reads::LogPage::After(after), first, &filter).await?;
        Ok(log_connection(page, |s| Some(EventRecord::from(s))))
    }

    /// The audit trail, newest first (admin, ops).
    #[graphql(
        guard = "RoleGuard(STAFF)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<AuditEntry>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::audit_log::Entity, AuditEntry>(ctx, cond, first, after, last, before, order_by).await
    }

    /// Every history chain's head now (admin, ops): keep `seq` and `hash` outside the database, and
    /// `paydesk verify` can later prove nothing before them changed. A day's heads also go to the callback.
    #[graphql(guard = "RoleGuard(STAFF)")]
    async fn history_checkpoint(&self, ctx: &Context<'_>) -> Result<HistoryCheckpoint> {
        let heads = crate::services::evidence::history::checkpoint(&state(ctx).reads, principal(ctx)?).await?;
        Ok(HistoryCheckpoint::new(crate::clock::now(), heads))
    }

    /// Notifications, newest first. Freelancers see only their own.
    #[graphql(
        guard = "RoleGuard(ANYONE)",
        complexity = "crate::graphql::limits::page_complexity(first, last, child_complexity)"
    )]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        filter: Option<NotificationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ListOrder>,
    ) -> Result<Conn<Notification>> {
        let cond = filter.unwrap_or_default().condition();
        list::<entity::notification::Entity, Notification>(ctx, cond, first, after, last, before, order_by).await
    }
}
