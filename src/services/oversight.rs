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
    let subject = format!("Trellis safeguarding alert ({}): action needed", alert.severity);
    let body = format!(
        "A {} safeguarding alert was raised in Trellis and must be acknowledged by {} UTC.\n\n\
         Open the alerts page to review it: {}/alerts\n\n\
         This e-mail deliberately contains no names or message text.",
        alert.severity,
        alert.due_at.format("%Y-%m-%d %H:%M"),
        public_url.trim_end_matches('/'),
    );
    for lead in leads {
        mail::enqueue(conn, &lead, &subject, &body, None, at)?;
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
    conn.transaction(|conn| {
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

#[derive(Debug, Clone, serde::Serialize)]
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
