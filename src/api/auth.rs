//! Bearer-token authentication for `/api/v1`.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::access::Actor;
use crate::app::AppState;
use crate::error::{AppError, ErrorKind};
use crate::services::accounts;

/// The caller of an API route: the token's id (for `DELETE /tokens/current`) and the actor.
pub struct ApiCaller {
    pub token_id: String,
    pub actor: Actor,
}

impl FromRequest for ApiCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal(anyhow::anyhow!("app state missing")))?;
            let token = token.filter(|t| !t.is_empty() && t.len() < 200).ok_or_else(|| {
                AppError::new(ErrorKind::Unauthenticated, "Send a bearer token: Authorization: Bearer <token>.")
            })?;
            let resolved = crate::db::run(&state.pool, move |conn| accounts::resolve_token(conn, &token)).await?;
            let (token_id, actor) = resolved.ok_or_else(|| {
                AppError::new(
                    ErrorKind::Unauthenticated,
                    "That token is not valid. It may have expired or been revoked.",
                )
            })?;
            Ok(ApiCaller { token_id, actor })
        })
    }
}
