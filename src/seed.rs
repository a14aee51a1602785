//! `paydesk seed-demo`: a realistic demo data set, made through the same services as real traffic so every
//! balance matches its ledger. Safe to run twice: it does nothing if the demo data is already there.

use crate::auth::Principal;
use crate::services::payments::{self, Attempt};
use crate::services::payouts;
use crate::state::AppState;
use entity::status::{PaymentStatus, Role};
use entity::{payment, Money};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

/// The demo freelancers (fixed ids, so tokens can be minted for them).
pub const FREELANCERS: [(&str, &str); 4] = [
    ("Asha Verma", "0193a000-0000-7000-8000-000000000001"),
    ("Ravi Kumar", "0193a000-0000-7000-8000-000000000002"),
    ("Meera Iyer", "0193a000-0000-7000-8000-000000000003"),
    ("Kabir Shah", "0193a000-0000-7000-8000-000000000004"),
];
/// The demo admin.
pub const ADMIN_ID: &str = "0193a000-0000-7000-8000-0000000000ad";

/// Creates wallets, payments (most successful, some failed), payout requests (paid, rejected, pending).
pub async fn demo(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    if payment::Entity::find().filter(payment::Column::OrderId.starts_with("demo_")).one(db).await?.is_some() {
        println!("demo data already present; nothing to do");
        return Ok(());
    }
    let admin = Principal { id: ADMIN_ID.parse()?, role: Role::Admin };
    let fee = state.settings.platform_fee_percent;
    let mut n = 0u32;
    for (i, (name, id)) in FREELANCERS.iter().enumerate() {
        let freelancer: Uuid = id.parse()?;
        for j in 0..(3 + i as u32) {
            n += 1;
            let amount = Money::from_minor(i64::from(50_000 + 37_500 * ((n * 7) % 9)));
            let order = payments::NewOrder {
                freelancer_id: freelancer,
                amount,
                currency: "INR".into(),
                order_id: Some(format!("demo_{n:04}")),
                client_id: Some(format!("cl_{}", 40 + (n % 5))),
                purpose: Some(format!("Milestone {} for {name}", j + 1)),
            };
            let p = payments::create_order(db, admin, order).await?;
            let status = match n % 6 {
                0 => PaymentStatus::Failed,
                5 => PaymentStatus::Pending,
                _ => PaymentStatus::Success,
            };
            if status == PaymentStatus::Pending {
                continue;
            }
            let attempt = Attempt {
                cf_payment_id: format!("51149107{n:05}"),
                status,
                amount: amount.to_decimal(),
                currency: "INR".into(),
                method: Some(["upi", "card", "net_banking"][(n % 3) as usize].into()),
                bank_reference: Some(format!("BR{n:08}")),
                message: (status == PaymentStatus::Failed)
                    .then(|| "transaction is rejected at the remitter bank end".into()),
                paid_at: None,
            };
            let txn = db.begin().await?;
            payments::apply_attempt(&txn, fee, &p, &attempt).await?;
            txn.commit().await?;
        }
        let me = Principal { id: freelancer, role: Role::Freelancer };
        let ask = |minor: i64, note: &str| payouts::NewRequest {
            freelancer_id: freelancer,
            amount: Money::from_minor(minor),
            note: Some(note.into()),
        };
        let paid = payouts::request(state, me, ask(40_000, "Monthly withdrawal")).await?;
        payouts::approve(state, admin, paid.id, Some("Verified bank details".into())).await?;
        if i % 2 == 0 {
            let rejected = payouts::request(state, me, ask(25_000, "Urgent")).await?;
            payouts::reject(state, admin, rejected.id, "Bank account name does not match KYC".into(), false).await?;
        }
        payouts::request(state, me, ask(20_000 + 5_000 * i as i64, "Next withdrawal")).await?;
    }
    println!("seeded {} freelancers, {n} payments, payouts paid / rejected / pending", FREELANCERS.len());
    println!("freelancer ids: {}", FREELANCERS.map(|(_, id)| id).join(", "));
    println!("mint a token: paydesk token --role freelancer --sub {}", FREELANCERS[0].1);
    Ok(())
}
