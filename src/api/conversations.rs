//! Conversations and messages over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::ApiCaller;
use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::messaging::{self, ConversationView, MessageView, SendOutcome};

#[derive(Serialize, ToSchema)]
pub struct ConversationList {
    conversations: Vec<ConversationView>,
}

/// Conversations the caller may read: their own, their child's, their students', or (coordinators) all.
#[utoipa::path(
    tag = "conversations",
    operation_id = "list_conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The conversations", body = ConversationList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
    ),
)]
#[get("/conversations")]
pub async fn list(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let conversations = crate::db::run(&state.pool, move |conn| messaging::list_conversations(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(ConversationList { conversations }))
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    conversation: ConversationView,
    messages: Vec<MessageView>,
}

/// The messages of a conversation the caller may see.
///
/// Participants see delivered messages and their own held or blocked ones with their status;
/// teachers and coordinators see all, with the verdict. A read by anyone but the two
/// participants is written to the access log.
#[utoipa::path(
    tag = "conversations",
    operation_id = "list_messages",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation and its messages", body = MessageList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such conversation, or not one the caller may read", body = ErrorBody),
    ),
)]
#[get("/conversations/{id}/messages")]
pub async fn messages(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let id = path.into_inner();
    let st = state.clone();
    let (conversation, messages) =
        crate::db::run(&state.pool, move |conn| messaging::read_messages(conn, &st.programme, &actor, &id)).await?;
    Ok(HttpResponse::Ok().json(MessageList { conversation, messages }))
}

#[derive(Deserialize, ToSchema)]
pub struct SendBody {
    /// The message; it is moderated before anyone else sees it.
    text: String,
}

/// Sends a message (the student or mentor of an active match).
///
/// The message is stored, moderated, and then delivered, delivered with contact details
/// masked (`redacted`), held for a reviewer or blocked; `reasons` say what happened in words.
#[utoipa::path(
    tag = "conversations",
    operation_id = "send_message",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body = SendBody,
    responses(
        (status = 201, description = "Stored and moderated", body = SendOutcome),
        (status = 400, description = "Empty or too long, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such conversation, or the caller is not one of its two participants", body = ErrorBody),
        (status = 409, description = "The conversation does not take messages (not yet open, paused, or closed)", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Sending too quickly", body = ErrorBody),
    ),
)]
#[post("/conversations/{id}/messages")]
pub async fn send(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SendBody>,
) -> AppResult<HttpResponse> {
    let outcome =
        crate::services::messaging_runtime::send(&state, caller.actor, path.into_inner(), body.into_inner().text)
            .await?;
    Ok(HttpResponse::Created().json(outcome))
}
