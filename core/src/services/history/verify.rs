//! Walking the chains: every link follows the one before, every row is as its link says, no link is missing and
//! no old row is left out; whole (`paydesk verify`) or a slice at a time in the background.

use super::*;

/// Something in a chain that is not as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub chain: Chain,
    /// The link at which it was found, if a link names it.
    pub seq: Option<i64>,
    /// The row it is about.
    pub row_id: Option<Uuid>,
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "{} chain, link {seq}: {}", self.chain.name(), self.problem),
            None => write!(f, "{} chain: {}", self.chain.name(), self.problem),
        }
    }
}

/// Where a walk along one chain stands: the next link it expects and the hash that link must follow.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub seq: i64,
    pub prev: Vec<u8>,
}

impl Default for Cursor {
    fn default() -> Self {
        Cursor { seq: 0, prev: GENESIS.to_vec() }
    }
}

/// Rows erased on an admin's word: each explained by a linked `history.erased` audit entry naming it.
async fn erased(db: &impl ConnectionTrait) -> AppResult<HashSet<Uuid>> {
    let action: &str = Action::HistoryErased.into();
    let rows: Vec<Uuid> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::EntityId)
        .filter(audit_log::Column::Action.eq(action))
        .filter(Expr::cust(
            "EXISTS (SELECT 1 FROM history_links l WHERE l.chain = 'audit' AND l.row_id = audit_log.id)",
        ))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Checks up to `limit` links of `chain` after `cursor`, and the rows they name; moves the cursor past them.
/// Returns what it found and whether it reached the chain's end.
async fn verify_slice(
    db: &impl ConnectionTrait,
    chain: Chain,
    cursor: &mut Cursor,
    limit: u64,
    erased: &HashSet<Uuid>,
) -> AppResult<(Vec<Finding>, bool)> {
    let links = link::Entity::find()
        .filter(link::Column::Chain.eq(chain.name()))
        .filter(link::Column::Seq.gt(cursor.seq))
        .order_by_asc(link::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = links.iter().map(|l| l.row_id).collect();
    let rows: HashMap<Uuid, Hashed> = if ids.is_empty() {
        HashMap::new()
    } else {
        hashed(db, chain, &Which::Ids(&ids)).await?.into_iter().map(|h| (h.id, h)).collect()
    };
    let mut found = Vec::new();
    let what = chain.row();
    for l in &links {
        let mut problem = |row_id: Option<Uuid>, problem: String| {
            found.push(Finding { chain, seq: Some(l.seq), row_id, problem });
        };
        if l.seq != cursor.seq + 1 {
            let gone = if l.seq == cursor.seq + 2 {
                format!("link {} is gone", cursor.seq + 1)
            } else {
                format!("links {} to {} are gone", cursor.seq + 1, l.seq - 1)
            };
            problem(None, format!("{gone}: the rows they named were deleted, or their links were"));
        } else if l.prev_hash != cursor.prev {
            problem(Some(l.row_id), "does not follow the link before it: a link was replaced or inserted".into());
        }
        if l.hash != link_hash(&l.prev_hash, &l.content_hash) {
            problem(
                Some(l.row_id),
                "its hash is not the hash of its content and the link before: the link was edited".into(),
            );
        }
        match rows.get(&l.row_id) {
            None => problem(Some(l.row_id), format!("{what} {} was deleted", l.row_id)),
            Some(row) if row.content_hash != l.content_hash && !erased.contains(&l.row_id) => {
                problem(Some(l.row_id), format!("{what} {} was edited after it was written", l.row_id))
            }
            Some(_) => {}
        }
        cursor.seq = l.seq;
        cursor.prev = l.hash.clone();
    }
    Ok((found, (links.len() as u64) < limit))
}

/// Rows of `chain` older than its head by more than [`WINDOW`] that no link names: inserted out of order.
async fn out_of_order(db: &impl ConnectionTrait, chain: Chain, limit: u64) -> AppResult<Vec<Finding>> {
    let head = head(db, chain).await?;
    let Some(before) = linking_from(db, chain, head.as_ref()).await? else { return Ok(Vec::new()) };
    let rows = hashed(db, chain, &Which::UnlinkedBefore { before, limit }).await?;
    Ok(rows
        .into_iter()
        .map(|r| Finding {
            chain,
            seq: None,
            row_id: Some(r.id),
            problem: format!(
                "{} {} (written {}) is in no link though the chain has moved past its time: inserted out of order",
                chain.row(),
                r.id,
                time(r.written)
            ),
        })
        .collect())
}

/// What a whole walk found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Links checked per chain.
    pub links: Vec<(Chain, i64)>,
    /// Rows written within [`WINDOW`] of the head and not linked yet (the chainer links them within seconds).
    pub unlinked: u64,
    pub findings: Vec<Finding>,
}

impl Verified {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let links: Vec<String> = self.links.iter().map(|(c, n)| format!("{} {n}", c.name())).collect();
        writeln!(
            f,
            "history: checked {} links ({})",
            self.links.iter().map(|(_, n)| n).sum::<i64>(),
            links.join(", ")
        )?;
        if self.unlinked > 0 {
            writeln!(
                f,
                "  {} recent row(s) not linked yet (a running server links them within seconds)",
                self.unlinked
            )?;
        }
        if self.findings.is_empty() {
            return writeln!(f, "OK: every chain is whole and every row is as it was written");
        }
        writeln!(f, "TAMPERED: {} finding(s), the first first", self.findings.len())?;
        for x in &self.findings {
            writeln!(f, "  {x}")?;
        }
        Ok(())
    }
}

/// Walks every chain from its first link: every link follows the one before, every row is as its link says, no
/// link is missing, and no old row is left out. Reads only.
pub async fn verify(db: &impl ConnectionTrait) -> AppResult<Verified> {
    let erased = erased(db).await?;
    let mut verified = Verified::default();
    for chain in Chain::ALL {
        let mut cursor = Cursor::default();
        loop {
            let (found, done) = verify_slice(db, chain, &mut cursor, 5_000, &erased).await?;
            verified.findings.extend(found);
            if done {
                break;
            }
        }
        verified.links.push((chain, cursor.seq));
        verified.findings.extend(out_of_order(db, chain, 100).await?);
        verified.unlinked += unlinked_recent(db, chain).await?;
    }
    Ok(verified)
}

/// The background check: a slice of every chain per tick, from the first link to the head and round again, each
/// finding raised once as a CRITICAL `history_tampered` alert.
#[derive(Default)]
pub struct Verifier {
    cursors: HashMap<Chain, Cursor>,
    raised: HashSet<(Chain, Option<i64>, Option<Uuid>)>,
}

/// Links a background tick checks per chain.
const SLICE: u64 = 5_000;

impl Verifier {
    /// One tick: returns the findings it raised now.
    pub async fn tick(&mut self, state: &AppState, db: &DatabaseConnection) -> AppResult<u64> {
        let erased = erased(db).await?;
        let mut raised = 0;
        for chain in Chain::ALL {
            let cursor = self.cursors.entry(chain).or_default();
            let (mut found, done) = verify_slice(db, chain, cursor, SLICE, &erased).await?;
            if done {
                found.extend(out_of_order(db, chain, 100).await?);
                *cursor = Cursor::default();
            }
            for f in found {
                if !self.raised.insert((f.chain, f.seq, f.row_id)) {
                    continue;
                }
                raised += 1;
                let message = format!("history tampered: {f}; run `paydesk verify` for the whole picture");
                tracing::error!(%message, "history_tampered");
                state
                    .events
                    .alert(
                        &state.db,
                        Alert::new(entity::status::Severity::Critical, AlertKind::HistoryTampered, message),
                    )
                    .await;
            }
        }
        Ok(raised)
    }
}

/// Checks the chains in the background every `period`, and at the same pace takes the day's checkpoint once a day.
pub fn spawn_verifier(state: AppState, background: DatabaseConnection, period: std::time::Duration) {
    let verifier = std::sync::Arc::new(tokio::sync::Mutex::new(Verifier::default()));
    let db = background.clone();
    crate::services::every(period, "history findings raised", move || {
        let (state, db, verifier) = (state.clone(), db.clone(), verifier.clone());
        async move { verifier.lock().await.tick(&state, &db).await }
    });
    crate::services::every(period, "history checkpoints sent", move || {
        let db = background.clone();
        async move { checkpoint_daily(&db).await }
    });
}

/// The heads in a checkpoint kept outside the database: the JSON `historyCheckpoint` returns (`chains`, or
/// `data.historyCheckpoint.chains`) or a daily checkpoint notification's body (`heads`).
pub fn heads_of(json: &Value) -> anyhow::Result<Vec<(Chain, i64, Vec<u8>)>> {
    let list = [&json["heads"], &json["chains"], &json["data"]["historyCheckpoint"]["chains"]]
        .into_iter()
        .find_map(Value::as_array)
        .ok_or_else(|| anyhow::anyhow!("no `heads` or `chains` list"))?;
    list.iter()
        .map(|h| {
            let name = h["chain"].as_str().unwrap_or_default().to_ascii_lowercase();
            let chain = Chain::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| anyhow::anyhow!("unknown chain `{name}`"))?;
            let seq = h["seq"].as_i64().ok_or_else(|| anyhow::anyhow!("{name}: no seq"))?;
            let hash = hex::decode(h["hash"].as_str().unwrap_or_default())
                .map_err(|e| anyhow::anyhow!("{name}: hash is not hex: {e}"))?;
            Ok((chain, seq, hash))
        })
        .collect()
}

/// Whether the chains still hold the heads of a checkpoint: the link at each `seq` has that hash. A chain
/// recomputed from an edited row onwards verifies on its own, but not against heads kept elsewhere.
pub async fn against(db: &impl ConnectionTrait, heads: &[(Chain, i64, Vec<u8>)]) -> AppResult<Vec<Finding>> {
    let mut found = Vec::new();
    for (chain, seq, hash) in heads {
        if *seq == 0 {
            continue;
        }
        let at = link::Entity::find_by_id((chain.name().to_owned(), *seq)).one(db).await?;
        let problem = match at {
            None => format!("the checkpoint's head (link {seq}) is gone: the chain was cut"),
            Some(l) if &l.hash != hash => format!(
                "link {seq} has hash {} but the checkpoint kept {}: the chain was rewritten",
                hex::encode(&l.hash),
                hex::encode(hash)
            ),
            Some(_) => continue,
        };
        found.push(Finding { chain: *chain, seq: Some(*seq), row_id: None, problem });
    }
    Ok(found)
}
