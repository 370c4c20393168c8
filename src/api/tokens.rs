//! `POST /api/v1/tokens`, `DELETE /api/v1/tokens/current`, `GET /api/v1/me`.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::ApiCaller;
use crate::api::openapi::ErrorBody;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::error::{AppError, AppResult};
use crate::services::accounts;
use crate::web::pages::client_address;

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    #[schema(example = "student1@demo.trellis.test")]
    email: String,
    password: String,
}

/// Who a token belongs to.
#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: String,
    role: crate::db::enums::Role,
    display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token; only its hash is stored, so it is shown this once.
    token: String,
    user: UserView,
}

/// Signs in with e-mail and password and issues a bearer token.
///
/// Failed attempts count towards a lockout per account and per client address.
#[utoipa::path(
    tag = "tokens",
    operation_id = "create_token",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "A new token", body = TokenResponse),
        (status = 400, description = "The body is not the JSON asked for", body = ErrorBody),
        (status = 401, description = "The e-mail and password do not match", body = ErrorBody),
        (status = 403, description = "The account is not active", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "Too many failed attempts: locked out for a while", body = ErrorBody),
    ),
)]
#[post("/tokens")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let passwords = state.passwords.clone();
    let throttle = state.throttle();
    let lifetime = chrono::Duration::days(state.settings.api_token_days);
    let client = client_address(&req);
    let _slot = state.password_slots.acquire().await.map_err(AppError::internal)?;
    let (token, user) = crate::db::run(&state.pool, move |conn| {
        let user = accounts::authenticate(conn, &passwords, throttle, &body.email, &body.password, &client)?;
        let token = accounts::issue_token(conn, &user.id, lifetime)?;
        Ok((token, user))
    })
    .await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token,
        user: UserView {
            id: user.id,
            role: user.role.parse().map_err(AppError::internal)?,
            display_name: user.display_name,
        },
    }))
}

/// Revokes the token this request is made with.
#[utoipa::path(
    tag = "tokens",
    operation_id = "revoke_current_token",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked: the token no longer works"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
    ),
)]
#[delete("/tokens/current")]
pub async fn revoke_current(caller: ApiCaller, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let token_id = caller.token_id.clone();
    let user_id = caller.actor.user_id.clone();
    crate::db::run(&state.pool, move |conn| {
        crate::db::write_transaction(conn, |c| {
            accounts::revoke_token(c, &token_id)?;
            audit::record(
                c,
                AuditEntry {
                    actor_id: Some(&user_id),
                    action: "api_token.revoked",
                    subject_type: "api_token",
                    subject_id: &token_id,
                    details: serde_json::json!({}),
                },
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller.
#[utoipa::path(
    tag = "tokens",
    operation_id = "get_me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The owner of the token", body = UserView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
    ),
)]
#[get("/me")]
pub async fn me(caller: ApiCaller) -> HttpResponse {
    HttpResponse::Ok().json(UserView {
        id: caller.actor.user_id,
        role: caller.actor.role,
        display_name: caller.actor.display_name,
    })
}
