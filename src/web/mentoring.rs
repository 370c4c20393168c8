//! The "Mentoring" page: the lifecycle for each role — questionnaire, suggestions and
//! requests, the agreement, goals and closure; vetting, approval and manual matching for
//! coordinators. Every form posts back here with a CSRF token and a one-time notice.

use std::collections::BTreeMap;

use actix_session::Session;
use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;

use crate::access::Actor;
use crate::app::AppState;
use crate::db::enums::Role;
use crate::db::models::{Match, MentorProfile};
use crate::db::schema::{
    agreements, closure_surveys, completion_confirmations, matches, mentor_profiles, student_profiles, users,
};
use crate::error::{AppError, AppResult};
use crate::services::lifecycle::{self, LifecycleContext, VettingUpdate};
use crate::services::{goals, matching};
use crate::web::pages::redirect;
use crate::web::{csrf, identity, templates};

fn ctx(state: &AppState) -> LifecycleContext<'_> {
    state.lifecycle_context(crate::db::now())
}

#[derive(Serialize)]
struct MatchPanel {
    id: String,
    other_name: String,
    status: String,
    status_label: &'static str,
    i_signed: bool,
    i_confirmed: bool,
    goals: Vec<goals::GoalView>,
    stage: Option<crate::programme_policy::FrameworkStage>,
}

#[derive(Serialize)]
struct MentorRow {
    id: String,
    name: String,
    field: String,
    capacity: i32,
    background_check_status: String,
    background_check_expires_on: String,
    missing: Vec<&'static str>,
}

#[derive(Serialize)]
struct StudentRow {
    id: String,
    name: String,
    approval_status: String,
}

#[derive(Serialize)]
struct SurveyRow {
    name: String,
    answers: String,
}

fn participant_panel(
    conn: &mut crate::db::DbConnection,
    state: &AppState,
    actor: &Actor,
) -> AppResult<Option<MatchPanel>> {
    let query = matches::table.into_boxed();
    let query = if actor.role == Role::Student {
        query.filter(matches::student_id.eq(&actor.user_id))
    } else {
        query.filter(matches::mentor_id.eq(&actor.user_id))
    };
    let m: Option<Match> = query
        .filter(matches::status.eq_any(["awaiting_agreement", "awaiting_consent", "active", "paused"]))
        .order(matches::created_at.desc())
        .select(Match::as_select())
        .first(conn)
        .optional()?;
    let Some(m) = m else { return Ok(None) };
    let other = if actor.role == Role::Student { &m.mentor_id } else { &m.student_id };
    let other_name: String = users::table.find(other).select(users::display_name).first(conn)?;
    let i_signed: i64 = agreements::table
        .filter(agreements::match_id.eq(&m.id))
        .filter(agreements::user_id.eq(&actor.user_id))
        .count()
        .get_result(conn)?;
    let i_confirmed: i64 = completion_confirmations::table
        .filter(completion_confirmations::match_id.eq(&m.id))
        .filter(completion_confirmations::user_id.eq(&actor.user_id))
        .count()
        .get_result(conn)?;
    Ok(Some(MatchPanel {
        goals: goals::list(conn, actor, &m.id)?,
        stage: goals::current_stage(&state.programme, m.started_at, crate::db::now()).cloned(),
        id: m.id,
        other_name,
        status_label: crate::services::dashboard::status_label(&m.status),
        status: m.status,
        i_signed: i_signed > 0,
        i_confirmed: i_confirmed > 0,
    }))
}

#[get("/mentoring")]
pub async fn page(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    if matches!(actor.role, Role::Guardian | Role::Teacher) {
        return Err(AppError::not_found());
    }
    let mut context = identity::page_context(&session, Some(&actor))?;
    let st = state.clone();
    let viewer = actor.clone();
    let data = crate::db::run(&state.pool, move |conn| {
        let mut data = serde_json::Map::new();
        let ctx = ctx(&st);
        if matches!(viewer.role, Role::Student | Role::Mentor) {
            let answers = matching::load_answers(conn, std::slice::from_ref(&viewer.user_id))?
                .remove(&viewer.user_id)
                .unwrap_or_default();
            let questions: Vec<_> = st
                .programme
                .questions
                .iter()
                .filter(|q| q.audience.iter().any(|a| a == viewer.role.as_str()))
                .cloned()
                .collect();
            data.insert("questions".into(), serde_json::to_value(questions).map_err(AppError::internal)?);
            data.insert("answers".into(), serde_json::to_value(answers).map_err(AppError::internal)?);
            data.insert(
                "requests".into(),
                serde_json::to_value(lifecycle::list_requests(conn, &viewer)?).map_err(AppError::internal)?,
            );
            data.insert(
                "panel".into(),
                serde_json::to_value(participant_panel(conn, &st, &viewer)?).map_err(AppError::internal)?,
            );
            data.insert("agreement".into(), serde_json::to_value(&st.programme.agreement).map_err(AppError::internal)?);
        }
        if viewer.role == Role::Student {
            data.insert(
                "suggestions".into(),
                serde_json::to_value(matching::suggestions(conn, &st.programme, &viewer)?)
                    .map_err(AppError::internal)?,
            );
        }
        if viewer.role == Role::Coordinator {
            let rows: Vec<(MentorProfile, String)> = mentor_profiles::table
                .inner_join(users::table.on(users::id.eq(mentor_profiles::user_id)))
                .order(users::display_name.asc())
                .select((MentorProfile::as_select(), users::display_name))
                .load(conn)?;
            let mentors: Vec<MentorRow> = rows
                .into_iter()
                .map(|(p, name)| MentorRow {
                    missing: crate::services::dashboard::vetting_gaps(&p, ctx.at),
                    id: p.user_id,
                    name,
                    field: p.field,
                    capacity: p.capacity,
                    background_check_status: p.background_check_status,
                    background_check_expires_on: p
                        .background_check_expires_at
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                })
                .collect();
            let students: Vec<StudentRow> = student_profiles::table
                .inner_join(users::table)
                .order(users::display_name.asc())
                .select((users::id, users::display_name, student_profiles::approval_status))
                .load::<(String, String, String)>(conn)?
                .into_iter()
                .map(|(id, name, approval_status)| StudentRow { id, name, approval_status })
                .collect();
            let surveys: Vec<SurveyRow> = closure_surveys::table
                .inner_join(users::table)
                .filter(closure_surveys::answers.is_not_null())
                .select((users::display_name, closure_surveys::answers.assume_not_null()))
                .load::<(String, String)>(conn)?
                .into_iter()
                .map(|(name, answers)| SurveyRow { name, answers })
                .collect();
            data.insert("mentors".into(), serde_json::to_value(mentors).map_err(AppError::internal)?);
            data.insert("students".into(), serde_json::to_value(students).map_err(AppError::internal)?);
            data.insert("surveys".into(), serde_json::to_value(surveys).map_err(AppError::internal)?);
        }
        Ok(data)
    })
    .await?;
    for (k, v) in data {
        context.insert(k, &v);
    }
    templates::render("mentoring.html", &context)
}

/// Every form on the page: `action` says what to do; the other fields depend on it.
struct MentoringForm {
    csrf_token: String,
    action: String,
    fields: BTreeMap<String, String>,
}

#[post("/mentoring")]
pub async fn act(session: Session, state: web::Data<AppState>, body: web::Bytes) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    // Repeated keys (checkboxes) need the raw pairs, so the body is parsed here.
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::bad_request("The form was incomplete or malformed. Please go back and try again."))?;
    let form: MentoringForm = MentoringForm {
        csrf_token: pairs.iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v.clone()).unwrap_or_default(),
        action: pairs.iter().find(|(k, _)| k == "action").map(|(_, v)| v.clone()).unwrap_or_default(),
        fields: pairs.iter().cloned().collect(),
    };
    csrf::verify(&session, &form.csrf_token)?;
    let fields = form.fields;
    let field = move |k: &str| fields.get(k).cloned().unwrap_or_default();
    let st = state.clone();
    let action = form.action.clone();
    let notice = crate::db::run(&state.pool, move |conn| {
        let ctx = ctx(&st);
        let text = match action.as_str() {
            "answers" => {
                let mut answers: matching::Answers = BTreeMap::new();
                for (k, v) in &pairs {
                    if let Some(key) = k.strip_prefix("q_") {
                        answers.entry(key.to_owned()).or_default().push(v.clone());
                    }
                }
                for q in st.programme.questions.iter().filter(|q| q.audience.iter().any(|a| a == actor.role.as_str())) {
                    answers.entry(q.key.clone()).or_default();
                }
                matching::save_answers(conn, &st.programme, &actor, &answers)?;
                "Your answers are saved. Suggestions are updated."
            }
            "request" => {
                lifecycle::send_request(conn, &ctx, &actor, &field("mentor_id"), &field("message"))?;
                "Your request was sent."
            }
            "withdraw" => {
                lifecycle::withdraw_request(conn, &actor, &field("request_id"))?;
                "Your request was withdrawn."
            }
            "accept" | "decline" => {
                lifecycle::answer_request(
                    conn,
                    &ctx,
                    &actor,
                    &field("request_id"),
                    action == "accept",
                    &field("message"),
                )?;
                if action == "accept" {
                    "You accepted. Next, both of you sign the agreement."
                } else {
                    "You declined the request; the student was told."
                }
            }
            "sign" => {
                lifecycle::sign_agreement(conn, &ctx, &actor, &field("match_id"))?;
                "You signed the agreement."
            }
            "complete" => {
                lifecycle::confirm_completion(conn, &ctx, &actor, &field("match_id"))?;
                "You confirmed the objectives are met."
            }
            "goal" => {
                let target = field("target_date");
                let target_date = if target.is_empty() {
                    None
                } else {
                    Some(
                        chrono::NaiveDate::parse_from_str(&target, "%Y-%m-%d")
                            .map_err(|_| AppError::bad_request("Please give the target date as YYYY-MM-DD."))?,
                    )
                };
                goals::create(
                    conn,
                    ctx.pipeline,
                    &actor,
                    &field("match_id"),
                    &goals::NewGoal { title: field("title"), description: field("description"), target_date },
                    ctx.at,
                )?;
                "Goal added."
            }
            "goal_update" => {
                let status = Some(field("status")).filter(|s| !s.is_empty());
                let note = Some(field("note")).filter(|s| !s.is_empty());
                goals::update(
                    conn,
                    ctx.pipeline,
                    &actor,
                    &field("goal_id"),
                    &goals::GoalUpdate { status, note },
                    ctx.at,
                )?;
                "Goal updated."
            }
            "vetting" => {
                let date = field("background_check_expires_on");
                let update = VettingUpdate {
                    background_check_status: Some(field("background_check_status")).filter(|s| !s.is_empty()),
                    background_check_expires_on: if date.is_empty() {
                        None
                    } else {
                        Some(
                            chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                                .map_err(|_| AppError::bad_request("Please give the expiry date as YYYY-MM-DD."))?,
                        )
                    },
                    safeguarding_training_done: Some(field("training") == "on"),
                    code_of_conduct_signed: Some(field("conduct") == "on"),
                    approved: Some(field("approved") == "on"),
                    capacity: field("capacity").parse().ok(),
                };
                lifecycle::update_vetting(conn, &ctx, &actor, &field("mentor_id"), &update)?;
                "Vetting saved."
            }
            "approve_student" => {
                lifecycle::approve_student(conn, &ctx, &actor, &field("student_id"))?;
                "The student is approved; the two-month activation period has started."
            }
            "manual_match" => {
                lifecycle::manual_match(conn, &ctx, &actor, &field("student_id"), &field("mentor_id"), &field("note"))?;
                "Matched. Both were asked to sign the agreement."
            }
            _ => return Err(AppError::bad_request("Unknown action.")),
        };
        Ok(text)
    })
    .await?;
    identity::flash(&session, notice);
    Ok(redirect("/mentoring"))
}
