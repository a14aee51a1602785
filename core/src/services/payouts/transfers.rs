//! Payouts that move money: with Payouts credentials an approved payout is debited and PROCESSING, and a Cashfree
//! Standard Transfer (transfer_id = the payout's id, so Cashfree never pays it twice) carries it out. Whatever
//! reports the transfer's end (its answer, its webhook, or the sweep that looks it up) goes through `settle`, one
//! transaction with conditional updates: SUCCESS makes it PAID; FAILED or REJECTED makes it FAILED and credits the
//! debit back; REVERSED after success makes it REVERSED, credits it back and raises a CRITICAL alert. A transfer
//! whose creation went unanswered is never resent blindly: the sweep looks it up and resends only one Cashfree
//! does not know.

use crate::cashfree::fields;
use crate::cashfree::payloads::{self, BeneficiaryRef, CreateTransfer, Transfer};
use crate::cashfree::{Api, CallError, Repeat};
use crate::domain::status::api_name;
use crate::error::{AppError, AppResult};
use crate::events::{Alert, AlertKind, Event};
use crate::notifications;
use crate::services::books::journal::{self, Booked, Line};
use crate::services::books::ledger;
use crate::services::evidence::audit::{self, Action, Actor, Subject};
use crate::services::webhooks::{self, Receipt, Source, Verdict};
use crate::state::AppState;
use entity::status::{Account, EntryKind, LedgerKind, PayoutStatus, Severity, WebhookOutcome};
use entity::{beneficiary, payment_webhook as webhook, payout_request as payout, Money};
use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::{json, Value};
use uuid::Uuid;

/// A transfer's state as Cashfree reported it.
#[derive(Debug, Clone)]
pub struct Report {
    /// RECEIVED, PENDING, SUCCESS, FAILED, REJECTED, REVERSED, …
    pub status: String,
    pub cf_transfer_id: Option<String>,
    pub description: Option<String>,
    /// What Cashfree charged for the transfer with its tax, when it says (and it is a sane amount).
    pub charges: Option<Money>,
}

impl From<Transfer> for Report {
    fn from(t: Transfer) -> Report {
        Report {
            status: t.status.0.unwrap_or_else(|| "UNKNOWN".into()).to_ascii_uppercase(),
            cf_transfer_id: t.cf_transfer_id.map(|id| id.0).filter(|id| !id.is_empty() && id != "NA"),
            description: t.status_description.0,
            charges: charges(t.transfer_service_charge, t.transfer_service_tax),
        }
    }
}

/// A transfer's service charge and its tax, together: none when neither is a positive amount of whole paise under
/// the largest amount paydesk takes (a charge Cashfree did not report, or reported as nonsense, is not booked).
fn charges(charge: Option<payloads::Amount>, tax: Option<payloads::Amount>) -> Option<Money> {
    let part = |a: Option<payloads::Amount>| {
        a.filter(|a| !a.0.is_zero()).and_then(|a| fields::amount("", Some(a), "INR").ok()).unwrap_or_default()
    };
    let sum = part(charge).checked_add(part(tax))?;
    sum.is_positive().then_some(sum)
}

impl Report {
    /// Cashfree's answer about a transfer; one that does not read as a transfer is an UNKNOWN status.
    fn answer(v: Value) -> Report {
        match payloads::read::<Transfer>(v) {
            Ok(t) => t.into(),
            Err(why) => {
                tracing::warn!(%why, "Cashfree's transfer answer did not read as a transfer");
                Transfer::default().into()
            }
        }
    }
}

/// The transfer id of a payout: its UUID without dashes (32 characters, within Cashfree's 40).
pub fn transfer_id(payout_id: Uuid) -> String {
    payout_id.simple().to_string()
}

/// Sends the payout's transfer and applies Cashfree's answer. An unclear outcome leaves it PROCESSING for the
/// sweep; a refusal fails it and returns the money.
pub async fn send(state: &AppState, p: &payout::Model) -> AppResult<payout::Model> {
    let Some(bene) = crate::services::payouts::beneficiaries::by_freelancer(&state.db, p.freelancer_id).await? else {
        return settle(state, p.id, failed_report("the freelancer has no beneficiary")).await;
    };
    let body = json!(CreateTransfer {
        transfer_id: transfer_id(p.id),
        transfer_amount: p.amount.into(),
        transfer_currency: p.currency.clone(),
        transfer_mode: mode(&bene),
        beneficiary_details: BeneficiaryRef { beneficiary_id: bene.cf_beneficiary_id.clone() },
        transfer_remarks: format!("paydesk payout {}", p.id.simple()),
    });
    let cf = &state.cashfree;
    let key = transfer_id(p.id);
    let sent = cf.call(Api::Payouts, Method::POST, "/transfers", Some(&body), Some(&key), Repeat::Once);
    match sent.await {
        Ok(answer) => settle(state, p.id, Report::answer(answer)).await,
        Err(CallError::Refused { status: 409, .. }) => look_up(state, p).await,
        Err(CallError::Refused { code, message, .. }) => {
            settle(state, p.id, failed_report(&format!("Cashfree refused the transfer ({code}): {message}"))).await
        }
        Err(unclear) => {
            tracing::warn!(payout = %p.id, error = %unclear, "transfer outcome unknown; the sweep will look it up");
            mark(state, p.id, &format!("UNKNOWN: {unclear}"), None).await
        }
    }
}

fn mode(b: &beneficiary::Model) -> &'static str {
    if b.kind == "upi" {
        "upi"
    } else {
        "banktransfer"
    }
}

fn failed_report(why: &str) -> Report {
    Report { status: "FAILED".into(), cf_transfer_id: None, description: Some(why.to_owned()), charges: None }
}

/// Asks Cashfree how the payout's transfer stands and applies it; one Cashfree does not know is sent again.
async fn look_up(state: &AppState, p: &payout::Model) -> AppResult<payout::Model> {
    let path = format!("/transfers?transfer_id={}", transfer_id(p.id));
    match state.cashfree.call(Api::Payouts, Method::GET, &path, None, None, Repeat::Safe).await {
        Ok(answer) => settle(state, p.id, Report::answer(answer)).await,
        Err(CallError::Refused { status: 404, .. }) => Box::pin(send(state, p)).await,
        Err(e) => {
            tracing::warn!(payout = %p.id, error = %e, "could not look up a transfer; will try again");
            Ok(p.clone())
        }
    }
}

/// Records the last thing heard of a transfer still under way (and Cashfree's id for it, once known) without
/// deciding anything; a payout that has ended keeps the status that ended it.
async fn mark(state: &AppState, id: Uuid, status: &str, cf_transfer_id: Option<&str>) -> AppResult<payout::Model> {
    let update = payout::Entity::update_many()
        .col_expr(payout::Column::TransferStatus, Expr::value(status.chars().take(300).collect::<String>()))
        .col_expr(payout::Column::UpdatedAt, Expr::value(crate::clock::now()));
    let update = match cf_transfer_id {
        Some(cf) => update.col_expr(payout::Column::CfTransferId, Expr::value(cf.to_owned())),
        None => update,
    };
    update
        .filter(payout::Column::Id.eq(id))
        .filter(payout::Column::Status.eq(PayoutStatus::Processing))
        .exec(&state.db)
        .await?;
    reload(state, id).await
}

/// Books what Cashfree charged for the payout's transfer (with its tax), once: whichever report carries the
/// charges first books them, as an entry of its own that names the transfer (the database refuses a second).
async fn book_charges(
    db: &impl sea_orm::ConnectionTrait,
    p: &payout::Model,
    charges: Money,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let reference = format!("transfer-charges:{}", p.id);
    if !charges.is_positive() || journal::booked(db, &reference).await? {
        return Ok(false);
    }
    journal::book(
        db,
        journal::Entry {
            id: crate::clock::new_id(),
            kind: EntryKind::TransferCharges,
            reference,
            books: Some(Booked::TransferCharged { transfer_id: &transfer_id(p.id) }),
            currency: &p.currency,
            payment_id: None,
            payout_request_id: Some(p.id),
            description: "Cashfree's charge for the transfer, with its tax",
            at,
            // It leaves the bank (the payout account) as a cost.
            lines: vec![Line::on(Account::TransferCosts, charges.negate()), Line::on(Account::Bank, charges)],
        },
    )
    .await?;
    Ok(true)
}

async fn reload(state: &AppState, id: Uuid) -> AppResult<payout::Model> {
    payout::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(|| AppError::not_found("payout request", id))
}

/// Applies a transfer report to its payout (see `settle_once`), returning the payout as it stands.
pub async fn settle(state: &AppState, id: Uuid, report: Report) -> AppResult<payout::Model> {
    Ok(settle_once(state, id, report).await?.0)
}

/// Applies a transfer report to its payout, once: a report that changes nothing (a repeat, or one that comes
/// after the payout moved on) leaves it as it is. Says whether it changed anything.
pub async fn settle_once(state: &AppState, id: Uuid, report: Report) -> AppResult<(payout::Model, bool)> {
    let (from, to): (&[PayoutStatus], PayoutStatus) = match report.status.as_str() {
        // Cashfree's pages disagree on which of the two comes first (docs/CASHFREE.md); each says the money left
        // the payout account, so whichever arrives first pays the payout and the other changes nothing.
        "SUCCESS" | "ACKNOWLEDGED" => (&[PayoutStatus::Processing], PayoutStatus::Paid),
        "FAILED" | "REJECTED" => (&[PayoutStatus::Processing], PayoutStatus::Failed),
        "REVERSED" => (&[PayoutStatus::Processing, PayoutStatus::Paid], PayoutStatus::Reversed),
        other => return Ok((mark(state, id, other, report.cf_transfer_id.as_deref()).await?, true)),
    };
    debug_assert!(from.iter().all(|&f| crate::domain::status::payout_can_move(f, to)), "{from:?} -> {to:?}");
    let now = crate::clock::now();
    let txn = crate::db::begin(&state.db).await?;
    let moved = payout::Entity::update_many()
        .col_expr(payout::Column::Status, Expr::value(to))
        .col_expr(payout::Column::TransferStatus, Expr::value(report.status.clone()))
        .col_expr(payout::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            payout::Column::FailureReason,
            Expr::value(report.description.clone().filter(|_| to != PayoutStatus::Paid)),
        )
        .filter(payout::Column::Id.eq(id))
        .filter(payout::Column::Status.is_in(from.iter().copied()));
    let moved = match &report.cf_transfer_id {
        Some(cf) => moved.col_expr(payout::Column::CfTransferId, Expr::value(cf.clone())),
        None => moved,
    };
    // RETURNING: the payout as moved comes back in the same round trip.
    let Some(after) = moved.exec_with_returning(&txn).await?.into_iter().next() else {
        txn.rollback().await?;
        let now = reload(state, id).await?;
        // The other of SUCCESS and ACKNOWLEDGED, after the first paid it: it may bring the charges.
        let charged = match (to, now.status, report.charges) {
            (PayoutStatus::Paid, PayoutStatus::Paid, Some(charges)) => {
                let txn = crate::db::begin(&state.db).await?;
                let booked = book_charges(&txn, &now, charges, crate::clock::now()).await?;
                txn.commit().await?;
                booked
            }
            _ => false,
        };
        return Ok((now, charged));
    };
    let why = report.description.clone().unwrap_or_else(|| report.status.clone());
    let (kind, title, balance) = if to == PayoutStatus::Paid {
        journal::book(
            &txn,
            journal::Entry {
                id: crate::clock::new_id(),
                kind: EntryKind::PayoutPaid,
                reference: format!("payout-paid:{id}"),
                books: Some(Booked::TransferPaid { transfer_id: &transfer_id(id) }),
                currency: &after.currency,
                payment_id: None,
                payout_request_id: Some(id),
                description: "payout paid by transfer",
                at: now,
                lines: vec![
                    Line::on(Account::PayoutsInTransit, after.amount.negate()),
                    Line::on(Account::Bank, after.amount),
                ],
            },
        )
        .await?;
        if let Some(charges) = report.charges {
            book_charges(&txn, &after, charges, now).await?;
        }
        ("payout_paid", format!("Payout of {} {} paid", after.amount, after.currency), None)
    } else {
        // A transfer that failed never left transit; one the bank returned after it was paid comes back from
        // the bank.
        let from = if journal::paid_out(&txn, id).await? { Account::Bank } else { Account::PayoutsInTransit };
        let posted = ledger::post(
            &txn,
            ledger::Posting {
                wallet_id: after.wallet_id,
                pending_until: None,
                kind: LedgerKind::PayoutReturn,
                entry: EntryKind::PayoutReturned,
                against: vec![Line::on(from, after.amount.negate())],
                amount: after.amount,
                reference: format!("payout-return:{id}"),
                books: Some(Booked::TransferReturned { transfer_id: &transfer_id(id) }),
                payment_id: None,
                payout_request_id: Some(id),
                description: if to == PayoutStatus::Reversed { "payout reversed by the bank" } else { "payout failed" },
                floor: None,
                floor_name: "",
            },
        )
        .await?;
        let verb = if to == PayoutStatus::Reversed { "reversed" } else { "failed" };
        (
            if to == PayoutStatus::Reversed { "payout_reversed" } else { "payout_failed" },
            format!("Payout of {} {} {verb}; the money is back in your wallet", after.amount, after.currency),
            Some(posted.wallet.balance),
        )
    };
    notifications::notify(
        &txn,
        notifications::New {
            recipient_id: after.freelancer_id,
            kind,
            severity: if to == PayoutStatus::Paid { Severity::Info } else { Severity::Warning },
            title,
            body: match balance {
                Some(b) => format!("{why}. Your wallet balance is now {b} {}.", after.currency),
                None => format!("Cashfree transfer {} completed.", after.cf_transfer_id.as_deref().unwrap_or("-")),
            },
            payment_id: None,
            payout_request_id: Some(id),
        },
    )
    .await?;
    audit::record(
        &txn,
        audit::Entry {
            actor: Actor::System,
            action: match to {
                PayoutStatus::Paid => Action::PayoutTransferSucceeded,
                PayoutStatus::Reversed => Action::PayoutTransferReversed,
                _ => Action::PayoutTransferFailed,
            },
            entity_type: Subject::PayoutRequest,
            entity_id: id,
            before: Some(json!({ "status": from[0] })),
            after: Some(json!({ "status": to, "cfTransferId": after.cf_transfer_id, "transferStatus": report.status })),
            reason: Some(why.clone()),
        },
    )
    .await?;
    state.events.commit_with(txn, Event::PayoutStatusChanged { payout: after.clone() }).await?;
    state.metrics.payout(kind.trim_start_matches("payout_"));
    if to == PayoutStatus::Paid {
        state.metrics.money_moved("payouts_paid", &after.currency, after.amount);
    } else {
        let (severity, kind) = if to == PayoutStatus::Reversed {
            (Severity::Critical, AlertKind::PayoutReversed)
        } else {
            (Severity::Warning, AlertKind::PayoutFailed)
        };
        let mut alert =
            Alert::new(severity, kind, format!("payout {id} of {} {}: {why}", after.amount, after.currency));
        alert.payout_request_id = Some(id);
        state.events.alert(&state.db, alert).await;
    }
    Ok((after, true))
}

/// `POST /api/webhooks/cashfree/payouts`: transfer outcomes, signed with the Payouts secret, claimed in a statement
/// of their own and applied through `settle` (which is idempotent, so a claim whose settle failed gives its key
/// back for Cashfree's retry).
pub struct Transfers;

/// What a payout webhook says: a transfer's state, or another event of the Payouts account.
pub enum PayoutEvent {
    Transfer(TransferEvent),
    /// `LOW_BALANCE_ALERT`, `CREDIT_CONFIRMATION`, `BENEFICIARY_INCIDENT`, `BULK_TRANSFER_REJECTED`, or a type
    /// paydesk has never seen; `data` as sent.
    Account {
        kind: String,
        key: String,
        data: Value,
    },
}

/// What a transfer webhook says.
pub struct TransferEvent {
    kind: String,
    transfer: String,
    report: Report,
    key: String,
    /// The amount and currency the transfer moved, when the webhook says.
    amount: Option<(Money, String)>,
}

impl Source for Transfers {
    const NAME: &'static str = "payout webhook";
    type Event = PayoutEvent;

    fn secrets(state: &AppState) -> Result<Vec<String>, String> {
        let secrets = state.cashfree.payout_secrets();
        if secrets.is_empty() {
            return Err("CASHFREE_PAYOUT_CLIENT_SECRET is not configured; the delivery was recorded".into());
        }
        Ok(secrets.to_vec())
    }

    fn read(body: &[u8], key: Option<&str>) -> Result<PayoutEvent, String> {
        let root: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
        let hook: payloads::Envelope<Value> = payloads::read(root)?;
        let kind = fields::id("type", hook.kind.as_ref())?;
        if !kind.starts_with("TRANSFER_") {
            let key = key.map(str::to_owned).unwrap_or_else(|| format!("{kind}:{}", fields::sha_hex(body)));
            return Ok(PayoutEvent::Account { kind, key: fields::storable_key(key), data: hook.data });
        }
        let data: Transfer = payloads::read_at("data", hook.data)?;
        let transfer = fields::id("data.transfer_id", data.transfer_id.as_ref())?;
        let mut amount = None;
        if data.transfer_amount.is_some() {
            // Cashfree Payouts pays out in INR; a currency it names must be one paydesk holds.
            let currency = match data.transfer_currency.0 {
                None => "INR".to_owned(),
                Some(_) => fields::currency("data.transfer_currency", &data.transfer_currency)?,
            };
            amount = Some((fields::amount("data.transfer_amount", data.transfer_amount, &currency)?, currency));
        }
        let mut report = Report::from(data);
        if let Some(status) = kind.strip_prefix("TRANSFER_") {
            report.status = status.to_owned(); // the event names the end state
        }
        let key = key.map(str::to_owned).unwrap_or_else(|| format!("{kind}:{transfer}:{}", report.status));
        Ok(PayoutEvent::Transfer(TransferEvent { kind, transfer, report, key: fields::storable_key(key), amount }))
    }

    fn describe(event: &PayoutEvent, row: &mut webhook::ActiveModel) {
        match event {
            PayoutEvent::Transfer(t) => {
                row.event_type = Set(Some(t.kind.clone()));
                row.order_id = Set(Some(t.transfer.clone()));
            }
            PayoutEvent::Account { kind, .. } => row.event_type = Set(Some(kind.chars().take(64).collect())),
        }
    }

    async fn apply(state: &AppState, row: webhook::ActiveModel, event: &PayoutEvent) -> AppResult<Receipt> {
        match event {
            PayoutEvent::Transfer(t) => apply_transfer(state, row, t).await,
            PayoutEvent::Account { kind, key, data } => {
                crate::services::payouts::payout_account::on_event(state, row, kind, key, data).await
            }
        }
    }
}

/// Applies a transfer event: claims its key, then settles its payout (see `settle_once`).
async fn apply_transfer(state: &AppState, mut row: webhook::ActiveModel, event: &TransferEvent) -> AppResult<Receipt> {
    let db = &state.db;
    row.idempotency_key = Set(Some(event.key.clone()));
    let found = match Uuid::try_parse(&event.transfer) {
        Ok(pid) => payout::Entity::find_by_id(pid).one(db).await.ok().flatten(),
        Err(_) => None,
    };
    row.payout_request_id = Set(found.as_ref().map(|p| p.id));
    match webhooks::claim(db, &row).await {
        Ok(true) => {}
        Ok(false) => return Ok(webhooks::duplicate(db, row, "already received".into()).await),
        Err(e) => {
            let e = AppError::from(e);
            return Ok(Receipt::new(Verdict::Unavailable, WebhookOutcome::Failed, None, e.public_message()));
        }
    }
    let row_id = row.id.clone().unwrap();
    // A transfer of another amount than its payout's settles nothing: money moved that paydesk did not ask for.
    let differs = match (&found, &event.amount) {
        (Some(p), Some((amount, currency))) if *amount != p.amount || *currency != p.currency => Some(format!(
            "transfer {} moved {amount} {currency}, but payout {} is of {} {}: not settled, check it at Cashfree",
            event.transfer, p.id, p.amount, p.currency
        )),
        _ => None,
    };
    let (verdict, outcome, message) = match (found, differs) {
        (None, _) => {
            (Verdict::Accepted, WebhookOutcome::Unmatched, format!("no payout has transfer id {}", event.transfer))
        }
        (Some(_), Some(why)) => (Verdict::Accepted, WebhookOutcome::Unmatched, why),
        (Some(p), None) => match settle_once(state, p.id, event.report.clone()).await {
            Ok((after, true)) => {
                (Verdict::Accepted, WebhookOutcome::Processed, format!("payout is {}", api_name(&after.status)))
            }
            Ok((after, false)) => {
                (Verdict::Accepted, WebhookOutcome::Duplicate, format!("payout already {}", api_name(&after.status)))
            }
            Err(e) => {
                // Give the key back so Cashfree's retry is applied, and ask for that retry.
                let verdict = Verdict::of_failure(&e);
                let _ = webhook::Entity::update_many()
                    .col_expr(webhook::Column::IdempotencyKey, Expr::value(Option::<String>::None))
                    .filter(webhook::Column::Id.eq(row_id))
                    .exec(db)
                    .await;
                (verdict, WebhookOutcome::Failed, e.public_message())
            }
        },
    };
    let _ = webhook::Entity::update_many()
        .col_expr(webhook::Column::Outcome, Expr::value(outcome))
        .col_expr(webhook::Column::Error, Expr::value(Some(message.clone())))
        .filter(webhook::Column::Id.eq(row_id))
        .exec(db)
        .await;
    if outcome == WebhookOutcome::Unmatched {
        let mut alert =
            Alert::new(Severity::Critical, AlertKind::WebhookUnmatched, format!("payout webhook: {message}"));
        alert.webhook_id = Some(row_id);
        state.events.alert(db, alert).await;
    }
    Ok(Receipt::new(verdict, outcome, Some(row_id), message))
}

/// Looks up every payout still PROCESSING a while after its last news, and applies what Cashfree says (a
/// transfer Cashfree does not know is sent again). Safe on several instances at once: `settle` is idempotent
/// and Cashfree deduplicates transfers by id.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    let quiet_since = crate::clock::now() - chrono::Duration::seconds(2);
    let stuck = payout::Entity::find()
        .filter(payout::Column::Status.eq(PayoutStatus::Processing))
        .filter(payout::Column::UpdatedAt.lt(quiet_since))
        .order_by_asc(payout::Column::UpdatedAt)
        .limit(100)
        .all(&state.db)
        .await?;
    for p in &stuck {
        look_up(state, p).await?;
    }
    Ok(stuck.len())
}

/// Runs `sweep` every `PAYDESK_TRANSFER_POLL_SECS` while Payouts is configured.
pub fn spawn_sweeper(state: AppState) {
    if !state.cashfree.configured(Api::Payouts) {
        return;
    }
    let period = state.settings.transfer_poll;
    crate::jobs::every(period, "looked up transfers still processing", move || {
        let state = state.clone();
        async move { sweep(&state).await.map(|n| n as u64) }
    });
}
