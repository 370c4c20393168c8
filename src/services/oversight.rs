//! Oversight records: safeguarding alerts, reports and the access log.

use chrono::Duration;
use diesel::prelude::*;

use crate::access::{Actor, ReadRelation};
use crate::audit::{self, AuditEntry};
use crate::db::enums::{AlertSeverity, Role};
use crate::db::models::{AccessLog, Alert};
use crate::db::schema::{access_log, alerts, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::AppResult;
use crate::mail;
use crate::programme_policy::ProgrammePolicy;

/// Records a read of a conversation by someone other than its two participants.
pub fn log_read(
    conn: &mut DbConnection,
    actor: &Actor,
    conversation_id: &str,
    relation: ReadRelation,
) -> AppResult<()> {
    if !relation.is_logged() {
        return Ok(());
    }
    let row = AccessLog {
        id: new_id(),
        reader_id: actor.user_id.clone(),
        conversation_id: conversation_id.to_owned(),
        reader_relation: relation.as_str().to_owned(),
        created_at: now(),
    };
    diesel::insert_into(access_log::table).values(&row).execute(conn)?;
    Ok(())
}

pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub severity: AlertSeverity,
    pub summary: String,
    pub student_id: Option<&'a str>,
    pub conversation_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub report_id: Option<&'a str>,
}

pub fn due_after(policy: &ProgrammePolicy, severity: AlertSeverity) -> Duration {
    Duration::minutes(match severity {
        AlertSeverity::Urgent => policy.alerts.urgent_minutes,
        AlertSeverity::High => policy.alerts.high_minutes,
        AlertSeverity::Normal => policy.alerts.normal_minutes,
    })
}

/// Raises an alert, audits it and e-mails every coordinator (the safeguarding leads), inside
/// the caller's transaction. The e-mail names no one and quotes nothing: it links to Trellis.
pub fn raise_alert(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    public_url: &str,
    actor_id: Option<&str>,
    new: NewAlert<'_>,
) -> AppResult<Alert> {
    let at = now();
    let alert = Alert {
        id: new_id(),
        kind: new.kind.to_owned(),
        severity: new.severity.as_str().to_owned(),
        status: "open".into(),
        summary: new.summary,
        student_id: new.student_id.map(str::to_owned),
        conversation_id: new.conversation_id.map(str::to_owned),
        message_id: new.message_id.map(str::to_owned),
        report_id: new.report_id.map(str::to_owned),
        due_at: at + due_after(policy, new.severity),
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        resolution_note: None,
        last_notified_at: Some(at),
        created_at: at,
    };
    diesel::insert_into(alerts::table).values(&alert).execute(conn)?;
    audit::record(
        conn,
        AuditEntry {
            actor_id,
            action: "alert.raised",
            subject_type: "alert",
            subject_id: &alert.id,
            details: serde_json::json!({ "kind": alert.kind, "severity": alert.severity }),
        },
    )?;
    let leads: Vec<String> = users::table
        .filter(users::role.eq(Role::Coordinator.as_str()))
        .filter(users::status.eq("active"))
        .select(users::email)
        .load(conn)?;
    let mut context = tera::Context::new();
    context.insert("severity", &alert.severity);
    context.insert("due", &alert.due_at.format("%Y-%m-%d %H:%M").to_string());
    context.insert("link", &format!("{}/alerts", public_url.trim_end_matches('/')));
    for lead in leads {
        mail::enqueue_template(conn, &lead, "alert_raised", &context, at)?;
    }
    Ok(alert)
}

// ---- reports --------------------------------------------------------------------------------

use crate::access::{self as access_rules};
use crate::db::models::{Message, Report};
use crate::db::schema::{messages, reports};
use crate::error::AppError;

/// Files a report on a conversation or one of its messages. Anyone who may read the
/// conversation may report; the report keeps a copy of the text as the reporter saw it, and
/// raises an alert for the safeguarding leads.
pub fn file_report(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    public_url: &str,
    actor: &Actor,
    conversation_id: &str,
    message_id: Option<&str>,
    reason: &str,
) -> AppResult<Report> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::bad_request("Please say what worries you, in a few words."));
    }
    if reason.chars().count() > 2000 {
        return Err(AppError::bad_request("Please keep the reason under 2000 characters."));
    }
    access_rules::conversation_relation(conn, actor, conversation_id)?.ok_or_else(AppError::not_found)?;
    let reported_text = match message_id {
        Some(id) => {
            let message: Message = messages::table
                .find(id)
                .filter(messages::conversation_id.eq(conversation_id))
                .select(Message::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(AppError::not_found)?;
            let visible = matches!(message.status.as_str(), "delivered" | "redacted");
            let is_sender = message.sender_id == actor.user_id;
            let staff = matches!(actor.role, Role::Teacher | Role::Coordinator);
            if !(visible || is_sender || staff) {
                return Err(AppError::not_found());
            }
            Some(if visible && !is_sender && !staff {
                message.delivered_text.unwrap_or_default()
            } else {
                message.original_text
            })
        }
        None => None,
    };
    let student_id: String = crate::db::schema::conversations::table
        .inner_join(crate::db::schema::matches::table)
        .filter(crate::db::schema::conversations::id.eq(conversation_id))
        .select(crate::db::schema::matches::student_id)
        .first(conn)?;
    crate::db::write_transaction(conn, |conn| {
        let report = Report {
            id: new_id(),
            reporter_id: actor.user_id.clone(),
            conversation_id: conversation_id.to_owned(),
            message_id: message_id.map(str::to_owned),
            reason: reason.to_owned(),
            reported_text,
            status: "open".into(),
            resolved_by: None,
            resolved_at: None,
            created_at: now(),
        };
        diesel::insert_into(reports::table).values(&report).execute(conn)?;
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "report.filed",
                subject_type: "report",
                subject_id: &report.id,
                details: serde_json::json!({ "conversation_id": conversation_id, "message_id": message_id }),
            },
        )?;
        raise_alert(
            conn,
            policy,
            public_url,
            Some(&actor.user_id),
            NewAlert {
                kind: "report",
                severity: AlertSeverity::High,
                summary: format!(
                    "A {} reported a {}.",
                    actor.role.as_str(),
                    if message_id.is_some() { "message" } else { "conversation" }
                ),
                student_id: Some(&student_id),
                conversation_id: Some(conversation_id),
                message_id,
                report_id: Some(&report.id),
            },
        )?;
        Ok(report)
    })
}

// ---- alerts ---------------------------------------------------------------------------------

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub summary: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub report_id: Option<String>,
    pub due_at: String,
    pub overdue: bool,
    pub created_at: String,
    pub resolution_note: Option<String>,
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "urgent" => 0,
        "high" => 1,
        _ => 2,
    }
}

/// Alerts for coordinators: open and acknowledged first, by severity then due time.
pub fn list_alerts(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<AlertView>> {
    actor.require(crate::access::Capability::ProgrammeOversight)?;
    let at = now();
    let mut rows: Vec<Alert> = alerts::table.select(Alert::as_select()).order(alerts::due_at.asc()).load(conn)?;
    rows.sort_by_key(|a| (a.status == "resolved", severity_rank(&a.severity), a.due_at));
    Ok(rows
        .into_iter()
        .map(|a| AlertView {
            overdue: a.status != "resolved" && a.due_at < at,
            id: a.id,
            kind: a.kind,
            severity: a.severity,
            status: a.status,
            summary: a.summary,
            conversation_id: a.conversation_id,
            message_id: a.message_id,
            report_id: a.report_id,
            due_at: a.due_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            created_at: a.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            resolution_note: a.resolution_note,
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStep {
    Acknowledge,
    Resolve,
}

/// Acknowledges or resolves an alert (coordinators only). Resolving needs a note.
pub fn advance_alert(
    conn: &mut DbConnection,
    actor: &Actor,
    alert_id: &str,
    step: AlertStep,
    note: &str,
) -> AppResult<()> {
    actor.require(crate::access::Capability::ProgrammeOversight)?;
    let alert: Alert = alerts::table
        .find(alert_id)
        .select(Alert::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(AppError::not_found)?;
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        let updated = match step {
            AlertStep::Acknowledge => {
                if alert.status != "open" {
                    return Err(AppError::conflict("This alert has already been acknowledged."));
                }
                diesel::update(alerts::table.filter(alerts::id.eq(alert_id)).filter(alerts::status.eq("open")))
                    .set((
                        alerts::status.eq("acknowledged"),
                        alerts::acknowledged_by.eq(Some(&actor.user_id)),
                        alerts::acknowledged_at.eq(Some(at)),
                    ))
                    .execute(conn)?
            }
            AlertStep::Resolve => {
                if note.trim().is_empty() {
                    return Err(AppError::bad_request("Please write what was done before resolving the alert."));
                }
                if alert.status == "resolved" {
                    return Err(AppError::conflict("This alert has already been resolved."));
                }
                diesel::update(alerts::table.filter(alerts::id.eq(alert_id)).filter(alerts::status.ne("resolved")))
                    .set((
                        alerts::status.eq("resolved"),
                        alerts::resolved_by.eq(Some(&actor.user_id)),
                        alerts::resolved_at.eq(Some(at)),
                        alerts::resolution_note.eq(Some(note.trim())),
                    ))
                    .execute(conn)?
            }
        };
        if updated == 0 {
            return Err(AppError::conflict("Someone else changed this alert just now. Please reload."));
        }
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: if step == AlertStep::Acknowledge { "alert.acknowledged" } else { "alert.resolved" },
                subject_type: "alert",
                subject_id: alert_id,
                details: serde_json::json!({}),
            },
        )
    })
}

/// Re-notifies the safeguarding leads about overdue, unresolved alerts (at most hourly each).
pub fn renotify_overdue(conn: &mut DbConnection, public_url: &str, at: chrono::NaiveDateTime) -> AppResult<usize> {
    let overdue: Vec<Alert> = alerts::table
        .filter(alerts::status.ne("resolved"))
        .filter(alerts::due_at.lt(at))
        .select(Alert::as_select())
        .load(conn)?;
    let leads: Vec<String> = users::table
        .filter(users::role.eq(Role::Coordinator.as_str()))
        .filter(users::status.eq("active"))
        .select(users::email)
        .load(conn)?;
    let mut sent = 0;
    for alert in overdue {
        if alert.last_notified_at.is_some_and(|t| at - t < Duration::hours(1)) {
            continue;
        }
        crate::db::write_transaction(conn, |conn| {
            for lead in &leads {
                mail::enqueue(
                    conn,
                    lead,
                    &format!("Overdue Trellis safeguarding alert ({})", alert.severity),
                    &format!(
                        "A {} safeguarding alert was due at {} UTC and is still {}.\n\nOpen {}/alerts to act on it.",
                        alert.severity,
                        alert.due_at.format("%Y-%m-%d %H:%M"),
                        alert.status,
                        public_url.trim_end_matches('/')
                    ),
                    None,
                    at,
                )?;
            }
            diesel::update(alerts::table.find(&alert.id)).set(alerts::last_notified_at.eq(Some(at))).execute(conn)?;
            Ok::<_, AppError>(())
        })?;
        sent += 1;
    }
    Ok(sent)
}

/// A guardian pauses their child's mentorship: the conversation stops taking messages and the
/// coordinator is told (an alert) so they can follow up.
pub fn pause_mentorship(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    public_url: &str,
    actor: &Actor,
    conversation_id: &str,
    reason: &str,
) -> AppResult<()> {
    use crate::db::schema::{conversations, matches};
    let relation = access_rules::conversation_relation(conn, actor, conversation_id)?;
    if !matches!(relation, Some(ReadRelation::Guardian | ReadRelation::Coordinator)) {
        return Err(AppError::not_found());
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(AppError::bad_request("Please give a short reason (up to 1000 characters) for pausing."));
    }
    let (match_id, student_id, status): (String, String, String) = conversations::table
        .inner_join(matches::table)
        .filter(conversations::id.eq(conversation_id))
        .select((matches::id, matches::student_id, matches::status))
        .first(conn)?;
    if status != "active" {
        return Err(AppError::conflict("Only an active mentorship can be paused."));
    }
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        diesel::update(matches::table.find(&match_id))
            .set((matches::status.eq("paused"), matches::updated_at.eq(at)))
            .execute(conn)?;
        let who = if actor.role == Role::Guardian { "a guardian" } else { "the coordinator" };
        diesel::update(conversations::table.find(conversation_id))
            .set((
                conversations::status.eq("paused"),
                conversations::status_reason.eq(Some(format!("paused by {who}"))),
                conversations::updated_at.eq(at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "match.paused",
                subject_type: "match",
                subject_id: &match_id,
                details: serde_json::json!({ "by": actor.role.as_str() }),
            },
        )?;
        raise_alert(
            conn,
            policy,
            public_url,
            Some(&actor.user_id),
            NewAlert {
                kind: "other",
                severity: AlertSeverity::Normal,
                summary: format!("A mentorship was paused by {who}: {reason}"),
                student_id: Some(&student_id),
                conversation_id: Some(conversation_id),
                message_id: None,
                report_id: None,
            },
        )?;
        Ok(())
    })
}

/// A coordinator suspends (or restores) a guardian's view of a student's conversations.
pub fn set_guardian_view(
    conn: &mut DbConnection,
    actor: &Actor,
    guardianship_id: &str,
    suspended: bool,
    reason: &str,
) -> AppResult<()> {
    use crate::db::schema::guardianships;
    actor.require(crate::access::Capability::ProgrammeOversight)?;
    if suspended && reason.trim().is_empty() {
        return Err(AppError::bad_request("Please give the reason for suspending this guardian's view."));
    }
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        let n = diesel::update(guardianships::table.find(guardianship_id))
            .set((
                guardianships::view_suspended.eq(suspended),
                guardianships::view_suspended_reason.eq(suspended.then(|| reason.trim().to_owned())),
                guardianships::view_suspended_by.eq(suspended.then(|| actor.user_id.clone())),
                guardianships::view_suspended_at.eq(suspended.then_some(at)),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AppError::not_found());
        }
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: if suspended { "guardian_view.suspended" } else { "guardian_view.restored" },
                subject_type: "guardianship",
                subject_id: guardianship_id,
                details: serde_json::json!({}),
            },
        )
    })
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessLogRow {
    pub reader_name: String,
    pub relation: String,
    pub conversation_id: String,
    pub at: String,
}

/// The most recent reads of conversations by non-participants (coordinators only).
pub fn access_log_page(conn: &mut DbConnection, actor: &Actor, limit: i64) -> AppResult<Vec<AccessLogRow>> {
    actor.require(crate::access::Capability::ProgrammeOversight)?;
    let rows: Vec<(String, String, String, chrono::NaiveDateTime)> = access_log::table
        .inner_join(users::table)
        .order(access_log::created_at.desc())
        .limit(limit)
        .select((users::display_name, access_log::reader_relation, access_log::conversation_id, access_log::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(reader_name, relation, conversation_id, at)| AccessLogRow {
            reader_name,
            relation,
            conversation_id,
            at: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        })
        .collect())
}
