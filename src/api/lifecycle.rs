//! Matching and the mentoring lifecycle over the API.

use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::ApiCaller;
use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::error::AppResult;
use crate::programme_policy::Question;
use crate::services::goals::{GoalUpdate, GoalView, NewGoal};
use crate::services::lifecycle::{self, LifecycleContext, RequestView, VettingUpdate};
use crate::services::matching::{self, Answers, Suggestion};

fn ctx(state: &AppState) -> LifecycleContext<'_> {
    state.lifecycle_context(crate::db::now())
}

/// `{"status": …}`: where a request, match or student now stands.
#[derive(Serialize, ToSchema)]
pub struct StatusBody {
    status: String,
}

/// `{"id": …}` of what was just created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    id: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    suggestions: Vec<Suggestion>,
}

/// The best-fitting mentors for the calling student (top 3), with the reasons.
#[utoipa::path(
    tag = "matching",
    operation_id = "list_suggestions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The suggestions", body = SuggestionList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is not a student", body = ErrorBody),
    ),
)]
#[get("/suggestions")]
pub async fn suggestions(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let st = state.clone();
    let suggestions =
        crate::db::run(&state.pool, move |conn| matching::suggestions(conn, &st.programme, &caller.actor)).await?;
    Ok(HttpResponse::Ok().json(SuggestionList { suggestions }))
}

#[derive(Serialize, ToSchema)]
pub struct Questionnaire {
    /// The questions for the caller's role.
    questions: Vec<Question>,
    /// The caller's answers so far, by question key.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<String>>)]
    answers: Answers,
}

/// The matching questionnaire for the caller (students and mentors) and their answers.
#[utoipa::path(
    tag = "matching",
    operation_id = "get_questionnaire",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Questions and answers", body = Questionnaire),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is neither a student nor a mentor", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Ok().json(Questionnaire { questions: questions.into_iter().cloned().collect(), answers }))
}

/// Saves answers to the questionnaire (students and mentors): question key → chosen options.
/// Questions left out keep their earlier answers.
#[utoipa::path(
    tag = "matching",
    operation_id = "save_questionnaire",
    security(("bearer" = [])),
    request_body(content = std::collections::BTreeMap<String, Vec<String>>, description = "Answers by question key"),
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "An unknown question or an answer that is not one of the choices", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is neither a student nor a mentor", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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

#[derive(Deserialize, ToSchema)]
pub struct NewRequest {
    /// A suggested (fully vetted, with room) mentor.
    mentor_id: String,
    /// A personal message (at least 10 characters), moderated like any message.
    message: String,
}

/// A student asks a mentor; the mentor has a deadline to answer.
#[utoipa::path(
    tag = "matching",
    operation_id = "send_request",
    security(("bearer" = [])),
    request_body = NewRequest,
    responses(
        (status = 201, description = "Sent (`open`), or held for a reviewer (`awaiting_review`)", body = RequestView),
        (status = 400, description = "The message is too short or too long, or moderation blocked it", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is not a student, or no such matchable mentor", body = ErrorBody),
        (status = 409, description = "Not approved yet, already has a mentor, already asked, or too many requests waiting", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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

#[derive(Serialize, ToSchema)]
pub struct RequestList {
    requests: Vec<RequestView>,
}

/// Mentorship requests: a student's own, those to a mentor, or (coordinators) all.
#[utoipa::path(
    tag = "matching",
    operation_id = "list_requests",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The requests, newest first", body = RequestList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is a guardian or teacher", body = ErrorBody),
    ),
)]
#[get("/requests")]
pub async fn list_requests(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let requests = crate::db::run(&state.pool, move |conn| lifecycle::list_requests(conn, &caller.actor)).await?;
    Ok(HttpResponse::Ok().json(RequestList { requests }))
}

/// An optional note to the student with the answer.
#[derive(Deserialize, Default, ToSchema)]
pub struct Note {
    /// At most 2000 characters.
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

/// The mentor accepts: a match is created that waits for both to sign the agreement.
#[utoipa::path(
    tag = "matching",
    operation_id = "accept_request",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    request_body(content = Option<Note>, description = "Optional; a body that is not this JSON is ignored"),
    responses(
        (status = 200, description = "Accepted", body = RequestView),
        (status = 400, description = "The note is too long, or contains a NUL character", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such request to the calling mentor", body = ErrorBody),
        (status = 409, description = "Already answered, expired, or the student already has a mentor", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
#[post("/requests/{id}/accept")]
pub async fn accept(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<Note>>,
) -> AppResult<HttpResponse> {
    answer(caller, state, path.into_inner(), true, body.map(|b| b.into_inner().message).unwrap_or_default()).await
}

/// The mentor declines; the student is offered other mentors.
#[utoipa::path(
    tag = "matching",
    operation_id = "decline_request",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    request_body(content = Option<Note>, description = "Optional; a body that is not this JSON is ignored"),
    responses(
        (status = 200, description = "Declined", body = RequestView),
        (status = 400, description = "The note is too long, or contains a NUL character", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such request to the calling mentor", body = ErrorBody),
        (status = 409, description = "Already answered, expired, or the student already has a mentor", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
#[post("/requests/{id}/decline")]
pub async fn decline(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Option<web::Json<Note>>,
) -> AppResult<HttpResponse> {
    answer(caller, state, path.into_inner(), false, body.map(|b| b.into_inner().message).unwrap_or_default()).await
}

/// The student withdraws a request that is still waiting.
#[utoipa::path(
    tag = "matching",
    operation_id = "withdraw_request",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such request of the calling student", body = ErrorBody),
        (status = 409, description = "The request is no longer waiting", body = ErrorBody),
    ),
)]
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

#[derive(Deserialize, ToSchema)]
pub struct ManualMatch {
    student_id: String,
    mentor_id: String,
    /// Why this match (required).
    note: String,
}

#[derive(Serialize, ToSchema)]
pub struct MatchCreated {
    id: String,
    status: crate::db::enums::MatchStatus,
}

/// A coordinator matches an approved student with a fully vetted mentor by hand.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "create_match",
    security(("bearer" = [])),
    request_body = ManualMatch,
    responses(
        (status = 201, description = "Matched; both are asked to sign the agreement", body = MatchCreated),
        (status = 400, description = "No note, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is not a coordinator", body = ErrorBody),
        (status = 409, description = "The student is not approved or has a mentor, or the mentor cannot be matched", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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
    let status = m.status.parse().map_err(crate::error::AppError::internal)?;
    Ok(HttpResponse::Created().json(MatchCreated { id: m.id, status }))
}

/// A participant signs the mentoring agreement; once both have, each guardian is asked for consent.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "sign_agreement",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Match id")),
    responses(
        (status = 200, description = "`signed` (waiting for the other), or `awaiting_consent`", body = StatusBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such match of the caller", body = ErrorBody),
        (status = 409, description = "Already signed", body = ErrorBody),
    ),
)]
#[post("/matches/{id}/agreement")]
pub async fn sign(caller: ApiCaller, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    let status =
        crate::db::run(&state.pool, move |conn| lifecycle::sign_agreement(conn, &ctx(&st), &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(StatusBody { status }))
}

/// A participant confirms the objectives are met; with both, the mentorship completes.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "confirm_completion",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Match id")),
    responses(
        (status = 200, description = "`confirmed` (waiting for the other), or `completed`", body = StatusBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such match of the caller", body = ErrorBody),
        (status = 409, description = "Not active, or already confirmed", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Ok().json(StatusBody { status }))
}

#[derive(Deserialize, ToSchema)]
pub struct Reason {
    /// Why the mentorship ends (required).
    reason: String,
}

/// A coordinator ends a mentorship; the conversation locks read-only.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "end_match",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Match id")),
    request_body = Reason,
    responses(
        (status = 200, description = "Ended (`{\"status\": \"ended\"}`)", body = StatusBody),
        (status = 400, description = "No reason, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such match, or the caller is not a coordinator", body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Ok().json(StatusBody { status: "ended".into() }))
}

#[derive(Serialize, ToSchema)]
pub struct VettingResult {
    fully_vetted: bool,
    /// What is still missing, in words.
    missing: Vec<&'static str>,
}

/// A coordinator records a mentor's vetting (fields left out are unchanged).
#[utoipa::path(
    tag = "programme",
    operation_id = "update_vetting",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Mentor's user id")),
    request_body = VettingUpdate,
    responses(
        (status = 200, description = "Saved; what is still missing", body = VettingResult),
        (status = 400, description = "An unknown background-check status, a capacity out of 0..=10, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such mentor, or the caller is not a coordinator", body = ErrorBody),
        (status = 409, description = "Cannot be approved while vetting is incomplete", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Ok().json(VettingResult { fully_vetted: missing.is_empty(), missing }))
}

/// A coordinator approves a student for matching; the activation deadline starts.
#[utoipa::path(
    tag = "programme",
    operation_id = "approve_student",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Student's user id")),
    responses(
        (status = 200, description = "Approved (`{\"status\": \"approved\"}`)", body = StatusBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is not a coordinator", body = ErrorBody),
        (status = 409, description = "Already approved, or no such student", body = ErrorBody),
    ),
)]
#[post("/students/{id}/approve")]
pub async fn approve_student(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let st = state.clone();
    let id = path.into_inner();
    crate::db::run(&state.pool, move |conn| lifecycle::approve_student(conn, &ctx(&st), &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(StatusBody { status: "approved".into() }))
}

#[derive(Serialize, ToSchema)]
pub struct GoalList {
    goals: Vec<GoalView>,
}

/// The goals of a mentorship, with progress notes (anyone who may read its conversation).
#[utoipa::path(
    tag = "mentorship",
    operation_id = "list_goals",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Match id")),
    responses(
        (status = 200, description = "The goals, oldest first", body = GoalList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such match, or not one the caller may read", body = ErrorBody),
    ),
)]
#[get("/matches/{id}/goals")]
pub async fn goals(caller: ApiCaller, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let goals = crate::db::run(&state.pool, move |conn| crate::services::goals::list(conn, &caller.actor, &id)).await?;
    Ok(HttpResponse::Ok().json(GoalList { goals }))
}

/// A participant of an active mentorship sets a goal.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "create_goal",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Match id")),
    request_body = NewGoal,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 400, description = "A title of 1 to 200 characters is needed, the description is too long, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such match of the caller", body = ErrorBody),
        (status = 409, description = "The mentorship is not active", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
#[post("/matches/{id}/goals")]
pub async fn create_goal(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewGoal>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let pipeline = state.pipeline.clone();
    let goal_id = crate::db::run(&state.pool, move |conn| {
        crate::services::goals::create(conn, &pipeline, &caller.actor, &id, &body, crate::db::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(Created { id: goal_id }))
}

/// A participant of an active mentorship changes a goal's status and/or adds a progress note.
#[utoipa::path(
    tag = "mentorship",
    operation_id = "update_goal",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Goal id")),
    request_body = GoalUpdate,
    responses(
        (status = 204, description = "Saved"),
        (status = 400, description = "An unknown status, a note that is too long, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such goal of the caller", body = ErrorBody),
        (status = 409, description = "The mentorship is not active", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
#[post("/goals/{id}")]
pub async fn update_goal(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<GoalUpdate>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let pipeline = state.pipeline.clone();
    crate::db::run(&state.pool, move |conn| {
        crate::services::goals::update(conn, &pipeline, &caller.actor, &id, &body, crate::db::now())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct RequestReview {
    /// `approve` or `reject` (`escalate` is for messages only).
    decision: crate::services::review::Decision,
    /// Why; required to reject (the student is told).
    #[serde(default)]
    note: String,
}

/// A teacher or coordinator lets a held request through (it opens) or rejects it.
#[utoipa::path(
    tag = "matching",
    operation_id = "review_request",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    request_body = RequestReview,
    responses(
        (status = 200, description = "`open` (approved) or `cancelled` (rejected)", body = StatusBody),
        (status = 400, description = "`escalate`, a rejection without a note, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such request, or not one the caller reviews", body = ErrorBody),
        (status = 409, description = "Already reviewed", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Ok().json(StatusBody { status: if approve { "open" } else { "cancelled" }.into() }))
}
