//! Matching and the mentoring lifecycle over the API.

use actix_web::{get, post, put, web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::ApiCaller;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::lifecycle::{self, LifecycleContext, VettingUpdate};
use crate::services::matching::{self, Answers};

fn ctx(state: &AppState) -> LifecycleContext<'_> {
    state.lifecycle_context(crate::db::now())
}

#[get("/suggestions")]
pub async fn suggestions(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let st = state.clone();
    let list =
        crate::db::run(&state.pool, move |conn| matching::suggestions(conn, &st.programme, &caller.actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "suggestions": list })))
}

#[get("/questionnaire")]
pub async fn questionnaire(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use crate::db::enums::Role;
    if !matches!(caller.actor.role, Role::Student | Role::Mentor) {
        return Err(crate::error::AppError::not_found());
    }
    let role = caller.actor.role.as_str().to_owned();
    let id = caller.actor.user_id.clone();
    let answers = crate::db::run(&state.pool, move |conn| {
        Ok(matching::load_answers(conn, std::slice::from_ref(&id))?.remove(&id).unwrap_or_default())
    })
    .await?;
    let questions: Vec<_> =
        state.programme.questions.iter().filter(|q| q.audience.iter().any(|a| a == &role)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "questions": questions, "answers": answers })))
}

#[put("/questionnaire")]
pub async fn save_questionnaire(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: web::Json<Answers>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    crate::db::run(&state.pool, move |conn| matching::save_answers(conn, &st.programme, &caller.actor, &body)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct NewRequest {
    mentor_id: String,
    message: String,
}

#[post("/requests")]
pub async fn send_request(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: web::Json<NewRequest>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let view = crate::db::run(&state.pool, move |conn| {
        lifecycle::send_request(conn, &ctx(&st), &caller.actor, &body.mentor_id, &body.message)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[get("/requests")]
pub async fn list_requests(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let list = crate::db::run(&state.pool, move |conn| lifecycle::list_requests(conn, &caller.actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "requests": list })))
}

#[derive(Deserialize, Default)]
pub struct Note {
    #[serde(default)]
    message: String,
}

async fn answer(
    caller: ApiCaller,
    state: web::Data<AppState>,
    id: String,
    accepting: bool,
    note: String,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let view = crate::db::run(&state.pool, move |conn| {
        lifecycle::answer_request(conn, &ctx(&st), &caller.actor, &id, accepting, &note)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[post("/requests/{id}/accept")]
pub async fn accept(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<Note>>,
) -> AppResult<HttpResponse> {
    answer(caller, state, path.into_inner(), true, body.map(|b| b.into_inner().message).unwrap_or_default()).await
}

#[post("/requests/{id}/decline")]
pub async fn decline(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<Note>>,
) -> AppResult<HttpResponse> {
    answer(caller, state, path.into_inner(), false, body.map(|b| b.into_inner().message).unwrap_or_default()).await
}

#[post("/requests/{id}/withdraw")]
pub async fn withdraw(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    crate::db::run(&state.pool, move |conn| lifecycle::withdraw_request(conn, &caller.actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct ManualMatch {
    student_id: String,
    mentor_id: String,
    note: String,
}

#[post("/matches")]
pub async fn manual_match(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: web::Json<ManualMatch>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let m = crate::db::run(&state.pool, move |conn| {
        lifecycle::manual_match(conn, &ctx(&st), &caller.actor, &body.student_id, &body.mentor_id, &body.note)
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": m.id, "status": m.status })))
}

#[post("/matches/{id}/agreement")]
pub async fn sign(caller: ApiCaller, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    let status =
        crate::db::run(&state.pool, move |conn| lifecycle::sign_agreement(conn, &ctx(&st), &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": status })))
}

#[post("/matches/{id}/complete")]
pub async fn complete(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    let status =
        crate::db::run(&state.pool, move |conn| lifecycle::confirm_completion(conn, &ctx(&st), &caller.actor, &id))
            .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": status })))
}

#[derive(Deserialize)]
pub struct Reason {
    reason: String,
}

#[post("/matches/{id}/end")]
pub async fn end(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<Reason>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    crate::db::run(&state.pool, move |conn| lifecycle::end_match(conn, &ctx(&st), &caller.actor, &id, &body.reason))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ended" })))
}

#[post("/mentors/{id}/vetting")]
pub async fn vetting(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<VettingUpdate>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    let missing =
        crate::db::run(&state.pool, move |conn| lifecycle::update_vetting(conn, &ctx(&st), &caller.actor, &id, &body))
            .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "fully_vetted": missing.is_empty(), "missing": missing })))
}

#[post("/students/{id}/approve")]
pub async fn approve_student(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    crate::db::run(&state.pool, move |conn| lifecycle::approve_student(conn, &ctx(&st), &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "approved" })))
}

#[get("/matches/{id}/goals")]
pub async fn goals(caller: ApiCaller, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let list = crate::db::run(&state.pool, move |conn| crate::services::goals::list(conn, &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "goals": list })))
}

#[post("/matches/{id}/goals")]
pub async fn create_goal(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<crate::services::goals::NewGoal>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let pipeline = state.pipeline.clone();
    let goal_id = crate::db::run(&state.pool, move |conn| {
        crate::services::goals::create(conn, &pipeline, &caller.actor, &id, &body, crate::db::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": goal_id })))
}

#[post("/goals/{id}")]
pub async fn update_goal(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<crate::services::goals::GoalUpdate>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let pipeline = state.pipeline.clone();
    crate::db::run(&state.pool, move |conn| {
        crate::services::goals::update(conn, &pipeline, &caller.actor, &id, &body, crate::db::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct RequestReview {
    decision: crate::services::review::Decision,
    #[serde(default)]
    note: String,
}

#[post("/requests/{id}/review")]
pub async fn review_request(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RequestReview>,
) -> AppResult<HttpResponse> {
    use crate::services::review::Decision;
    let st = state.clone();
    let id = path.into_inner();
    let approve = match body.decision {
        Decision::Approve => true,
        Decision::Reject => false,
        Decision::Escalate => return Err(crate::error::AppError::bad_request("Requests can be approved or rejected.")),
    };
    crate::db::run(&state.pool, move |conn| {
        lifecycle::review_request(conn, &ctx(&st), &caller.actor, &id, approve, &body.note)
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": if approve { "open" } else { "cancelled" } })))
}
