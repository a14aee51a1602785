//! The chains' heads: now (`historyCheckpoint`), each ended day's (stored and sent to the marketplace), and every
//! `PAYDESK_HISTORY_CHECKPOINT` period's, signed with the history's key.

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

/// The kind of the notification that carries each signed checkpoint to the marketplace.
pub const SIGNED_CHECKPOINT_KIND: &str = "history.checkpoint.signed";

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
pub async fn checkpoint_daily(db: &DatabaseConnection, signer: Option<&Signer>) -> AppResult<u64> {
    let now = crate::clock::now();
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
    let mut body = json!({ "day": day, "heads": heads });
    if let Some(signer) = signer {
        let triples = super::verify::heads_of(&body).map_err(AppError::Internal)?;
        let signature = signer.sign(&signed_message(&format!("day {day}"), &triples));
        body["publicKey"] = json!(signer.public_hex());
        body["signature"] = json!(hex::encode(signature));
    }
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
    send(&txn, CHECKPOINT_KIND, format!("History checkpoint {day}"), &body).await?;
    txn.commit().await?;
    Ok(1)
}

/// A checkpoint (`body`) on its way to the marketplace's callback, as a notification of `kind`, in `txn`.
async fn send(txn: &impl ConnectionTrait, kind: &'static str, title: String, body: &Value) -> AppResult<()> {
    let note = crate::notifications::New {
        recipient_id: Uuid::nil(),
        kind,
        severity: entity::status::Severity::Info,
        title,
        body: body.to_string(),
        payment_id: None,
        payout_request_id: None,
    };
    crate::notifications::notify(txn, note).await?;
    Ok(())
}

/// Heads as a checkpoint carries them, with what its signature covers.
#[derive(Debug, Clone)]
pub struct SignedHeads {
    /// What the signature names the moment by (`at <instant>` or `day <YYYY-MM-DD>`); also how findings name it.
    pub label: String,
    pub heads: Vec<(Chain, i64, Vec<u8>)>,
    /// None for heads kept without one (`historyCheckpoint`'s answer, an older daily checkpoint).
    pub signature: Option<Vec<u8>>,
    /// Where it was kept (a file), for findings to say.
    pub kept_in: Option<String>,
}

impl SignedHeads {
    /// As a file keeps it: what [`super::verify::signed_heads_of`] reads back.
    pub fn to_json(&self) -> Value {
        let heads: Vec<Value> = self
            .heads
            .iter()
            .map(|(chain, seq, hash)| json!({ "chain": chain.name(), "seq": seq, "hash": hex::encode(hash) }))
            .collect();
        let mut out = json!({ "heads": heads });
        match self.label.split_once(' ') {
            Some(("at", at)) => out["takenAt"] = json!(at),
            Some(("day", day)) => out["day"] = json!(day),
            _ => {}
        }
        if let Some(signature) = &self.signature {
            out["signature"] = json!(hex::encode(signature));
        }
        out
    }

    /// Whether some chain's head in this checkpoint is further on than in `other`.
    pub fn goes_past(&self, other: &SignedHeads) -> bool {
        self.heads.iter().any(|(chain, seq, _)| other.heads.iter().any(|h| h.0 == *chain && *seq > h.1))
    }

    /// How findings name it: `at <instant>` or `day <day>`, and where it was kept.
    pub fn name(&self) -> String {
        match &self.kept_in {
            Some(place) => format!("{} ({place})", self.label),
            None => self.label.clone(),
        }
    }
}

/// The bytes a checkpoint's signature covers: its label and each chain's head, one a line.
pub fn signed_message(label: &str, heads: &[(Chain, i64, Vec<u8>)]) -> Vec<u8> {
    let mut m = format!("paydesk history checkpoint v1\n{label}\n");
    for (chain, seq, hash) in heads {
        m.push_str(&format!("{} {seq} {}\n", chain.name(), hex::encode(hash)));
    }
    m.into_bytes()
}

fn as_triples(heads: &[Head]) -> Vec<(Chain, i64, Vec<u8>)> {
    heads.iter().map(|h| (h.chain, h.seq, h.hash.clone())).collect()
}

/// What a signed checkpoint's signature names its moment by.
fn label_at(taken_at: DateTime<Utc>) -> String {
    format!("at {}", time(taken_at))
}

/// Signs every chain's head once per `period`, whichever instance gets there first. Returns 1 when it took this
/// period's.
pub async fn checkpoint_signed(
    db: &DatabaseConnection,
    signer: &Signer,
    period: std::time::Duration,
) -> AppResult<u64> {
    let now = crate::clock::now();
    let step = i64::try_from(period.as_micros()).unwrap_or(i64::MAX).max(1);
    let start = DateTime::<Utc>::from_timestamp_micros(now.timestamp_micros() / step * step).unwrap_or(now);
    if history_signed_checkpoint::Entity::find_by_id(start).one(db).await?.is_some() {
        return Ok(0);
    }
    let txn = if db.get_database_backend() == DatabaseBackend::Postgres {
        db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), None).await?
    } else {
        db.begin().await?
    };
    let heads = as_triples(&heads(&txn).await?);
    if heads.iter().all(|h| h.1 == 0) {
        txn.rollback().await?;
        return Ok(0);
    }
    // A new checkpoint only extends the last one: a chain that no longer holds what was signed is never signed
    // again as it now stands (the background check raises `history_tampered`, naming the checkpoint).
    if let Some(last) = latest_stored(&txn).await? {
        let broken = super::verify::against_signed(&txn, std::slice::from_ref(&last), None).await?;
        if let Some(first) = broken.first() {
            tracing::error!(finding = %first, "the chains no longer hold the last signed checkpoint; not signing");
            txn.rollback().await?;
            return Ok(0);
        }
        // Nothing new since: that checkpoint still says all there is to say.
        if last.heads == heads {
            txn.rollback().await?;
            return Ok(0);
        }
    }
    let label = label_at(now);
    let signature = signer.sign(&signed_message(&label, &heads));
    let signed = SignedHeads { label, heads, signature: Some(signature.clone()), kept_in: None };
    let mut body = signed.to_json();
    let row = history_signed_checkpoint::ActiveModel {
        period: Set(start),
        taken_at: Set(now),
        heads: Set(body["heads"].clone()),
        public_key: Set(signer.public_hex()),
        signature: Set(signature),
    };
    let taken = history_signed_checkpoint::Entity::insert(row)
        .on_conflict(OnConflict::column(history_signed_checkpoint::Column::Period).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    if taken == 0 {
        txn.rollback().await?;
        return Ok(0);
    }
    // Out of the database at once: the marketplace keeps what it was sent, where no one holding the database reaches.
    body["publicKey"] = json!(signer.public_hex());
    send(&txn, SIGNED_CHECKPOINT_KIND, format!("History checkpoint {}", signed.label), &body).await?;
    txn.commit().await?;
    Ok(taken)
}

fn stored(r: history_signed_checkpoint::Model) -> AppResult<SignedHeads> {
    let heads = super::verify::heads_of(&json!({ "heads": r.heads }))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("signed checkpoint {}: {e}", time(r.taken_at))))?;
    Ok(SignedHeads { label: label_at(r.taken_at), heads, signature: Some(r.signature), kept_in: None })
}

/// Every signed checkpoint the database holds, oldest first.
pub async fn stored_checkpoints(db: &impl ConnectionTrait) -> AppResult<Vec<SignedHeads>> {
    let rows = history_signed_checkpoint::Entity::find()
        .order_by_asc(history_signed_checkpoint::Column::Period)
        .all(db)
        .await?;
    rows.into_iter().map(stored).collect()
}

async fn latest_row(db: &impl ConnectionTrait) -> AppResult<Option<history_signed_checkpoint::Model>> {
    Ok(history_signed_checkpoint::Entity::find()
        .order_by_desc(history_signed_checkpoint::Column::Period)
        .one(db)
        .await?)
}

/// The latest signed checkpoint the database holds.
pub async fn latest_stored(db: &impl ConnectionTrait) -> AppResult<Option<SignedHeads>> {
    latest_row(db).await?.map(stored).transpose()
}

/// The latest signed checkpoint the database holds, as JSON (`{takenAt, heads, publicKey, signature}`, hex), as
/// `paydesk verify --checkpoint` reads it back.
pub async fn latest_signed(db: &impl ConnectionTrait) -> AppResult<Option<Value>> {
    Ok(latest_row(db).await?.map(|r| {
        json!({ "takenAt": time(r.taken_at), "heads": r.heads, "publicKey": r.public_key,
                "signature": hex::encode(&r.signature) })
    }))
}
