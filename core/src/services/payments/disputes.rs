//! Disputes (chargebacks): a client's bank disputes a payment, Cashfree reports it by webhook, and the books follow.
//!
//! Opened, the disputed amount moves from the freelancer's wallet to disputed funds (below zero if it must: the
//! wallet then pays nothing out until credits cover it). Won, it goes back to the wallet; a won dispute can open
//! again (pre-arbitration). Lost, it is final: Cashfree returned it to the client out of what it owed the
//! platform, and the platform's fee on it stays with the platform or goes back to the freelancer as
//! `PAYDESK_DISPUTE_FEE_POLICY` says. A dispute never holds money a refund already returned (nor another dispute
//! holds): `payments.disputed_amount` and `refunded_amount` together never pass the payment's amount, both moved
//! under the payment's row lock. What it cannot hold, the platform may lose: that is a CRITICAL alert, and on a loss
//! the platform's own expense.

use crate::error::{AppError, AppResult};
use crate::events::AlertKind;
use crate::notifications;
use crate::services::books::journal::{self, Booked, Line};
use crate::services::books::{funds, ledger};
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::state::Settings;
use chrono::{DateTime, Utc};
use entity::status::{Account, DisputeStatus, EntryKind, LedgerKind, PaymentStatus, Severity};
use entity::{dispute, freelancer_wallet as wallet, payment, Money};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

/// A dispute as Cashfree reported it.
#[derive(Debug, Clone)]
pub struct Report {
    pub cf_dispute_id: String,
    /// `dispute_type`: DISPUTE, CHARGEBACK, RETRIEVAL, PRE_ARBITRATION, ARBITRATION.
    pub kind: String,
    /// `dispute_status`, as reported.
    pub cf_status: String,
    /// Greater than zero: the parser refuses any other amount.
    pub amount: Money,
    pub currency: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub respond_by: Option<DateTime<Utc>>,
    /// Reported by `DISPUTE_CLOSED`: Cashfree says the dispute is over.
    pub closed: bool,
}

/// Where a Cashfree `dispute_status` leaves the money: won and lost (or accepted) decide it, anything else holds it.
/// `_INSUFFICIENT_EVIDENCE` is open while the merchant may still send evidence, and lost when Cashfree reports it
/// in `DISPUTE_CLOSED` (`closed`): Cashfree's pages differ on whether it is final, and a closed dispute left open
/// would hold the money for ever.
pub fn stage(cf_status: &str, closed: bool) -> DisputeStatus {
    if cf_status.ends_with("_MERCHANT_WON") {
        DisputeStatus::Won
    } else if cf_status.ends_with("_MERCHANT_LOST")
        || cf_status.ends_with("_MERCHANT_ACCEPTED")
        || (closed && cf_status.ends_with("_INSUFFICIENT_EVIDENCE"))
    {
        DisputeStatus::Lost
    } else {
        DisputeStatus::Open
    }
}

/// A retrieval request asks the merchant for information about a payment: the bank has taken nothing back yet.
const RETRIEVAL: &str = "RETRIEVAL";

/// What applying a report did: the dispute as it stands, a note when it moved no money, and the alerts it calls for.
pub struct Applied {
    pub dispute: dispute::Model,
    pub note: Option<String>,
    pub alarms: Vec<(Severity, AlertKind, String)>,
}

/// Applies `r` to payment `p` inside the caller's transaction (the delivery's claim). `Ok(Err(why))`: the report
/// does not fit the payment (never paid, another currency, a dispute of another payment); nothing was booked.
pub async fn apply(
    db: &impl ConnectionTrait,
    settings: &Settings,
    p: &payment::Model,
    r: &Report,
) -> AppResult<Result<Applied, String>> {
    if !matches!(p.status, PaymentStatus::Success | PaymentStatus::Refunded) {
        return Ok(Err(format!(
            "Cashfree reported dispute {} on order {}, which was never paid here; nothing was booked",
            r.cf_dispute_id, p.order_id
        )));
    }
    if r.currency != p.currency {
        return Ok(Err(format!(
            "dispute {} is for {} {} but order {} was paid in {}; nothing was booked",
            r.cf_dispute_id, r.amount, r.currency, p.order_id, p.currency
        )));
    }
    if r.amount > p.amount {
        // The bank cannot take back more than was paid: a loss booked from it would be money from nowhere.
        return Ok(Err(format!(
            "dispute {} is for {} {} but order {} was paid {} {}; nothing was booked",
            r.cf_dispute_id, r.amount, r.currency, p.order_id, p.amount, p.currency
        )));
    }
    let Some(w) = crate::services::books::wallets::by_freelancer(db, p.freelancer_id).await? else {
        return Ok(Err(format!("the freelancer of order {} has no wallet", p.order_id)));
    };
    let mut d = first_sight(db, p, &w, r).await?;
    if d.payment_id != p.id {
        return Ok(Err(format!("dispute {} was first reported on another payment", r.cf_dispute_id)));
    }
    let target = stage(&r.cf_status, r.closed);
    if r.kind == RETRIEVAL && d.holds == 0 {
        // No money moves for a request for information; should the bank escalate it to a chargeback under the same
        // id, that report holds the money then.
        d = save(db, d, r, Some((target, Money::ZERO, 0))).await?;
        let note = format!(
            "retrieval request {} is {}: the bank asks for information and has taken nothing back, so nothing is held",
            d.cf_dispute_id,
            crate::domain::status::api_name(&d.status)
        );
        return Ok(Ok(Applied { dispute: d, note: Some(note), alarms: Vec::new() }));
    }
    let mut alarms = Vec::new();
    let mut moved = false;
    // Won and lost are final: only a pre-arbitration or arbitration step reopens a won dispute. Cashfree may deliver
    // an earlier status (a CREATED, an UNDER_REVIEW) after the decision, and it must not hold the money again.
    let reopens = d.status == DisputeStatus::Won && target != DisputeStatus::Won && escalated(r);
    if d.status != DisputeStatus::Lost && (d.holds == 0 || reopens) {
        d = hold(db, p, &w, d, r, &mut alarms).await?;
        moved = true;
    }
    if d.status == DisputeStatus::Open && target == DisputeStatus::Won {
        d = win(db, p, d, r, &mut alarms).await?;
        moved = true;
    } else if d.status == DisputeStatus::Open && target == DisputeStatus::Lost {
        d = lose(db, settings, p, d, r, &mut alarms).await?;
        moved = true;
    }
    let note = if moved {
        None
    } else if d.status != DisputeStatus::Open && target != d.status {
        // A late report of a dispute already decided: what Cashfree last decided stands, and is what is shown.
        Some(format!(
            "dispute {} was already {}; a late report of {} changes nothing",
            d.cf_dispute_id,
            crate::domain::status::api_name(&d.status),
            r.cf_status
        ))
    } else {
        d = save(db, d, r, None).await?;
        Some(format!("dispute {} is {}; no money moved", d.cf_dispute_id, crate::domain::status::api_name(&d.status)))
    };
    Ok(Ok(Applied { dispute: d, note, alarms }))
}

/// Whether the report is a pre-arbitration or arbitration step: the client's bank contesting a decision, which
/// reopens a won dispute.
fn escalated(r: &Report) -> bool {
    ["PRE_ARBITRATION", "ARBITRATION"]
        .iter()
        .any(|step| r.kind == *step || r.cf_status.strip_prefix(step).is_some_and(|rest| rest.starts_with('_')))
}

/// The dispute's row: made (holding nothing yet) the first time it is reported, then read under its lock.
async fn first_sight(
    db: &impl ConnectionTrait,
    p: &payment::Model,
    w: &wallet::Model,
    r: &Report,
) -> AppResult<dispute::Model> {
    let now = crate::clock::now();
    let fresh = dispute::ActiveModel {
        id: Set(crate::clock::new_id()),
        cf_dispute_id: Set(r.cf_dispute_id.clone()),
        payment_id: Set(p.id),
        freelancer_id: Set(p.freelancer_id),
        wallet_id: Set(w.id),
        dispute_type: Set(r.kind.clone()),
        status: Set(DisputeStatus::Open),
        cf_status: Set(r.cf_status.clone()),
        amount: Set(r.amount),
        held: Set(Money::ZERO),
        holds: Set(0),
        currency: Set(r.currency.clone()),
        reason_code: Set(r.reason_code.clone()),
        reason: Set(r.reason.clone()),
        respond_by: Set(r.respond_by),
        created_at: Set(now),
        updated_at: Set(now),
        closed_at: Set(None),
    };
    dispute::Entity::insert(fresh)
        .on_conflict_do_nothing_on([dispute::Column::CfDisputeId])
        .exec_without_returning(db)
        .await?;
    let mut q = dispute::Entity::find().filter(dispute::Column::CfDisputeId.eq(&r.cf_dispute_id));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // Two reports of one dispute (created and closed at once) take their turns here.
        q = q.lock_exclusive();
    }
    q.one(db).await?.ok_or_else(|| AppError::Internal(anyhow::anyhow!("dispute {} vanished", r.cf_dispute_id)))
}

/// Updates what Cashfree says of the dispute (status, deadline) and, with `change`, where it stands.
async fn save(
    db: &impl ConnectionTrait,
    d: dispute::Model,
    r: &Report,
    change: Option<(DisputeStatus, Money, i32)>,
) -> AppResult<dispute::Model> {
    let now = crate::clock::now();
    let mut update = dispute::Entity::update_many()
        .col_expr(dispute::Column::CfStatus, Expr::value(r.cf_status.clone()))
        .col_expr(dispute::Column::RespondBy, Expr::value(r.respond_by.or(d.respond_by)))
        .col_expr(dispute::Column::UpdatedAt, Expr::value(now))
        .filter(dispute::Column::Id.eq(d.id));
    if let Some((status, held, holds)) = change {
        let closed = (status != DisputeStatus::Open).then_some(now);
        update = update
            .col_expr(dispute::Column::Status, Expr::value(status))
            .col_expr(dispute::Column::Held, Expr::value(held))
            .col_expr(dispute::Column::Holds, Expr::value(holds))
            .col_expr(dispute::Column::ClosedAt, Expr::value(closed));
    }
    update.exec_with_returning(db).await?.into_iter().next().ok_or_else(|| AppError::not_found("dispute", d.id))
}

/// Opens (or opens again) the dispute: takes what is left of the payment, up to the disputed amount, from the
/// wallet into disputed funds.
async fn hold(
    db: &impl ConnectionTrait,
    p: &payment::Model,
    w: &wallet::Model,
    d: dispute::Model,
    r: &Report,
    alarms: &mut Vec<(Severity, AlertKind, String)>,
) -> AppResult<dispute::Model> {
    // The payment's row lock: refunds and other disputes of this payment wait here, and see what this one holds.
    let fresh = payment::Entity::update_many()
        .col_expr(payment::Column::UpdatedAt, Expr::value(crate::clock::now()))
        .filter(payment::Column::Id.eq(p.id))
        .exec_with_returning(db)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("payment", p.id))?;
    let room = fresh.amount.minor()
        - fresh.refunded_amount.minor()
        - fresh.disputed_amount.minor()
        - fresh.refunding_amount.minor();
    let take = Money::from_minor(room.clamp(0, d.amount.minor()));
    let holds = d.holds + 1;
    let mut balance = None;
    if take.is_positive() {
        payment::Entity::update_many()
            .col_expr(payment::Column::DisputedAmount, Expr::col(payment::Column::DisputedAmount).add(take.minor()))
            .filter(payment::Column::Id.eq(p.id))
            .exec(db)
            .await?;
        let posted = ledger::post(
            db,
            ledger::Posting {
                wallet_id: w.id,
                kind: LedgerKind::DisputeDebit,
                entry: EntryKind::DisputeOpened,
                against: vec![Line::on(Account::DisputedFunds, take)],
                amount: take.negate(),
                reference: format!("dispute-hold:{}:{holds}", d.id),
                books: Some(Booked::DisputeHeld { dispute_id: &d.cf_dispute_id, n: holds }),
                payment_id: Some(p.id),
                payout_request_id: None,
                description: "disputed by the client's bank",
                // No floor: the bank has the money back already; the wallet follows, below zero if it must.
                floor: None,
                floor_name: "",
                pending_until: None,
            },
        )
        .await?;
        balance = Some(funds::available(&posted.wallet));
    }
    let due = r.respond_by.map(|t| format!("; evidence due by {}", t.to_rfc3339())).unwrap_or_default();
    alarms.push((
        Severity::Warning,
        AlertKind::DisputeOpened,
        format!(
            "the client's bank disputed {} {} of order {} ({}, {}): {take} {} held from the wallet of freelancer \
             {}{due}",
            d.amount,
            d.currency,
            p.order_id,
            r.kind,
            r.reason.as_deref().unwrap_or("no reason given"),
            d.currency,
            p.freelancer_id
        ),
    ));
    if fresh.refunded_amount.is_positive() || fresh.refunding_amount.is_positive() || take < d.amount {
        alarms.push((
            Severity::Critical,
            AlertKind::DisputeOnRefunded,
            format!(
                "dispute {} of {} {} on order {}, of which {} was already refunded and {} already disputed: only \
                 {take} could be held from the wallet; the platform stands to lose {} more if it is lost: contest \
                 it with the refund as evidence",
                d.cf_dispute_id,
                d.amount,
                d.currency,
                p.order_id,
                fresh.refunded_amount,
                fresh.disputed_amount,
                Money::from_minor(d.amount.minor() - take.minor())
            ),
        ));
    }
    if let Some(b) = balance.filter(|b| *b < Money::ZERO) {
        alarms.push((
            Severity::Critical,
            AlertKind::WalletOverdrawn,
            format!(
                "dispute {} on order {} left the wallet of freelancer {} at {b} {} available: the freelancer owes \
                 that and can be paid out nothing until credits cover it",
                d.cf_dispute_id, p.order_id, p.freelancer_id, d.currency
            ),
        ));
    }
    notifications::notify(
        db,
        notifications::New {
            recipient_id: p.freelancer_id,
            kind: "dispute_opened",
            severity: Severity::Warning,
            title: format!("Payment of {} {} disputed", d.amount, d.currency),
            body: format!(
                "The client's bank disputed order {}: {take} {} is held until it is decided.",
                p.order_id, d.currency
            ),
            payment_id: Some(p.id),
            payout_request_id: None,
        },
    )
    .await?;
    record(db, Action::DisputeOpened, &d, take, r).await?;
    save(db, d, r, Some((DisputeStatus::Open, take, holds))).await
}

/// Decides the dispute for the merchant: what it held goes back to the wallet.
async fn win(
    db: &impl ConnectionTrait,
    p: &payment::Model,
    d: dispute::Model,
    r: &Report,
    alarms: &mut Vec<(Severity, AlertKind, String)>,
) -> AppResult<dispute::Model> {
    if d.held.is_positive() {
        payment::Entity::update_many()
            .col_expr(payment::Column::DisputedAmount, Expr::col(payment::Column::DisputedAmount).sub(d.held.minor()))
            .filter(payment::Column::Id.eq(p.id))
            .exec(db)
            .await?;
        ledger::post(
            db,
            ledger::Posting {
                wallet_id: d.wallet_id,
                kind: LedgerKind::DisputeCredit,
                entry: EntryKind::DisputeWon,
                against: vec![Line::on(Account::DisputedFunds, d.held.negate())],
                amount: d.held,
                reference: format!("dispute-won:{}:{}", d.id, d.holds),
                books: Some(Booked::DisputeWon { dispute_id: &d.cf_dispute_id, n: d.holds }),
                payment_id: Some(p.id),
                payout_request_id: None,
                description: "dispute won",
                floor: None,
                floor_name: "",
                pending_until: None,
            },
        )
        .await?;
    }
    alarms.push((
        Severity::Info,
        AlertKind::DisputeWon,
        format!(
            "dispute {} on order {} was won: {} {} back in the wallet",
            d.cf_dispute_id, p.order_id, d.held, d.currency
        ),
    ));
    record(db, Action::DisputeWon, &d, d.held, r).await?;
    let (held, holds) = (d.held, d.holds);
    save(db, d, r, Some((DisputeStatus::Won, held, holds))).await
}

/// Decides the dispute for the client: Cashfree returned the disputed amount out of what it owed the platform;
/// what the wallet did not cover is the platform's loss; the fee on what it held goes back to the wallet if the
/// policy says so.
async fn lose(
    db: &impl ConnectionTrait,
    settings: &Settings,
    p: &payment::Model,
    d: dispute::Model,
    r: &Report,
    alarms: &mut Vec<(Severity, AlertKind, String)>,
) -> AppResult<dispute::Model> {
    let uncovered = Money::from_minor(d.amount.minor() - d.held.minor());
    let mut lines = vec![
        Line::on(Account::DisputedFunds, d.held.negate()),
        Line::on(Account::GatewayClearing, d.amount),
        Line::on(Account::DisputeLosses, uncovered.negate()),
    ];
    let fee = if settings.dispute_returns_fee {
        d.held.percent(settings.platform_fee_percent).unwrap_or_default()
    } else {
        Money::ZERO
    };
    let reference = format!("dispute-lost:{}", d.id);
    if fee.is_positive() {
        lines.push(Line::on(Account::FeeRevenue, fee.negate()));
        ledger::post(
            db,
            ledger::Posting {
                wallet_id: d.wallet_id,
                kind: LedgerKind::DisputeCredit,
                entry: EntryKind::DisputeLost,
                against: lines,
                amount: fee,
                reference,
                books: Some(Booked::DisputeLost { dispute_id: &d.cf_dispute_id }),
                payment_id: Some(p.id),
                payout_request_id: None,
                description: "dispute lost; the platform's fee on it returned",
                floor: None,
                floor_name: "",
                pending_until: None,
            },
        )
        .await?;
    } else {
        let id = crate::clock::new_id();
        let entry = journal::Entry {
            id,
            kind: EntryKind::DisputeLost,
            reference,
            books: Some(Booked::DisputeLost { dispute_id: &d.cf_dispute_id }),
            currency: &d.currency,
            payment_id: Some(p.id),
            payout_request_id: None,
            description: "dispute lost",
            at: crate::clock::now(),
            lines,
        };
        journal::book(db, entry).await?;
    }
    alarms.push((
        Severity::Warning,
        AlertKind::DisputeLost,
        format!(
            "dispute {} on order {} was lost: {} {} returned to the client ({} of it held from the wallet, {uncovered} \
             the platform's loss{})",
            d.cf_dispute_id,
            p.order_id,
            d.amount,
            d.currency,
            d.held,
            if fee.is_positive() { format!("; the fee of {fee} on it returned to the wallet") } else { String::new() }
        ),
    ));
    record(db, Action::DisputeLost, &d, d.held, r).await?;
    let (held, holds) = (d.held, d.holds);
    save(db, d, r, Some((DisputeStatus::Lost, held, holds))).await
}

/// The audit entry of a decision on a dispute: Cashfree's word, by the system.
async fn record(
    db: &impl ConnectionTrait,
    action: Action,
    d: &dispute::Model,
    moved: Money,
    r: &Report,
) -> AppResult<()> {
    audit::record(
        db,
        audit::Entry {
            actor: Actor::System,
            action,
            entity_type: Subject::Dispute,
            entity_id: d.id,
            before: Some(serde_json::json!({ "status": d.status, "held": d.held.to_string() })),
            after: Some(serde_json::json!({ "cfStatus": r.cf_status, "moved": moved.to_string() })),
            reason: Some(format!("Cashfree dispute {}", d.cf_dispute_id)),
        },
    )
    .await?;
    Ok(())
}

/// The disputes of these payments, oldest first (`Payment.disputes`).
pub async fn of_payments(db: &impl ConnectionTrait, payments: &[Uuid]) -> AppResult<Vec<dispute::Model>> {
    use sea_orm::QueryOrder;
    Ok(dispute::Entity::find()
        .filter(dispute::Column::PaymentId.is_in(payments.iter().copied()))
        .order_by_asc(dispute::Column::CreatedAt)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_and_lost_decide_and_everything_else_holds() {
        assert_eq!(stage("CHARGEBACK_CREATED", false), DisputeStatus::Open);
        assert_eq!(stage("DISPUTE_INSUFFICIENT_EVIDENCE", false), DisputeStatus::Open);
        assert_eq!(stage("CHARGEBACK_INSUFFICIENT_EVIDENCE", true), DisputeStatus::Lost, "closed for it");
        assert_eq!(stage("PRE_ARBITRATION_UNDER_REVIEW", false), DisputeStatus::Open);
        assert_eq!(stage("CHARGEBACK_MERCHANT_WON", true), DisputeStatus::Won);
        assert_eq!(stage("DISPUTE_MERCHANT_ACCEPTED", false), DisputeStatus::Lost);
        assert_eq!(stage("ARBITRATION_MERCHANT_LOST", true), DisputeStatus::Lost);
    }
}
