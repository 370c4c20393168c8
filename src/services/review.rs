//! The review queue of held messages: teachers see their students', coordinators see all.
//! Decisions (approve, reject, escalate) are audited and race-safe: of two reviewers deciding
//! the same message at once, exactly one wins.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::{self, Actor, Capability, ReadRelation};
use crate::audit::{self, AuditEntry};
use crate::db::enums::{AlertSeverity, MessageStatus};
use crate::db::models::{Match, Message, ModerationReview};
use crate::db::schema::{conversations, matches, messages, moderation_reviews, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult};
use crate::moderation::{Category, Verdict};
use crate::programme_policy::ProgrammePolicy;
use crate::services::oversight::{self, NewAlert};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
    Escalate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Escalate => "escalate",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContextMessage {
    pub sender_name: String,
    pub text: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub message_id: String,
    pub conversation_id: String,
    pub sender_name: String,
    pub sender_role: String,
    pub student_name: String,
    pub text: String,
    pub held_at: String,
    pub waiting_hours: i64,
    pub urgency: u8,
    pub urgency_label: &'static str,
    pub escalated: bool,
    pub flags: Vec<String>,
    pub verdict: Option<Verdict>,
    /// The text split into plain and highlighted (finding) parts, for display.
    pub highlighted: Vec<(String, bool)>,
    pub preceding: Vec<ContextMessage>,
}

/// Higher is more urgent: self-harm first, then escalations, then grooming signals, then the rest.
pub fn urgency(verdict: Option<&Verdict>, escalated: bool) -> u8 {
    let Some(v) = verdict else { return 1 };
    if v.flags.contains(&Category::SelfHarm) {
        4
    } else if escalated || v.escalate {
        3
    } else if v.flags.iter().any(|c| {
        matches!(c, Category::Sexual | Category::Secrecy | Category::Meeting | Category::Gifts | Category::PersonalInfo)
    }) {
        2
    } else {
        1
    }
}

fn urgency_label(u: u8) -> &'static str {
    match u {
        4 => "urgent",
        3 => "high",
        2 => "elevated",
        _ => "routine",
    }
}

pub fn highlight(text: &str, verdict: Option<&Verdict>) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<(usize, usize)> = verdict
        .map(|v| v.findings.iter().map(|f| (f.start.min(chars.len()), f.end.min(chars.len()))).collect())
        .unwrap_or_default();
    spans.sort();
    let mut parts = Vec::new();
    let mut at = 0;
    for (start, end) in spans {
        if start < at || start >= end {
            continue;
        }
        if start > at {
            parts.push((chars[at..start].iter().collect(), false));
        }
        parts.push((chars[start..end].iter().collect(), true));
        at = end;
    }
    if at < chars.len() {
        parts.push((chars[at..].iter().collect(), false));
    }
    parts
}

/// May `actor` review messages of this conversation? Teachers of the student, coordinators.
fn reviewer_relation(conn: &mut DbConnection, actor: &Actor, conversation_id: &str) -> AppResult<bool> {
    if !actor.can(Capability::ReviewHeldMessages) {
        return Ok(false);
    }
    Ok(matches!(
        access::conversation_relation(conn, actor, conversation_id)?,
        Some(ReadRelation::Teacher | ReadRelation::Coordinator)
    ))
}

pub fn queue(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<QueueItem>> {
    actor.require(Capability::ReviewHeldMessages)?;
    let held: Vec<(Message, String, String)> = messages::table
        .inner_join(users::table)
        .filter(messages::status.eq(MessageStatus::Held.as_str()))
        .order(messages::created_at.asc())
        .select((Message::as_select(), users::display_name, users::role))
        .load(conn)?;
    let at = now();
    let mut items = Vec::new();
    for (m, sender_name, sender_role) in held {
        if !reviewer_relation(conn, actor, &m.conversation_id)? {
            continue;
        }
        let student_id: String = conversations::table
            .inner_join(matches::table)
            .filter(conversations::id.eq(&m.conversation_id))
            .select(matches::student_id)
            .first(conn)?;
        let student_name: String = users::table.find(&student_id).select(users::display_name).first(conn)?;
        let escalated: i64 = moderation_reviews::table
            .filter(moderation_reviews::message_id.eq(&m.id))
            .filter(moderation_reviews::decision.eq("escalate"))
            .count()
            .get_result(conn)?;
        let verdict: Option<Verdict> = m.verdict.as_deref().and_then(|v| serde_json::from_str(v).ok());
        let preceding: Vec<(String, String, Option<String>, String)> = messages::table
            .inner_join(users::table)
            .filter(messages::conversation_id.eq(&m.conversation_id))
            .filter(messages::created_at.lt(m.created_at))
            .order(messages::created_at.desc())
            .limit(5)
            .select((users::display_name, messages::original_text, messages::delivered_text, messages::status))
            .load(conn)?;
        let u = urgency(verdict.as_ref(), escalated > 0);
        items.push(QueueItem {
            message_id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            sender_name,
            sender_role,
            student_name,
            highlighted: highlight(&m.original_text, verdict.as_ref()),
            text: m.original_text.clone(),
            held_at: m.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            waiting_hours: (at - m.created_at).num_hours(),
            urgency: u,
            urgency_label: urgency_label(u),
            escalated: escalated > 0,
            flags: m.flags.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
            verdict,
            preceding: preceding
                .into_iter()
                .rev()
                .map(|(sender_name, original, delivered, status)| ContextMessage {
                    sender_name,
                    text: delivered.unwrap_or(original),
                    status,
                })
                .collect(),
        });
    }
    // Most urgent first; within the same urgency, the longest waiting first.
    items.sort_by(|a, b| b.urgency.cmp(&a.urgency).then(b.waiting_hours.cmp(&a.waiting_hours)));
    Ok(items)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionOutcome {
    pub message_id: String,
    pub conversation_id: String,
    pub status: String,
    pub decision: Decision,
}

pub fn decide(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    public_url: &str,
    actor: &Actor,
    message_id: &str,
    decision: Decision,
    note: &str,
) -> AppResult<DecisionOutcome> {
    let message: Option<Message> =
        messages::table.find(message_id).select(Message::as_select()).first(conn).optional()?;
    let message = message.ok_or_else(AppError::not_found)?;
    if !reviewer_relation(conn, actor, &message.conversation_id)? {
        return Err(AppError::not_found());
    }
    if note.chars().count() > 2000 {
        return Err(AppError::bad_request("Please keep the note under 2000 characters."));
    }
    if matches!(decision, Decision::Reject | Decision::Escalate) && note.trim().is_empty() {
        return Err(AppError::bad_request("Please add a note saying why (the sender is told for a rejection)."));
    }
    let at = now();
    crate::db::write_transaction(conn, |conn| {
        let new_status = match decision {
            Decision::Approve => Some(MessageStatus::Delivered),
            Decision::Reject => Some(MessageStatus::Rejected),
            Decision::Escalate => None,
        };
        if let Some(status) = new_status {
            let delivered_text = (status == MessageStatus::Delivered).then(|| message.original_text.clone());
            // The status condition makes the decision race-safe: only one reviewer's update matches.
            let updated =
                diesel::update(messages::table.filter(messages::id.eq(message_id)).filter(messages::status.eq("held")))
                    .set((
                        messages::status.eq(status.as_str()),
                        messages::delivered_text.eq(delivered_text),
                        messages::delivered_at.eq((status == MessageStatus::Delivered).then_some(at)),
                    ))
                    .execute(conn)?;
            if updated == 0 {
                return Err(AppError::conflict("This message has already been decided by another reviewer."));
            }
            if status == MessageStatus::Delivered {
                crate::services::messaging::queue_notification(conn, message_id, at)?;
            }
        } else {
            let still_held: i64 = messages::table
                .filter(messages::id.eq(message_id))
                .filter(messages::status.eq("held"))
                .count()
                .get_result(conn)?;
            if still_held == 0 {
                return Err(AppError::conflict("This message has already been decided by another reviewer."));
            }
            let m: Match = conversations::table
                .inner_join(matches::table)
                .filter(conversations::id.eq(&message.conversation_id))
                .select(Match::as_select())
                .first(conn)?;
            oversight::raise_alert(
                conn,
                policy,
                public_url,
                Some(&actor.user_id),
                NewAlert {
                    kind: "reviewer_escalation",
                    severity: AlertSeverity::High,
                    summary: format!("A reviewer escalated a held message: {}", note.trim()),
                    student_id: Some(&m.student_id),
                    conversation_id: Some(&message.conversation_id),
                    message_id: Some(message_id),
                    report_id: None,
                },
            )?;
        }
        let review = ModerationReview {
            id: new_id(),
            message_id: message_id.to_owned(),
            reviewer_id: actor.user_id.clone(),
            decision: decision.as_str().to_owned(),
            note: note.trim().to_owned(),
            created_at: at,
        };
        diesel::insert_into(moderation_reviews::table).values(&review).execute(conn)?;
        audit::record(
            conn,
            AuditEntry {
                actor_id: Some(&actor.user_id),
                action: "message.reviewed",
                subject_type: "message",
                subject_id: message_id,
                details: serde_json::json!({
                    "decision": decision.as_str(),
                    "review_seconds": (at - message.created_at).num_seconds(),
                }),
            },
        )?;
        Ok(DecisionOutcome {
            message_id: message_id.to_owned(),
            conversation_id: message.conversation_id.clone(),
            status: new_status.unwrap_or(MessageStatus::Held).as_str().to_owned(),
            decision,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlighting_splits_on_findings() {
        let v = Verdict {
            action: crate::moderation::Action::Hold,
            escalate: false,
            flags: vec![],
            scores: Default::default(),
            findings: vec![crate::moderation::Finding { kind: "phone".into(), start: 8, end: 20 }],
            delivered_text: None,
            reasons: vec![],
            reviewer_notes: vec![],
            policy_version: String::new(),
        };
        let parts = highlight("text me 403 555 0142 ok", Some(&v));
        assert_eq!(
            parts,
            vec![("text me ".to_owned(), false), ("403 555 0142".to_owned(), true), (" ok".to_owned(), false)]
        );
    }
}
