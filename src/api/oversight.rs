//! Reports and alerts over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;

use crate::api::auth::ApiCaller;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::oversight;

#[derive(Deserialize)]
pub struct ReportBody {
    conversation_id: String,
    message_id: Option<String>,
    reason: String,
}

#[post("/reports")]
pub async fn report(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: web::Json<ReportBody>,
) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let body = body.into_inner();
    let st = state.clone();
    let report = crate::db::run(&state.pool, move |conn| {
        oversight::file_report(
            conn,
            &st.programme,
            &st.settings.public_url,
            &actor,
            &body.conversation_id,
            body.message_id.as_deref(),
            &body.reason,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": report.id, "status": report.status })))
}

#[get("/alerts")]
pub async fn alerts(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let list = crate::db::run(&state.pool, move |conn| oversight::list_alerts(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "alerts": list })))
}
