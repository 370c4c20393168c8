//! `POST /api/v1/tokens`, `DELETE /api/v1/tokens/current`, `GET /api/v1/me`.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::api::auth::ApiCaller;
use crate::app::AppState;
use crate::audit::{self, AuditEntry};
use crate::error::AppResult;
use crate::services::accounts;
use crate::web::pages::client_address;

#[derive(Deserialize)]
pub struct TokenRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct UserView {
    id: String,
    role: String,
    display_name: String,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    user: UserView,
}

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
    let (token, user) = crate::db::run(&state.pool, move |conn| {
        let user = accounts::authenticate(conn, &passwords, throttle, &body.email, &body.password, &client)?;
        let token = accounts::issue_token(conn, &user.id, lifetime)?;
        Ok((token, user))
    })
    .await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token,
        user: UserView { id: user.id, role: user.role, display_name: user.display_name },
    }))
}

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

#[get("/me")]
pub async fn me(caller: ApiCaller) -> HttpResponse {
    HttpResponse::Ok().json(UserView {
        id: caller.actor.user_id,
        role: caller.actor.role.as_str().to_owned(),
        display_name: caller.actor.display_name,
    })
}
