//! Moderated messaging: store first, moderate, then deliver / redact / hold / block — with the
//! verdict, an audit row and any alert in one transaction.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::access::{self, Actor, ReadRelation};
use crate::audit::{self, AuditEntry};
use crate::db::enums::{AlertSeverity, ConversationStatus, MatchStatus, MessageStatus, Role};
use crate::db::models::{Conversation, Match, Message};
use crate::db::schema::{conversations, matches, messages, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::moderation::{Action, Category, Pipeline, PriorMessage, SenderRole, Verdict};
use crate::programme_policy::ProgrammePolicy;
use crate::services::oversight::{self, NewAlert};

/// What the sender is told after sending.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SendOutcome {
    pub id: String,
    pub status: MessageStatus,
    pub delivered_text: Option<String>,
    pub reasons: Vec<String>,
}

pub struct MessagingContext<'a> {
    pub pipeline: &'a Arc<Pipeline>,
    pub policy: &'a ProgrammePolicy,
    pub public_url: &'a str,
}

fn conversation_and_match(conn: &mut DbConnection, conversation_id: &str) -> AppResult<(Conversation, Match)> {
    Ok(conversations::table
        .inner_join(matches::table)
        .filter(conversations::id.eq(conversation_id))
        .select((Conversation::as_select(), Match::as_select()))
        .first(conn)?)
}

/// Why a conversation does not take new messages, in words; `None` when it does.
pub fn closed_reason(conversation: &Conversation, m: &Match) -> Option<String> {
    let status: Result<ConversationStatus, _> = conversation.status.parse();
    match (status, m.status.parse::<MatchStatus>()) {
        (Ok(ConversationStatus::Open), Ok(MatchStatus::Active)) => None,
        (Ok(ConversationStatus::Paused), _) | (_, Ok(MatchStatus::Paused)) => Some(format!(
            "This conversation is paused{}. Messages can be sent again once the programme coordinator reopens it.",
            conversation.status_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        )),
        (Ok(ConversationStatus::Locked), _) | (_, Ok(MatchStatus::Completed | MatchStatus::Ended)) => {
            Some("This mentorship has ended, so the conversation is read-only.".to_owned())
        }
        _ => Some("This conversation opens once the agreement is signed and a guardian has consented.".to_owned()),
    }
}

fn sender_role(role: Role) -> AppResult<SenderRole> {
    match role {
        Role::Student => Ok(SenderRole::Student),
        Role::Mentor => Ok(SenderRole::Mentor),
        _ => Err(AppError::not_found()),
    }
}

/// Text one side of a mentorship shows the other outside the conversation (goals, goal notes,
/// the note answering a request) must not carry what moderation stops in messages. These
/// fields have no review queue, so the check is the rules' (contact details and links that
/// are not allow-listed, strong grooming phrases), which do not guess: a classifier false
/// positive here would refuse harmless notes with nobody to overturn it.
pub fn screen_shared_text(pipeline: &Pipeline, _actor: &Actor, text: &str) -> AppResult<()> {
    if text.trim().is_empty() {
        return Ok(());
    }
    let mut kinds: Vec<String> = pipeline.findings(text).into_iter().map(|f| f.kind.replace('_', " ")).collect();
    kinds.dedup();
    let phrases: Vec<&str> = pipeline
        .phrase_hits(text)
        .hits
        .iter()
        .filter(|(category, (strong, _, _))| *strong > 0 && **category != Category::SelfHarm)
        .map(|(category, _)| category.as_str())
        .collect();
    if kinds.is_empty() && phrases.is_empty() {
        return Ok(());
    }
    let what = kinds.into_iter().chain(phrases.into_iter().map(|p| p.replace('_', " "))).collect::<Vec<_>>().join(", ");
    Err(AppError::bad_request(format!(
        "This was not saved because it would not pass the programme's safety checks ({what}). \
         Please keep contact details, links, private arrangements and personal matters out of it."
    )))
}

/// Checks everything that can be checked before storing: access, state, length, rate.
/// Returns the sender role for moderation.
pub fn check_can_send(
    conn: &mut DbConnection,
    ctx: &MessagingContext<'_>,
    actor: &Actor,
    conversation_id: &str,
    text: &str,
) -> AppResult<SenderRole> {
    if !access::may_send(conn, actor, conversation_id)? {
        return Err(AppError::not_found());
    }
    let role = sender_role(actor.role)?;
    let (conversation, m) = conversation_and_match(conn, conversation_id)?;
    if let Some(reason) = closed_reason(&conversation, &m) {
        return Err(AppError::conflict(reason));
    }
    if text.trim().is_empty() {
        return Err(AppError::bad_request("Please write a message before sending."));
    }
    let max = ctx.pipeline.policy().max_chars();
    let len = text.chars().count();
    if len > max {
        return Err(AppError::bad_request(format!(
            "That message is {len} characters long; the limit is {max}. Please shorten it or split it up."
        )));
    }
    let at = now();
    let sent_since = |conn: &mut DbConnection, since: NaiveDateTime| -> AppResult<i64> {
        Ok(messages::table
            .filter(messages::sender_id.eq(&actor.user_id))
            .filter(messages::created_at.gt(since))
            .count()
            .get_result(conn)?)
    };
    let limits = &ctx.policy.messaging;
    if sent_since(conn, at - Duration::minutes(1))? >= limits.max_per_minute
        || sent_since(conn, at - Duration::hours(1))? >= limits.max_per_hour
    {
        return Err(AppError::new(
            ErrorKind::TooManyRequests,
            format!(
                "You are sending messages very quickly (the limit is {} a minute and {} an hour). Please wait a moment and try again.",
                limits.max_per_minute, limits.max_per_hour
            ),
        ));
    }
    Ok(role)
}

/// Stores the message as `pending`, in its own transaction, before anything else happens.
pub fn store_pending(conn: &mut DbConnection, actor: &Actor, conversation_id: &str, text: &str) -> AppResult<Message> {
    let at = now();
    let row = Message {
        id: new_id(),
        conversation_id: conversation_id.to_owned(),
        sender_id: actor.user_id.clone(),
        original_text: text.to_owned(),
        delivered_text: None,
        status: MessageStatus::Pending.as_str().into(),
        verdict: None,
        policy_version: None,
        flags: String::new(),
        escalate: false,
        created_at: at,
        moderated_at: None,
        delivered_at: None,
    };
    diesel::insert_into(messages::table).values(&row).execute(conn)?;
    Ok(row)
}

/// The recent messages of the conversation before `message`, oldest first, as moderation context.
pub fn context_for(conn: &mut DbConnection, message: &Message, window: i64) -> AppResult<Vec<PriorMessage>> {
    let rows: Vec<(String, String, String, NaiveDateTime)> = messages::table
        .inner_join(users::table)
        .filter(messages::conversation_id.eq(&message.conversation_id))
        .filter(messages::created_at.le(message.created_at))
        .filter(messages::id.ne(&message.id))
        .order(messages::created_at.desc())
        .limit(window)
        .select((messages::sender_id, users::role, messages::original_text, messages::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|(sender, role, text, at)| PriorMessage {
            sender,
            sender_role: if role == "student" { SenderRole::Student } else { SenderRole::Mentor },
            text,
            age_seconds: Some((message.created_at - at).num_seconds().max(0) as u64),
        })
        .collect())
}

fn status_for(action: Action) -> MessageStatus {
    match action {
        Action::Deliver => MessageStatus::Delivered,
        Action::Redact => MessageStatus::Redacted,
        Action::Hold => MessageStatus::Held,
        Action::Block => MessageStatus::Blocked,
    }
}

/// Runs the pipeline on a stored message. A refusal or an internal failure holds the message
/// (fail closed) with a reason that says so.
pub fn moderate_stored(
    conn: &mut DbConnection,
    ctx: &MessagingContext<'_>,
    message: &Message,
    role: SenderRole,
) -> AppResult<Verdict> {
    let context = context_for(conn, message, CONTEXT_WINDOW)?;
    Ok(verdict_for(ctx.pipeline, message, role, &context))
}

/// How many earlier messages of the conversation are loaded as context; the pipeline applies
/// the policy's own window (count and age) to what it is given.
pub const CONTEXT_WINDOW: i64 = 20;

/// The pipeline's verdict on a stored message (no database: the web layer runs this without
/// holding a connection). A refusal holds the message with a reason that says so.
pub fn verdict_for(pipeline: &Pipeline, message: &Message, role: SenderRole, context: &[PriorMessage]) -> Verdict {
    match pipeline.moderate(&message.original_text, &message.sender_id, role, context) {
        Ok(v) => v,
        Err(refused) => Verdict {
            action: Action::Hold,
            escalate: false,
            flags: Vec::new(),
            scores: Category::ALL.iter().map(|c| (*c, 0.0)).collect(),
            findings: Vec::new(),
            delivered_text: None,
            reasons: vec![format!("Your message is waiting for a person to check it: {refused}")],
            reviewer_notes: vec![format!("Automatic checks refused the message: {refused}")],
            policy_version: pipeline.policy().version().to_owned(),
        },
    }
}

/// Applies a verdict to a pending message, with its audit row and any alert, in one transaction.
pub fn apply_verdict(
    conn: &mut DbConnection,
    ctx: &MessagingContext<'_>,
    message: &Message,
    verdict: &Verdict,
) -> AppResult<SendOutcome> {
    let status = status_for(verdict.action);
    let at = now();
    let flags: Vec<&str> = verdict.flags.iter().map(|c| c.as_str()).collect();
    let verdict_json = serde_json::to_string(verdict).map_err(AppError::internal)?;
    crate::db::write_transaction(conn, |conn| {
        let updated =
            diesel::update(messages::table.filter(messages::id.eq(&message.id)).filter(messages::status.eq("pending")))
                .set((
                    messages::status.eq(status.as_str()),
                    messages::delivered_text.eq(&verdict.delivered_text),
                    messages::verdict.eq(Some(&verdict_json)),
                    messages::policy_version.eq(Some(&verdict.policy_version)),
                    messages::flags.eq(flags.join(",")),
                    messages::escalate.eq(verdict.escalate),
                    messages::moderated_at.eq(Some(at)),
                    messages::delivered_at
                        .eq(matches!(status, MessageStatus::Delivered | MessageStatus::Redacted).then_some(at)),
                ))
                .execute(conn)?;
        if updated == 0 {
            // Already moderated (e.g. by the start-up recovery): keep the first verdict.
            return Err(AppError::conflict("This message was already checked."));
        }
        audit::record(
            conn,
            AuditEntry {
                actor_id: None,
                action: "message.moderated",
                subject_type: "message",
                subject_id: &message.id,
                details: serde_json::json!({
                    "status": status.as_str(),
                    "flags": flags,
                    "escalate": verdict.escalate,
                    "policy_version": verdict.policy_version,
                }),
            },
        )?;
        let (conversation, m) = conversation_and_match(conn, &message.conversation_id)?;
        if matches!(status, MessageStatus::Delivered | MessageStatus::Redacted) {
            queue_notification(conn, &message.id, at)?;
        }
        if verdict.escalate {
            let self_harm = verdict.flags.contains(&Category::SelfHarm);
            let summary = if self_harm {
                "A student's message suggests they may be at risk (self-harm or distress). Check on them now."
                    .to_owned()
            } else {
                format!("A message was escalated for: {}.", flags.join(", ").replace('_', " "))
            };
            oversight::raise_alert(
                conn,
                ctx.policy,
                ctx.public_url,
                None,
                NewAlert {
                    kind: if self_harm { "self_harm" } else { "grooming" },
                    severity: if self_harm { AlertSeverity::Urgent } else { AlertSeverity::High },
                    summary,
                    student_id: Some(&m.student_id),
                    conversation_id: Some(&conversation.id),
                    message_id: Some(&message.id),
                    report_id: None,
                },
            )?;
        }
        if status == MessageStatus::Held && message.sender_id == m.mentor_id {
            raise_repeated_holds_alert(conn, ctx, &message.sender_id, &m, &conversation.id)?;
        }
        Ok(())
    })?;
    Ok(SendOutcome {
        id: message.id.clone(),
        status,
        delivered_text: verdict.delivered_text.clone(),
        reasons: sender_reasons(status, verdict, ctx.policy),
    })
}

/// Queues the recipient's notification (idempotent per message).
pub fn queue_notification(conn: &mut DbConnection, message_id: &str, at: NaiveDateTime) -> AppResult<()> {
    crate::job_queue::enqueue(
        conn,
        "message.notify",
        serde_json::json!({ "message_id": message_id }),
        at,
        Some(&format!("notify:{message_id}")),
        at,
    )?;
    Ok(())
}

fn raise_repeated_holds_alert(
    conn: &mut DbConnection,
    ctx: &MessagingContext<'_>,
    mentor_id: &str,
    m: &Match,
    conversation_id: &str,
) -> AppResult<()> {
    use crate::db::schema::alerts;
    let since = now() - Duration::days(ctx.policy.alerts.repeated_holds_days);
    let held: i64 = messages::table
        .filter(messages::sender_id.eq(mentor_id))
        .filter(messages::status.eq_any(["held", "rejected", "blocked"]))
        .filter(messages::created_at.gt(since))
        .count()
        .get_result(conn)?;
    if held < ctx.policy.alerts.repeated_holds_count {
        return Ok(());
    }
    let open: i64 = alerts::table
        .filter(alerts::kind.eq("repeated_holds"))
        .filter(alerts::conversation_id.eq(conversation_id))
        .filter(alerts::status.ne("resolved"))
        .count()
        .get_result(conn)?;
    if open > 0 {
        return Ok(());
    }
    oversight::raise_alert(
        conn,
        ctx.policy,
        ctx.public_url,
        None,
        NewAlert {
            kind: "repeated_holds",
            severity: AlertSeverity::High,
            summary: format!(
                "A mentor has had {held} messages held or blocked in the last {} days.",
                ctx.policy.alerts.repeated_holds_days
            ),
            student_id: Some(&m.student_id),
            conversation_id: Some(conversation_id),
            message_id: None,
            report_id: None,
        },
    )?;
    Ok(())
}

/// The plain-words explanation a sender sees for their message.
pub fn sender_reasons(status: MessageStatus, verdict: &Verdict, policy: &ProgrammePolicy) -> Vec<String> {
    let mut reasons = verdict.reasons.clone();
    match status {
        MessageStatus::Held => reasons.push(format!("Your message is {}.", policy.messaging.held_wait_text)),
        // The pipeline's own reasons already say what happened; add a line only if it gave none.
        MessageStatus::Blocked if reasons.is_empty() => reasons.push("Your message was not delivered.".to_owned()),
        MessageStatus::Redacted if reasons.is_empty() => {
            reasons.push("Your message was delivered with some details removed.".to_owned())
        }
        _ => {}
    }
    if verdict.flags.contains(&Category::SelfHarm) {
        reasons.push(
            "If you are having a hard time, you are not alone — a trusted adult from the programme will reach out. \
             You can also get help any time:"
                .to_owned(),
        );
        for r in &policy.support_resources {
            reasons.push(format!("{}: {}", r.name, r.contact));
        }
    }
    reasons
}

/// Moderates every message still `pending` (a crash between store and verdict). Returns how many.
pub fn remoderate_pending(conn: &mut DbConnection, ctx: &MessagingContext<'_>) -> AppResult<usize> {
    let pending: Vec<(Message, String)> = messages::table
        .inner_join(users::table)
        .filter(messages::status.eq("pending"))
        .order(messages::created_at.asc())
        .select((Message::as_select(), users::role))
        .load(conn)?;
    let mut done = 0;
    for (message, role) in pending {
        let role = if role == "student" { SenderRole::Student } else { SenderRole::Mentor };
        let verdict = moderate_stored(conn, ctx, &message, role)?;
        match apply_verdict(conn, ctx, &message, &verdict) {
            Ok(_) => done += 1,
            Err(e) if e.kind == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

// ---- reading --------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub mine: bool,
    pub status: String,
    /// What this reader may see of the text (null where it must stay hidden).
    pub text: Option<String>,
    pub sent_at: String,
    /// The sender's explanation of a held, blocked or redacted message (own messages, staff).
    pub reasons: Vec<String>,
    /// Staff only: the full verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_text: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    pub id: String,
    pub match_id: String,
    pub status: String,
    pub closed_reason: Option<String>,
    pub student_id: String,
    pub student_name: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub relation: &'static str,
    pub supervisors: Vec<String>,
}

fn name_of(conn: &mut DbConnection, id: &str) -> AppResult<String> {
    Ok(users::table.find(id).select(users::display_name).first(conn)?)
}

pub fn conversation_view(
    conn: &mut DbConnection,
    conversation_id: &str,
    relation: ReadRelation,
) -> AppResult<ConversationView> {
    let (conversation, m) = conversation_and_match(conn, conversation_id)?;
    Ok(ConversationView {
        closed_reason: closed_reason(&conversation, &m),
        id: conversation.id,
        match_id: m.id.clone(),
        status: conversation.status,
        student_name: name_of(conn, &m.student_id)?,
        mentor_name: name_of(conn, &m.mentor_id)?,
        supervisors: crate::services::dashboard::supervisors_of(conn, &m.student_id)?,
        student_id: m.student_id,
        mentor_id: m.mentor_id,
        relation: relation.as_str(),
    })
}

/// Conversations the actor may read.
pub fn list_conversations(conn: &mut DbConnection, actor: &Actor) -> AppResult<Vec<ConversationView>> {
    let ids = access::candidate_conversations(conn, actor)?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(relation) = access::conversation_relation(conn, actor, &id)? {
            out.push(conversation_view(conn, &id, relation)?);
        }
    }
    Ok(out)
}

/// The messages `actor` may see, with the access-log row for non-participants. 404 if none.
pub fn read_messages(
    conn: &mut DbConnection,
    policy: &ProgrammePolicy,
    actor: &Actor,
    conversation_id: &str,
) -> AppResult<(ConversationView, Vec<MessageView>)> {
    let relation = access::conversation_relation(conn, actor, conversation_id)?.ok_or_else(AppError::not_found)?;
    crate::db::write_transaction(conn, |conn| {
        oversight::log_read(conn, actor, conversation_id, relation)?;
        let view = conversation_view(conn, conversation_id, relation)?;
        let rows: Vec<(Message, String)> = messages::table
            .inner_join(users::table)
            .filter(messages::conversation_id.eq(conversation_id))
            .order((messages::created_at.asc(), messages::id.asc()))
            .select((Message::as_select(), users::display_name))
            .load(conn)?;
        let staff = matches!(relation, ReadRelation::Teacher | ReadRelation::Coordinator);
        let views = rows
            .into_iter()
            .filter_map(|(m, sender_name)| message_view(m, sender_name, actor, relation, staff, policy))
            .collect();
        Ok((view, views))
    })
}

fn message_view(
    m: Message,
    sender_name: String,
    actor: &Actor,
    relation: ReadRelation,
    staff: bool,
    policy: &ProgrammePolicy,
) -> Option<MessageView> {
    let mine = m.sender_id == actor.user_id;
    let status: MessageStatus = m.status.parse().ok()?;
    let visible = matches!(status, MessageStatus::Delivered | MessageStatus::Redacted);
    let verdict: Option<Verdict> = m.verdict.as_deref().and_then(|v| serde_json::from_str(v).ok());
    let text = match relation {
        _ if staff => m.delivered_text.clone().or_else(|| Some(m.original_text.clone())),
        ReadRelation::Participant if mine => Some(m.original_text.clone()),
        _ if visible => m.delivered_text.clone(),
        // The recipient never learns a held or blocked message exists; a guardian sees a note.
        ReadRelation::Participant => return None,
        _ => None,
    };
    if relation == ReadRelation::Participant && !mine && !visible {
        return None;
    }
    let reasons = match (&verdict, mine || staff) {
        (Some(v), true) if !matches!(status, MessageStatus::Delivered) => sender_reasons(status, v, policy),
        _ if status == MessageStatus::Rejected && mine => {
            vec!["A reviewer decided this message will not be delivered.".to_owned()]
        }
        _ => Vec::new(),
    };
    Some(MessageView {
        id: m.id,
        sender_id: m.sender_id,
        sender_name,
        mine,
        status: m.status,
        text,
        sent_at: m.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        reasons,
        verdict: if staff { m.verdict.as_deref().and_then(|v| serde_json::from_str(v).ok()) } else { None },
        original_text: if staff { Some(m.original_text) } else { None },
    })
}
