//! Reports and alerts over the API.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::ApiCaller;
use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::oversight::{self, AlertView};

#[derive(Deserialize, ToSchema)]
pub struct ReportBody {
    /// A conversation the caller may read.
    conversation_id: String,
    /// A message of that conversation, when the worry is about one message.
    message_id: Option<String>,
    /// What worries the reporter, in a few words (at most 2000 characters).
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportCreated {
    id: String,
    status: String,
}

/// Reports a worry about a conversation or one of its messages; raises an alert for the
/// safeguarding leads.
#[utoipa::path(
    tag = "oversight",
    operation_id = "file_report",
    security(("bearer" = [])),
    request_body = ReportBody,
    responses(
        (status = 201, description = "Filed", body = ReportCreated),
        (status = 400, description = "No reason, or too long, or not the JSON asked for", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "No such conversation or message, or not one the caller may read", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
    ),
)]
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
    Ok(HttpResponse::Created().json(ReportCreated { id: report.id, status: report.status }))
}

#[derive(Serialize, ToSchema)]
pub struct AlertList {
    alerts: Vec<AlertView>,
}

/// Safeguarding alerts (coordinators): open and acknowledged first, by severity, then due time.
#[utoipa::path(
    tag = "oversight",
    operation_id = "list_alerts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The alerts", body = AlertList),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 404, description = "The caller is not a coordinator", body = ErrorBody),
    ),
)]
#[get("/alerts")]
pub async fn alerts(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = caller.actor;
    let alerts = crate::db::run(&state.pool, move |conn| oversight::list_alerts(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(AlertList { alerts }))
}
