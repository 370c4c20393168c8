//! The two migration sets stay in step, and every table round-trips a full row on the backend
//! under test (SQLite by default, PostgreSQL when TRELLIS_TEST_DATABASE_URL is set).

use std::collections::BTreeSet;

use chrono::Duration;
use diesel::prelude::*;
use trellis::db::models::*;
use trellis::db::schema::*;
use trellis::db::{new_id, now};

use crate::helpers::*;

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = crate::repo::root().join("migrations").join(backend);
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            let dir = crate::repo::root().join("migrations").join(backend).join(name);
            assert!(dir.join("up.sql").exists() && dir.join("down.sql").exists(), "{backend}/{name}");
        }
    }
}

fn tables_in_migrations() -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    for name in migration_names("sqlite") {
        let sql =
            std::fs::read_to_string(crate::repo::root().join("migrations/sqlite").join(name).join("up.sql")).unwrap();
        for part in sql.split("CREATE TABLE ").skip(1) {
            tables.insert(part.split_whitespace().next().unwrap().to_owned());
        }
    }
    tables
}

macro_rules! round_trip {
    ($conn:expr, $seen:expr, $table:ident, $model:ty, $row:expr, $key:expr) => {{
        let row: $model = $row;
        diesel::insert_into($table::table).values(&row).execute($conn).expect(concat!("insert ", stringify!($table)));
        let back: $model = $table::table.find($key(&row)).select(<$model>::as_select()).first($conn).unwrap();
        assert_eq!(back, row, concat!(stringify!($table), " round-trips"));
        $seen.insert(stringify!($table).to_owned());
        row
    }};
}

#[tokio::test]
async fn every_table_round_trips() {
    let app = TestApp::spawn().await;
    let conn = &mut *app.conn();
    let t = now();
    let later = t + Duration::days(14);
    let mut seen = BTreeSet::new();
    let programme = round_trip!(
        conn,
        seen,
        programmes,
        Programme,
        Programme { id: new_id(), name: "P".into(), created_at: t },
        |r: &Programme| r.id.clone()
    );
    let school = round_trip!(
        conn,
        seen,
        schools,
        School,
        School { id: new_id(), programme_id: programme.id.clone(), name: "S".into(), created_at: t },
        |r: &School| r.id.clone()
    );
    let user = |role: &str, email: &str| User {
        id: new_id(),
        programme_id: Some(programme.id.clone()),
        email: email.into(),
        display_name: "Ünïcode 名前 🙂".into(),
        role: role.into(),
        status: "active".into(),
        password_hash: Some("$argon2id$x".into()),
        created_at: t,
        updated_at: t,
        last_login_at: Some(later),
    };
    let student = round_trip!(conn, seen, users, User, user("student", "s@x.org"), |r: &User| r.id.clone());
    let mentor = round_trip!(conn, seen, users, User, user("mentor", "m@x.org"), |r: &User| r.id.clone());
    let guardian = round_trip!(conn, seen, users, User, user("guardian", "g@x.org"), |r: &User| r.id.clone());
    let teacher = round_trip!(conn, seen, users, User, user("teacher", "t@x.org"), |r: &User| r.id.clone());
    round_trip!(
        conn,
        seen,
        student_profiles,
        StudentProfile,
        StudentProfile {
            user_id: student.id.clone(),
            school_id: school.id.clone(),
            grade: 10,
            approval_status: "approved".into(),
            approved_at: Some(t),
            activation_deadline: Some(later),
            about: "robots".into(),
            created_at: t,
            updated_at: t,
        },
        |r: &StudentProfile| r.user_id.clone()
    );
    round_trip!(
        conn,
        seen,
        mentor_profiles,
        MentorProfile,
        MentorProfile {
            user_id: mentor.id.clone(),
            field: "Physics".into(),
            employer: "Lab".into(),
            about: "".into(),
            capacity: 2,
            background_check_status: "passed".into(),
            background_check_expires_at: Some(later),
            safeguarding_training_at: Some(t),
            code_of_conduct_signed_at: Some(t),
            approved_by: Some(teacher.id.clone()),
            approved_at: Some(t),
            created_at: t,
            updated_at: t,
        },
        |r: &MentorProfile| r.user_id.clone()
    );
    round_trip!(
        conn,
        seen,
        guardianships,
        Guardianship,
        Guardianship {
            id: new_id(),
            guardian_id: guardian.id.clone(),
            student_id: student.id.clone(),
            relationship: "parent".into(),
            consented_at: Some(t),
            view_suspended: true,
            view_suspended_reason: Some("why".into()),
            view_suspended_by: Some(teacher.id.clone()),
            view_suspended_at: Some(t),
            created_at: t,
        },
        |r: &Guardianship| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        teacher_schools,
        TeacherSchool,
        TeacherSchool { teacher_id: teacher.id.clone(), school_id: school.id.clone(), created_at: t },
        |r: &TeacherSchool| (r.teacher_id.clone(), r.school_id.clone())
    );
    round_trip!(
        conn,
        seen,
        questionnaire_answers,
        QuestionnaireAnswer,
        QuestionnaireAnswer {
            id: new_id(),
            user_id: student.id.clone(),
            question_key: "fields".into(),
            answer: "[\"robotics\"]".into(),
            updated_at: t,
        },
        |r: &QuestionnaireAnswer| r.id.clone()
    );
    let request = round_trip!(
        conn,
        seen,
        mentorship_requests,
        MentorshipRequest,
        MentorshipRequest {
            id: new_id(),
            student_id: student.id.clone(),
            mentor_id: mentor.id.clone(),
            original_text: "hi".into(),
            delivered_text: Some("hi".into()),
            moderation_status: "delivered".into(),
            verdict: Some("{}".into()),
            policy_version: Some("v".into()),
            status: "accepted".into(),
            response_note: Some("yes".into()),
            deadline_at: Some(later),
            responded_at: Some(t),
            created_at: t,
            updated_at: t,
        },
        |r: &MentorshipRequest| r.id.clone()
    );
    let m = round_trip!(
        conn,
        seen,
        matches,
        Match,
        Match {
            id: new_id(),
            student_id: student.id.clone(),
            mentor_id: mentor.id.clone(),
            request_id: Some(request.id.clone()),
            status: "active".into(),
            matched_by: Some(teacher.id.clone()),
            match_note: Some("n".into()),
            started_at: Some(t),
            ends_at: Some(later),
            closed_at: None,
            close_reason: None,
            created_at: t,
            updated_at: t,
        },
        |r: &Match| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        completion_confirmations,
        CompletionConfirmation,
        CompletionConfirmation { match_id: m.id.clone(), user_id: student.id.clone(), confirmed_at: t },
        |r: &CompletionConfirmation| (r.match_id.clone(), r.user_id.clone())
    );
    round_trip!(
        conn,
        seen,
        agreements,
        Agreement,
        Agreement {
            id: new_id(),
            match_id: m.id.clone(),
            user_id: student.id.clone(),
            agreement_version: "1".into(),
            signed_at: t,
        },
        |r: &Agreement| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        consents,
        Consent,
        Consent {
            id: new_id(),
            match_id: m.id.clone(),
            guardian_id: guardian.id.clone(),
            token_hash: new_id(),
            expires_at: later,
            decision: "given".into(),
            decided_at: Some(t),
            reason: None,
            created_at: t,
        },
        |r: &Consent| r.id.clone()
    );
    let goal = round_trip!(
        conn,
        seen,
        goals,
        Goal,
        Goal {
            id: new_id(),
            match_id: m.id.clone(),
            title: "Build a robot".into(),
            description: "".into(),
            target_date: Some(later),
            status: "open".into(),
            created_by: student.id.clone(),
            created_at: t,
            updated_at: t,
        },
        |r: &Goal| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        goal_notes,
        GoalNote,
        GoalNote {
            id: new_id(),
            goal_id: goal.id.clone(),
            author_id: mentor.id.clone(),
            note: "progress".into(),
            created_at: t,
        },
        |r: &GoalNote| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        closure_surveys,
        ClosureSurvey,
        ClosureSurvey {
            id: new_id(),
            match_id: m.id.clone(),
            user_id: student.id.clone(),
            answers: Some("{}".into()),
            submitted_at: Some(t),
            created_at: t,
        },
        |r: &ClosureSurvey| r.id.clone()
    );
    let conversation = round_trip!(
        conn,
        seen,
        conversations,
        Conversation,
        Conversation {
            id: new_id(),
            match_id: m.id.clone(),
            status: "open".into(),
            status_reason: None,
            created_at: t,
            updated_at: t,
        },
        |r: &Conversation| r.id.clone()
    );
    let message = round_trip!(
        conn,
        seen,
        messages,
        Message,
        Message {
            id: new_id(),
            conversation_id: conversation.id.clone(),
            sender_id: mentor.id.clone(),
            original_text: "call 403 555 0142 ☎️".into(),
            delivered_text: None,
            status: "held".into(),
            verdict: Some("{\"action\":\"hold\"}".into()),
            policy_version: Some("abc".into()),
            flags: "contact_info".into(),
            escalate: true,
            created_at: t,
            moderated_at: Some(t),
            delivered_at: None,
        },
        |r: &Message| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        moderation_reviews,
        ModerationReview,
        ModerationReview {
            id: new_id(),
            message_id: message.id.clone(),
            reviewer_id: teacher.id.clone(),
            decision: "reject".into(),
            note: "no".into(),
            created_at: t,
        },
        |r: &ModerationReview| r.id.clone()
    );
    let report = round_trip!(
        conn,
        seen,
        reports,
        Report,
        Report {
            id: new_id(),
            reporter_id: guardian.id.clone(),
            conversation_id: conversation.id.clone(),
            message_id: Some(message.id.clone()),
            reason: "worried".into(),
            reported_text: Some("copy".into()),
            status: "open".into(),
            resolved_by: None,
            resolved_at: None,
            created_at: t,
        },
        |r: &Report| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        alerts,
        Alert,
        Alert {
            id: new_id(),
            kind: "report".into(),
            severity: "urgent".into(),
            status: "open".into(),
            summary: "s".into(),
            student_id: Some(student.id.clone()),
            conversation_id: Some(conversation.id.clone()),
            message_id: Some(message.id.clone()),
            report_id: Some(report.id.clone()),
            due_at: later,
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_by: None,
            resolved_at: None,
            resolution_note: None,
            last_notified_at: Some(t),
            created_at: t,
        },
        |r: &Alert| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        jobs,
        Job,
        Job {
            id: new_id(),
            kind: "reminder".into(),
            payload: "{}".into(),
            idempotency_key: Some(new_id()),
            status: "queued".into(),
            run_at: later,
            attempts: 0,
            max_attempts: 8,
            locked_until: None,
            last_error: None,
            created_at: t,
            updated_at: t,
        },
        |r: &Job| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        mail_outbox,
        MailOutbox,
        MailOutbox {
            id: new_id(),
            to_address: "g@x.org".into(),
            subject: "s".into(),
            body_text: "b".into(),
            body_html: Some("<p>b</p>".into()),
            status: "queued".into(),
            attempts: 0,
            last_error: None,
            not_before: t,
            created_at: t,
            sent_at: None,
        },
        |r: &MailOutbox| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        api_tokens,
        ApiToken,
        ApiToken {
            id: new_id(),
            user_id: student.id.clone(),
            token_hash: new_id(),
            created_at: t,
            expires_at: later,
            last_used_at: None,
            revoked_at: None,
        },
        |r: &ApiToken| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        web_sessions,
        WebSession,
        WebSession { key_hash: new_id(), state: "{}".into(), expires_at: later, created_at: t },
        |r: &WebSession| r.key_hash.clone()
    );
    round_trip!(
        conn,
        seen,
        login_throttles,
        LoginThrottle,
        LoginThrottle { key_hash: new_id(), failures: 3, window_started_at: t, locked_until: Some(later) },
        |r: &LoginThrottle| r.key_hash.clone()
    );
    round_trip!(
        conn,
        seen,
        audit_log,
        AuditLog,
        AuditLog {
            id: new_id(),
            seq: 9_000_000_000,
            actor_id: Some(teacher.id.clone()),
            action: "a".into(),
            subject_type: "s".into(),
            subject_id: "i".into(),
            details: "{}".into(),
            created_at: t,
            prev_hash: "0".into(),
            hash: "1".into(),
        },
        |r: &AuditLog| r.id.clone()
    );
    round_trip!(
        conn,
        seen,
        access_log,
        AccessLog,
        AccessLog {
            id: new_id(),
            reader_id: teacher.id.clone(),
            conversation_id: conversation.id.clone(),
            reader_relation: "teacher".into(),
            created_at: t,
        },
        |r: &AccessLog| r.id.clone()
    );
    assert_eq!(seen, tables_in_migrations(), "every table in the migrations has a round-trip above");
}

#[tokio::test]
async fn check_constraints_refuse_unknown_enum_values() {
    let app = TestApp::spawn().await;
    let conn = &mut *app.conn();
    let t = now();
    let bad = User {
        id: new_id(),
        programme_id: None,
        email: "x@y.org".into(),
        display_name: "x".into(),
        role: "admin".into(),
        status: "active".into(),
        password_hash: None,
        created_at: t,
        updated_at: t,
        last_login_at: None,
    };
    assert!(diesel::insert_into(users::table).values(&bad).execute(conn).is_err());
}

#[tokio::test]
async fn foreign_keys_are_enforced() {
    let app = TestApp::spawn().await;
    let conn = &mut *app.conn();
    let orphan = School { id: new_id(), programme_id: "missing".into(), name: "S".into(), created_at: now() };
    assert!(diesel::insert_into(schools::table).values(&orphan).execute(conn).is_err());
}
