//! Demo data for trying Trellis out: one programme, one school, the accounts DESIGN.md lists.
//! Created only with `--demo` and only on an empty database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::{self, AuditEntry};
use crate::db::enums::{BackgroundCheck, ConversationStatus, MatchStatus, MessageStatus, RequestStatus, Role};
use crate::db::models::*;
use crate::db::schema::*;
use crate::db::{new_id, now, DbConnection};
use crate::error::AppResult;
use crate::services::accounts::{create_user, NewUser, PasswordPolicy};

pub const DEMO_PASSWORD: &str = "trellis-demo-2026";

pub const DEMO_ACCOUNTS: &[(&str, &str, Role)] = &[
    ("coordinator@demo.trellis.test", "Casey Coordinator", Role::Coordinator),
    ("teacher@demo.trellis.test", "Taylor Teacher", Role::Teacher),
    ("guardian1@demo.trellis.test", "Gabriel Guardian", Role::Guardian),
    ("guardian2@demo.trellis.test", "Grace Guardian", Role::Guardian),
    ("student1@demo.trellis.test", "Sam Student", Role::Student),
    ("student2@demo.trellis.test", "Sky Student", Role::Student),
    ("student3@demo.trellis.test", "Sasha Student", Role::Student),
    ("mentor1@demo.trellis.test", "Dr. Maya Mentor", Role::Mentor),
    ("mentor2@demo.trellis.test", "Morgan Mentor", Role::Mentor),
    ("mentor3@demo.trellis.test", "Max Mentor", Role::Mentor),
];

/// A message of the demo conversations, moderated by the real pipeline when seeded.
pub struct DemoMessage {
    pub pair: usize,
    pub from_student: bool,
    pub text: &'static str,
}

pub const DEMO_MESSAGES: &[DemoMessage] = &[
    DemoMessage { pair: 1, from_student: false, text: "Hi Sam! I'm Maya, a civil engineer. Welcome to the programme. What got you interested in bridges?" },
    DemoMessage { pair: 1, from_student: true, text: "Hi! We built a popsicle-stick bridge in physics and mine held 12 kg. I want to know how real ones are designed." },
    DemoMessage { pair: 1, from_student: false, text: "12 kg is great! Real bridges start with loads too. Have a look at https://en.wikipedia.org/wiki/Truss_bridge before our session on Tuesday at 4pm." },
    DemoMessage { pair: 1, from_student: true, text: "Will do, see you Tuesday 4pm in our session!" },
    DemoMessage { pair: 2, from_student: false, text: "Hello Sky, I'm Morgan. I work on machine learning for weather forecasts. What would you like to get out of this year?" },
    DemoMessage { pair: 2, from_student: true, text: "I'd like to learn Python and maybe enter the science fair on May 3." },
    // The held one: a mentor asking to move off the platform with a phone number.
    DemoMessage { pair: 2, from_student: false, text: "Easier to text me at 403 555 0142, I can send you the notebooks there." },
];

/// What the seeding needs from moderation: status, delivered text, verdict JSON, policy version.
pub type DemoModeration<'a> = dyn Fn(&str, Role) -> (MessageStatus, Option<String>, String, String) + 'a;

pub struct DemoSummary {
    pub created: bool,
}

pub fn database_is_empty(conn: &mut DbConnection) -> AppResult<bool> {
    let users: i64 = users::table.count().get_result(conn)?;
    let programmes: i64 = programmes::table.count().get_result(conn)?;
    Ok(users == 0 && programmes == 0)
}

/// Seeds the demo programme in one transaction, if the database is empty.
pub fn seed(
    conn: &mut DbConnection,
    passwords: &PasswordPolicy,
    moderate: &DemoModeration<'_>,
) -> AppResult<DemoSummary> {
    crate::db::write_transaction(conn, |conn| {
        if !database_is_empty(conn)? {
            return Ok(DemoSummary { created: false });
        }
        let at = now();
        let programme = Programme { id: new_id(), name: "Demo STEM Mentoring Programme".into(), created_at: at };
        diesel::insert_into(programmes::table).values(&programme).execute(conn)?;
        let school = School {
            id: new_id(),
            programme_id: programme.id.clone(),
            name: "Riverside High School".into(),
            created_at: at,
        };
        diesel::insert_into(schools::table).values(&school).execute(conn)?;

        let mut ids = std::collections::HashMap::new();
        for (email, name, role) in DEMO_ACCOUNTS {
            let user = create_user(
                conn,
                passwords,
                NewUser {
                    email,
                    display_name: name,
                    role: *role,
                    password: Some(DEMO_PASSWORD),
                    programme_id: Some(&programme.id),
                },
                None,
            )?;
            let key = email.split('@').next().unwrap_or_default().to_owned();
            ids.insert(key, user.id);
        }
        let id = |k: &str| ids[k].clone();

        diesel::insert_into(teacher_schools::table)
            .values(&TeacherSchool { teacher_id: id("teacher"), school_id: school.id.clone(), created_at: at })
            .execute(conn)?;
        for (n, grade) in [(1, 10), (2, 11), (3, 9)] {
            insert_student_profile(conn, &id(&format!("student{n}")), &school.id, grade, at)?;
        }
        let fields = ["Civil engineering", "Machine learning for weather", "Marine biology"];
        for (n, field) in fields.iter().enumerate() {
            insert_mentor_profile(conn, &id(&format!("mentor{}", n + 1)), field, &id("coordinator"), at)?;
        }
        for (guardian, student) in [("guardian1", "student1"), ("guardian2", "student2"), ("guardian2", "student3")] {
            insert_guardianship(conn, &id(guardian), &id(student), at)?;
        }

        // Two active matches with signed agreements, guardian consent and an open conversation.
        let mut conversation_ids = Vec::new();
        for (pair, guardian) in [(1, "guardian1"), (2, "guardian2")] {
            let student = id(&format!("student{pair}"));
            let mentor = id(&format!("mentor{pair}"));
            let conversation = create_active_match(conn, &student, &mentor, &id(guardian), at)?;
            conversation_ids.push((conversation, student, mentor));
        }

        for (i, message) in DEMO_MESSAGES.iter().enumerate() {
            let (conversation_id, student, mentor) = &conversation_ids[message.pair - 1];
            let (sender, role) = if message.from_student { (student, Role::Student) } else { (mentor, Role::Mentor) };
            let (status, delivered_text, verdict, policy_version) = moderate(message.text, role);
            let flags = flags_of(&verdict);
            let sent_at = at - Duration::days(7) + Duration::hours(i as i64 * 3);
            let row = Message {
                id: new_id(),
                conversation_id: conversation_id.clone(),
                sender_id: sender.clone(),
                original_text: message.text.into(),
                delivered_text,
                status: status.as_str().into(),
                verdict: Some(verdict),
                policy_version: Some(policy_version),
                flags,
                escalate: false,
                created_at: sent_at,
                moderated_at: Some(sent_at),
                delivered_at: matches!(status, MessageStatus::Delivered | MessageStatus::Redacted).then_some(sent_at),
            };
            diesel::insert_into(messages::table).values(&row).execute(conn)?;
        }

        // A pending request from student3 to mentor3.
        let text = "Hi Max! I love the ocean and want to study marine biology. Could you be my mentor?";
        let (status, delivered_text, verdict, policy_version) = moderate(text, Role::Student);
        diesel::insert_into(mentorship_requests::table)
            .values(&MentorshipRequest {
                id: new_id(),
                student_id: id("student3"),
                mentor_id: id("mentor3"),
                original_text: text.into(),
                delivered_text,
                moderation_status: status.as_str().into(),
                verdict: Some(verdict),
                policy_version: Some(policy_version),
                status: RequestStatus::Open.as_str().into(),
                response_note: None,
                deadline_at: Some(at + Duration::days(14)),
                responded_at: None,
                created_at: at,
                updated_at: at,
            })
            .execute(conn)?;

        audit::record(
            conn,
            AuditEntry {
                actor_id: None,
                action: "demo.seeded",
                subject_type: "programme",
                subject_id: &programme.id,
                details: serde_json::json!({ "accounts": DEMO_ACCOUNTS.len() }),
            },
        )?;
        Ok(DemoSummary { created: true })
    })
}

/// An approved student at `school_id`.
pub(crate) fn insert_student_profile(
    conn: &mut DbConnection,
    user_id: &str,
    school_id: &str,
    grade: i32,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(student_profiles::table)
        .values(&StudentProfile {
            user_id: user_id.to_owned(),
            school_id: school_id.to_owned(),
            grade,
            approval_status: "approved".into(),
            approved_at: Some(at - Duration::days(30)),
            activation_deadline: Some(at + Duration::days(30)),
            about: String::new(),
            created_at: at,
            updated_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// A vetted mentor (background check passed, training and code of conduct done, approved).
pub(crate) fn insert_mentor_profile(
    conn: &mut DbConnection,
    user_id: &str,
    field: &str,
    approved_by: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(mentor_profiles::table)
        .values(&MentorProfile {
            user_id: user_id.to_owned(),
            field: field.into(),
            employer: "Demo Employer".into(),
            about: String::new(),
            capacity: 2,
            background_check_status: BackgroundCheck::Passed.as_str().into(),
            background_check_expires_at: Some(at + Duration::days(365)),
            safeguarding_training_at: Some(at - Duration::days(60)),
            code_of_conduct_signed_at: Some(at - Duration::days(60)),
            approved_by: Some(approved_by.to_owned()),
            approved_at: Some(at - Duration::days(59)),
            created_at: at,
            updated_at: at,
        })
        .execute(conn)?;
    Ok(())
}

pub(crate) fn insert_guardianship(
    conn: &mut DbConnection,
    guardian_id: &str,
    student_id: &str,
    at: NaiveDateTime,
) -> AppResult<()> {
    diesel::insert_into(guardianships::table)
        .values(&Guardianship {
            id: new_id(),
            guardian_id: guardian_id.to_owned(),
            student_id: student_id.to_owned(),
            relationship: "parent".into(),
            consented_at: Some(at - Duration::days(30)),
            view_suspended: false,
            view_suspended_reason: None,
            view_suspended_by: None,
            view_suspended_at: None,
            created_at: at,
        })
        .execute(conn)?;
    Ok(())
}

/// An active match two weeks old: accepted request, both agreements signed, the guardian's
/// consent given, an open conversation. Returns the conversation id.
pub(crate) fn create_active_match(
    conn: &mut DbConnection,
    student: &str,
    mentor: &str,
    guardian: &str,
    at: NaiveDateTime,
) -> AppResult<String> {
    let request = MentorshipRequest {
        id: new_id(),
        student_id: student.to_owned(),
        mentor_id: mentor.to_owned(),
        original_text: "I'd love to learn from you about your field.".into(),
        delivered_text: Some("I'd love to learn from you about your field.".into()),
        moderation_status: MessageStatus::Delivered.as_str().into(),
        verdict: None,
        policy_version: None,
        status: RequestStatus::Accepted.as_str().into(),
        response_note: Some("Happy to!".into()),
        deadline_at: Some(at - Duration::days(10)),
        responded_at: Some(at - Duration::days(20)),
        created_at: at - Duration::days(21),
        updated_at: at - Duration::days(20),
    };
    diesel::insert_into(mentorship_requests::table).values(&request).execute(conn)?;
    let m = Match {
        id: new_id(),
        student_id: student.to_owned(),
        mentor_id: mentor.to_owned(),
        request_id: Some(request.id.clone()),
        status: MatchStatus::Active.as_str().into(),
        matched_by: None,
        match_note: None,
        started_at: Some(at - Duration::days(14)),
        ends_at: Some(at - Duration::days(14) + Duration::days(365)),
        closed_at: None,
        close_reason: None,
        created_at: at - Duration::days(20),
        updated_at: at - Duration::days(14),
    };
    diesel::insert_into(matches::table).values(&m).execute(conn)?;
    for signer in [student, mentor] {
        diesel::insert_into(agreements::table)
            .values(&Agreement {
                id: new_id(),
                match_id: m.id.clone(),
                user_id: signer.to_owned(),
                agreement_version: "2026-1".into(),
                signed_at: at - Duration::days(15),
            })
            .execute(conn)?;
    }
    diesel::insert_into(consents::table)
        .values(&Consent {
            id: new_id(),
            match_id: m.id.clone(),
            guardian_id: guardian.to_owned(),
            token_hash: crate::services::accounts::hash_token(&new_id()),
            expires_at: at - Duration::days(7),
            decision: "given".into(),
            decided_at: Some(at - Duration::days(14)),
            reason: None,
            created_at: at - Duration::days(15),
        })
        .execute(conn)?;
    let conversation = Conversation {
        id: new_id(),
        match_id: m.id.clone(),
        status: ConversationStatus::Open.as_str().into(),
        status_reason: None,
        created_at: at - Duration::days(14),
        updated_at: at,
    };
    diesel::insert_into(conversations::table).values(&conversation).execute(conn)?;
    Ok(conversation.id)
}

pub(crate) fn flags_of(verdict_json: &str) -> String {
    serde_json::from_str::<crate::moderation::Verdict>(verdict_json)
        .map(|v| v.flags.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// The lines printed at start-up so a newcomer knows how to sign in.
pub fn describe_accounts() -> String {
    let mut out = String::from("Demo accounts (password: trellis-demo-2026):\n");
    for (email, name, role) in DEMO_ACCOUNTS {
        out.push_str(&format!("  {:<12} {:<32} {}\n", role.as_str(), email, name));
    }
    out
}

/// Moderates demo messages with the real pipeline, so the demo shows what the platform does.
pub fn pipeline_moderator(pipeline: &crate::moderation::Pipeline) -> Box<DemoModeration<'_>> {
    Box::new(move |text: &str, role: Role| {
        let sender_role = if role == Role::Student {
            crate::moderation::SenderRole::Student
        } else {
            crate::moderation::SenderRole::Mentor
        };
        match pipeline.moderate(text, "demo", sender_role, &[]) {
            Ok(verdict) => {
                let status = match verdict.action {
                    crate::moderation::Action::Deliver => MessageStatus::Delivered,
                    crate::moderation::Action::Redact => MessageStatus::Redacted,
                    crate::moderation::Action::Hold => MessageStatus::Held,
                    crate::moderation::Action::Block => MessageStatus::Blocked,
                };
                let json = serde_json::to_string(&verdict).unwrap_or_else(|_| "{}".into());
                (status, verdict.delivered_text.clone(), json, verdict.policy_version.clone())
            }
            Err(refused) => (
                MessageStatus::Held,
                None,
                serde_json::json!({ "reasons": [refused.to_string()] }).to_string(),
                pipeline.policy().version().to_owned(),
            ),
        }
    })
}
