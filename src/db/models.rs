//! One row struct per table: `Queryable`/`Selectable` for reading, `Insertable` for writing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = programmes, primary_key(id))]
pub struct Programme {
    pub id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = schools, primary_key(id))]
pub struct School {
    pub id: String,
    pub programme_id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = users, primary_key(id))]
pub struct User {
    pub id: String,
    pub programme_id: Option<String>,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = student_profiles, primary_key(user_id))]
pub struct StudentProfile {
    pub user_id: String,
    pub school_id: String,
    pub grade: i32,
    pub approval_status: String,
    pub approved_at: Option<NaiveDateTime>,
    pub activation_deadline: Option<NaiveDateTime>,
    pub about: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = mentor_profiles, primary_key(user_id))]
pub struct MentorProfile {
    pub user_id: String,
    pub field: String,
    pub employer: String,
    pub about: String,
    pub capacity: i32,
    pub background_check_status: String,
    pub background_check_expires_at: Option<NaiveDateTime>,
    pub safeguarding_training_at: Option<NaiveDateTime>,
    pub code_of_conduct_signed_at: Option<NaiveDateTime>,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = guardianships, primary_key(id))]
pub struct Guardianship {
    pub id: String,
    pub guardian_id: String,
    pub student_id: String,
    pub relationship: String,
    pub consented_at: Option<NaiveDateTime>,
    pub view_suspended: bool,
    pub view_suspended_reason: Option<String>,
    pub view_suspended_by: Option<String>,
    pub view_suspended_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = teacher_schools, primary_key(teacher_id, school_id))]
pub struct TeacherSchool {
    pub teacher_id: String,
    pub school_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = questionnaire_answers, primary_key(id))]
pub struct QuestionnaireAnswer {
    pub id: String,
    pub user_id: String,
    pub question_key: String,
    pub answer: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = mentorship_requests, primary_key(id))]
pub struct MentorshipRequest {
    pub id: String,
    pub student_id: String,
    pub mentor_id: String,
    pub original_text: String,
    pub delivered_text: Option<String>,
    pub moderation_status: String,
    pub verdict: Option<String>,
    pub policy_version: Option<String>,
    pub status: String,
    pub response_note: Option<String>,
    pub deadline_at: Option<NaiveDateTime>,
    pub responded_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = matches, primary_key(id))]
pub struct Match {
    pub id: String,
    pub student_id: String,
    pub mentor_id: String,
    pub request_id: Option<String>,
    pub status: String,
    pub matched_by: Option<String>,
    pub match_note: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub close_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = agreements, primary_key(id))]
pub struct Agreement {
    pub id: String,
    pub match_id: String,
    pub user_id: String,
    pub agreement_version: String,
    pub signed_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = consents, primary_key(id))]
pub struct Consent {
    pub id: String,
    pub match_id: String,
    pub guardian_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub decision: String,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = goals, primary_key(id))]
pub struct Goal {
    pub id: String,
    pub match_id: String,
    pub title: String,
    pub description: String,
    pub target_date: Option<NaiveDateTime>,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = goal_notes, primary_key(id))]
pub struct GoalNote {
    pub id: String,
    pub goal_id: String,
    pub author_id: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = closure_surveys, primary_key(id))]
pub struct ClosureSurvey {
    pub id: String,
    pub match_id: String,
    pub user_id: String,
    pub answers: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = conversations, primary_key(id))]
pub struct Conversation {
    pub id: String,
    pub match_id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = messages, primary_key(id))]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: String,
    pub original_text: String,
    pub delivered_text: Option<String>,
    pub status: String,
    pub verdict: Option<String>,
    pub policy_version: Option<String>,
    pub flags: String,
    pub escalate: bool,
    pub created_at: NaiveDateTime,
    pub moderated_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = moderation_reviews, primary_key(id))]
pub struct ModerationReview {
    pub id: String,
    pub message_id: String,
    pub reviewer_id: String,
    pub decision: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = reports, primary_key(id))]
pub struct Report {
    pub id: String,
    pub reporter_id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub reason: String,
    pub reported_text: Option<String>,
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = alerts, primary_key(id))]
pub struct Alert {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub status: String,
    pub summary: String,
    pub student_id: Option<String>,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub report_id: Option<String>,
    pub due_at: NaiveDateTime,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
    pub resolution_note: Option<String>,
    pub last_notified_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = jobs, primary_key(id))]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: Option<String>,
    pub status: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = mail_outbox, primary_key(id))]
pub struct MailOutbox {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub not_before: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = api_tokens, primary_key(id))]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = web_sessions, primary_key(key_hash))]
pub struct WebSession {
    pub key_hash: String,
    pub state: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = login_throttles, primary_key(key_hash))]
pub struct LoginThrottle {
    pub key_hash: String,
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = audit_log, primary_key(id))]
pub struct AuditLog {
    pub id: String,
    pub seq: i64,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub details: String,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = access_log, primary_key(id))]
pub struct AccessLog {
    pub id: String,
    pub reader_id: String,
    pub conversation_id: String,
    pub reader_relation: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = completion_confirmations, primary_key(match_id, user_id))]
pub struct CompletionConfirmation {
    pub match_id: String,
    pub user_id: String,
    pub confirmed_at: NaiveDateTime,
}
