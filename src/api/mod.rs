//! The JSON API under `/api/v1` (bearer tokens). Errors are `{"error": {"code", "message"}}`.

pub mod auth;
pub mod conversations;
pub mod lifecycle;
pub mod moderation_queue;
pub mod openapi;
pub mod oversight;
pub mod tokens;

use actix_web::web;

use crate::error::{AppError, ErrorKind};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(tokens::create)
            .service(tokens::revoke_current)
            .service(tokens::me)
            .service(conversations::list)
            .service(conversations::messages)
            .service(conversations::send)
            .service(moderation_queue::queue)
            .service(moderation_queue::decide)
            .service(oversight::report)
            .service(oversight::alerts)
            .service(lifecycle::suggestions)
            .service(lifecycle::questionnaire)
            .service(lifecycle::save_questionnaire)
            .service(lifecycle::send_request)
            .service(lifecycle::list_requests)
            .service(lifecycle::accept)
            .service(lifecycle::decline)
            .service(lifecycle::withdraw)
            .service(lifecycle::review_request)
            .service(lifecycle::manual_match)
            .service(lifecycle::sign)
            .service(lifecycle::complete)
            .service(lifecycle::end)
            .service(lifecycle::vetting)
            .service(lifecycle::approve_student)
            .service(lifecycle::goals)
            .service(lifecycle::create_goal)
            .service(lifecycle::update_goal)
            .service(openapi::openapi_json)
            .default_service(web::to(not_found)),
    );
}

/// An unknown address is 404; a known one asked with a method it does not take is 405, with
/// the methods it does take in `Allow`.
async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, AppError> {
    use actix_web::ResponseError;
    let Some(allowed) = openapi::documented_methods(req.path()) else {
        return Err(AppError::not_found());
    };
    let mut response =
        AppError::new(ErrorKind::MethodNotAllowed, format!("This address takes {allowed} only.")).error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(actix_web::http::header::ALLOW, value);
    }
    Ok(response)
}
