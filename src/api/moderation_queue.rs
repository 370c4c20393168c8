//! The review queue over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::ApiCaller;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::review::{self, Decision};

#[get("/moderation/queue")]
pub async fn queue(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let items = crate::db::run(&state.pool, move |conn| review::queue(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(Deserialize)]
pub struct DecisionBody {
    decision: Decision,
    #[serde(default)]
    note: String,
}

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
