//! The erasure gate on PostgreSQL (`history_erasure_gate`, see its migration): the triggers let a chained row
//! change only in the transaction that moved the gate on for it, and moving it takes the next one-time token of a
//! hash chain only the signing key computes. Tokens of generation `g`: `t0` derived from the key, `t(k+1)` the
//! SHA-256 of `t(k)`; the gate holds `t(remaining)` and the next to reveal is `t(remaining - 1)`, whose hash it is.
//! The last token of a generation hands the gate over to the next generation's chain.

use super::*;
use sha2::{Digest, Sha256};

/// Tokens in one generation: a few milliseconds of hashing for the first erasure of it.
const TOKENS: i32 = 10_000;

fn token(signer: &Signer, generation: i32, k: i32) -> Vec<u8> {
    let mut t = signer.derive(&format!("paydesk erasure gate v1 generation {generation}")).to_vec();
    for _ in 0..k {
        t = Sha256::digest(&t).to_vec();
    }
    t
}

fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

/// Sets the gate up for `signer`'s chain if no one has (start-up, and before a first erasure).
pub async fn set_up(db: &impl ConnectionTrait, signer: &Signer) -> AppResult<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(statement(
        "INSERT INTO history_erasure_gate (id, public_key, generation, remaining, next_hash) \
         VALUES (1, $1, 0, $2, $3) ON CONFLICT (id) DO NOTHING",
        vec![signer.public_hex().into(), TOKENS.into(), token(signer, 0, TOKENS).into()],
    ))
    .await?;
    Ok(())
}

/// Opens the gate for row `id`, in `txn` (PostgreSQL; nothing to do elsewhere): the triggers then let that row
/// change in this transaction and no other.
pub async fn open(txn: &impl ConnectionTrait, signer: &Signer, id: Uuid) -> AppResult<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let gate = || {
        statement(
            "SELECT public_key, generation, remaining, next_hash FROM history_erasure_gate WHERE id = 1 FOR UPDATE",
            vec![],
        )
    };
    // Set up at start; here only if it was not (a start that could not, or a gate handed over since).
    let row = match txn.query_one_raw(gate()).await? {
        Some(row) => row,
        None => {
            set_up(txn, signer).await?;
            txn.query_one_raw(gate())
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the erasure gate is missing")))?
        }
    };
    let (public, generation, remaining, next): (String, i32, i32, Vec<u8>) = (
        row.try_get("", "public_key")?,
        row.try_get("", "generation")?,
        row.try_get("", "remaining")?,
        row.try_get("", "next_hash")?,
    );
    if public != signer.public_hex() {
        return Err(AppError::InvalidState(format!(
            "the erasure gate answers to the history key {public}, not to this server's {}: after a key rotation \
             the database's owner hands the gate over (docs/OPERATIONS.md, \"Erasure\")",
            signer.public_hex()
        )));
    }
    let spent = token(signer, generation, remaining - 1);
    if Sha256::digest(&spent)[..] != next[..] {
        return Err(AppError::InvalidState(
            "the erasure gate does not answer to this key's tokens: it was set up or moved by someone without it; \
             nothing was erased (docs/OPERATIONS.md, \"Erasure\")"
                .into(),
        ));
    }
    // The last token of a generation hands over to the next one's chain.
    let (generation, remaining, next) = if remaining > 1 {
        (generation, remaining - 1, spent.clone())
    } else {
        (generation + 1, TOKENS, token(signer, generation + 1, TOKENS))
    };
    txn.execute_raw(statement(
        "UPDATE history_erasure_gate SET spent = $1, next_hash = $2, generation = $3, remaining = $4, erasing = $5 \
         WHERE id = 1",
        vec![spent.into(), next.into(), generation.into(), remaining.into(), id.into()],
    ))
    .await?;
    Ok(())
}
