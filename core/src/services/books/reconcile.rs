//! Reconciliation: the books must balance. Every wallet's ledger sums to its balance, every ledger row moves its
//! balance the way its kind says (credits up, debits down), no payout ever took a wallet below the reserve, every
//! paid payout has exactly one debit, and every payment's refunds lie between zero and its amount (a fully
//! refunded one, and only that, is REFUNDED). The journal: every entry has two lines or more that sum to zero
//! per currency, every wallet's balance is the sum of its journal lines, every ledger row is its entry's wallet
//! line, and every wallet's pending balance is what its pending lines and its waiting credits say. The world:
//! each Cashfree payment is captured and settled at most once and never settled for more than was captured, each
//! Cashfree refund is booked once (a refund started here is never booked again as one of Cashfree's own), each step
//! of each provider object a journal entry names is booked once, refunds and lost disputes never return more than a
//! payment captured, and a payment's disputed funds are what its open disputes hold.

use crate::error::AppResult;
use entity::status::{Direction, LedgerKind};
use entity::Money;
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection, Iterable, Statement};
use std::fmt;

/// One thing that does not add up.
#[derive(Debug)]
pub struct Finding {
    pub subject: String,
    pub problem: String,
}

/// What reconciliation checked and found.
#[derive(Debug, Default)]
pub struct Report {
    pub wallets: u64,
    pub ledger_rows: u64,
    pub paid_payouts: u64,
    pub journal_entries: u64,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "checked {} wallets, {} ledger rows, {} paid payouts, {} journal entries",
            self.wallets, self.ledger_rows, self.paid_payouts, self.journal_entries
        )?;
        if self.findings.is_empty() {
            return writeln!(
                f,
                "OK: every balance equals its ledger and its journal, every row's sign fits its kind, the \
                 reserve always held, refunds within payments, every journal entry balances, every provider object \
                 booked at most once per step, no payment returned beyond what it captured, disputed funds as open \
                 disputes hold"
            );
        }
        writeln!(f, "MISMATCH: {} problem(s)", self.findings.len())?;
        for x in &self.findings {
            writeln!(f, "  {}: {}", x.subject, x.problem)?;
        }
        Ok(())
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> AppResult<Vec<sea_orm::QueryResult>> {
    Ok(db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned())).await?)
}

async fn count(db: &DatabaseConnection, sql: &str) -> AppResult<u64> {
    let r = rows(db, sql).await?;
    Ok(r.first().and_then(|row| row.try_get::<i64>("", "n").ok()).unwrap_or(0) as u64)
}

/// Runs every check over the whole database.
pub async fn run(db: &DatabaseConnection, reserves: &crate::domain::money::Reserves) -> AppResult<Report> {
    let mut findings = Vec::new();
    let wallets = rows(
        db,
        "SELECT w.freelancer_id AS freelancer, w.balance AS balance, \
                CAST(COALESCE(SUM(t.amount), 0) AS BIGINT) AS ledger \
         FROM freelancer_wallets w LEFT JOIN wallet_transactions t ON t.wallet_id = w.id \
         GROUP BY w.id, w.freelancer_id, w.balance",
    )
    .await?;
    for w in &wallets {
        let freelancer: uuid::Uuid = w.try_get("", "freelancer")?;
        let balance = Money::from_minor(w.try_get("", "balance")?);
        let ledger = Money::from_minor(w.try_get("", "ledger")?);
        if balance != ledger {
            findings.push(Finding {
                subject: format!("wallet of {freelancer}"),
                problem: format!("balance {balance} but its ledger sums to {ledger}"),
            });
        }
    }
    // Rows against their kind's direction (`LedgerKind::direction`), at most a page of them named.
    let stored = |d: Direction| {
        let kinds = LedgerKind::iter().filter(|k| k.direction() == d).map(|k| format!("'{}'", k.to_value()));
        kinds.collect::<Vec<_>>().join(", ")
    };
    let signs = rows(
        db,
        &format!(
            "SELECT reference, kind, amount FROM wallet_transactions \
             WHERE amount = 0 OR (kind IN ({}) AND amount < 0) OR (kind IN ({}) AND amount > 0) \
             ORDER BY created_at, id LIMIT 100",
            stored(Direction::Credit),
            stored(Direction::Debit)
        ),
    )
    .await?;
    for r in &signs {
        let reference: String = r.try_get("", "reference")?;
        let kind: String = r.try_get("", "kind")?;
        let amount = Money::from_minor(r.try_get("", "amount")?);
        let way = match LedgerKind::try_from_value(&kind).map(LedgerKind::direction) {
            Ok(Direction::Credit) => "a credit, so greater than zero",
            Ok(Direction::Debit) => "a debit, so less than zero",
            _ => "never zero",
        };
        findings.push(Finding {
            subject: format!("ledger row {reference}"),
            problem: format!("{} of {amount}, but a {kind} row is {way}", kind.to_ascii_uppercase()),
        });
    }
    let below = rows(
        db,
        &format!(
            "SELECT t.payout_request_id AS payout, t.balance_after AS after, w.currency AS currency \
             FROM wallet_transactions t JOIN freelancer_wallets w ON w.id = t.wallet_id \
             WHERE t.kind = 'payout_debit' AND t.balance_after < {}",
            reserves.by_currency.values().chain([&reserves.default]).max().copied().unwrap_or_default().minor()
        ),
    )
    .await?;
    for r in &below {
        let payout: Option<uuid::Uuid> = r.try_get("", "payout")?;
        let after = Money::from_minor(r.try_get("", "after")?);
        let currency: String = r.try_get("", "currency")?;
        let reserve = reserves.of(&currency);
        if after >= reserve {
            continue;
        }
        findings.push(Finding {
            subject: format!("payout {}", payout.map(|p| p.to_string()).unwrap_or_default()),
            problem: format!("left the wallet at {after}, below the reserve of {reserve}"),
        });
    }
    let unbooked = rows(
        db,
        "SELECT p.id AS id, (SELECT COUNT(*) FROM wallet_transactions t \
                WHERE t.payout_request_id = p.id AND t.kind = 'payout_debit') AS debits \
         FROM payout_requests p WHERE p.status = 'paid'",
    )
    .await?;
    for r in &unbooked {
        let debits: i64 = r.try_get("", "debits")?;
        if debits != 1 {
            let id: uuid::Uuid = r.try_get("", "id")?;
            findings.push(Finding {
                subject: format!("payout {id}"),
                problem: format!("paid with {debits} debits, not 1"),
            });
        }
    }
    // Every debit of a payout that did not stay paid was credited back; one still processing is debited once.
    let transfers = rows(
        db,
        "SELECT p.id AS id, p.status AS status, \
                (SELECT COUNT(*) FROM wallet_transactions t WHERE t.payout_request_id = p.id \
                   AND t.kind = 'payout_debit') AS debits, \
                (SELECT COUNT(*) FROM wallet_transactions t WHERE t.payout_request_id = p.id \
                   AND t.kind = 'payout_return') AS returns \
         FROM payout_requests p WHERE p.status IN ('processing', 'failed', 'reversed')",
    )
    .await?;
    for r in &transfers {
        let (debits, returns): (i64, i64) = (r.try_get("", "debits")?, r.try_get("", "returns")?);
        let status: String = r.try_get("", "status")?;
        let sound = match status.as_str() {
            "processing" => debits == 1 && returns == 0,
            "reversed" => debits == 1 && returns == 1,
            _ => debits == returns && debits <= 1, // failed: by transfer (1 and 1) or never debited (0 and 0)
        };
        if !sound {
            let id: uuid::Uuid = r.try_get("", "id")?;
            findings.push(Finding {
                subject: format!("payout {id}"),
                problem: format!("{} with {debits} debits and {returns} returns", status.to_ascii_uppercase()),
            });
        }
    }
    let refunds = rows(
        db,
        "SELECT order_id, amount, refunded_amount, status FROM payments \
         WHERE refunded_amount > amount OR refunded_amount < 0 \
            OR (refunded_amount = amount) <> (status = 'refunded')",
    )
    .await?;
    for r in &refunds {
        let order: String = r.try_get("", "order_id")?;
        let amount = Money::from_minor(r.try_get("", "amount")?);
        let refunded = Money::from_minor(r.try_get("", "refunded_amount")?);
        let status: String = r.try_get("", "status")?;
        let problem = if refunded > amount {
            format!("refunded {refunded}, more than the {amount} paid")
        } else if refunded < Money::ZERO {
            format!("refunded {refunded}, less than nothing")
        } else {
            format!("refunded {refunded} of {amount} but its status is {}", status.to_ascii_uppercase())
        };
        findings.push(Finding { subject: format!("payment {order}"), problem });
    }
    journal(db, &mut findings).await?;
    world(db, &mut findings).await?;
    Ok(Report {
        wallets: wallets.len() as u64,
        ledger_rows: count(db, "SELECT COUNT(*) AS n FROM wallet_transactions").await?,
        paid_payouts: unbooked.len() as u64,
        journal_entries: count(db, "SELECT COUNT(*) AS n FROM journal_entries").await?,
        findings,
    })
}

/// Each provider object counted once: a Cashfree payment settled at most once and for no more than was captured, a
/// Cashfree refund on one refund row and never booked both as one started here and as one of Cashfree's own, each
/// step of each object an entry names booked once; per payment, no more returned to the client than was captured,
/// and disputed funds holding what its open disputes hold.
async fn world(db: &DatabaseConnection, findings: &mut Vec<Finding>) -> AppResult<()> {
    let settled = rows(
        db,
        "SELECT p.order_id AS order_id, p.amount AS amount, COUNT(*) AS n, CAST(MAX(s.amount) AS BIGINT) AS settled \
         FROM settlement_lines s JOIN payments p ON p.id = s.payment_id WHERE s.journal_entry_id IS NOT NULL \
         GROUP BY p.id, p.order_id, p.amount HAVING COUNT(*) > 1 OR MAX(s.amount) > p.amount LIMIT 100",
    )
    .await?;
    for r in &settled {
        let order: String = r.try_get("", "order_id")?;
        let times: i64 = r.try_get("", "n")?;
        let (amount, most) =
            (Money::from_minor(r.try_get("", "amount")?), Money::from_minor(r.try_get("", "settled")?));
        findings.push(Finding {
            subject: format!("payment {order}"),
            problem: format!("settlement booked {times} time(s), the largest for {most}, of a payment of {amount}"),
        });
    }
    let twice = rows(
        db,
        "SELECT r.refund_id AS refund_id, r.cf_refund_id AS cf FROM refunds r \
         JOIN journal_entries e ON e.reference = 'refund:' || r.cf_refund_id LIMIT 100",
    )
    .await?;
    for r in &twice {
        let (ours, cf): (String, String) = (r.try_get("", "refund_id")?, r.try_get("", "cf")?);
        findings.push(Finding {
            subject: format!("refund {ours}"),
            problem: format!("Cashfree's refund {cf} is booked as started here and again as one of Cashfree's own"),
        });
    }
    let shared = rows(
        db,
        "SELECT cf_refund_id AS cf, COUNT(*) AS n FROM refunds WHERE cf_refund_id IS NOT NULL \
         GROUP BY cf_refund_id HAVING COUNT(*) > 1 LIMIT 100",
    )
    .await?;
    for r in &shared {
        let (cf, n): (String, i64) = (r.try_get("", "cf")?, r.try_get("", "n")?);
        findings.push(Finding { subject: format!("Cashfree refund {cf}"), problem: format!("on {n} refunds") });
    }
    // Each step of each provider object booked once: what the entries name (the unique index refuses a second,
    // unless it was dropped), and, for entries booked before they named it, each Cashfree payment captured once.
    let named = rows(
        db,
        "SELECT provider_object AS object, COUNT(*) AS n FROM journal_entries WHERE provider_object IS NOT NULL \
         GROUP BY provider_object HAVING COUNT(*) > 1 \
         UNION ALL \
         SELECT 'cf_payment_id:' || p.cf_payment_id || ':captured' AS object, COUNT(*) AS n \
         FROM journal_entries e JOIN payments p ON p.id = e.payment_id \
         WHERE e.kind = 'payment_received' AND p.cf_payment_id IS NOT NULL \
         GROUP BY p.cf_payment_id HAVING COUNT(*) > 1 LIMIT 100",
    )
    .await?;
    for r in &named {
        let (object, n): (String, i64) = (r.try_get("", "object")?, r.try_get("", "n")?);
        findings.push(Finding { subject: object, problem: format!("booked by {n} journal entries, not one") });
    }
    // What went back to the client out of a payment (refunds paid and disputes lost: their gateway clearing lines,
    // less what the platform booked as its own dispute losses, as when a refunded payment is also charged back)
    // never exceeds what was captured, per payment, as the journal says it.
    let returned = rows(
        db,
        "SELECT * FROM (SELECT p.order_id AS order_id, \
           CAST(COALESCE(SUM(CASE WHEN e.kind = 'payment_received' AND l.account = 'gateway_clearing' \
             THEN -l.amount ELSE 0 END), 0) AS BIGINT) AS captured, \
           CAST(COALESCE(SUM(CASE WHEN e.kind IN ('refund', 'refund_paid', 'dispute_lost') \
             AND l.account = 'gateway_clearing' THEN l.amount ELSE 0 END), 0) AS BIGINT) AS returned, \
           CAST(COALESCE(SUM(CASE WHEN l.account = 'dispute_losses' THEN -l.amount ELSE 0 END), 0) AS BIGINT) \
             AS losses \
         FROM journal_entries e \
         JOIN journal_postings l ON l.entry_id = e.id AND l.account IN ('gateway_clearing', 'dispute_losses') \
         JOIN payments p ON p.id = e.payment_id GROUP BY p.id, p.order_id) x \
         WHERE x.returned - x.losses > x.captured LIMIT 100",
    )
    .await?;
    for r in &returned {
        let order: String = r.try_get("", "order_id")?;
        let [captured, back, losses] =
            ["captured", "returned", "losses"].map(|c| r.try_get::<i64>("", c).map(Money::from_minor));
        let (captured, back, losses) = (captured?, back?, losses?);
        findings.push(Finding {
            subject: format!("payment {order}"),
            problem: format!(
                "refunds and lost disputes returned {back} to the client ({losses} of it the platform's own dispute \
                 losses) of the {captured} captured"
            ),
        });
    }
    // What a payment's entries hold in disputed funds is what its open disputes hold.
    let held = rows(
        db,
        "SELECT * FROM (SELECT p.order_id AS order_id, \
           CAST(COALESCE((SELECT SUM(l.amount) FROM journal_entries e JOIN journal_postings l ON l.entry_id = e.id \
             WHERE e.payment_id = p.id AND l.account = 'disputed_funds'), 0) AS BIGINT) AS journal, \
           CAST(COALESCE((SELECT SUM(d.held) FROM disputes d WHERE d.payment_id = p.id AND d.status = 'open'), 0) \
             AS BIGINT) AS open \
         FROM payments p WHERE EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.id) \
           OR EXISTS (SELECT 1 FROM journal_entries e WHERE e.payment_id = p.id \
             AND e.kind IN ('dispute_opened', 'dispute_won', 'dispute_lost'))) x \
         WHERE x.journal <> x.open LIMIT 100",
    )
    .await?;
    for r in &held {
        let order: String = r.try_get("", "order_id")?;
        let (journal, open) = (Money::from_minor(r.try_get("", "journal")?), Money::from_minor(r.try_get("", "open")?));
        findings.push(Finding {
            subject: format!("payment {order}"),
            problem: format!("its entries hold {journal} in disputed funds, but its open disputes hold {open}"),
        });
    }
    Ok(())
}

/// That `account`'s journal lines sum, per currency, to what `held` (a sum over the rows that account stands for,
/// of the currency `j.currency`) says; a finding for each currency where they differ.
async fn account_holds(
    db: &DatabaseConnection,
    findings: &mut Vec<Finding>,
    account: &str,
    held: &str,
    subject: &str,
    says: &str,
) -> AppResult<()> {
    let sums = rows(
        db,
        &format!(
            "SELECT j.currency AS currency, j.total AS journal, CAST(COALESCE(({held}), 0) AS BIGINT) AS held \
             FROM (SELECT p.currency AS currency, CAST(SUM(p.amount) AS BIGINT) AS total FROM journal_postings p \
                   WHERE p.account = '{account}' GROUP BY p.currency) j"
        ),
    )
    .await?;
    for r in &sums {
        let (journal, held) = (Money::from_minor(r.try_get("", "journal")?), Money::from_minor(r.try_get("", "held")?));
        if journal != held {
            let currency: String = r.try_get("", "currency")?;
            findings.push(Finding {
                subject: format!("{subject} in {currency}"),
                problem: format!("its journal lines sum to {journal} but {says} {held}"),
            });
        }
    }
    Ok(())
}

/// The journal's checks: each names at most 100 rows.
async fn journal(db: &DatabaseConnection, findings: &mut Vec<Finding>) -> AppResult<()> {
    let unbalanced = rows(
        db,
        "SELECT e.reference AS reference, x.currency AS currency, x.total AS total, x.n AS n \
         FROM (SELECT p.entry_id AS entry_id, p.currency AS currency, CAST(SUM(p.amount) AS BIGINT) AS total, \
                      COUNT(*) AS n \
               FROM journal_postings p GROUP BY p.entry_id, p.currency \
               HAVING SUM(p.amount) <> 0 OR COUNT(*) < 2) x \
         JOIN journal_entries e ON e.id = x.entry_id ORDER BY e.reference LIMIT 100",
    )
    .await?;
    for r in &unbalanced {
        let reference: String = r.try_get("", "reference")?;
        let currency: String = r.try_get("", "currency")?;
        let total = Money::from_minor(r.try_get("", "total")?);
        let n: i64 = r.try_get("", "n")?;
        findings.push(Finding {
            subject: format!("journal entry {reference}"),
            problem: format!("its {n} {currency} line(s) sum to {total}; an entry is two lines or more summing to 0"),
        });
    }
    let empty = rows(
        db,
        "SELECT e.reference AS reference FROM journal_entries e \
         LEFT JOIN journal_postings p ON p.entry_id = e.id AND p.line = 1 \
         WHERE p.entry_id IS NULL ORDER BY e.reference LIMIT 100",
    )
    .await?;
    for r in &empty {
        let reference: String = r.try_get("", "reference")?;
        findings.push(Finding {
            subject: format!("journal entry {reference}"),
            problem: "has no lines (no line 1)".into(),
        });
    }
    let wallets = rows(
        db,
        "SELECT w.freelancer_id AS freelancer, w.balance AS balance, j.total AS journal \
         FROM freelancer_wallets w JOIN (SELECT p.wallet_id AS wallet_id, CAST(SUM(p.amount) AS BIGINT) AS total \
           FROM journal_postings p WHERE p.account IN ('wallet', 'wallet_pending') GROUP BY p.wallet_id) j \
           ON j.wallet_id = w.id \
         WHERE j.total <> w.balance \
         UNION ALL \
         SELECT w.freelancer_id, w.balance, 0 FROM freelancer_wallets w \
         WHERE w.balance <> 0 AND NOT EXISTS (SELECT 1 FROM journal_postings p WHERE p.wallet_id = w.id) \
         LIMIT 100",
    )
    .await?;
    for w in &wallets {
        let freelancer: uuid::Uuid = w.try_get("", "freelancer")?;
        let balance = Money::from_minor(w.try_get("", "balance")?);
        let journal = Money::from_minor(w.try_get("", "journal")?);
        findings.push(Finding {
            subject: format!("wallet of {freelancer}"),
            problem: format!("balance {balance} but its journal lines sum to {journal}"),
        });
    }
    let strays = rows(
        db,
        "SELECT 'ledger row' AS what, t.reference AS reference FROM wallet_transactions t \
         WHERE NOT EXISTS (SELECT 1 FROM journal_postings p \
           WHERE p.entry_id = t.id AND p.account IN ('wallet', 'wallet_pending') AND p.wallet_id = t.wallet_id \
             AND p.amount = t.amount) \
         UNION ALL \
         SELECT 'journal entry', e.reference FROM journal_postings p JOIN journal_entries e ON e.id = p.entry_id \
         WHERE p.account IN ('wallet', 'wallet_pending') AND e.kind <> 'funds_released' \
           AND NOT EXISTS (SELECT 1 FROM wallet_transactions t WHERE t.id = p.entry_id \
             AND t.wallet_id = p.wallet_id AND t.amount = p.amount) \
         LIMIT 100",
    )
    .await?;
    for r in &strays {
        let what: String = r.try_get("", "what")?;
        let reference: String = r.try_get("", "reference")?;
        let problem = if what == "ledger row" {
            "no journal entry carries it as its wallet line (same id, wallet and amount)"
        } else {
            "its wallet line matches no ledger row (same id, wallet and amount)"
        };
        findings.push(Finding { subject: format!("{what} {reference}"), problem: problem.into() });
    }
    // Disputes: what disputed funds hold is what open disputes held; what a payment's disputes hold is its
    // disputed amount, and with its refunds never more than the payment.
    let open = "SELECT SUM(d.held) FROM disputes d WHERE d.status = 'open' AND d.currency = j.currency";
    account_holds(db, findings, "disputed_funds", open, "disputed funds", "open disputes hold").await?;
    // Refunds started here: what refunds payable holds is what pending refunds ask.
    let asked = "SELECT SUM(r.amount) FROM refunds r WHERE r.status = 'pending' AND r.currency = j.currency";
    account_holds(db, findings, "refunds_payable", asked, "refunds payable", "pending refunds ask").await?;
    // What a payment's disputes hold and its refunds under way take is what it says, and with its refunds never
    // more than the payment.
    let payments = rows(
        db,
        "SELECT * FROM (SELECT p.order_id AS order_id, p.amount AS amount, p.refunded_amount AS refunded, \
           p.disputed_amount AS disputed, p.refunding_amount AS refunding, \
           CAST(COALESCE((SELECT SUM(d.held) FROM disputes d \
             WHERE d.payment_id = p.id AND d.status IN ('open', 'lost')), 0) AS BIGINT) AS held, \
           CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r \
             WHERE r.payment_id = p.id AND r.status = 'pending'), 0) AS BIGINT) AS asked \
         FROM payments p WHERE p.disputed_amount <> 0 OR p.refunding_amount <> 0 \
           OR EXISTS (SELECT 1 FROM disputes d WHERE d.payment_id = p.id) \
           OR EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)) x \
         WHERE x.disputed <> x.held OR x.refunding <> x.asked OR x.refunded + x.disputed + x.refunding > x.amount \
         LIMIT 100",
    )
    .await?;
    for r in &payments {
        let order: String = r.try_get("", "order_id")?;
        let [amount, refunded, disputed, held, refunding, asked] =
            ["amount", "refunded", "disputed", "held", "refunding", "asked"]
                .map(|c| r.try_get::<i64>("", c).map(Money::from_minor));
        let (amount, refunded, disputed, held, refunding, asked) =
            (amount?, refunded?, disputed?, held?, refunding?, asked?);
        findings.push(Finding {
            subject: format!("payment {order}"),
            problem: format!(
                "disputed {disputed} (its disputes hold {held}), refunding {refunding} (its pending refunds ask \
                 {asked}) and refunded {refunded} of the {amount} paid"
            ),
        });
    }
    // What is pending: the wallet's pending balance, its pending journal lines and its waiting credits agree.
    let pending = rows(
        db,
        "SELECT * FROM (SELECT w.freelancer_id AS freelancer, w.pending_balance AS balance, \
           CAST(COALESCE((SELECT SUM(p.amount) FROM journal_postings p \
             WHERE p.wallet_id = w.id AND p.account = 'wallet_pending'), 0) AS BIGINT) AS journal, \
           CAST(COALESCE((SELECT SUM(f.amount) FROM pending_funds f WHERE f.wallet_id = w.id), 0) AS BIGINT) AS waiting \
         FROM freelancer_wallets w) x WHERE x.balance <> x.journal OR x.balance <> x.waiting LIMIT 100",
    )
    .await?;
    for w in &pending {
        let (balance, journal, waiting) = (
            Money::from_minor(w.try_get("", "balance")?),
            Money::from_minor(w.try_get("", "journal")?),
            Money::from_minor(w.try_get("", "waiting")?),
        );
        let freelancer: uuid::Uuid = w.try_get("", "freelancer")?;
        findings.push(Finding {
            subject: format!("wallet of {freelancer}"),
            problem: format!(
                "pending balance {balance}, but its pending journal lines sum to {journal} and its waiting credits \
                 to {waiting}"
            ),
        });
    }
    Ok(())
}
