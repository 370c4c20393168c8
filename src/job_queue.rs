//! The durable job queue: jobs live in the `jobs` table, survive restarts, are claimed with a
//! lease (so a crashed worker's job is picked up again), retried with exponential back-off,
//! and deduplicated by an idempotency key.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::Job;
use crate::db::schema::jobs;
use crate::db::{new_id, DbConnection};
use crate::error::AppResult;

/// Queues a job unless one with the same idempotency key exists. Returns whether it was added.
pub fn enqueue(
    conn: &mut DbConnection,
    kind: &str,
    payload: serde_json::Value,
    run_at: NaiveDateTime,
    idempotency_key: Option<&str>,
    at: NaiveDateTime,
) -> AppResult<bool> {
    if let Some(key) = idempotency_key {
        let exists: i64 = jobs::table.filter(jobs::idempotency_key.eq(key)).count().get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
    }
    let job = Job {
        id: new_id(),
        kind: kind.to_owned(),
        payload: payload.to_string(),
        idempotency_key: idempotency_key.map(str::to_owned),
        status: "queued".into(),
        run_at,
        attempts: 0,
        max_attempts: 8,
        locked_until: None,
        last_error: None,
        created_at: at,
        updated_at: at,
    };
    match diesel::insert_into(jobs::table).values(&job).execute(conn) {
        Ok(_) => Ok(true),
        // Another worker queued the same key a moment ago.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Claims one due job (queued and due, or running with an expired lease) for `lease`.
pub fn claim(conn: &mut DbConnection, at: NaiveDateTime, lease: Duration) -> AppResult<Option<Job>> {
    let until = at + lease;
    let claimed: Option<String> = match conn {
        #[cfg(feature = "postgres")]
        crate::db::DbConnection::Postgresql(pg) => pg.transaction(|c| {
            // SKIP LOCKED lets several workers claim different jobs without waiting on each other.
            let row: Option<IdRow> = diesel::sql_query(
                "SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $1) \
                 OR (status = 'running' AND locked_until < $1) \
                 ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            )
            .bind::<diesel::sql_types::Timestamp, _>(at)
            .get_result(c)
            .optional()?;
            if let Some(row) = &row {
                diesel::sql_query(
                    "UPDATE jobs SET status = 'running', locked_until = $1, attempts = attempts + 1, updated_at = $2 WHERE id = $3",
                )
                .bind::<diesel::sql_types::Timestamp, _>(until)
                .bind::<diesel::sql_types::Timestamp, _>(at)
                .bind::<diesel::sql_types::Text, _>(&row.id)
                .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(row.map(|r| r.id))
        })?,
        crate::db::DbConnection::Sqlite(sqlite) => sqlite.immediate_transaction(|c| {
            // BEGIN IMMEDIATE takes the write lock first, so two workers cannot claim one job.
            let row: Option<IdRow> = diesel::sql_query(
                "SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= ?1) \
                 OR (status = 'running' AND locked_until < ?1) ORDER BY run_at LIMIT 1",
            )
            .bind::<diesel::sql_types::Timestamp, _>(at)
            .get_result(c)
            .optional()?;
            if let Some(row) = &row {
                diesel::sql_query(
                    "UPDATE jobs SET status = 'running', locked_until = ?1, attempts = attempts + 1, updated_at = ?2 WHERE id = ?3",
                )
                .bind::<diesel::sql_types::Timestamp, _>(until)
                .bind::<diesel::sql_types::Timestamp, _>(at)
                .bind::<diesel::sql_types::Text, _>(&row.id)
                .execute(c)?;
            }
            Ok::<_, diesel::result::Error>(row.map(|r| r.id))
        })?,
    };
    match claimed {
        Some(id) => Ok(Some(jobs::table.find(id).select(Job::as_select()).first(conn)?)),
        None => Ok(None),
    }
}

pub fn complete(conn: &mut DbConnection, job: &Job, at: NaiveDateTime) -> AppResult<()> {
    diesel::update(jobs::table.find(&job.id))
        .set((jobs::status.eq("done"), jobs::locked_until.eq(None::<NaiveDateTime>), jobs::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

/// Records a failure: retried after 30 s × 2^attempts (capped), or failed for good.
pub fn fail(conn: &mut DbConnection, job: &Job, error: &str, at: NaiveDateTime) -> AppResult<()> {
    let give_up = job.attempts >= job.max_attempts;
    let backoff = Duration::seconds(30 * 2i64.pow(job.attempts.clamp(0, 10) as u32));
    diesel::update(jobs::table.find(&job.id))
        .set((
            jobs::status.eq(if give_up { "failed" } else { "queued" }),
            jobs::run_at.eq(at + backoff),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(Some(error.chars().take(500).collect::<String>())),
            jobs::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
