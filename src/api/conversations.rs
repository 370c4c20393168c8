//! Conversations and messages over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::ApiCaller;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::messaging;

#[get("/conversations")]
pub async fn list(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let list = crate::db::run(&state.pool, move |conn| messaging::list_conversations(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "conversations": list })))
}

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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "conversation": conversation, "messages": messages })))
}

#[derive(Deserialize)]
pub struct SendBody {
    text: String,
}

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
