//! The journal as accountants check it (`paydesk export-journal`): every entry with its lines, in Beancount's
//! language (so that Beancount's own `bean-check`, a double-entry engine written apart from ours, can verify it) or
//! as CSV. Beancount's signs are the debit's: a line here is the negation of paydesk's (credit positive).
//!
//! The Beancount file opens every account it uses, carries the balances before `from` as one opening entry, and,
//! when it runs to the present, asserts each wallet's balance (and its part still pending) as the wallet's own
//! row holds it: a wallet whose row drifted from its journal lines fails `bean-check`.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::status::Account;
use entity::{freelancer_wallet as wallet, journal_entry as entry, journal_posting as posting, Money};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use uuid::Uuid;

/// How the journal is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Beancount,
    Csv,
}

/// Entries read at a time.
const PAGE: u64 = 1000;

/// The Beancount account of a line: the platform's accounts by their nature, each wallet an account of its own
/// under the wallets the platform owes (its pending part beneath it).
fn account_name(account: Account, wallet: Option<Uuid>) -> String {
    let w = |id: Option<Uuid>| id.map_or_else(|| "Unknown".to_owned(), |id| format!("W{}", id.simple()));
    match account {
        Account::Wallet => format!("Liabilities:Wallets:{}", w(wallet)),
        Account::WalletPending => format!("Liabilities:Wallets:{}:Pending", w(wallet)),
        Account::FeeRevenue => "Income:PlatformFees".into(),
        Account::GatewayClearing => "Assets:GatewayClearing".into(),
        Account::PayoutsInTransit => "Assets:PayoutsInTransit".into(),
        Account::Bank => "Assets:Bank".into(),
        Account::RefundsPayable => "Liabilities:RefundsPayable".into(),
        Account::DisputedFunds => "Liabilities:DisputedFunds".into(),
        Account::DisputeLosses => "Expenses:DisputeLosses".into(),
        Account::TransferCosts => "Expenses:TransferCosts".into(),
        Account::GatewayCharges => "Expenses:GatewayCharges".into(),
        Account::Adjustments => "Equity:Adjustments".into(),
    }
}

/// Text inside a Beancount string: backslashes and quotes escaped, control characters dropped.
fn bean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect::<String>().replace('\\', "\\\\").replace('"', "\\\"")
}

/// Text inside a CSV field in quotes: quotes doubled, control characters dropped.
fn csv(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect::<String>().replace('"', "\"\"")
}

/// A stored enum's name (`payment_received`, `wallet`).
fn name(value: impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Writes the journal's entries created in `[from, to)` (all, without them) to `out` in `format`; returns how many.
pub async fn journal(
    db: &impl ConnectionTrait,
    format: Format,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    out: &mut impl Write,
) -> AppResult<u64> {
    let io = |e: std::io::Error| AppError::Internal(e.into());
    let mut opened: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut head = String::new();
    let mut body = String::new();
    match format {
        Format::Csv => head.push_str(
            "entry_id,created_at,kind,reference,provider_object,description,payment_id,payout_request_id,line,account,\
             wallet_id,currency,amount\n",
        ),
        Format::Beancount => {
            head.push_str("; The paydesk journal, exported by `paydesk export-journal --format beancount`.\n");
            head.push_str("option \"title\" \"paydesk journal\"\n\n");
            if let Some(from) = from {
                opening(db, from, &mut opened, &mut body).await?;
            }
            // Every account the entries use, opened on the day of its first line: written first, as people read.
            let (used, first) = accounts_used(db, from, to).await?;
            let day = first.unwrap_or_else(|| Utc::now().date_naive());
            // Every wallet, lines or not: each is asserted at the end, so one whose row holds money its lines do not
            // explain is found too.
            for w in wallet::Entity::find().all(db).await? {
                open(&mut opened, &account_name(Account::Wallet, Some(w.id)), day);
            }
            for (account, wallet) in used {
                open(&mut opened, &account_name(account, wallet), day);
                if account == Account::WalletPending {
                    // The wallet's own account holds its pending part beneath it: the whole is asserted on it.
                    open(&mut opened, &account_name(Account::Wallet, wallet), day);
                }
            }
            for (account, day) in &opened {
                let _ = writeln!(head, "{day} open {account}");
            }
            head.push('\n');
        }
    }
    out.write_all(head.as_bytes()).map_err(io)?;
    out.write_all(body.as_bytes()).map_err(io)?;
    body.clear();
    let mut count = 0u64;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let mut q = entry::Entity::find().order_by_asc(entry::Column::CreatedAt).order_by_asc(entry::Column::Id);
        if let Some(from) = from {
            q = q.filter(entry::Column::CreatedAt.gte(from));
        }
        if let Some(to) = to {
            q = q.filter(entry::Column::CreatedAt.lt(to));
        }
        if let Some((at, id)) = after {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(entry::Column::CreatedAt.gt(at))
                    .add(sea_orm::Condition::all().add(entry::Column::CreatedAt.eq(at)).add(entry::Column::Id.gt(id))),
            );
        }
        let page = q.limit(PAGE).all(db).await?;
        if page.is_empty() {
            break;
        }
        let ids: Vec<Uuid> = page.iter().map(|e| e.id).collect();
        let mut lines: BTreeMap<Uuid, Vec<posting::Model>> = BTreeMap::new();
        for l in crate::services::books::journal::lines_of(db, &ids).await? {
            lines.entry(l.entry_id).or_default().push(l);
        }
        for e in &page {
            let of = lines.remove(&e.id).unwrap_or_default();
            match format {
                Format::Csv => csv_entry(e, &of, &mut body),
                Format::Beancount => beancount_entry(e, &of, &mut body),
            }
            count += 1;
        }
        after = page.last().map(|e| (e.created_at, e.id));
        out.write_all(body.as_bytes()).map_err(io)?;
        body.clear();
        if page.len() < PAGE as usize {
            break;
        }
    }
    if format == Format::Beancount && to.is_none_or(|t| t >= Utc::now()) {
        wallet_assertions(db, &opened, &mut body).await?;
        out.write_all(body.as_bytes()).map_err(io)?;
    }
    Ok(count)
}

/// The day an account is first used, kept as its opening day.
fn open(opened: &mut BTreeMap<String, NaiveDate>, account: &str, day: NaiveDate) {
    let at = opened.entry(account.to_owned()).or_insert(day);
    if day < *at {
        *at = day;
    }
}

fn beancount_entry(e: &entry::Model, lines: &[posting::Model], out: &mut String) {
    let day = e.created_at.date_naive();
    let _ = writeln!(out, "{day} * \"{}\" \"{}\"", name(e.kind), bean(&e.description));
    let _ = writeln!(out, "  paydesk_entry: \"{}\"", e.id);
    let _ = writeln!(out, "  reference: \"{}\"", bean(&e.reference));
    if let Some(object) = &e.provider_object {
        let _ = writeln!(out, "  provider_object: \"{}\"", bean(object));
    }
    for l in lines {
        let _ = writeln!(out, "  {}  {} {}", account_name(l.account, l.wallet_id), l.amount.negate(), l.currency);
    }
    out.push('\n');
}

fn csv_entry(e: &entry::Model, lines: &[posting::Model], out: &mut String) {
    let opt = |v: Option<Uuid>| v.map(|v| v.to_string()).unwrap_or_default();
    for l in lines {
        let _ = writeln!(
            out,
            "{},{},{},\"{}\",\"{}\",\"{}\",{},{},{},{},{},{},{}",
            e.id,
            e.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            name(e.kind),
            csv(&e.reference),
            csv(e.provider_object.as_deref().unwrap_or_default()),
            csv(&e.description),
            opt(e.payment_id),
            opt(e.payout_request_id),
            l.line,
            name(l.account),
            opt(l.wallet_id),
            l.currency,
            l.amount
        );
    }
}

/// Each account (and wallet) the entries of `[from, to)` use, and the day of the first of those entries (every
/// account is opened on it: simpler than each its own day, and as true).
async fn accounts_used(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<(Vec<(Account, Option<Uuid>)>, Option<NaiveDate>)> {
    let mut first = entry::Entity::find().order_by_asc(entry::Column::CreatedAt);
    let mut window = sea_orm::sea_query::Query::select().column(entry::Column::Id).from(entry::Entity).to_owned();
    if let Some(from) = from {
        window.and_where(entry::Column::CreatedAt.gte(from));
        first = first.filter(entry::Column::CreatedAt.gte(from));
    }
    if let Some(to) = to {
        window.and_where(entry::Column::CreatedAt.lt(to));
        first = first.filter(entry::Column::CreatedAt.lt(to));
    }
    let used: Vec<(Account, Option<Uuid>)> = posting::Entity::find()
        .select_only()
        .column(posting::Column::Account)
        .column(posting::Column::WalletId)
        .filter(posting::Column::EntryId.in_subquery(window))
        .group_by(posting::Column::Account)
        .group_by(posting::Column::WalletId)
        .into_tuple()
        .all(db)
        .await?;
    let day = first.one(db).await?.map(|e| e.created_at.date_naive());
    Ok((used, day))
}

/// The balances of every account before `from`, as one opening entry the day before it, against
/// `Equity:Opening-Balances`.
async fn opening(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    opened: &mut BTreeMap<String, NaiveDate>,
    out: &mut String,
) -> AppResult<()> {
    let before = sea_orm::sea_query::Query::select()
        .column(entry::Column::Id)
        .from(entry::Entity)
        .and_where(entry::Column::CreatedAt.lt(from))
        .to_owned();
    let rows: Vec<(Account, Option<Uuid>, String, i64)> = posting::Entity::find()
        .select_only()
        .column(posting::Column::Account)
        .column(posting::Column::WalletId)
        .column(posting::Column::Currency)
        .expr(sea_orm::sea_query::Expr::cust("CAST(COALESCE(SUM(journal_postings.amount), 0) AS BIGINT)"))
        .filter(posting::Column::EntryId.in_subquery(before))
        .group_by(posting::Column::Account)
        .group_by(posting::Column::WalletId)
        .group_by(posting::Column::Currency)
        .into_tuple()
        .all(db)
        .await?;
    let day = (from - Duration::days(1)).date_naive();
    let mut per_currency: BTreeMap<String, Vec<(String, Money)>> = BTreeMap::new();
    for (account, wallet, currency, sum) in rows.into_iter().filter(|r| r.3 != 0) {
        per_currency.entry(currency).or_default().push((account_name(account, wallet), Money::from_minor(sum)));
    }
    for (currency, lines) in per_currency {
        let _ = writeln!(out, "{day} * \"opening\" \"balances before {}\"", from.to_rfc3339());
        for (account, amount) in lines {
            open(opened, &account, day);
            if let Some(parent) = account.strip_suffix(":Pending") {
                open(opened, parent, day);
            }
            let _ = writeln!(out, "  {account}  {} {currency}", amount.negate());
        }
        open(opened, "Equity:Opening-Balances", day);
        let _ = writeln!(out, "  Equity:Opening-Balances\n");
    }
    Ok(())
}

/// Each wallet's balance as its row holds it, asserted the day after today: the whole (its pending part
/// included) and the pending part alone.
async fn wallet_assertions(
    db: &impl ConnectionTrait,
    opened: &BTreeMap<String, NaiveDate>,
    out: &mut String,
) -> AppResult<()> {
    let day = (Utc::now() + Duration::days(1)).date_naive();
    let wallets = wallet::Entity::find().order_by_asc(wallet::Column::Id).all(db).await?;
    for w in wallets {
        let whole = account_name(Account::Wallet, Some(w.id));
        // An explicit tolerance below the paisa: Beancount's own for two decimals would let a paisa through.
        let _ = writeln!(out, "{day} balance {whole}  {} ~ 0.001 {}", w.balance.negate(), w.currency);
        let pending = account_name(Account::WalletPending, Some(w.id));
        if opened.contains_key(&pending) {
            let _ = writeln!(out, "{day} balance {pending}  {} ~ 0.001 {}", w.pending_balance.negate(), w.currency);
        }
    }
    Ok(())
}
