//! `paydesk seed-demo`: a realistic demo data set spread over the last 60 days, made through the same services
//! as real traffic (so every balance matches its ledger and the reports have history to show). Safe to run
//! twice: it does nothing if the demo data is already there.

use crate::auth::Principal;
use crate::clock::at_time;
use crate::services::payments::{self, Attempt};
use crate::services::payouts;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use entity::status::{PaymentStatus, Role};
use entity::{payment, Money};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The demo freelancers (fixed ids, so tokens can be minted for them).
pub const FREELANCERS: [(&str, &str); 6] = [
    ("Asha Verma", "0193a000-0000-7000-8000-000000000001"),
    ("Ravi Kumar", "0193a000-0000-7000-8000-000000000002"),
    ("Meera Iyer", "0193a000-0000-7000-8000-000000000003"),
    ("Kabir Shah", "0193a000-0000-7000-8000-000000000004"),
    ("Nisha Rao", "0193a000-0000-7000-8000-000000000005"),
    ("Arjun Mehta", "0193a000-0000-7000-8000-000000000006"),
];
/// The demo admin.
pub const ADMIN_ID: &str = "0193a000-0000-7000-8000-0000000000ad";
/// Days of history the demo covers.
const DAYS: i64 = 60;

/// Creates wallets and, over the last 60 days, payments (most successful; some failed, dropped or pending) and
/// payout requests (paid, rejected, and one pending per freelancer).
pub async fn demo(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    if payment::Entity::find().filter(payment::Column::OrderId.starts_with("demo_")).one(db).await?.is_some() {
        println!("demo data already present; nothing to do");
        return Ok(());
    }
    let admin = Principal { id: ADMIN_ID.parse()?, role: Role::Admin };
    let start = Utc::now() - Duration::days(DAYS);
    let mut n = 0u32;
    for (i, (name, id)) in FREELANCERS.iter().enumerate() {
        let freelancer: Uuid = id.parse()?;
        let me = Principal { id: freelancer, role: Role::Freelancer };
        let payments = 5 + i as u32;
        for j in 0..payments {
            n += 1;
            // Spread each freelancer's payments over the period, a few hours apart between freelancers.
            let day = |extra_hours: i64| -> DateTime<Utc> {
                start + Duration::hours(i64::from(j) * DAYS * 24 / i64::from(payments) + i as i64 * 5 + extra_hours)
            };
            let amount = Money::from_minor(i64::from(50_000 + 37_500 * ((n * 7) % 9)));
            let order = payments::NewOrder {
                freelancer_id: freelancer,
                amount,
                currency: "INR".into(),
                order_id: Some(format!("demo_{n:04}")),
                client_id: Some(format!("cl_{}", 40 + (n % 5))),
                purpose: Some(format!("Milestone {} for {name}", j + 1)),
            };
            let p = at_time(day(0), payments::create_order(db, admin, order, None)).await?;
            let status = match n % 7 {
                0 => PaymentStatus::Failed,
                3 => PaymentStatus::UserDropped,
                _ if j == payments - 1 && i % 2 == 0 => PaymentStatus::Pending,
                _ => PaymentStatus::Success,
            };
            if status == PaymentStatus::Pending {
                continue;
            }
            let attempt = Attempt {
                cf_payment_id: format!("51149107{n:05}"),
                status,
                amount,
                currency: "INR".into(),
                method: Some(["upi", "card", "net_banking", "upi"][(n % 4) as usize].into()),
                bank_reference: Some(format!("BR{n:08}")),
                message: (status != PaymentStatus::Success)
                    .then(|| "transaction is rejected at the remitter bank end".into()),
                paid_at: None,
                paid_on: None,
                offers: None,
            };
            at_time(day(2), async {
                let txn = crate::db::begin(db).await?;
                payments::apply_attempt(&txn, &state.settings, &p, &attempt).await?;
                txn.commit().await?;
                anyhow::Ok(())
            })
            .await?;
            // Every few payments the freelancer withdraws some of it; the admin decides a day or two later.
            if j % 3 == 2 {
                let ask = payouts::NewRequest {
                    freelancer_id: freelancer,
                    amount: Money::from_minor(30_000 + 2_500 * i64::from(j)),
                    note: Some("Withdrawal to my bank account".into()),
                    idempotency_key: None,
                };
                let req = at_time(day(6), payouts::request(state, me, ask)).await?;
                if (n + i as u32).is_multiple_of(4) {
                    let why = "Bank account name does not match KYC".to_owned();
                    at_time(day(30), payouts::reject(state, admin, req.id, why, false)).await?;
                } else {
                    at_time(
                        day(20 + 4 * i as i64),
                        payouts::approve(state, admin, req.id, Some("Verified".into()), false),
                    )
                    .await?;
                }
            }
        }
        let ask = payouts::NewRequest {
            freelancer_id: freelancer,
            amount: Money::from_minor(20_000 + 5_000 * i as i64),
            note: Some("Next withdrawal".into()),
            idempotency_key: None,
        };
        payouts::request(state, me, ask).await?;
    }
    println!(
        "seeded {} freelancers, {n} payments over {DAYS} days, payouts paid / rejected / pending",
        FREELANCERS.len()
    );
    println!("freelancer ids: {}", FREELANCERS.map(|(_, id)| id).join(", "));
    println!("mint a token: paydesk token --role freelancer --sub {}", FREELANCERS[0].1);
    Ok(())
}
