//! The jobs worker: runs due jobs from the durable queue (notifications, weekly digests) and
//! the periodic duties (mail outbox, overdue alert reminders). `serve` runs it in the
//! background; `trellis jobs run` runs one pass; tests call `run_pass` with their own clock.

use std::time::Duration as StdDuration;

use chrono::{Datelike, Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use crate::app::AppState;
use crate::db::models::Job;
use crate::db::schema::{conversations, matches, messages, users};
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::{job_queue, mail};

pub const NOTIFY_MESSAGE: &str = "message.notify";
pub const WEEKLY_DIGEST: &str = "digest.weekly";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub jobs_done: usize,
    pub jobs_failed: usize,
    pub mails_sent: usize,
    pub alerts_renotified: usize,
}

/// One pass of everything due at `at`.
pub fn run_pass(state: &AppState, at: NaiveDateTime) -> AppResult<PassReport> {
    let mut conn = state.pool.get()?;
    let mut report = PassReport::default();
    schedule_weekly_digests(&mut conn, at)?;
    // The vetting scan runs once a day.
    job_queue::enqueue(
        &mut conn,
        "vetting.scan",
        serde_json::json!({}),
        at,
        Some(&format!("vetting-scan:{}", at.date())),
        at,
    )?;
    let lease = Duration::seconds(state.settings.job_lease_seconds);
    while let Some(job) = job_queue::claim(&mut conn, at, lease)? {
        // The job's effects and its completion commit together: a worker killed mid-job leaves
        // nothing behind, and the job runs again once its lease expires — never twice in effect.
        let outcome = crate::db::write_transaction(&mut conn, |c| {
            handle(c, state, &job, at)?;
            job_queue::complete(c, &job, at)
        });
        match outcome {
            Ok(()) => {
                report.jobs_done += 1;
            }
            Err(error) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, error = ?error, "job failed");
                job_queue::fail(&mut conn, &job, error.message(), at)?;
                report.jobs_failed += 1;
            }
        }
    }
    report.alerts_renotified = crate::services::oversight::renotify_overdue(&mut conn, &state.settings.public_url, at)?;
    report.mails_sent = mail::deliver_due(&mut conn, &state.mailer, at, lease)?;
    Ok(report)
}

fn handle(conn: &mut DbConnection, state: &AppState, job: &Job, at: NaiveDateTime) -> AppResult<()> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(AppError::internal)?;
    let field = |name: &str| {
        payload[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| AppError::bad_request(format!("job payload lacks {name}")))
    };
    match job.kind.as_str() {
        NOTIFY_MESSAGE => notify_recipient(conn, state, &field("message_id")?, at),
        WEEKLY_DIGEST => send_digest(conn, state, &field("guardian_id")?, at),
        "noop" => Ok(()),
        other => {
            let ctx = state.lifecycle_context(at);
            if crate::services::lifecycle::run_job(conn, &ctx, other, &payload)? {
                Ok(())
            } else {
                Err(AppError::bad_request(format!("unknown job kind {other}")))
            }
        }
    }
}

/// E-mails the recipient of a delivered message that they have something new — without the
/// text. Students' notifications wait for the end of quiet hours.
fn notify_recipient(conn: &mut DbConnection, state: &AppState, message_id: &str, at: NaiveDateTime) -> AppResult<()> {
    let row: Option<(String, String, String, String)> = messages::table
        .inner_join(conversations::table.inner_join(matches::table))
        .filter(messages::id.eq(message_id))
        .select((messages::sender_id, messages::status, matches::student_id, matches::mentor_id))
        .first(conn)
        .optional()?;
    let Some((sender, status, student, mentor)) = row else { return Ok(()) };
    if !matches!(status.as_str(), "delivered" | "redacted") {
        return Ok(());
    }
    let recipient = if sender == student { &mentor } else { &student };
    let (email, role): (String, String) =
        users::table.find(recipient).select((users::email, users::role)).first(conn)?;
    let sender_name: String = users::table.find(&sender).select(users::display_name).first(conn)?;
    let not_before = if role == "student" { state.programme.quiet_hours.next_allowed(at) } else { at };
    let mut context = tera::Context::new();
    context.insert("sender_name", &sender_name);
    context.insert("link", &format!("{}/conversations", state.settings.public_url.trim_end_matches('/')));
    mail::enqueue_template(conn, &email, "message_notification", &context, not_before)?;
    Ok(())
}

fn send_digest(conn: &mut DbConnection, state: &AppState, guardian_id: &str, at: NaiveDateTime) -> AppResult<()> {
    let digests = crate::services::digest::weekly(conn, guardian_id, at)?;
    if digests.is_empty() {
        return Ok(());
    }
    let email: String = users::table.find(guardian_id).select(users::email).first(conn)?;
    let mut context = tera::Context::new();
    context.insert("digests", &digests);
    context.insert("link", &format!("{}/dashboard", state.settings.public_url.trim_end_matches('/')));
    mail::enqueue_template(conn, &email, "weekly_digest", &context, at)?;
    Ok(())
}

/// Queues one digest per guardian per ISO week (the idempotency key makes this safe to call
/// on every pass), due on Sunday evening of the programme's time zone.
fn schedule_weekly_digests(conn: &mut DbConnection, at: NaiveDateTime) -> AppResult<()> {
    let week = at.iso_week();
    let guardians: Vec<String> = users::table
        .filter(users::role.eq("guardian"))
        .filter(users::status.eq("active"))
        .select(users::id)
        .load(conn)?;
    let days_to_sunday = 6 - at.weekday().num_days_from_monday() as i64;
    let due = (at.date() + Duration::days(days_to_sunday)).and_hms_opt(23, 0, 0).unwrap_or(at);
    for guardian in guardians {
        let key = format!("digest:{guardian}:{}-W{:02}", week.year(), week.week());
        job_queue::enqueue(conn, WEEKLY_DIGEST, serde_json::json!({ "guardian_id": guardian }), due, Some(&key), at)?;
    }
    Ok(())
}

/// Runs passes in the background until the process ends.
pub fn spawn_worker(state: actix_web::web::Data<AppState>, every: StdDuration) {
    std::thread::Builder::new()
        .name("trellis-jobs".into())
        .spawn(move || loop {
            match run_pass(&state, crate::db::now()) {
                Ok(report) if report != PassReport::default() => tracing::info!(?report, "jobs pass"),
                Ok(_) => {}
                Err(error) => tracing::error!(error = ?error, "jobs pass failed"),
            }
            std::thread::sleep(every);
        })
        .expect("spawn the jobs worker thread");
}
