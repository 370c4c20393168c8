//! What each role sees first after signing in, built from the database.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::access::Actor;
use crate::db::enums::{MatchStatus, Role};
use crate::db::models::{Match, MentorProfile, MentorshipRequest};
use crate::db::schema::*;
use crate::db::{now, DbConnection};
use crate::error::AppResult;

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dashboard {
    Coordinator(CoordinatorDashboard),
    Teacher(TeacherDashboard),
    Guardian(GuardianDashboard),
    Student(ParticipantDashboard),
    Mentor(ParticipantDashboard),
}

#[derive(Debug, Serialize)]
pub struct Count {
    pub label: &'static str,
    pub value: i64,
}

#[derive(Debug, Serialize)]
pub struct VettingItem {
    pub mentor_name: String,
    pub missing: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct AlertItem {
    pub severity: String,
    pub summary: String,
    pub due_at: String,
    pub overdue: bool,
}

#[derive(Debug, Serialize)]
pub struct CoordinatorDashboard {
    pub counts: Vec<Count>,
    pub vetting: Vec<VettingItem>,
    pub alerts: Vec<AlertItem>,
    pub held_messages: i64,
    pub oldest_held_hours: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct StudentRow {
    pub name: String,
    pub grade: i32,
    pub school: String,
    pub mentor: Option<String>,
    pub match_status: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TeacherDashboard {
    pub schools: Vec<String>,
    pub students: Vec<StudentRow>,
    pub held_messages: i64,
}

#[derive(Debug, Serialize)]
pub struct ChildRow {
    pub name: String,
    pub view_suspended: bool,
    pub mentorships: Vec<MatchRow>,
}

#[derive(Debug, Serialize)]
pub struct GuardianDashboard {
    pub children: Vec<ChildRow>,
    /// The last seven days, as in the weekly e-mail.
    pub digest: Vec<crate::services::digest::ChildDigest>,
}

#[derive(Debug, Serialize)]
pub struct MatchRow {
    pub match_id: String,
    pub other_name: String,
    pub other_detail: String,
    pub status: String,
    pub status_label: &'static str,
    pub started: Option<String>,
    pub conversation_id: Option<String>,
    /// Who besides the two participants can read the conversation (for the supervised banner).
    pub supervisors: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RequestRow {
    pub request_id: String,
    pub other_name: String,
    pub status: String,
    pub text: Option<String>,
    pub deadline: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ParticipantDashboard {
    pub matches: Vec<MatchRow>,
    pub requests: Vec<RequestRow>,
}

fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn status_label(status: &str) -> &'static str {
    match status.parse::<MatchStatus>() {
        Ok(MatchStatus::AwaitingAgreement) => "waiting for both to sign the agreement",
        Ok(MatchStatus::AwaitingConsent) => "waiting for a guardian's consent",
        Ok(MatchStatus::Active) => "active",
        Ok(MatchStatus::Paused) => "paused",
        Ok(MatchStatus::Completed) => "completed",
        Ok(MatchStatus::Ended) => "ended",
        Err(_) => "unknown",
    }
}

fn names(conn: &mut DbConnection, ids: Vec<String>) -> AppResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

fn conversation_ids(conn: &mut DbConnection, match_ids: Vec<String>) -> AppResult<HashMap<String, String>> {
    if match_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(conversations::table
        .filter(conversations::match_id.eq_any(match_ids))
        .select((conversations::match_id, conversations::id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn for_actor(conn: &mut DbConnection, actor: &Actor) -> AppResult<Dashboard> {
    Ok(match actor.role {
        Role::Coordinator => Dashboard::Coordinator(coordinator(conn)?),
        Role::Teacher => Dashboard::Teacher(teacher(conn, actor)?),
        Role::Guardian => Dashboard::Guardian(guardian(conn, actor)?),
        Role::Student => Dashboard::Student(participant(conn, actor)?),
        Role::Mentor => Dashboard::Mentor(participant(conn, actor)?),
    })
}

fn count_role(conn: &mut DbConnection, role: Role) -> AppResult<i64> {
    Ok(users::table.filter(users::role.eq(role.as_str())).count().get_result(conn)?)
}

fn coordinator(conn: &mut DbConnection) -> AppResult<CoordinatorDashboard> {
    let at = now();
    let students = count_role(conn, Role::Student)?;
    let mentors = count_role(conn, Role::Mentor)?;
    let active: i64 = matches::table.filter(matches::status.eq("active")).count().get_result(conn)?;
    let open_requests: i64 =
        mentorship_requests::table.filter(mentorship_requests::status.eq("open")).count().get_result(conn)?;
    let held: i64 = messages::table.filter(messages::status.eq("held")).count().get_result(conn)?;
    let oldest_held: Option<NaiveDateTime> = messages::table
        .filter(messages::status.eq("held"))
        .select(diesel::dsl::min(messages::created_at))
        .first(conn)?;
    let open_alerts: i64 = alerts::table.filter(alerts::status.ne("resolved")).count().get_result(conn)?;

    // Only mentors with a gap (the same conditions as `vetting_gaps`), so a programme of
    // thousands of vetted mentors does not load them all for every dashboard view.
    let profiles: Vec<(MentorProfile, String)> = mentor_profiles::table
        .inner_join(users::table.on(users::id.eq(mentor_profiles::user_id)))
        .filter(
            mentor_profiles::background_check_status
                .ne("passed")
                .or(mentor_profiles::background_check_expires_at.is_null())
                .or(mentor_profiles::background_check_expires_at.le(at))
                .or(mentor_profiles::safeguarding_training_at.is_null())
                .or(mentor_profiles::code_of_conduct_signed_at.is_null())
                .or(mentor_profiles::approved_at.is_null()),
        )
        .select((MentorProfile::as_select(), users::display_name))
        .order(users::display_name.asc())
        .load(conn)?;
    let vetting: Vec<VettingItem> = profiles
        .into_iter()
        .filter_map(|(p, name)| {
            let missing = vetting_gaps(&p, at);
            (!missing.is_empty()).then_some(VettingItem { mentor_name: name, missing })
        })
        .collect();

    let alert_rows: Vec<(String, String, NaiveDateTime)> = alerts::table
        .filter(alerts::status.ne("resolved"))
        .order((alerts::due_at.asc(),))
        .limit(20)
        .select((alerts::severity, alerts::summary, alerts::due_at))
        .load(conn)?;
    let alerts = alert_rows
        .into_iter()
        .map(|(severity, summary, due)| AlertItem {
            severity,
            summary,
            due_at: due.format("%Y-%m-%d %H:%M UTC").to_string(),
            overdue: due < at,
        })
        .collect();

    Ok(CoordinatorDashboard {
        counts: vec![
            Count { label: "Students", value: students },
            Count { label: "Mentors", value: mentors },
            Count { label: "Active mentorships", value: active },
            Count { label: "Open requests", value: open_requests },
            Count { label: "Held messages", value: held },
            Count { label: "Open alerts", value: open_alerts },
        ],
        vetting,
        alerts,
        held_messages: held,
        oldest_held_hours: oldest_held.map(|t| (at - t).num_hours()),
    })
}

/// What is still missing before a mentor may be matched (empty = fully vetted).
pub fn vetting_gaps(p: &MentorProfile, at: NaiveDateTime) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if p.background_check_status != "passed" {
        missing.push("background check");
    } else if p.background_check_expires_at.is_none_or(|e| e <= at) {
        missing.push("background check renewal (expired)");
    }
    if p.safeguarding_training_at.is_none() {
        missing.push("safeguarding training");
    }
    if p.code_of_conduct_signed_at.is_none() {
        missing.push("code of conduct");
    }
    if p.approved_at.is_none() {
        missing.push("coordinator approval");
    }
    missing
}

fn teacher(conn: &mut DbConnection, actor: &Actor) -> AppResult<TeacherDashboard> {
    let schools: Vec<(String, String)> = teacher_schools::table
        .inner_join(schools::table)
        .filter(teacher_schools::teacher_id.eq(&actor.user_id))
        .select((schools::id, schools::name))
        .order(schools::name.asc())
        .load(conn)?;
    let school_ids: Vec<String> = schools.iter().map(|(id, _)| id.clone()).collect();
    let school_names: HashMap<String, String> = schools.iter().cloned().collect();
    let students: Vec<(String, String, i32, String)> = if school_ids.is_empty() {
        Vec::new()
    } else {
        student_profiles::table
            .inner_join(users::table)
            .filter(student_profiles::school_id.eq_any(&school_ids))
            .select((users::id, users::display_name, student_profiles::grade, student_profiles::school_id))
            .order(users::display_name.asc())
            .load(conn)?
    };
    let student_ids: Vec<String> = students.iter().map(|s| s.0.clone()).collect();
    let current = current_matches(conn, &student_ids, true)?;
    let mentor_names = names(conn, current.values().map(|m| m.mentor_id.clone()).collect())?;
    let held: i64 = if student_ids.is_empty() {
        0
    } else {
        messages::table
            .inner_join(conversations::table.inner_join(matches::table))
            .filter(messages::status.eq("held"))
            .filter(matches::student_id.eq_any(&student_ids))
            .count()
            .get_result(conn)?
    };
    Ok(TeacherDashboard {
        schools: schools.into_iter().map(|(_, n)| n).collect(),
        students: students
            .into_iter()
            .map(|(id, name, grade, school_id)| {
                let m = current.get(&id);
                StudentRow {
                    name,
                    grade,
                    school: school_names.get(&school_id).cloned().unwrap_or_default(),
                    mentor: m.and_then(|m| mentor_names.get(&m.mentor_id).cloned()),
                    match_status: m.map(|m| status_label(&m.status).to_owned()),
                }
            })
            .collect(),
        held_messages: held,
    })
}

/// The most recent match of each student (or mentor) in `ids`.
fn current_matches(conn: &mut DbConnection, ids: &[String], by_student: bool) -> AppResult<HashMap<String, Match>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = matches::table.select(Match::as_select()).order(matches::created_at.asc()).into_boxed();
    let query = if by_student {
        query.filter(matches::student_id.eq_any(ids.to_vec()))
    } else {
        query.filter(matches::mentor_id.eq_any(ids.to_vec()))
    };
    let rows: Vec<Match> = query.load(conn)?;
    let mut latest = HashMap::new();
    for m in rows {
        let key = if by_student { m.student_id.clone() } else { m.mentor_id.clone() };
        latest.insert(key, m);
    }
    Ok(latest)
}

fn guardian(conn: &mut DbConnection, actor: &Actor) -> AppResult<GuardianDashboard> {
    let children: Vec<(String, String, bool)> = guardianships::table
        .inner_join(users::table.on(users::id.eq(guardianships::student_id)))
        .filter(guardianships::guardian_id.eq(&actor.user_id))
        .select((users::id, users::display_name, guardianships::view_suspended))
        .order(users::display_name.asc())
        .load(conn)?;
    let mut rows = Vec::new();
    for (child_id, name, suspended) in children {
        let mentorships = if suspended { Vec::new() } else { match_rows(conn, &child_id, true)? };
        rows.push(ChildRow { name, view_suspended: suspended, mentorships });
    }
    let digest = crate::services::digest::weekly(conn, &actor.user_id, now())?;
    Ok(GuardianDashboard { children: rows, digest })
}

fn match_rows(conn: &mut DbConnection, user_id: &str, as_student: bool) -> AppResult<Vec<MatchRow>> {
    let query = matches::table.select(Match::as_select()).order(matches::created_at.desc()).into_boxed();
    let rows: Vec<Match> = if as_student {
        query.filter(matches::student_id.eq(user_id)).load(conn)?
    } else {
        query.filter(matches::mentor_id.eq(user_id)).load(conn)?
    };
    let other_ids: Vec<String> =
        rows.iter().map(|m| if as_student { m.mentor_id.clone() } else { m.student_id.clone() }).collect();
    let other_names = names(conn, other_ids.clone())?;
    let fields: HashMap<String, String> = if as_student && !other_ids.is_empty() {
        mentor_profiles::table
            .filter(mentor_profiles::user_id.eq_any(&other_ids))
            .select((mentor_profiles::user_id, mentor_profiles::field))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let conversations = conversation_ids(conn, rows.iter().map(|m| m.id.clone()).collect())?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let other = if as_student { &m.mentor_id } else { &m.student_id };
            MatchRow {
                other_name: other_names.get(other).cloned().unwrap_or_default(),
                other_detail: fields.get(other).cloned().unwrap_or_default(),
                status_label: status_label(&m.status),
                started: m.started_at.map(day),
                conversation_id: conversations.get(&m.id).cloned(),
                supervisors: Vec::new(),
                status: m.status,
                match_id: m.id,
            }
        })
        .collect())
}

/// The people who can read a student's conversations besides its participants, described for
/// the supervised banner ("Gabriel Guardian (guardian)", "Taylor Teacher (teacher)").
pub fn supervisors_of(conn: &mut DbConnection, student_id: &str) -> AppResult<Vec<String>> {
    let guardians: Vec<String> = guardianships::table
        .inner_join(users::table.on(users::id.eq(guardianships::guardian_id)))
        .filter(guardianships::student_id.eq(student_id))
        .filter(guardianships::view_suspended.eq(false))
        .select(users::display_name)
        .order(users::display_name.asc())
        .load(conn)?;
    let teachers: Vec<String> = student_profiles::table
        .inner_join(teacher_schools::table.on(teacher_schools::school_id.eq(student_profiles::school_id)))
        .inner_join(users::table.on(users::id.eq(teacher_schools::teacher_id)))
        .filter(student_profiles::user_id.eq(student_id))
        .select(users::display_name)
        .order(users::display_name.asc())
        .load(conn)?;
    Ok(guardians
        .into_iter()
        .map(|g| format!("{g} (guardian)"))
        .chain(teachers.into_iter().map(|t| format!("{t} (teacher)")))
        .collect())
}

fn participant(conn: &mut DbConnection, actor: &Actor) -> AppResult<ParticipantDashboard> {
    let as_student = actor.role == Role::Student;
    let mut matches = match_rows(conn, &actor.user_id, as_student)?;
    for m in matches.iter_mut() {
        let student_id: String = matches::table.find(&m.match_id).select(matches::student_id).first(conn)?;
        m.supervisors = supervisors_of(conn, &student_id)?;
    }
    let query = mentorship_requests::table
        .select(MentorshipRequest::as_select())
        .order(mentorship_requests::created_at.desc())
        .into_boxed();
    let requests: Vec<MentorshipRequest> = if as_student {
        query.filter(mentorship_requests::student_id.eq(&actor.user_id)).load(conn)?
    } else {
        // A mentor sees a request only once moderation let it through.
        query
            .filter(mentorship_requests::mentor_id.eq(&actor.user_id))
            .filter(mentorship_requests::status.ne("awaiting_review"))
            .load(conn)?
    };
    let other_names = names(
        conn,
        requests.iter().map(|r| if as_student { r.mentor_id.clone() } else { r.student_id.clone() }).collect(),
    )?;
    Ok(ParticipantDashboard {
        matches,
        requests: requests
            .into_iter()
            .filter(|r| r.status != "accepted")
            .map(|r| {
                let other = if as_student { &r.mentor_id } else { &r.student_id };
                RequestRow {
                    other_name: other_names.get(other).cloned().unwrap_or_default(),
                    text: if as_student { Some(r.original_text.clone()) } else { r.delivered_text.clone() },
                    deadline: r.deadline_at.map(day),
                    status: r.status,
                    request_id: r.id,
                }
            })
            .collect(),
    })
}
