//! The review queue over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::ApiCaller;
use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::review::{self, Decision, DecisionOutcome, QueueItem};

#[derive(Serialize, ToSchema)]
pub struct QueueList {
    /// Most urgent first; within the same urgency, the longest waiting first.
    items: Vec<QueueItem>,
}

/// Held messages waiting for a person (teachers: their students'; coordinators: all).
#[utoipa::path(
    tag = "moderation",
    operation_id = "moderation_queue",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The held messages with their verdicts", body = QueueList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller does not review messages", body = ErrorBody),
    ),
)]
#[get("/moderation/queue")]
pub async fn queue(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let items = crate::db::run(&state.pool, move |conn| review::queue(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(QueueList { items }))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    decision: Decision,
    /// Why; required to reject (the sender is told) or escalate. At most 2000 characters.
    #[serde(default)]
    note: String,
}

/// Decides a held message: approve (deliver it), reject (never delivered) or escalate (an alert
/// for the safeguarding lead; the message stays held).
#[utoipa::path(
    tag = "moderation",
    operation_id = "decide_held_message",
    security(("bearer" = [])),
    params(("message_id" = String, Path, description = "Id of the held message")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "Decided", body = DecisionOutcome),
        (status = 400, description = "A note is missing or too long, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such message, or not one the caller reviews", body = ErrorBody),
        (status = 409, description = "Already decided (by another reviewer)", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
#[post("/moderation/queue/{message_id}")]
pub async fn decide(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<DecisionBody>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let id = path.into_inner();
    let body = body.into_inner();
    let st = state.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        review::decide(conn, &st.programme, &st.settings.public_url, &actor, &id, body.decision, &body.note)
    })
    .await?;
    state.notify_conversation_change(&outcome.conversation_id);
    Ok(HttpResponse::Ok().json(outcome))
}
