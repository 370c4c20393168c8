//! The append-only audit log with a hash chain: each row's hash covers its content and the
//! previous row's hash, so altering or removing a row breaks the chain at that point.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::AuditLog;
use crate::db::schema::audit_log;
use crate::db::{new_id, now, DbConnection};
use crate::error::AppResult;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited change. `details` must not hold message text, e-mail addresses or names.
pub struct AuditEntry<'a> {
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub details: serde_json::Value,
}

#[allow(clippy::too_many_arguments)]
fn link_hash(
    prev_hash: &str,
    seq: i64,
    actor_id: Option<&str>,
    action: &str,
    subject_type: &str,
    subject_id: &str,
    details: &str,
    created_at: NaiveDateTime,
) -> String {
    let mut hasher = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        actor_id.unwrap_or("-"),
        action,
        subject_type,
        subject_id,
        details,
        &created_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Appends an entry. Call inside the transaction of the change it records, so both land or
/// neither does. Two concurrent appends collide on the unique `seq`; the loser's transaction
/// fails and is retried by its caller.
pub fn record(conn: &mut DbConnection, entry: AuditEntry<'_>) -> AppResult<()> {
    // Each entry links to the one before it, so appends must not interleave. On PostgreSQL
    // concurrent transactions would read the same last entry (and collide on `seq`); a
    // transaction-scoped advisory lock queues them. SQLite's write transactions already hold
    // the database's write lock (db::write_transaction).
    #[cfg(feature = "postgres")]
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7415392001)").execute(pg)?;
    }
    let last: Option<(i64, String)> = audit_log::table
        .select((audit_log::seq, audit_log::hash))
        .order(audit_log::seq.desc())
        .first(conn)
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let created_at = now();
    let details = entry.details.to_string();
    let hash = link_hash(
        &prev_hash,
        seq,
        entry.actor_id,
        entry.action,
        entry.subject_type,
        entry.subject_id,
        &details,
        created_at,
    );
    let row = AuditLog {
        id: new_id(),
        seq,
        actor_id: entry.actor_id.map(str::to_owned),
        action: entry.action.to_owned(),
        subject_type: entry.subject_type.to_owned(),
        subject_id: entry.subject_id.to_owned(),
        details,
        created_at,
        prev_hash,
        hash,
    };
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { rows: u64 },
    Broken { seq: i64, problem: String },
}

/// Walks the chain in order and names the first broken link.
pub fn verify(conn: &mut DbConnection) -> AppResult<ChainCheck> {
    let mut expected_prev = GENESIS_HASH.to_owned();
    let mut expected_seq = 1i64;
    let mut rows = 0u64;
    let mut after = 0i64;
    loop {
        let batch: Vec<AuditLog> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(1000)
            .select(AuditLog::as_select())
            .load(conn)?;
        if batch.is_empty() {
            return Ok(ChainCheck::Intact { rows });
        }
        for row in batch {
            if row.seq != expected_seq {
                return Ok(ChainCheck::Broken {
                    seq: row.seq,
                    problem: format!("entry {expected_seq} is missing (next entry is {})", row.seq),
                });
            }
            if row.prev_hash != expected_prev {
                return Ok(ChainCheck::Broken {
                    seq: row.seq,
                    problem: "its previous-hash does not match the entry before it".into(),
                });
            }
            let recomputed = link_hash(
                &row.prev_hash,
                row.seq,
                row.actor_id.as_deref(),
                &row.action,
                &row.subject_type,
                &row.subject_id,
                &row.details,
                row.created_at,
            );
            if recomputed != row.hash {
                return Ok(ChainCheck::Broken {
                    seq: row.seq,
                    problem: "its content was changed after it was written".into(),
                });
            }
            expected_prev = row.hash;
            expected_seq += 1;
            after = row.seq;
            rows += 1;
        }
    }
}
