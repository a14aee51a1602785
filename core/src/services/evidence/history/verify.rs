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

/// What a `history.erased` audit entry says of the row it erased: the content hash before and after, and the
/// signing key's signature over both (`erasure_message`).
#[derive(Debug, Clone, Default)]
struct Erasure {
    before: Option<Vec<u8>>,
    after: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
}

/// The bytes an erasure's signature covers.
pub(super) fn erasure_message(chain: Chain, id: Uuid, before: &[u8], after: &[u8]) -> Vec<u8> {
    format!("paydesk history erasure v1\n{}\n{id}\n{}\n{}\n", chain.name(), hex::encode(before), hex::encode(after))
        .into_bytes()
}

/// The erasures the linked `history.erased` audit entries record, by chain and row.
async fn erasures(db: &impl ConnectionTrait) -> AppResult<HashMap<(Chain, Uuid), Erasure>> {
    let action: &str = Action::HistoryErased.into();
    let rows: Vec<(Uuid, Option<Value>)> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::EntityId)
        .column(audit_log::Column::Before)
        .filter(audit_log::Column::Action.eq(action))
        .filter(Expr::cust(
            "EXISTS (SELECT 1 FROM history_links l WHERE l.chain = 'audit' AND l.row_id = audit_log.id)",
        ))
        .into_tuple()
        .all(db)
        .await?;
    let hex_of = |v: &Value, key: &str| v[key].as_str().and_then(|h| hex::decode(h).ok());
    Ok(rows
        .into_iter()
        .filter_map(|(id, before)| {
            let before = before?;
            let chain = Chain::ALL.into_iter().find(|c| Some(c.name()) == before["chain"].as_str())?;
            let erasure = Erasure {
                before: hex_of(&before, "contentHash"),
                after: hex_of(&before, "erasedHash"),
                signature: hex_of(&before, "signature"),
            };
            Some(((chain, id), erasure))
        })
        .collect())
}

/// What is wrong with a row whose content is not what its link holds, or nothing if an erasure explains it: one
/// made through `eraseHistoryRecord` (signed by the history's key over the content before and after), of a row the
/// law may require erased (never a journal entry), and nothing changed since.
fn unexplained(
    chain: Chain,
    l: &link::Model,
    now: &[u8],
    erasures: &HashMap<(Chain, Uuid), Erasure>,
    key: Option<&PublicKeys>,
) -> Option<String> {
    let (what, id) = (chain.row(), l.row_id);
    let edited = format!("{what} {id} was edited after it was written");
    let Some(e) = erasures.get(&(chain, id)).filter(|_| chain != Chain::Journal) else { return Some(edited) };
    let (Some(before), Some(after)) = (e.before.as_deref(), e.after.as_deref()) else {
        return Some(format!("{edited}: the erasure record naming it says neither content (forged, or unsigned)"));
    };
    if before != l.content_hash.as_slice() {
        return Some(format!("{edited}: the erasure record naming it erased other content (forged)"));
    }
    let Some(key) = key else {
        return Some(format!(
            "{what} {id} was erased, and without the history's public key (--public-key) its erasure cannot be \
             told from a forged one"
        ));
    };
    let message = erasure_message(chain, id, before, after);
    if !e.signature.as_deref().is_some_and(|sig| key.verifies(&message, sig)) {
        return Some(format!("{edited}: its erasure record is not signed by the history's key (a forged erasure)"));
    }
    (now != after).then(|| format!("{what} {id} was edited after its erasure"))
}

/// Checks up to `limit` links of `chain` after `cursor`, and the rows they name; moves the cursor past them.
/// Returns what it found and whether it reached the chain's end.
async fn verify_slice(
    db: &impl ConnectionTrait,
    chain: Chain,
    cursor: &mut Cursor,
    limit: u64,
    erasures: &HashMap<(Chain, Uuid), Erasure>,
    key: Option<&PublicKeys>,
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
            Some(row) if row.content_hash != l.content_hash => {
                if let Some(why) = unexplained(chain, l, &row.content_hash, erasures, key) {
                    problem(Some(l.row_id), why);
                }
            }
            Some(_) => {}
        }
        cursor.seq = l.seq;
        cursor.prev = l.hash.clone();
    }
    Ok((found, (links.len() as u64) < limit))
}

/// Rows of `chain` older than its head by more than [`WINDOW`] that no link names: inserted out of order. Only
/// rows written at `after` or later, if given.
async fn out_of_order(
    db: &impl ConnectionTrait,
    chain: Chain,
    limit: u64,
    after: Option<DateTime<Utc>>,
) -> AppResult<Vec<Finding>> {
    let head = head(db, chain).await?;
    let Some(before) = linking_from(db, chain, head.as_ref()).await? else { return Ok(Vec::new()) };
    let rows = hashed(db, chain, &Which::UnlinkedBefore { after, before, limit }).await?;
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

/// What a walk found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Links checked per chain.
    pub links: Vec<(Chain, i64)>,
    /// The signed checkpoint the walk started from (verified whole before), if it did not start at the beginning.
    pub since: Option<String>,
    /// The newest signed checkpoint the database held when the walk began: once the walk is clean, a later one may
    /// start from it.
    pub newest: Option<SignedHeads>,
    /// Rows written within [`WINDOW`] of the head and not linked yet (the chainer links them within seconds).
    pub unlinked: u64,
    /// Signed checkpoints held against the chains.
    pub checkpoints: u64,
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
        if let Some(since) = &self.since {
            writeln!(
                f,
                "  the links after the checkpoint {since}, which an earlier run verified whole (without --since: all)"
            )?;
        }
        if self.unlinked > 0 {
            writeln!(
                f,
                "  {} recent row(s) not linked yet (a running server links them within seconds)",
                self.unlinked
            )?;
        }
        if self.checkpoints > 0 {
            writeln!(f, "  held against {} signed checkpoint(s)", self.checkpoints)?;
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

/// Walks every chain from its first link: every link follows the one before, every row is as its link says (or as
/// an erasure signed with `key` made it), no link is missing, no old row is left out, and every signed checkpoint
/// the database holds is signed by `key` and still a prefix of its chain. Reads only.
///
/// `since`, a signed checkpoint an earlier walk verified whole, makes the walk the day's work: if the chains still
/// hold its heads (signed by `key`), each chain is walked from its head on, rows are looked for out of order only
/// from then, and only the signed checkpoints newer than it are held against the chains. If they do not, that is
/// a finding and every chain is walked whole.
pub async fn verify(
    db: &impl ConnectionTrait,
    key: Option<&PublicKeys>,
    since: Option<&SignedHeads>,
) -> AppResult<Verified> {
    let mut signed = stored_checkpoints(db).await?;
    let erasures = erasures(db).await?;
    let mut verified = Verified { newest: signed.last().cloned(), ..Default::default() };
    let mut starts: HashMap<Chain, (Cursor, Option<DateTime<Utc>>)> = HashMap::new();
    if let Some(since) = since {
        let held = against_signed(db, std::slice::from_ref(since), key).await?;
        if held.is_empty() {
            for (chain, seq, hash) in &since.heads {
                let row = link::Entity::find()
                    .filter(link::Column::Chain.eq(chain.name()))
                    .filter(link::Column::Seq.eq(*seq))
                    .one(db)
                    .await?;
                let written = match row {
                    Some(l) => written_at(db, *chain, l.row_id).await?.map(|t| t - WINDOW),
                    None => None,
                };
                starts.insert(*chain, (Cursor { seq: *seq, prev: hash.clone() }, written));
            }
            verified.since = Some(since.name());
            signed.retain(|c| c.goes_past(since));
        } else {
            verified.findings.extend(held);
        }
    }
    for chain in Chain::ALL {
        let (mut cursor, after) = starts.remove(&chain).unwrap_or_default();
        let from = cursor.seq;
        loop {
            let (found, done) = verify_slice(db, chain, &mut cursor, 5_000, &erasures, key).await?;
            verified.findings.extend(found);
            if done {
                break;
            }
        }
        verified.links.push((chain, cursor.seq - from));
        verified.findings.extend(out_of_order(db, chain, 100, after).await?);
        verified.unlinked += unlinked_recent(db, chain).await?;
    }
    verified.checkpoints = signed.len() as u64;
    verified.findings.extend(against_signed(db, &signed, key).await?);
    Ok(verified)
}

/// The background check: a slice of every chain per tick, from the first link to the head and round again, each
/// finding raised once as a CRITICAL `history_tampered` alert.
#[derive(Default)]
pub struct Verifier {
    cursors: HashMap<Chain, Cursor>,
    /// What this instance has raised: a finding is raised again only when what it says changes.
    raised: HashSet<(Chain, Option<i64>, Option<Uuid>, String)>,
}

/// Links a background tick checks per chain.
const SLICE: u64 = 5_000;

impl Verifier {
    /// One tick: returns the findings it raised now.
    pub async fn tick(&mut self, state: &AppState, db: &DatabaseConnection) -> AppResult<u64> {
        let erasures = erasures(db).await?;
        let key = state.settings.history_keys.clone();
        let mut raised = 0;
        // The latest signed checkpoint vouches for each chain up to its head: a chain rewritten or cut below it is
        // found at once, wherever the slices stand.
        let latest = latest_stored(db).await?;
        let mut first = against_signed(db, latest.as_slice(), key.as_ref()).await?;
        for chain in Chain::ALL {
            let cursor = self.cursors.entry(chain).or_default();
            let (mut found, done) = verify_slice(db, chain, cursor, SLICE, &erasures, key.as_ref()).await?;
            if done {
                found.extend(out_of_order(db, chain, 100, None).await?);
                *cursor = Cursor::default();
            }
            found.extend(first.extract_if(.., |f| f.chain == chain));
            for f in found {
                let said = (f.chain, f.seq, f.row_id, f.problem.clone());
                if self.raised.contains(&said) {
                    continue;
                }
                let message = format!("history tampered: {f}; run `paydesk verify` for the whole picture");
                tracing::error!(%message, "history_tampered");
                let alert = Alert::new(entity::status::Severity::Critical, AlertKind::HistoryTampered, message);
                // Remembered once it is stored: an alert that could not be is raised again at the next tick.
                match state.events.try_publish(&state.db, Event::Alert(alert)).await {
                    Ok(()) => {
                        self.raised.insert(said);
                        raised += 1;
                    }
                    Err(e) => tracing::error!(error = %e, "could not store a history_tampered alert; trying again"),
                }
            }
        }
        Ok(raised)
    }
}

/// Checks the chains in the background every `period`, and at the same pace takes the day's checkpoint once a day.
pub fn spawn_verifier(state: AppState, background: DatabaseConnection, period: std::time::Duration) {
    let (signer, every_checkpoint) = (state.settings.history_signer.clone(), state.settings.history_checkpoint);
    let verifier = std::sync::Arc::new(tokio::sync::Mutex::new(Verifier::default()));
    let db = background.clone();
    crate::jobs::every(period, "history findings raised", move || {
        let (state, db, verifier) = (state.clone(), db.clone(), verifier.clone());
        async move { verifier.lock().await.tick(&state, &db).await }
    });
    if let Some(signer) = signer.clone() {
        let db = background.clone();
        // The first a period after start: a checkpoint signs what a period brought, never a server's first moments.
        crate::jobs::every_after(every_checkpoint, every_checkpoint, "signed history checkpoints taken", move || {
            let (db, signer) = (db.clone(), signer.clone());
            async move { checkpoint_signed(&db, &signer, every_checkpoint).await }
        });
    }
    crate::jobs::every(period, "history checkpoints sent", move || {
        let (db, signer) = (background.clone(), signer.clone());
        async move { checkpoint_daily(&db, signer.as_ref()).await }
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

/// A checkpoint kept outside the database: the heads (as `heads_of` reads them) and, if it carries one, its signature
/// (`signature`, over `day` or `takenAt`).
pub fn signed_heads_of(json: &Value) -> anyhow::Result<SignedHeads> {
    let heads = heads_of(json)?;
    let label = match (json["takenAt"].as_str(), json["day"].as_str()) {
        (Some(at), _) => format!("at {at}"),
        (None, Some(day)) => format!("day {day}"),
        (None, None) => "kept outside".to_owned(),
    };
    let signature = match json["signature"].as_str() {
        Some(h) => Some(hex::decode(h).map_err(|e| anyhow::anyhow!("signature is not hex: {e}"))?),
        None => None,
    };
    Ok(SignedHeads { label, heads, signature, kept_in: None })
}

/// Each checkpoint held against the chains: signed by `key` (when it carries a signature and a key is given), and
/// each head still the link at its `seq`. Findings name the checkpoint.
pub async fn against_signed(
    db: &impl ConnectionTrait,
    checkpoints: &[SignedHeads],
    key: Option<&PublicKeys>,
) -> AppResult<Vec<Finding>> {
    let mut found = Vec::new();
    // Each chain's links at the checkpoints' heads, read a few hundred at a time.
    let mut at: HashMap<(Chain, i64), Vec<u8>> = HashMap::new();
    for chain in Chain::ALL {
        let mut seqs: Vec<i64> =
            checkpoints.iter().flat_map(|c| &c.heads).filter(|h| h.0 == chain && h.1 > 0).map(|h| h.1).collect();
        seqs.sort_unstable();
        seqs.dedup();
        for part in seqs.chunks(500) {
            let links = link::Entity::find()
                .filter(link::Column::Chain.eq(chain.name()))
                .filter(link::Column::Seq.is_in(part.iter().copied()))
                .all(db)
                .await?;
            at.extend(links.into_iter().map(|l| ((chain, l.seq), l.hash)));
        }
    }
    for c in checkpoints {
        if let (Some(signature), Some(key)) = (&c.signature, key) {
            if !key.verifies(&signed_message(&c.label, &c.heads), signature) {
                let chain = c.heads.first().map_or(Chain::Audit, |h| h.0);
                found.push(Finding {
                    chain,
                    seq: None,
                    row_id: None,
                    problem: format!(
                        "the checkpoint {} is not signed by the history's key: forged, or edited since it was signed",
                        c.name()
                    ),
                });
                continue;
            }
        }
        for (chain, seq, hash) in &c.heads {
            if *seq == 0 {
                continue;
            }
            let problem = match at.get(&(*chain, *seq)) {
                None => {
                    format!("the checkpoint {} has its head at link {seq}, which is gone: the chain was cut", c.name())
                }
                Some(h) if h != hash => format!(
                    "link {seq} has hash {} but the checkpoint {} signed {}: the chain was rewritten",
                    hex::encode(h),
                    c.name(),
                    hex::encode(hash)
                ),
                Some(_) => continue,
            };
            found.push(Finding { chain: *chain, seq: Some(*seq), row_id: None, problem });
        }
    }
    Ok(found)
}
