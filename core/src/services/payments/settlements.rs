//! Settlements: paydesk against the money Cashfree actually paid the platform's bank.
//!
//! Cashfree's settlement reconciliation (`POST /pg/settlement/recon`) lists, per settlement, each payment it
//! settled with its amount, its service charge and tax, what reached the bank, and the settlement's UTR. Each
//! payment event is matched to ours by `cf_payment_id` (then by order id) and kept as a `settlement_lines` row:
//! MATCHED, MISSING_HERE (Cashfree settled a payment paydesk never recorded as paid), AMOUNT_MISMATCH (its
//! amount is not ours) or FEE_MISMATCH (its charges do not explain what reached the bank). A payment of ours that
//! Cashfree has not settled `PAYDESK_SETTLEMENT_GRACE` after it was paid gets a MISSING_AT_PROVIDER line. Every
//! settled payment of ours is booked once: gateway clearing to the bank, the charges to gateway charges, and
//! any difference to adjustments. Every discrepancy raises one CRITICAL `settlement_mismatch` alert.
//!
//! Each instance polls every `PAYDESK_SETTLEMENT_POLL`; a window is claimed once (a `settlement_polls` row), so
//! several instances fetch it once between them. Lines are keyed by Cashfree's event id: fetching a day twice
//! records nothing twice. An admin may reconcile any window on demand (audited).

use crate::auth::{roles, Principal};
use crate::cashfree::payloads::{self, ReconEvent, SettlementRecon};
use crate::cashfree::{Api, CallError, Repeat};
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind};
use crate::services::books::journal::{self, Booked, Line};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::AppState;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use entity::status::{Account, EntryKind, PaymentStatus, Severity};
use entity::{payment, settlement_line as line, Money};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

/// How a payment's settlement compares with paydesk's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Matched,
    MissingHere,
    MissingAtProvider,
    AmountMismatch,
    FeeMismatch,
    SettledTwice,
}

impl Status {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Events asked per page.
const PAGE: u32 = 200;
/// Pages read per window at most (a bound on one run, not on the data: the next run goes on).
const MAX_PAGES: usize = 500;
/// How far back a scheduled poll asks: Cashfree settles T+1 to T+3, and a late event is recorded once.
const LOOKBACK: Duration = Duration::days(7);

/// What one reconciliation run did.
#[derive(Debug, Default, Clone)]
pub struct Run {
    /// Payment events Cashfree reported.
    pub fetched: u64,
    /// Lines recorded now (events seen before are not recorded twice).
    pub recorded: u64,
    /// Of those, lines that are not MATCHED (each raised an alert).
    pub discrepancies: u64,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn money(a: Option<payloads::Amount>, field: &str) -> AppResult<Money> {
    let d = a.map(|a| a.0).unwrap_or_default();
    Money::from_decimal(d).map_err(|e| AppError::Unavailable(format!("Cashfree's {field} {d}: {e}")))
}

fn instant(text: &payloads::Text) -> Option<DateTime<Utc>> {
    let t = text.0.as_deref()?;
    DateTime::parse_from_rfc3339(t)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok().map(|n| n.and_utc()))
}

/// Reads every settlement event of the window from Cashfree, page by page.
async fn fetch(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<ReconEvent>> {
    let mut events = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let ask = payloads::SettlementReconRequest {
            pagination: payloads::Pagination { limit: PAGE, cursor: cursor.clone() },
            filters: payloads::SettlementFilters { start_date: time(from), end_date: time(to) },
        };
        let body = serde_json::to_value(&ask).map_err(|e| AppError::Internal(e.into()))?;
        let answer = state
            .cashfree
            .call(Api::Pg, reqwest::Method::POST, "/settlement/recon", Some(&body), None, Repeat::Safe)
            .await
            .map_err(|e| match e {
                CallError::NotSent(why) => AppError::Unavailable(format!("settlements cannot be fetched: {why}")),
                other => AppError::Unavailable(format!("settlement reconciliation: {other}")),
            })?;
        let page: SettlementRecon = payloads::read(answer)
            .map_err(|why| AppError::Unavailable(format!("Cashfree's settlement reconciliation: {why}")))?;
        let last = page.data.len() < PAGE as usize;
        events.extend(page.data);
        cursor = page.cursor.0.filter(|c| !c.is_empty());
        if cursor.is_none() || last {
            break;
        }
    }
    Ok(events)
}

/// Reconciles the window `[from, to]` on an admin's word; audited.
pub async fn reconcile_on_demand(
    state: &AppState,
    who: Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Run> {
    who.require(roles::ADMIN)?;
    if to <= from || to - from > Duration::days(92) {
        return Err(AppError::BadInput("`to` must be after `from`, and the window at most 92 days".into()));
    }
    let run = reconcile(state, from, to).await?;
    audit::record(
        &state.db,
        audit::Entry {
            actor: Actor::User(who),
            action: Action::SettlementsReconciled,
            entity_type: Subject::Settlement,
            entity_id: crate::clock::new_id(),
            before: None,
            after: Some(serde_json::json!({
                "from": time(from), "to": time(to), "fetched": run.fetched, "recorded": run.recorded,
                "discrepancies": run.discrepancies,
            })),
            reason: None,
        },
    )
    .await?;
    Ok(run)
}

/// Fetches the window's settlements, records what is new, books what settled, flags our payments Cashfree has
/// not settled within the grace period, and raises an alert per discrepancy.
pub async fn reconcile(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Run> {
    let events = fetch(state, from, to).await?;
    let mut run = Run::default();
    let mut found = Vec::new();
    for e in events.iter().filter(|e| e.event_details.event_type.eq_ignore_ascii_case("PAYMENT")) {
        let status = e.event_details.event_status.0.as_deref().unwrap_or("SUCCESS");
        if !status.eq_ignore_ascii_case("SUCCESS") {
            continue;
        }
        run.fetched += 1;
        if let Some(l) = record(&state.db, e).await? {
            run.recorded += 1;
            if l.status != Status::Matched.name() {
                found.push(l);
            }
        }
    }
    found.extend(missing_at_provider(state, from, to).await?);
    run.recorded += found.iter().filter(|l| l.status == Status::MissingAtProvider.name()).count() as u64;
    run.discrepancies = found.len() as u64;
    for l in found {
        let mut alert = Alert::new(
            Severity::Critical,
            AlertKind::SettlementMismatch,
            format!("settlement {}: {}", l.status.to_ascii_uppercase(), l.detail),
        );
        alert.payment_id = l.payment_id;
        state.events.alert(&state.db, alert).await;
    }
    Ok(run)
}

/// Records one settled payment (once: its event id is unique) and books it; returns the line if it is new.
async fn record(db: &DatabaseConnection, e: &ReconEvent) -> AppResult<Option<line::Model>> {
    let (event, settlement) = (&e.event_details, &e.settlement_details);
    let event_id = event.event_id.0.clone();
    if line::Entity::find().filter(line::Column::EventId.eq(&event_id)).one(db).await?.is_some() {
        return Ok(None);
    }
    let cf_payment_id = e.payment_details.cf_payment_id.as_ref().map(|c| c.0.clone());
    let order_id = e.order_details.order_id.0.clone();
    let txn = crate::db::begin(db).await?;
    // An event that names its Cashfree payment is matched by that alone, never by a weaker key: a client charged
    // twice has two payments on one order, and only one was credited. Only an event naming no payment falls back
    // to its order (paydesk's own, or the one a link's payment was made on).
    let ours = match (&cf_payment_id, &order_id) {
        (Some(cf), _) => payment::Entity::find().filter(payment::Column::CfPaymentId.eq(cf)).one(&txn).await?,
        (None, Some(order)) => {
            let named = sea_orm::Condition::any()
                .add(payment::Column::OrderId.eq(order))
                .add(payment::Column::PaidOrderId.eq(order));
            payment::Entity::find().filter(named).one(&txn).await?
        }
        (None, None) => None,
    };
    // Settled already by another event: a payment is settled once.
    let earlier = match &ours {
        Some(p) => {
            line::Entity::find()
                .filter(line::Column::PaymentId.eq(p.id))
                .filter(line::Column::JournalEntryId.is_not_null())
                .one(&txn)
                .await?
        }
        None => None,
    };
    let amount = money(Some(event.event_amount), "event_amount")?;
    let settled = money(Some(event.event_settlement_amount), "event_settlement_amount")?;
    let (charge, tax) = e.charges();
    let charge = money(charge, "event_service_charge")?;
    let tax = money(tax, "event_service_tax")?;
    let currency = event.event_currency.0.clone().unwrap_or_else(|| "INR".into()).to_ascii_uppercase();
    let utr = settlement.utr.0.clone();
    let explained = amount.checked_sub(charge).and_then(|m| m.checked_sub(tax));
    let named =
        format!("payment {} (order {})", cf_payment_id.as_deref().unwrap_or("?"), order_id.as_deref().unwrap_or("?"));
    let (status, detail, expected) = match &ours {
        None => (
            Status::MissingHere,
            format!("Cashfree settled {named} of {amount} {currency}, which paydesk never recorded"),
            None,
        ),
        Some(_) if earlier.is_some() => (
            Status::SettledTwice,
            format!(
                "Cashfree settled {named} of {amount} {currency} again: event {} settled it already; nothing was booked",
                earlier.as_ref().map_or("?", |l| l.event_id.as_str())
            ),
            None,
        ),
        // A payment refunded since it was paid was still paid: its refund is a movement of its own.
        Some(p) if !matches!(p.status, PaymentStatus::Success | PaymentStatus::Refunded) => (
            Status::MissingHere,
            format!("Cashfree settled {named} of {amount} {currency}, recorded here as {:?}, not paid", p.status),
            Some(p.amount),
        ),
        Some(p) if p.amount != amount || p.currency != currency => (
            Status::AmountMismatch,
            format!("Cashfree settled {named} as {amount} {currency}; paydesk has {} {}", p.amount, p.currency),
            Some(p.amount),
        ),
        Some(_) if explained != Some(settled) => (
            Status::FeeMismatch,
            format!(
                "{named}: {amount} less charge {charge} and tax {tax} is {}, but {settled} was settled",
                explained.map(|m| m.to_string()).unwrap_or_else(|| "out of range".into())
            ),
            None,
        ),
        Some(_) => {
            (Status::Matched, format!("{named} settled: {settled} {currency} after {charge} + {tax} in charges"), None)
        }
    };
    let detail = match (&utr, status) {
        (Some(u), _) => format!("{detail} (settlement UTR {u})"),
        (None, _) => format!("{detail} (no settlement UTR yet)"),
    };
    let id = crate::clock::new_id();
    let paid_at = instant(&e.payment_details.payment_time)
        .or(ours.as_ref().and_then(|p| p.paid_at))
        .unwrap_or_else(crate::clock::now);
    // Booked only what settles a payment of ours as recorded (its charges may still disagree): never an amount that
    // is not the payment's, nor a payment settled already.
    let books = matches!(status, Status::Matched | Status::FeeMismatch);
    let payment_id = ours.as_ref().filter(|_| books).map(|p| p.id);
    let entry_id = payment_id.map(|_| crate::clock::new_id());
    let settled_payment = ours.as_ref().and_then(|p| p.cf_payment_id.clone());
    let row = line::ActiveModel {
        id: Set(id),
        event_id: Set(event_id),
        status: Set(status.name().to_owned()),
        cf_settlement_id: Set(settlement.cf_settlement_id.as_ref().map(|c| c.0.clone())),
        settlement_utr: Set(utr),
        settled_at: Set(instant(&settlement.settlement_date)),
        cf_payment_id: Set(cf_payment_id),
        order_id: Set(order_id),
        payment_id: Set(ours.as_ref().map(|p| p.id)),
        paid_at: Set(paid_at),
        currency: Set(currency.clone()),
        amount: Set(amount),
        expected_amount: Set(expected),
        settled_amount: Set(settled),
        service_charge: Set(charge),
        service_tax: Set(tax),
        detail: Set(detail),
        journal_entry_id: Set(entry_id),
        created_at: Set(crate::clock::now()),
    };
    let inserted = line::Entity::insert(row)
        .on_conflict(OnConflict::column(line::Column::EventId).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        // Another instance recorded the same event first: nothing of this run's is kept.
        txn.rollback().await?;
        return Ok(None);
    }
    if let (Some(pid), Some(eid)) = (payment_id, entry_id) {
        // Gateway clearing is credited with what Cashfree settled the payment for; the bank is debited with what
        // arrived and gateway charges with the charges; what neither explains goes to adjustments.
        let residual = amount.checked_sub(settled).and_then(|m| m.checked_sub(charge)).and_then(|m| m.checked_sub(tax));
        let residual = residual.ok_or_else(|| AppError::Unavailable(format!("{named}: amounts out of range")))?;
        journal::book(
            &txn,
            journal::Entry {
                id: eid,
                kind: EntryKind::Settlement,
                reference: format!("settlement:{}", event.event_id.0),
                books: settled_payment.as_deref().map(|cf_payment_id| Booked::Settled { cf_payment_id }),
                currency: &currency,
                payment_id: Some(pid),
                payout_request_id: None,
                description: "payment settled to the bank by Cashfree",
                at: crate::clock::now(),
                lines: vec![
                    Line::on(Account::GatewayClearing, amount),
                    Line::on(Account::Bank, settled.negate()),
                    Line::on(Account::GatewayCharges, charge.checked_add(tax).unwrap_or(charge).negate()),
                    Line::on(Account::Adjustments, residual.negate()),
                ],
            },
        )
        .await?;
        line::Entity::delete_many().filter(line::Column::EventId.eq(format!("missing:{pid}"))).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(line::Entity::find_by_id(id).one(db).await?)
}

/// Our payments in the window, paid longer ago than the grace period, that no settlement line names: each gets a
/// MISSING_AT_PROVIDER line (once). Returns the new ones.
async fn missing_at_provider(state: &AppState, from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<Vec<line::Model>> {
    let db = &state.db;
    let cutoff = crate::clock::now() - state.settings.settlement_grace;
    let until = to.min(cutoff);
    if until <= from {
        return Ok(Vec::new());
    }
    let unsettled = payment::Entity::find()
        .filter(payment::Column::Status.eq(PaymentStatus::Success))
        .filter(payment::Column::PaidAt.gte(from))
        .filter(payment::Column::PaidAt.lt(until))
        .filter(sea_orm::sea_query::Expr::cust(
            "NOT EXISTS (SELECT 1 FROM settlement_lines s WHERE s.payment_id = payments.id)",
        ))
        .order_by_asc(payment::Column::PaidAt)
        .limit(10_000)
        .all(db)
        .await?;
    let mut found = Vec::new();
    for p in unsettled {
        let id = crate::clock::new_id();
        let paid_at = p.paid_at.unwrap_or(p.created_at);
        let row = line::ActiveModel {
            id: Set(id),
            event_id: Set(format!("missing:{}", p.id)),
            status: Set(Status::MissingAtProvider.name().to_owned()),
            cf_settlement_id: Set(None),
            settlement_utr: Set(None),
            settled_at: Set(None),
            cf_payment_id: Set(p.cf_payment_id.clone()),
            order_id: Set(Some(p.order_id.clone())),
            payment_id: Set(Some(p.id)),
            paid_at: Set(paid_at),
            currency: Set(p.currency.clone()),
            amount: Set(p.amount),
            expected_amount: Set(Some(p.amount)),
            settled_amount: Set(Money::ZERO),
            service_charge: Set(Money::ZERO),
            service_tax: Set(Money::ZERO),
            detail: Set(format!(
                "paydesk credited payment {} (order {}) of {} {} on {}; Cashfree has not settled it",
                p.cf_payment_id.as_deref().unwrap_or("?"),
                p.order_id,
                p.amount,
                p.currency,
                time(paid_at)
            )),
            journal_entry_id: Set(None),
            created_at: Set(crate::clock::now()),
        };
        let inserted = line::Entity::insert(row)
            .on_conflict(OnConflict::column(line::Column::EventId).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            if let Some(l) = line::Entity::find_by_id(id).one(db).await? {
                found.push(l);
            }
        }
    }
    Ok(found)
}

/// One scheduled poll: claims the current window (once across instances) and reconciles the last days.
pub async fn poll(state: &AppState, period: std::time::Duration) -> AppResult<u64> {
    let now = crate::clock::now();
    let secs = period.as_secs().max(1) as i64;
    let window = format!("poll:{}:{}", secs, now.timestamp().div_euclid(secs));
    let claimed = entity::settlement_poll::Entity::insert(entity::settlement_poll::ActiveModel {
        window: Set(window),
        claimed_at: Set(now),
    })
    .on_conflict(OnConflict::column(entity::settlement_poll::Column::Window).do_nothing().to_owned())
    .exec_without_returning(&state.db)
    .await?;
    if claimed == 0 {
        return Ok(0);
    }
    Ok(reconcile(state, now - LOOKBACK, now).await?.recorded)
}

/// Polls every `PAYDESK_SETTLEMENT_POLL` while Cashfree's Payment Gateway is configured.
pub fn spawn_poller(state: AppState) {
    let Some(period) = state.settings.settlement_poll else { return };
    if !state.cashfree.configured(Api::Pg) {
        return;
    }
    crate::jobs::every(period, "settlement lines recorded", move || {
        let state = state.clone();
        async move { poll(&state, period).await }
    });
}

/// Lines of the window (by payment time), of the statuses asked (all without), oldest first; staff only.
pub async fn lines(
    db: &impl ConnectionTrait,
    who: Principal,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    statuses: &[Status],
    limit: u64,
) -> AppResult<Vec<line::Model>> {
    who.require(roles::STAFF)?;
    let mut q = line::Entity::find().filter(line::Column::PaidAt.gte(from)).filter(line::Column::PaidAt.lt(to));
    if !statuses.is_empty() {
        q = q.filter(line::Column::Status.is_in(statuses.iter().map(|s| s.name())));
    }
    Ok(q.order_by_asc(line::Column::PaidAt).order_by_asc(line::Column::Id).limit(limit).all(db).await?)
}

/// Totals of a set of lines per currency and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Total {
    pub currency: String,
    pub status: Status,
    pub count: u64,
    pub amount: Money,
    pub settled: Money,
    pub charges: Money,
}

/// Sums `lines` per currency and status, in that order.
pub fn totals(lines: &[line::Model]) -> Vec<Total> {
    let mut sums: std::collections::BTreeMap<(String, String), Total> = Default::default();
    for l in lines {
        let Ok(status) = l.status.parse::<Status>() else { continue };
        let t = sums.entry((l.currency.clone(), l.status.clone())).or_insert_with(|| Total {
            currency: l.currency.clone(),
            status,
            count: 0,
            amount: Money::ZERO,
            settled: Money::ZERO,
            charges: Money::ZERO,
        });
        t.count += 1;
        t.amount = t.amount.checked_add(l.amount).unwrap_or(t.amount);
        t.settled = t.settled.checked_add(l.settled_amount).unwrap_or(t.settled);
        let charges = l.service_charge.checked_add(l.service_tax).unwrap_or(l.service_charge);
        t.charges = t.charges.checked_add(charges).unwrap_or(t.charges);
    }
    sums.into_values().collect()
}
