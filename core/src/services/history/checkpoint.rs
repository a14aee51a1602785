//! The chains' heads: now (`historyCheckpoint`), and each ended day's, stored and sent to the marketplace.

use super::*;

/// One chain's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub chain: Chain,
    /// Links in the chain.
    pub seq: i64,
    /// The last link's hash (32 zero bytes for an empty chain).
    pub hash: Vec<u8>,
    pub row_id: Option<Uuid>,
    pub linked_at: Option<DateTime<Utc>>,
    /// Recent rows the chainer has still to link.
    pub unlinked: u64,
}

impl Head {
    /// `chain`'s head at `last` (none: an empty chain).
    fn at(chain: Chain, last: Option<&link::Model>, unlinked: u64) -> Head {
        Head {
            chain,
            seq: last.map_or(0, |l| l.seq),
            hash: last.map_or(GENESIS.to_vec(), |l| l.hash.clone()),
            row_id: last.map(|l| l.row_id),
            linked_at: last.map(|l| l.linked_at),
            unlinked,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "chain": self.chain.name(), "seq": self.seq, "hash": hex::encode(&self.hash), "rowId": self.row_id,
            "linkedAt": self.linked_at.map(time),
        })
    }
}

/// Every chain's head now; staff only.
pub async fn checkpoint(db: &impl ConnectionTrait, who: Principal) -> AppResult<Vec<Head>> {
    who.require(roles::STAFF)?;
    heads(db).await
}

async fn heads(db: &impl ConnectionTrait) -> AppResult<Vec<Head>> {
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        // Counted before the head is read: a row the chainer links in between is in both, never in neither, so
        // `unlinked: 0` always comes with a head that includes every row there was.
        let unlinked = unlinked_recent(db, chain).await?;
        let head = head(db, chain).await?;
        heads.push(Head::at(chain, head.as_ref(), unlinked));
    }
    Ok(heads)
}

/// The kind of the notification that carries a day's heads to the marketplace.
pub const CHECKPOINT_KIND: &str = "history.checkpoint";

/// The heads of a UTC day that has ended: each chain's last link made before the next day began. The same
/// whenever it is taken, so an instance that was down takes it late and sends the same heads.
async fn heads_of_day(db: &impl ConnectionTrait, end: DateTime<Utc>) -> AppResult<Vec<Value>> {
    let mut heads = Vec::new();
    for chain in Chain::ALL {
        let last = link::Entity::find()
            .filter(link::Column::Chain.eq(chain.name()))
            .filter(link::Column::LinkedAt.lt(end))
            .order_by_desc(link::Column::Seq)
            .one(db)
            .await?;
        heads.push(Head::at(chain, last.as_ref(), 0).to_json());
    }
    Ok(heads)
}

/// Once a UTC day has ended, whichever instance gets there first: stores that day's heads and sends them to the
/// marketplace's callback as a notification (signed like every other). A day before anything was linked has no
/// checkpoint. Returns 1 when it took yesterday's.
pub async fn checkpoint_daily(db: &DatabaseConnection) -> AppResult<u64> {
    let now = crate::services::now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let day = (today - Duration::days(1)).format("%Y-%m-%d").to_string();
    if history_checkpoint::Entity::find_by_id(day.clone()).one(db).await?.is_some() {
        return Ok(0);
    }
    // One snapshot for the three chains' heads (PostgreSQL reads each statement afresh under READ COMMITTED).
    let txn = if db.get_database_backend() == DatabaseBackend::Postgres {
        db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), None).await?
    } else {
        db.begin().await?
    };
    let heads = heads_of_day(&txn, today).await?;
    if heads.iter().all(|h| h["seq"] == 0) {
        txn.rollback().await?;
        return Ok(0);
    }
    let body = json!({ "day": day, "heads": heads });
    let taken = history_checkpoint::Entity::insert(history_checkpoint::ActiveModel {
        day: Set(day.clone()),
        heads: Set(body.clone()),
        created_at: Set(now),
    })
    .on_conflict(OnConflict::column(history_checkpoint::Column::Day).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    if taken == 0 {
        txn.rollback().await?;
        return Ok(0);
    }
    crate::services::notifications::notify(
        &txn,
        crate::services::notifications::New {
            recipient_id: Uuid::nil(),
            kind: CHECKPOINT_KIND,
            severity: entity::status::Severity::Info,
            title: format!("History checkpoint {day}"),
            body: body.to_string(),
            payment_id: None,
            payout_request_id: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(1)
}
