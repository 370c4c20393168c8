//! The write half of the authorization matrix (`authorization.rs` has the GET routes): every
//! state-changing route, pages and API, × the same nine roles, each with a real target from the
//! demo data (created through the services where the demo lacks it), a body that succeeds for an
//! allowed caller, and the expected status per role. A POST/PUT/DELETE route in the code, or an
//! action of the many-purpose `POST /mentoring` form, without a row here fails the test.
//!
//! A successful write changes the data, so allowed cells must not spoil later ones: each row gets
//! one fresh demo app for all the roles that must be refused (a refusal changes nothing, and the
//! test checks that the data really did not change), and each allowed cell gets its own fresh
//! app (where the target must really change). In the refusal app the test also checks CSRF on
//! every page form (a missing or foreign `csrf_token`: 403, nothing changes) and that the API
//! never acts on a cookie session alone (a signed-in browser without a bearer token: 401), which
//! is what makes the API immune to CSRF.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use diesel::prelude::*;
use serde_json::{json, Value};
use trellis::access::Actor;
use trellis::db::enums::{MessageStatus, Role};
use trellis::db::schema::{
    access_log, agreements, alerts, api_tokens, audit_log, closure_surveys, completion_confirmations, consents,
    conversations, goal_notes, goals, guardianships, jobs, mail_outbox, matches, mentor_profiles, mentorship_requests,
    messages, moderation_reviews, questionnaire_answers, reports, student_profiles, users, web_sessions,
};
use trellis::db::{now, DbConnection};
use trellis::mail::Mailer;
use trellis::services::goals as goal_service;
use trellis::services::{accounts, demo, lifecycle, oversight};

use crate::helpers::*;

const ROLES: [&str; 9] =
    ["anon", "student1", "mentor1", "guardian1", "teacher", "coordinator", "student2", "mentor2", "guardian2"];

/// How many fresh apps are at work at once.
const PARALLEL: usize = 4;

// Expected statuses of page forms, in the order of `ROLES`. Anonymous posts get 401 (the "please
// sign in" page: a POST cannot be replayed after a redirect to the sign-in form).
const P_PAIR: [u16; 9] = [401, 303, 303, 404, 404, 404, 404, 404, 404];
const P_READERS: [u16; 9] = [401, 303, 303, 303, 303, 303, 404, 404, 404];
const P_GUARDIAN_COORD: [u16; 9] = [401, 404, 404, 303, 404, 303, 404, 404, 404];
const P_STAFF: [u16; 9] = [401, 404, 404, 404, 303, 303, 404, 404, 404];
const P_COORD: [u16; 9] = [401, 404, 404, 404, 404, 303, 404, 404, 404];
const P_STUDENT1: [u16; 9] = [401, 303, 404, 404, 404, 404, 404, 404, 404];
const P_MENTOR1: [u16; 9] = [401, 404, 303, 404, 404, 404, 404, 404, 404];
const P_STUDENTS: [u16; 9] = [401, 303, 404, 404, 404, 404, 303, 404, 404];
const P_PARTICIPANTS: [u16; 9] = [401, 303, 303, 404, 404, 404, 303, 303, 404];

/// The same pattern for the API, where success is `code` instead of a redirect.
const fn api(mut expect: [u16; 9], code: u16) -> [u16; 9] {
    let mut i = 0;
    while i < 9 {
        if expect[i] == 303 {
            expect[i] = code;
        }
        i += 1;
    }
    expect
}

/// Ids in one fresh demo app ("1" = student1–mentor1, the own resource; "2" = student2–mentor2).
#[derive(Clone, Debug, Default)]
struct Ids {
    user: BTreeMap<String, String>,
    conv1: String,
    match1: String,
    /// A delivered message of conversation 1.
    message1: String,
    /// The held message in the teacher's queue (conversation 2, from mentor2).
    held: String,
    guardianship1: String,
    /// student3's open demo request to mentor3.
    demo_request: String,
    // Made by a row's `Setup`:
    request: String,
    pending_match: String,
    held_request: String,
    alert: String,
    goal: String,
    survey: String,
    consent_token: String,
}

impl Ids {
    fn u(&self, who: &str) -> String {
        self.user[who].clone()
    }
}

/// What a row needs beyond the demo data, made through the real services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    Nothing,
    /// guardian1 reports conversation 1, which raises an alert.
    Alert,
    /// student1 sets a goal in match 1.
    Goal,
    /// The coordinator ends match 1: closure surveys for student1, mentor1, guardian1.
    Survey,
    /// Matches 1 and 2 ended, so student1 and student2 may ask for a new mentor.
    FreeStudents,
    /// Match 1 ended, then student1 asks mentor1 again: an open request of the pair.
    Request,
    /// As `Request`, and mentor1 accepted: a match of the pair waiting for the agreement.
    AwaitingAgreement,
    /// student3 asks mentor2 with a social handle in the text: held for review.
    HeldRequest,
    /// mentor3 accepts student3's demo request and both sign: guardian2 gets a consent link.
    Consent,
    /// student1's approval withdrawn back to pending (no service does this; set directly).
    PendingStudent,
}

#[derive(Clone, Debug)]
enum Body {
    Empty,
    Form(Vec<(&'static str, String)>),
    Json(Value),
}

#[derive(Clone, Copy)]
struct Row {
    method: &'static str,
    pattern: &'static str,
    /// The `action` field of `POST /mentoring`.
    action: Option<&'static str>,
    setup: Setup,
    path: fn(&Ids) -> String,
    body: fn(&Ids) -> Body,
    /// The state the write is about; an allowed cell must change it.
    probe: fn(&mut DbConnection, &Ids) -> String,
    expect: [u16; 9],
}

impl Row {
    fn is_api(&self) -> bool {
        self.pattern.starts_with("/api/")
    }

    fn name(&self) -> String {
        match self.action {
            Some(action) => format!("{} {} action={action}", self.method, self.pattern),
            None => format!("{} {}", self.method, self.pattern),
        }
    }
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

fn debug(value: impl std::fmt::Debug) -> String {
    format!("{value:?}")
}

// ---- probes ---------------------------------------------------------------------------------

fn match1_status(c: &mut DbConnection, ids: &Ids) -> String {
    matches::table.find(ids.match1.as_str()).select(matches::status).first::<String>(c).unwrap()
}

fn conv1_messages(c: &mut DbConnection, ids: &Ids) -> String {
    debug(messages::table.filter(messages::conversation_id.eq(&ids.conv1)).count().get_result::<i64>(c).unwrap())
}

fn held_status(c: &mut DbConnection, ids: &Ids) -> String {
    let status: String = messages::table.find(&ids.held).select(messages::status).first(c).unwrap();
    let reviews: i64 =
        moderation_reviews::table.filter(moderation_reviews::message_id.eq(&ids.held)).count().get_result(c).unwrap();
    debug((status, reviews))
}

fn report_count(c: &mut DbConnection, _: &Ids) -> String {
    debug(reports::table.count().get_result::<i64>(c).unwrap())
}

fn request_status(c: &mut DbConnection, id: &str) -> String {
    mentorship_requests::table.find(id).select(mentorship_requests::status).first::<String>(c).unwrap()
}

fn request_count(c: &mut DbConnection, _: &Ids) -> String {
    debug(mentorship_requests::table.count().get_result::<i64>(c).unwrap())
}

fn alert_status(c: &mut DbConnection, ids: &Ids) -> String {
    alerts::table.find(&ids.alert).select(alerts::status).first::<String>(c).unwrap()
}

fn answers(c: &mut DbConnection, _: &Ids) -> String {
    debug(
        questionnaire_answers::table
            .select((
                questionnaire_answers::user_id,
                questionnaire_answers::question_key,
                questionnaire_answers::answer,
            ))
            .order((questionnaire_answers::user_id, questionnaire_answers::question_key))
            .load::<(String, String, String)>(c)
            .unwrap(),
    )
}

fn match_count(c: &mut DbConnection, _: &Ids) -> String {
    debug(matches::table.count().get_result::<i64>(c).unwrap())
}

fn agreement_count(c: &mut DbConnection, ids: &Ids) -> String {
    debug(
        agreements::table
            .filter(agreements::match_id.eq(ids.pending_match.as_str()))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
    )
}

fn confirmation_count(c: &mut DbConnection, ids: &Ids) -> String {
    debug(
        completion_confirmations::table
            .filter(completion_confirmations::match_id.eq(ids.match1.as_str()))
            .count()
            .get_result::<i64>(c)
            .unwrap(),
    )
}

fn goal_count(c: &mut DbConnection, ids: &Ids) -> String {
    debug(goals::table.filter(goals::match_id.eq(ids.match1.as_str())).count().get_result::<i64>(c).unwrap())
}

fn goal_state(c: &mut DbConnection, ids: &Ids) -> String {
    let status: String = goals::table.find(ids.goal.as_str()).select(goals::status).first(c).unwrap();
    let notes: i64 = goal_notes::table.filter(goal_notes::goal_id.eq(ids.goal.as_str())).count().get_result(c).unwrap();
    debug((status, notes))
}

fn mentor1_vetting(c: &mut DbConnection, ids: &Ids) -> String {
    debug(
        mentor_profiles::table
            .find(ids.u("mentor1"))
            .select((mentor_profiles::capacity, mentor_profiles::background_check_expires_at))
            .first::<(i32, Option<chrono::NaiveDateTime>)>(c)
            .unwrap(),
    )
}

fn student1_approval(c: &mut DbConnection, ids: &Ids) -> String {
    student_profiles::table
        .find(ids.u("student1"))
        .select(student_profiles::approval_status)
        .first::<String>(c)
        .unwrap()
}

fn token_counts(c: &mut DbConnection, _: &Ids) -> String {
    let all: i64 = api_tokens::table.count().get_result(c).unwrap();
    let revoked: i64 = api_tokens::table.filter(api_tokens::revoked_at.is_not_null()).count().get_result(c).unwrap();
    debug((all, revoked))
}

/// Everything a write could touch, for checking that refused requests changed nothing.
fn fingerprint(c: &mut DbConnection) -> BTreeMap<&'static str, String> {
    macro_rules! count {
        ($($table:ident),*) => {
            [$((stringify!($table), debug($table::table.count().get_result::<i64>(c).unwrap()))),*]
        };
    }
    macro_rules! states {
        ($($table:ident: $key:ident, $state:expr;)*) => {
            [$((concat!(stringify!($table), " states"), debug(
                $table::table.select(($table::$key, $state)).order($table::$key).load::<(String, _)>(c).unwrap()
                    .into_iter().map(|(k, v): (String, String)| format!("{k}={v}")).collect::<Vec<_>>()
            ))),*]
        };
    }
    let mut print: BTreeMap<&'static str, String> = BTreeMap::new();
    print.extend(count!(
        audit_log,
        access_log,
        messages,
        moderation_reviews,
        reports,
        alerts,
        mentorship_requests,
        matches,
        agreements,
        consents,
        goals,
        goal_notes,
        closure_surveys,
        completion_confirmations,
        questionnaire_answers,
        jobs,
        mail_outbox,
        api_tokens,
        web_sessions
    ));
    print.extend(states!(
        matches: id, matches::status;
        conversations: id, conversations::status;
        messages: id, messages::status;
        mentorship_requests: id, mentorship_requests::status;
        alerts: id, alerts::status;
        consents: id, consents::decision;
        goals: id, goals::status;
        student_profiles: user_id, student_profiles::approval_status;
    ));
    let suspended: Vec<(String, bool)> =
        guardianships::table.select((guardianships::id, guardianships::view_suspended)).load(c).unwrap();
    print.insert("guardianships suspended", debug(suspended));
    let surveys: Vec<(String, Option<chrono::NaiveDateTime>)> =
        closure_surveys::table.select((closure_surveys::id, closure_surveys::submitted_at)).load(c).unwrap();
    print.insert("surveys submitted", debug(surveys));
    let vetting: Vec<(String, chrono::NaiveDateTime)> =
        mentor_profiles::table.select((mentor_profiles::user_id, mentor_profiles::updated_at)).load(c).unwrap();
    print.insert("mentor profiles", debug(vetting));
    let logins: Vec<(String, Option<chrono::NaiveDateTime>)> =
        users::table.select((users::id, users::last_login_at)).order(users::id).load(c).unwrap();
    print.insert("last logins", debug(logins));
    let revoked: i64 = api_tokens::table.filter(api_tokens::revoked_at.is_not_null()).count().get_result(c).unwrap();
    print.insert("revoked tokens", debug(revoked));
    print
}

// ---- the rows -------------------------------------------------------------------------------

fn mentoring(
    action: &'static str,
    setup: Setup,
    body: fn(&Ids) -> Body,
    probe: fn(&mut DbConnection, &Ids) -> String,
    expect: [u16; 9],
) -> Row {
    Row {
        method: "POST",
        pattern: "/mentoring",
        action: Some(action),
        setup,
        path: |_| "/mentoring".into(),
        body,
        probe,
        expect,
    }
}

fn rows() -> Vec<Row> {
    use Setup::*;
    let row = |method: &'static str,
               pattern: &'static str,
               setup: Setup,
               path: fn(&Ids) -> String,
               body: fn(&Ids) -> Body,
               probe: fn(&mut DbConnection, &Ids) -> String,
               expect: [u16; 9]| Row { method, pattern, action: None, setup, path, body, probe, expect };
    vec![
        // ---- pages (cookie session + CSRF token) ----
        row(
            "POST",
            "/login",
            Nothing,
            |_| "/login".into(),
            |_| form(&[("email", "student1@demo.trellis.test"), ("password", DEMO_PASSWORD), ("next", "/dashboard")]),
            |c, ids| {
                debug(
                    users::table
                        .find(ids.u("student1"))
                        .select(users::last_login_at)
                        .first::<Option<chrono::NaiveDateTime>>(c)
                        .unwrap(),
                )
            },
            [303; 9],
        ),
        row(
            "POST",
            "/logout",
            Nothing,
            |_| "/logout".into(),
            |_| form(&[]),
            |c, _| debug(web_sessions::table.count().get_result::<i64>(c).unwrap()),
            [303; 9],
        ),
        row(
            "POST",
            "/conversations/{id}/messages",
            Nothing,
            |ids| format!("/conversations/{}/messages", ids.conv1),
            |_| form(&[("text", "Thanks, I read about trusses. See you Tuesday at 4pm in our session!")]),
            conv1_messages,
            P_PAIR,
        ),
        row(
            "POST",
            "/conversations/{id}/reports",
            Nothing,
            |ids| format!("/conversations/{}/reports", ids.conv1),
            |ids| form(&[("message_id", ids.message1.as_str()), ("reason", "This message worries me.")]),
            report_count,
            P_READERS,
        ),
        row(
            "POST",
            "/conversations/{id}/pause",
            Nothing,
            |ids| format!("/conversations/{}/pause", ids.conv1),
            |_| form(&[("reason", "We need a break during the exams.")]),
            match1_status,
            P_GUARDIAN_COORD,
        ),
        row(
            "POST",
            "/conversations/{id}/end",
            Nothing,
            |ids| format!("/conversations/{}/end", ids.conv1),
            |_| form(&[("reason", "The student moved to another programme.")]),
            match1_status,
            P_COORD,
        ),
        // The held message is in conversation 2: its own pair (mentor2 sent it) and guardian2
        // may not decide on it, only the teacher of the school and the coordinator.
        row(
            "POST",
            "/review/{message_id}",
            Nothing,
            |ids| format!("/review/{}", ids.held),
            |_| form(&[("decision", "approve"), ("note", "")]),
            held_status,
            P_STAFF,
        ),
        row(
            "POST",
            "/review/requests/{id}",
            HeldRequest,
            |ids| format!("/review/requests/{}", ids.held_request),
            |_| form(&[("decision", "approve"), ("note", "")]),
            |c, ids| request_status(c, &ids.held_request),
            P_STAFF,
        ),
        row(
            "POST",
            "/alerts/{id}/acknowledge",
            Alert,
            |ids| format!("/alerts/{}/acknowledge", ids.alert),
            |_| form(&[("note", "")]),
            alert_status,
            P_COORD,
        ),
        row(
            "POST",
            "/alerts/{id}/resolve",
            Alert,
            |ids| format!("/alerts/{}/resolve", ids.alert),
            |_| form(&[("note", "Spoke with the family; all is well.")]),
            alert_status,
            P_COORD,
        ),
        row(
            "POST",
            "/guardians/{id}",
            Nothing,
            |ids| format!("/guardians/{}", ids.guardianship1),
            |_| form(&[("suspend", "true"), ("reason", "A court order limits this guardian's access.")]),
            |c, ids| {
                debug(
                    guardianships::table
                        .find(&ids.guardianship1)
                        .select(guardianships::view_suspended)
                        .first::<bool>(c)
                        .unwrap(),
                )
            },
            P_COORD,
        ),
        // The e-mailed link's token is the credential (the guardian need not be signed in), so
        // whoever holds a valid, unused token may answer; a wrong token is a 404 for everyone
        // (the GET matrix checks that).
        row(
            "POST",
            "/consent/{token}",
            Consent,
            |ids| format!("/consent/{}", ids.consent_token),
            |_| form(&[("decision", "give"), ("reason", "")]),
            |c, _| debug(consents::table.select(consents::decision).order(consents::id).load::<String>(c).unwrap()),
            [200; 9],
        ),
        row(
            "POST",
            "/surveys/{id}",
            Survey,
            |ids| format!("/surveys/{}", ids.survey),
            |_| form(&[("rating", "5"), ("went_well", "Building the bridge model."), ("improve", "More time.")]),
            |c, ids| {
                debug(
                    closure_surveys::table
                        .find(&ids.survey)
                        .select(closure_surveys::submitted_at)
                        .first::<Option<chrono::NaiveDateTime>>(c)
                        .unwrap(),
                )
            },
            P_STUDENT1,
        ),
        // ---- the actions of the Mentoring page ----
        mentoring(
            "answers",
            Nothing,
            |_| form(&[("action", "answers"), ("q_interests", "robotics"), ("q_availability", "weekday evenings")]),
            answers,
            P_PARTICIPANTS,
        ),
        mentoring(
            "request",
            FreeStudents,
            |ids| {
                form(&[
                    ("action", "request"),
                    ("mentor_id", ids.u("mentor3").as_str()),
                    ("message", "Hi Max! I love the ocean and would like to learn about marine biology."),
                ])
            },
            request_count,
            P_STUDENTS,
        ),
        mentoring(
            "withdraw",
            Request,
            |ids| form(&[("action", "withdraw"), ("request_id", ids.request.as_str())]),
            |c, ids| request_status(c, ids.request.as_str()),
            P_STUDENT1,
        ),
        mentoring(
            "accept",
            Request,
            |ids| {
                form(&[("action", "accept"), ("request_id", ids.request.as_str()), ("message", "Happy to continue!")])
            },
            |c, ids| request_status(c, ids.request.as_str()),
            P_MENTOR1,
        ),
        mentoring(
            "decline",
            Request,
            |ids| {
                form(&[("action", "decline"), ("request_id", ids.request.as_str()), ("message", "I have no time now.")])
            },
            |c, ids| request_status(c, ids.request.as_str()),
            P_MENTOR1,
        ),
        mentoring(
            "sign",
            AwaitingAgreement,
            |ids| form(&[("action", "sign"), ("match_id", ids.pending_match.as_str())]),
            agreement_count,
            P_PAIR,
        ),
        mentoring(
            "complete",
            Nothing,
            |ids| form(&[("action", "complete"), ("match_id", ids.match1.as_str())]),
            confirmation_count,
            P_PAIR,
        ),
        mentoring(
            "goal",
            Nothing,
            |ids| {
                form(&[
                    ("action", "goal"),
                    ("match_id", ids.match1.as_str()),
                    ("title", "Build a model truss bridge"),
                    ("description", ""),
                    ("target_date", "2027-03-01"),
                ])
            },
            goal_count,
            P_PAIR,
        ),
        mentoring(
            "goal_update",
            Goal,
            |ids| {
                form(&[
                    ("action", "goal_update"),
                    ("goal_id", ids.goal.as_str()),
                    ("status", "in_progress"),
                    ("note", "Bought the sticks."),
                ])
            },
            goal_state,
            P_PAIR,
        ),
        mentoring(
            "vetting",
            Nothing,
            |ids| {
                form(&[
                    ("action", "vetting"),
                    ("mentor_id", ids.u("mentor1").as_str()),
                    ("background_check_status", "passed"),
                    ("background_check_expires_on", "2030-01-01"),
                    ("training", "on"),
                    ("conduct", "on"),
                    ("approved", "on"),
                    ("capacity", "3"),
                ])
            },
            mentor1_vetting,
            P_COORD,
        ),
        mentoring(
            "approve_student",
            PendingStudent,
            |ids| form(&[("action", "approve_student"), ("student_id", ids.u("student1").as_str())]),
            student1_approval,
            P_COORD,
        ),
        mentoring(
            "manual_match",
            Nothing,
            |ids| {
                form(&[
                    ("action", "manual_match"),
                    ("student_id", ids.u("student3").as_str()),
                    ("mentor_id", ids.u("mentor3").as_str()),
                    ("note", "Both love marine science."),
                ])
            },
            match_count,
            P_COORD,
        ),
        // ---- the API (bearer tokens; anonymous = no token) ----
        row(
            "POST",
            "/api/v1/tokens",
            Nothing,
            |_| "/api/v1/tokens".into(),
            |_| Body::Json(json!({ "email": "student1@demo.trellis.test", "password": DEMO_PASSWORD })),
            token_counts,
            [201; 9],
        ),
        row(
            "DELETE",
            "/api/v1/tokens/current",
            Nothing,
            |_| "/api/v1/tokens/current".into(),
            |_| Body::Empty,
            token_counts,
            [401, 204, 204, 204, 204, 204, 204, 204, 204],
        ),
        row(
            "POST",
            "/api/v1/conversations/{id}/messages",
            Nothing,
            |ids| format!("/api/v1/conversations/{}/messages", ids.conv1),
            |_| Body::Json(json!({ "text": "Thanks, I read about trusses. See you Tuesday at 4pm in our session!" })),
            conv1_messages,
            api(P_PAIR, 201),
        ),
        row(
            "POST",
            "/api/v1/moderation/queue/{message_id}",
            Nothing,
            |ids| format!("/api/v1/moderation/queue/{}", ids.held),
            |_| Body::Json(json!({ "decision": "approve", "note": "" })),
            held_status,
            api(P_STAFF, 200),
        ),
        row(
            "POST",
            "/api/v1/reports",
            Nothing,
            |_| "/api/v1/reports".into(),
            |ids| {
                Body::Json(json!({
                    "conversation_id": ids.conv1, "message_id": ids.message1, "reason": "This message worries me."
                }))
            },
            report_count,
            api(P_READERS, 201),
        ),
        row(
            "PUT",
            "/api/v1/questionnaire",
            Nothing,
            |_| "/api/v1/questionnaire".into(),
            |_| Body::Json(json!({ "interests": ["robotics"], "availability": ["weekday evenings"] })),
            answers,
            api(P_PARTICIPANTS, 204),
        ),
        row(
            "POST",
            "/api/v1/requests",
            FreeStudents,
            |_| "/api/v1/requests".into(),
            |ids| {
                Body::Json(json!({
                    "mentor_id": ids.u("mentor3"),
                    "message": "Hi Max! I love the ocean and would like to learn about marine biology."
                }))
            },
            request_count,
            api(P_STUDENTS, 201),
        ),
        row(
            "POST",
            "/api/v1/requests/{id}/accept",
            Request,
            |ids| format!("/api/v1/requests/{}/accept", ids.request),
            |_| Body::Json(json!({ "message": "Happy to continue!" })),
            |c, ids| request_status(c, ids.request.as_str()),
            api(P_MENTOR1, 200),
        ),
        row(
            "POST",
            "/api/v1/requests/{id}/decline",
            Request,
            |ids| format!("/api/v1/requests/{}/decline", ids.request),
            |_| Body::Json(json!({ "message": "I have no time now." })),
            |c, ids| request_status(c, ids.request.as_str()),
            api(P_MENTOR1, 200),
        ),
        row(
            "POST",
            "/api/v1/requests/{id}/withdraw",
            Request,
            |ids| format!("/api/v1/requests/{}/withdraw", ids.request),
            |_| Body::Empty,
            |c, ids| request_status(c, ids.request.as_str()),
            api(P_STUDENT1, 204),
        ),
        row(
            "POST",
            "/api/v1/requests/{id}/review",
            HeldRequest,
            |ids| format!("/api/v1/requests/{}/review", ids.held_request),
            |_| Body::Json(json!({ "decision": "approve", "note": "" })),
            |c, ids| request_status(c, &ids.held_request),
            api(P_STAFF, 200),
        ),
        row(
            "POST",
            "/api/v1/matches",
            Nothing,
            |_| "/api/v1/matches".into(),
            |ids| {
                Body::Json(json!({
                    "student_id": ids.u("student3"), "mentor_id": ids.u("mentor3"), "note": "Both love marine science."
                }))
            },
            match_count,
            api(P_COORD, 201),
        ),
        row(
            "POST",
            "/api/v1/matches/{id}/agreement",
            AwaitingAgreement,
            |ids| format!("/api/v1/matches/{}/agreement", ids.pending_match),
            |_| Body::Empty,
            agreement_count,
            api(P_PAIR, 200),
        ),
        row(
            "POST",
            "/api/v1/matches/{id}/complete",
            Nothing,
            |ids| format!("/api/v1/matches/{}/complete", ids.match1),
            |_| Body::Empty,
            confirmation_count,
            api(P_PAIR, 200),
        ),
        row(
            "POST",
            "/api/v1/matches/{id}/end",
            Nothing,
            |ids| format!("/api/v1/matches/{}/end", ids.match1),
            |_| Body::Json(json!({ "reason": "The student moved to another programme." })),
            match1_status,
            api(P_COORD, 200),
        ),
        row(
            "POST",
            "/api/v1/matches/{id}/goals",
            Nothing,
            |ids| format!("/api/v1/matches/{}/goals", ids.match1),
            |_| Body::Json(json!({ "title": "Build a model truss bridge", "target_date": "2027-03-01" })),
            goal_count,
            api(P_PAIR, 201),
        ),
        row(
            "POST",
            "/api/v1/goals/{id}",
            Goal,
            |ids| format!("/api/v1/goals/{}", ids.goal),
            |_| Body::Json(json!({ "status": "in_progress", "note": "Bought the sticks." })),
            goal_state,
            api(P_PAIR, 204),
        ),
        row(
            "POST",
            "/api/v1/mentors/{id}/vetting",
            Nothing,
            |ids| format!("/api/v1/mentors/{}/vetting", ids.u("mentor1")),
            |_| {
                Body::Json(json!({
                    "background_check_status": "passed", "background_check_expires_on": "2030-01-01",
                    "safeguarding_training_done": true, "code_of_conduct_signed": true, "approved": true,
                    "capacity": 3
                }))
            },
            mentor1_vetting,
            api(P_COORD, 200),
        ),
        row(
            "POST",
            "/api/v1/students/{id}/approve",
            PendingStudent,
            |ids| format!("/api/v1/students/{}/approve", ids.u("student1")),
            |_| Body::Empty,
            student1_approval,
            api(P_COORD, 200),
        ),
    ]
}

// ---- discovery of the write routes in the code ----------------------------------------------

const WRITE_METHODS: [&str; 4] = ["post", "put", "delete", "patch"];

/// Every `#[post("…")]`, `#[put("…")]`, `#[delete("…")]`, `#[patch("…")]` and
/// `web::resource("…").route(web::post()…)` in the web and API modules, with the API prefix.
fn write_routes_in_code() -> BTreeSet<String> {
    let root = crate::repo::root().join("src");
    let mut routes = BTreeSet::new();
    for (dir, prefix) in [("web", ""), ("api", "/api/v1")] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for marker in ["#[route(", "web::route()", "web::method(", ".guard(guard::"] {
                assert!(!text.contains(marker), "{}: teach write_routes_in_code about `{marker}`", path.display());
            }
            for method in WRITE_METHODS {
                for part in text.split(&format!("#[{method}(\"")).skip(1) {
                    let pattern = part.split('"').next().unwrap();
                    routes.insert(format!("{} {prefix}{pattern}", method.to_uppercase()));
                }
            }
            for part in text.split("web::resource(\"").skip(1) {
                let pattern = part.split('"').next().unwrap();
                let registration = part.split(".service(").next().unwrap().split(';').next().unwrap();
                for method in WRITE_METHODS {
                    if registration.contains(&format!("web::{method}()")) {
                        routes.insert(format!("{} {prefix}{pattern}", method.to_uppercase()));
                    }
                }
            }
        }
    }
    routes
}

/// The `action` values `POST /mentoring` acts on (the arms of its `match action.as_str()`).
fn mentoring_actions_in_code() -> BTreeSet<String> {
    let path = crate::repo::root().join("src/web/mentoring.rs");
    let text = std::fs::read_to_string(path).unwrap();
    let arms = text.split("match action.as_str() {").nth(1).expect("POST /mentoring dispatches on `action`");
    let arms = arms.split("_ => return Err").next().unwrap();
    let mut actions = BTreeSet::new();
    for line in arms.lines().map(str::trim).filter(|l| l.starts_with('"') && l.ends_with("=> {")) {
        for alternative in line.trim_end_matches("=> {").split('|') {
            actions.insert(alternative.trim().trim_matches('"').to_owned());
        }
    }
    assert!(actions.len() > 5, "found too few actions of POST /mentoring: {actions:?}");
    actions
}

// ---- one fresh demo app per refusal set and per allowed cell --------------------------------

struct Fixture {
    app: TestApp,
    ids: Ids,
    server: actix_web::dev::ServerHandle,
}

impl Fixture {
    /// A server over a fresh demo database (as `TestApp::with_demo`, keeping the server handle
    /// so the many apps of this test are stopped as soon as they are done) plus `setup`.
    async fn new(setup: Setup) -> Fixture {
        let mailer = Mailer::memory();
        let state =
            trellis::app::prepare_state_with(test_settings(), mailer.clone(), shared_classifier()).expect("app state");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let server = trellis::app::run(listener, state.clone(), actix_web::cookie::Key::generate()).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        let app = TestApp { address, state, mailer };
        seed_demo(&app);
        let mut ids = demo_ids(&app);
        prepare(&app, &mut ids, setup);
        Fixture { app, ids, server: handle }
    }

    async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// What the demo seeding gets from the real moderation pipeline, per text and sender role.
type DemoVerdict = (MessageStatus, Option<String>, String, String);

/// The demo programme, as `TestApp::seed_demo` makes it, with the pipeline's verdicts on the
/// demo texts computed once for the whole matrix (they are the same every time; moderating them
/// anew was most of the cost of a fresh app).
fn seed_demo(app: &TestApp) {
    static VERDICTS: OnceLock<Mutex<HashMap<(String, Role), DemoVerdict>>> = OnceLock::new();
    let pipeline = demo::pipeline_moderator(&app.state.pipeline);
    let moderate = |text: &str, role: Role| -> DemoVerdict {
        let mut verdicts = VERDICTS.get_or_init(Default::default).lock().unwrap();
        verdicts.entry((text.to_owned(), role)).or_insert_with(|| pipeline(text, role)).clone()
    };
    let summary = demo::seed(&mut app.conn(), &app.state.passwords, &moderate).expect("demo seeding");
    assert!(summary.created);
}

fn demo_ids(app: &TestApp) -> Ids {
    let mut c = app.conn();
    let c = &mut *c;
    let mut ids = Ids::default();
    for (email, _, _) in demo::DEMO_ACCOUNTS {
        let id: String = users::table.filter(users::email.eq(email)).select(users::id).first(c).unwrap();
        ids.user.insert(email.split('@').next().unwrap().to_owned(), id);
    }
    let pair = |c: &mut DbConnection, student: &str| -> (String, String) {
        conversations::table
            .inner_join(matches::table)
            .filter(matches::student_id.eq(student))
            .select((conversations::id, matches::id))
            .first(c)
            .unwrap()
    };
    (ids.conv1, ids.match1) = pair(c, ids.u("student1").as_str());
    ids.message1 = messages::table
        .filter(messages::conversation_id.eq(&ids.conv1))
        .filter(messages::status.eq("delivered"))
        .order(messages::created_at.asc())
        .select(messages::id)
        .first(c)
        .unwrap();
    ids.held = messages::table.filter(messages::status.eq("held")).select(messages::id).first(c).unwrap();
    ids.guardianship1 = guardianships::table
        .filter(guardianships::guardian_id.eq(ids.u("guardian1")))
        .filter(guardianships::student_id.eq(ids.u("student1")))
        .select(guardianships::id)
        .first(c)
        .unwrap();
    ids.demo_request = mentorship_requests::table
        .filter(mentorship_requests::student_id.eq(ids.u("student3")))
        .filter(mentorship_requests::status.eq("open"))
        .select(mentorship_requests::id)
        .first(c)
        .unwrap();
    ids
}

fn actor(c: &mut DbConnection, ids: &Ids, who: &str) -> Actor {
    accounts::load_actor(c, &ids.u(who)).unwrap().expect("an active demo account")
}

/// Makes what a row needs through the real services (one direct update where none exists).
fn prepare(app: &TestApp, ids: &mut Ids, setup: Setup) {
    use Setup::*;
    let mut c = app.conn();
    let c = &mut *c;
    let ctx = app.state.lifecycle_context(now());
    let coordinator = actor(c, ids, "coordinator");
    let end = |c: &mut DbConnection, match_id: &str| {
        lifecycle::end_match(c, &ctx, &coordinator, match_id, "The pair finished early.").unwrap();
    };
    let ask_mentor1_again = |c: &mut DbConnection, ids: &mut Ids| {
        end(c, ids.match1.as_str());
        let student1 = actor(c, ids, "student1");
        let text = "Hi Maya! Could we keep working on bridges together this term?";
        let view = lifecycle::send_request(c, &ctx, &student1, &ids.u("mentor1"), text).unwrap();
        assert_eq!(view.status, "open");
        ids.request = view.id;
    };
    match setup {
        Nothing => {}
        Alert => {
            let guardian1 = actor(c, ids, "guardian1");
            let (programme, url) = (&app.state.programme, &app.state.settings.public_url);
            let report =
                oversight::file_report(c, programme, url, &guardian1, &ids.conv1, None, "I am worried.").unwrap();
            ids.alert = alerts::table.filter(alerts::report_id.eq(&report.id)).select(alerts::id).first(c).unwrap();
        }
        Goal => {
            let student1 = actor(c, ids, "student1");
            let goal = goal_service::NewGoal {
                title: "Read about truss bridges".into(),
                description: String::new(),
                target_date: None,
            };
            ids.goal = goal_service::create(c, &app.state.pipeline, &student1, &ids.match1, &goal, now()).unwrap();
        }
        Survey => {
            end(c, ids.match1.as_str());
            ids.survey = closure_surveys::table
                .filter(closure_surveys::match_id.eq(ids.match1.as_str()))
                .filter(closure_surveys::user_id.eq(ids.u("student1")))
                .select(closure_surveys::id)
                .first(c)
                .unwrap();
        }
        FreeStudents => {
            end(c, ids.match1.as_str());
            let match2: String =
                matches::table.filter(matches::student_id.eq(ids.u("student2"))).select(matches::id).first(c).unwrap();
            end(c, &match2);
        }
        Request => ask_mentor1_again(c, ids),
        AwaitingAgreement => {
            ask_mentor1_again(c, ids);
            let mentor1 = actor(c, ids, "mentor1");
            lifecycle::answer_request(c, &ctx, &mentor1, &ids.request, true, "Yes!").unwrap();
            ids.pending_match = matches::table
                .filter(matches::student_id.eq(ids.u("student1")))
                .filter(matches::status.eq("awaiting_agreement"))
                .select(matches::id)
                .first(c)
                .unwrap();
        }
        HeldRequest => {
            let student3 = actor(c, ids, "student3");
            let text = "Please be my mentor! Add me on snap: sasha.sea so we can talk more";
            let view = lifecycle::send_request(c, &ctx, &student3, &ids.u("mentor2"), text).unwrap();
            assert_eq!(view.status, "awaiting_review", "the request is held");
            ids.held_request = view.id;
        }
        Consent => {
            let (student3, mentor3) = (actor(c, ids, "student3"), actor(c, ids, "mentor3"));
            lifecycle::answer_request(c, &ctx, &mentor3, &ids.demo_request, true, "Welcome!").unwrap();
            let match3: String =
                matches::table.filter(matches::student_id.eq(ids.u("student3"))).select(matches::id).first(c).unwrap();
            lifecycle::sign_agreement(c, &ctx, &student3, &match3).unwrap();
            assert_eq!(lifecycle::sign_agreement(c, &ctx, &mentor3, &match3).unwrap(), "awaiting_consent");
            let bodies: Vec<String> = mail_outbox::table
                .filter(mail_outbox::to_address.eq(demo_email("guardian2")))
                .select(mail_outbox::body_text)
                .load(c)
                .unwrap();
            let body = bodies.iter().find(|b| b.contains("/consent/")).expect("a consent e-mail");
            let start = body.find("/consent/").unwrap() + "/consent/".len();
            ids.consent_token = body[start..].split(|ch: char| !ch.is_ascii_alphanumeric()).next().unwrap().to_owned();
        }
        PendingStudent => {
            diesel::update(student_profiles::table.find(ids.u("student1")))
                .set((
                    student_profiles::approval_status.eq("pending"),
                    student_profiles::approved_at.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(c)
                .unwrap();
        }
    }
}

// ---- sending --------------------------------------------------------------------------------

/// One role's ways in: a browser (cookie session) with its CSRF token, and an API token.
struct Caller {
    browser: reqwest::Client,
    csrf: String,
    token: Option<String>,
}

async fn caller(app: &TestApp, role: &str, api: bool) -> Caller {
    if role == "anon" {
        let browser = app.client();
        let csrf = app.csrf_token(&browser, "/login").await;
        return Caller { browser, csrf, token: None };
    }
    let browser = app.signed_in(role).await;
    let csrf = app.csrf_token(&browser, "/").await;
    let token = if api { Some(app.token(role).await) } else { None };
    Caller { browser, csrf, token }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Normal,
    /// A page form without its `csrf_token` field.
    CsrfMissing,
    /// A page form with the (valid) token of another session.
    CsrfForeign,
    /// An API call from a signed-in browser, without a bearer token.
    CookieOnly,
}

async fn send(app: &TestApp, row: &Row, ids: &Ids, caller: &Caller, mode: Mode, foreign: &str) -> (u16, String) {
    let url = app.url(&(row.path)(ids));
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
    let request = if row.is_api() {
        let request = match (mode, &caller.token) {
            (Mode::CookieOnly, _) => caller.browser.request(method, url),
            (_, Some(token)) => reqwest::Client::new().request(method, url).bearer_auth(token),
            (_, None) => reqwest::Client::new().request(method, url),
        };
        match (row.body)(ids) {
            Body::Json(value) => request.json(&value),
            Body::Empty => request,
            Body::Form(_) => panic!("{}: the API takes JSON", row.name()),
        }
    } else {
        let mut fields = match (row.body)(ids) {
            Body::Form(fields) => fields,
            Body::Empty => Vec::new(),
            Body::Json(_) => panic!("{}: pages take forms", row.name()),
        };
        match mode {
            Mode::Normal => fields.push(("csrf_token", caller.csrf.clone())),
            Mode::CsrfForeign => fields.push(("csrf_token", foreign.to_owned())),
            Mode::CsrfMissing => {}
            Mode::CookieOnly => panic!("cookie-only is an API check"),
        }
        caller.browser.request(method, url).form(&fields)
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// What a refusal must never show: the names in the demo and the held message's text.
fn leaks(body: &str) -> Option<&'static str> {
    demo::DEMO_ACCOUNTS.iter().map(|(_, name, _)| *name).chain(["403 555 0142"]).find(|s| body.contains(s))
}

fn allowed(status: u16) -> bool {
    (200..400).contains(&status)
}

#[derive(Default)]
struct Outcome {
    cells: usize,
    checks: usize,
    failures: Vec<String>,
}

/// All the roles a row refuses, in one app; plus the CSRF (pages) or cookie (API) checks.
async fn refusals(row: Row) -> Outcome {
    let mut out = Outcome::default();
    let denied: Vec<usize> = (0..9).filter(|&i| !allowed(row.expect[i])).collect();
    // An allowed caller for the CSRF / cookie checks: a signed-in one where there is one.
    let checker = (1..9).chain([0]).find(|&i| allowed(row.expect[i]));
    let checker = match checker {
        Some(i) if row.is_api() && (i == 0 || row.expect[0] != 401) => None, // no auth: nothing to check
        other => other,
    };
    if denied.is_empty() && checker.is_none() {
        return out;
    }
    let fx = Fixture::new(row.setup).await;
    let mut callers = BTreeMap::new();
    for &i in denied.iter().chain(checker.iter()) {
        callers.insert(i, caller(&fx.app, ROLES[i], row.is_api()).await);
    }
    let foreign = fx.app.csrf_token(&fx.app.client(), "/login").await;
    let before = fingerprint(&mut fx.app.conn());
    for &i in &denied {
        let (status, body) = send(&fx.app, &row, &fx.ids, &callers[&i], Mode::Normal, "").await;
        out.cells += 1;
        if status != row.expect[i] {
            out.failures.push(format!("{} {} → {status}, expected {}", ROLES[i], row.name(), row.expect[i]));
        }
        if let Some(leak) = leaks(&body) {
            out.failures.push(format!("{} {} → {status} shows {leak:?}", ROLES[i], row.name()));
        }
    }
    if let Some(i) = checker {
        let modes: &[(Mode, u16)] = if row.is_api() {
            &[(Mode::CookieOnly, 401)]
        } else {
            &[(Mode::CsrfMissing, 403), (Mode::CsrfForeign, 403)]
        };
        for &(mode, expected) in modes {
            let (status, body) = send(&fx.app, &row, &fx.ids, &callers[&i], mode, &foreign).await;
            out.checks += 1;
            if status != expected {
                out.failures.push(format!("{} {} {mode:?} → {status}, expected {expected}", ROLES[i], row.name()));
            }
            if let Some(leak) = leaks(&body) {
                out.failures.push(format!("{} {} {mode:?} → {status} shows {leak:?}", ROLES[i], row.name()));
            }
        }
    }
    let after = fingerprint(&mut fx.app.conn());
    for (key, value) in &before {
        if after[key] != *value {
            out.failures.push(format!(
                "{}: refused requests changed {key}:\n    before {value}\n    after  {}",
                row.name(),
                after[key]
            ));
        }
    }
    fx.stop().await;
    out
}

/// One allowed role, in its own app: the expected success, and the target really changed.
async fn success(row: Row, i: usize) -> Outcome {
    let mut out = Outcome { cells: 1, ..Outcome::default() };
    let fx = Fixture::new(row.setup).await;
    let who = caller(&fx.app, ROLES[i], row.is_api()).await;
    let before = (row.probe)(&mut fx.app.conn(), &fx.ids);
    let (status, body) = send(&fx.app, &row, &fx.ids, &who, Mode::Normal, "").await;
    let after = (row.probe)(&mut fx.app.conn(), &fx.ids);
    if status != row.expect[i] {
        let excerpt: String = body.chars().take(300).collect();
        out.failures.push(format!("{} {} → {status}, expected {}: {excerpt}", ROLES[i], row.name(), row.expect[i]));
    } else if before == after {
        out.failures.push(format!("{} {} → {status} but nothing changed ({before})", ROLES[i], row.name()));
    }
    fx.stop().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_route_for_every_role() {
    let started = Instant::now();
    let rows = rows();
    let covered: BTreeSet<String> = rows.iter().map(|r| format!("{} {}", r.method, r.pattern)).collect();
    assert_eq!(covered, write_routes_in_code(), "every write route needs a row in the matrix (and only those)");
    let actions: BTreeSet<String> = rows.iter().filter_map(|r| r.action.map(str::to_owned)).collect();
    assert_eq!(actions, mentoring_actions_in_code(), "every action of POST /mentoring needs a row");
    let names: BTreeSet<String> = rows.iter().map(Row::name).collect();
    assert_eq!(names.len(), rows.len(), "one row per route (and action)");

    let limit = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for row in &rows {
        let row = *row;
        let permit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit.acquire_owned().await.unwrap();
            refusals(row).await
        }));
        for i in (0..9).filter(|&i| allowed(row.expect[i])) {
            let permit = limit.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = permit.acquire_owned().await.unwrap();
                success(row, i).await
            }));
        }
    }
    let apps = tasks.len();
    let mut total = Outcome::default();
    for outcome in futures_util::future::join_all(tasks).await {
        let outcome = outcome.expect("a matrix task panicked");
        total.cells += outcome.cells;
        total.checks += outcome.checks;
        total.failures.extend(outcome.failures);
    }
    eprintln!(
        "write matrix: {} routes × {} roles = {} cells, {} CSRF/cookie checks, {apps} apps, {:.1?}",
        rows.len(),
        ROLES.len(),
        total.cells,
        total.checks,
        started.elapsed()
    );
    assert_eq!(total.cells, rows.len() * ROLES.len(), "every cell was tried");
    total.failures.sort();
    assert!(total.failures.is_empty(), "write authorization mismatches:\n{}", total.failures.join("\n"));
}
