//! Data for load tests: `trellis seed --load-test --users N --messages M` adds a programme
//! with N accounts (students, mentors, guardians, teachers, one coordinator), an active match
//! and open conversation per student, and M historic messages spread over the last 180 days.
//!
//! Everyone shares one password ([`LOAD_PASSWORD`]) hashed once, because hashing ten thousand
//! passwords with argon2id would take longer than the test. The historic messages carry the
//! verdicts the real pipeline gave their texts (a few dozen benign mentoring lines, moderated
//! once each); new messages sent during a load test go through the whole pipeline as usual.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::audit::{self, AuditEntry};
use crate::db::enums::{MessageStatus, Role, UserStatus};
use crate::db::models::{Message, Programme, School, TeacherSchool, User};
use crate::db::schema::{messages, programmes, schools, teacher_schools, users};
use crate::db::{new_id, now, DbConnection};
use crate::error::{AppError, AppResult};
use crate::services::accounts::PasswordPolicy;
use crate::services::demo::{
    create_active_match, flags_of, insert_guardianship, insert_mentor_profile, insert_student_profile,
};

pub const LOAD_PASSWORD: &str = "trellis-load-2026";
pub const LOAD_DOMAIN: &str = "load.trellis.test";

/// The e-mail address of load-test account `n` (from 1) of `role`.
pub fn load_email(role: Role, n: usize) -> String {
    format!("{}{n}@{LOAD_DOMAIN}", role.as_str())
}

const STUDENTS_PER_SCHOOL: usize = 400;
const MESSAGES_PER_BATCH: usize = 500;

const TEXTS: &[(bool, &str)] = &[
    (false, "How did the titration lab go? Remember the endpoint is when the pink stays for 30 seconds."),
    (true, "It went ok, we got 0.098 mol/L which is close to the 0.1 the teacher expected"),
    (false, "That's a 2% error, nice work. What do you think caused the difference?"),
    (true, "probably the burette reading, i read it at eye level but the meniscus was hard to see"),
    (false, "Good thinking. For the report, list that under sources of error with a fix."),
    (true, "can you explain why F = ma works for the cart but not when it hits the wall?"),
    (false, "During the collision the force changes very fast, so we use impulse: F·Δt = Δp."),
    (true, "oh that makes sense, so a longer Δt means a smaller force, like airbags"),
    (false, "Exactly! Try question 4 on the worksheet with that idea and tell me what you get."),
    (true, "I got 12.5 N for question 4, is that right?"),
    (false, "Yes, 12.5 N. Your units are right too. Shall we look at projectile motion next week?"),
    (true, "yes please, the unit test is on the 14th"),
    (false, "Let's plan two sessions before then. Bring your notes on vectors to our next session."),
    (true, "my python code says IndexError: list index out of range on line 12"),
    (false, "Your loop goes to len(data) inclusive; range(len(data)) stops one earlier. Try that."),
    (true, "it works now!! the graph shows the temperature going from 18 to 24 degrees"),
    (false, "Great. Label the axes with units and add a title before you hand it in."),
    (true, "what should I study in university if I like both biology and computers?"),
    (
        false,
        "Bioinformatics is one option. Look at the program pages of a few universities together with your counsellor.",
    ),
    (true, "the science fair is on May 3, my project is about water filters with charcoal"),
    (false, "Measure turbidity before and after; three trials each will make your results stronger."),
    (true, "thanks, I'll ask Ms. Lee if we can borrow the turbidity meter"),
];

/// Progress of a long seeding run, for the command to print.
pub type Progress<'a> = dyn FnMut(&str) + 'a;

pub struct LoadSeedSummary {
    pub users: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// Adds the load-test programme. Refuses if one exists already.
pub fn seed(
    conn: &mut DbConnection,
    passwords: &PasswordPolicy,
    moderate: &crate::services::demo::DemoModeration<'_>,
    user_count: usize,
    message_count: usize,
    progress: &mut Progress<'_>,
) -> AppResult<LoadSeedSummary> {
    if user_count < 10 {
        return Err(AppError::bad_request("A load test needs at least 10 users."));
    }
    let existing: i64 =
        users::table.filter(users::email.eq(load_email(Role::Coordinator, 1))).count().get_result(conn)?;
    if existing > 0 {
        return Err(AppError::conflict("This database already has the load-test programme."));
    }
    let at = now();
    // 40% students, 40% mentors, one guardian per two students, a teacher per school.
    let students = (user_count * 2 / 5).max(1);
    let schools = students.div_ceil(STUDENTS_PER_SCHOOL);
    let guardians = students.div_ceil(2);
    let mentors = user_count.saturating_sub(students + guardians + schools + 1).max(1);
    let password_hash = passwords.hash(LOAD_PASSWORD)?;

    let (coordinator, conversations) = crate::db::write_transaction(conn, |conn| {
        let programme = Programme { id: new_id(), name: "Load-test programme".into(), created_at: at };
        diesel::insert_into(programmes::table).values(&programme).execute(conn)?;
        let add_user = |conn: &mut DbConnection, role: Role, n: usize| -> AppResult<String> {
            let user = User {
                id: new_id(),
                programme_id: Some(programme.id.clone()),
                email: load_email(role, n),
                display_name: format!("Load {} {n}", role.as_str()),
                role: role.as_str().into(),
                status: UserStatus::Active.as_str().into(),
                password_hash: Some(password_hash.clone()),
                created_at: at,
                updated_at: at,
                last_login_at: None,
            };
            diesel::insert_into(users::table).values(&user).execute(conn)?;
            Ok(user.id)
        };
        let coordinator = add_user(conn, Role::Coordinator, 1)?;
        let mut school_ids = Vec::new();
        for n in 1..=schools {
            let school = School {
                id: new_id(),
                programme_id: programme.id.clone(),
                name: format!("Load-test school {n}"),
                created_at: at,
            };
            diesel::insert_into(schools::table).values(&school).execute(conn)?;
            let teacher = add_user(conn, Role::Teacher, n)?;
            diesel::insert_into(teacher_schools::table)
                .values(&TeacherSchool { teacher_id: teacher, school_id: school.id.clone(), created_at: at })
                .execute(conn)?;
            school_ids.push(school.id);
        }
        let mut mentor_ids = Vec::new();
        for n in 1..=mentors {
            let mentor = add_user(conn, Role::Mentor, n)?;
            insert_mentor_profile(conn, &mentor, "Engineering", &coordinator, at)?;
            mentor_ids.push(mentor);
        }
        let mut guardian_ids = Vec::new();
        for n in 1..=guardians {
            guardian_ids.push(add_user(conn, Role::Guardian, n)?);
        }
        let mut conversations = Vec::new();
        for n in 1..=students {
            let student = add_user(conn, Role::Student, n)?;
            let school = &school_ids[(n - 1) / STUDENTS_PER_SCHOOL];
            insert_student_profile(conn, &student, school, 9 + (n % 4) as i32, at)?;
            let guardian = &guardian_ids[(n - 1) / 2];
            insert_guardianship(conn, guardian, &student, at)?;
            let mentor = &mentor_ids[(n - 1) % mentor_ids.len()];
            let conversation = create_active_match(conn, &student, mentor, guardian, at)?;
            conversations.push((conversation, student, mentor.clone()));
            if n % 1000 == 0 {
                progress(&format!("accounts and matches: {n} of {students} students"));
            }
        }
        Ok::<_, AppError>((coordinator, conversations))
    })?;
    progress(&format!(
        "{} accounts: {students} students, {mentors} mentors, {guardians} guardians, {schools} teachers, 1 coordinator",
        students + mentors + guardians + schools + 1
    ));

    // The verdict the real pipeline gives each text, computed once.
    let verdicts: Vec<(MessageStatus, Option<String>, String, String)> = TEXTS
        .iter()
        .map(|(from_student, text)| moderate(text, if *from_student { Role::Student } else { Role::Mentor }))
        .collect();
    let oldest = at - Duration::days(180);
    let span_seconds = Duration::days(179).num_seconds();
    let mut written = 0;
    let mut next_report = message_count / 10;
    while written < message_count {
        let batch_len = MESSAGES_PER_BATCH.min(message_count - written);
        let rows: Vec<Message> = (written..written + batch_len)
            .map(|i| historic_message(i, message_count, &conversations, &verdicts, oldest, span_seconds))
            .collect();
        insert_batch(conn, &rows)?;
        written += batch_len;
        if written >= next_report && message_count >= 10 {
            progress(&format!("messages: {written} of {message_count}"));
            next_report += message_count / 10;
        }
    }
    audit::record(
        conn,
        AuditEntry {
            actor_id: None,
            action: "load_test.seeded",
            subject_type: "user",
            subject_id: &coordinator,
            details: serde_json::json!({ "users": user_count, "messages": message_count }),
        },
    )?;
    Ok(LoadSeedSummary {
        users: students + mentors + guardians + schools + 1,
        conversations: students,
        messages: written,
    })
}

/// Many rows in one statement: diesel's `MultiConnection` has no batch insert, so dispatch to
/// the backend (one statement per row would make a million messages take many minutes).
fn insert_batch(conn: &mut DbConnection, rows: &[Message]) -> AppResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c.transaction(|c| diesel::insert_into(messages::table).values(rows).execute(c))?,
        #[cfg(feature = "postgres")]
        DbConnection::Postgresql(c) => diesel::insert_into(messages::table).values(rows).execute(c)?,
    };
    Ok(())
}

/// Message `i` of `total`: conversations take turns, each conversation's messages run through
/// the texts in order and alternate between its student and mentor, evenly spread in time.
fn historic_message(
    i: usize,
    total: usize,
    conversations: &[(String, String, String)],
    verdicts: &[(MessageStatus, Option<String>, String, String)],
    oldest: NaiveDateTime,
    span_seconds: i64,
) -> Message {
    let (conversation, student, mentor) = &conversations[i % conversations.len()];
    let turn = i / conversations.len();
    let (from_student, text) = TEXTS[turn % TEXTS.len()];
    let (status, delivered_text, verdict, policy_version) = &verdicts[turn % TEXTS.len()];
    let sent_at = oldest + Duration::seconds((i as i64).saturating_mul(span_seconds) / total.max(1) as i64);
    Message {
        id: new_id(),
        conversation_id: conversation.clone(),
        sender_id: if from_student { student.clone() } else { mentor.clone() },
        original_text: text.into(),
        delivered_text: delivered_text.clone(),
        status: status.as_str().into(),
        verdict: Some(verdict.clone()),
        policy_version: Some(policy_version.clone()),
        flags: flags_of(verdict),
        escalate: false,
        created_at: sent_at,
        moderated_at: Some(sent_at),
        delivered_at: matches!(status, MessageStatus::Delivered | MessageStatus::Redacted).then_some(sent_at),
    }
}
