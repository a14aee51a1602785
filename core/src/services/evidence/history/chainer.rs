//! The chainer: links what has committed, oldest first, one batch per transaction; every instance runs one.

use super::*;

/// How far back before the head each tick of the chainer looks: rows commit within moments of being written.
/// A tick every [`WIDE_EVERY_SECS`] looks back the whole [`WINDOW`], for the rare transaction that took longer (or
/// an instance whose clock is behind).
const QUICK: Duration = Duration::seconds(1);
const WIDE_EVERY_SECS: u64 = 120;

/// Links every committed row not linked yet, oldest first, on every chain; returns how many it linked. `wide`
/// looks back the whole [`WINDOW`] for rows that committed late, else only a few seconds.
pub async fn link(db: &DatabaseConnection, wide: bool) -> AppResult<u64> {
    let mut linked = 0;
    for chain in Chain::ALL {
        linked += link_chain(db, chain, if wide { WINDOW } else { QUICK }).await?;
    }
    Ok(linked)
}

async fn link_chain(db: &DatabaseConnection, chain: Chain, back: Duration) -> AppResult<u64> {
    let mut linked = 0;
    for _ in 0..ROUNDS {
        let txn = crate::db::begin(db).await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            let sql = format!("SELECT pg_try_advisory_xact_lock(hashtext('paydesk.history.{}')) AS got", chain.name());
            let row = txn.query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql)).await?;
            if !row.map(|r| r.try_get::<bool>("", "got")).transpose()?.unwrap_or(false) {
                return Ok(linked);
            }
        }
        let head = head(&txn, chain).await?;
        let from = looking_back(&txn, chain, head.as_ref(), back).await?;
        // Only rows their writers sealed, or older than any that was: a row whose hash was removed is left out (and
        // named by verify), never linked from its content as it stands now.
        let which = Which::Unlinked { from, limit: BATCH };
        let rows = sealed(&txn, chain, &which, Unsealed::HashOlderThanSealed).await?;
        if rows.is_empty() {
            txn.commit().await?;
            break;
        }
        let (mut seq, mut prev) = head.map(|h| (h.seq, h.hash)).unwrap_or((0, GENESIS.to_vec()));
        let now = crate::clock::now();
        let links: Vec<link::ActiveModel> = rows
            .iter()
            .map(|r| {
                seq += 1;
                let hash = link_hash(&prev, &r.content_hash);
                link::ActiveModel {
                    chain: Set(chain.name().to_owned()),
                    seq: Set(seq),
                    row_id: Set(r.id),
                    content_hash: Set(r.content_hash.clone()),
                    prev_hash: Set(std::mem::replace(&mut prev, hash.clone())),
                    hash: Set(hash),
                    linked_at: Set(now),
                }
            })
            .collect();
        link::Entity::insert_many(links).exec_without_returning(&txn).await?;
        txn.commit().await?;
        linked += rows.len() as u64;
        if (rows.len() as u64) < BATCH {
            break;
        }
    }
    Ok(linked)
}

/// Links new rows every `period`, on `background`; a wide tick about every two minutes.
pub fn spawn_chainer(background: DatabaseConnection, period: std::time::Duration) {
    let wide_every = (WIDE_EVERY_SECS * 1000 / period.as_millis().max(1) as u64).max(1);
    let mut ticks = 0u64;
    crate::jobs::every(period, "history rows linked", move || {
        let db = background.clone();
        ticks += 1;
        let wide = ticks % wide_every == 1 || wide_every == 1;
        async move { link(&db, wide).await }
    });
}
