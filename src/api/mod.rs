//! The JSON API under `/api/v1` (bearer tokens). Errors are `{"error": {"code", "message"}}`.

pub mod auth;
pub mod conversations;
pub mod lifecycle;
pub mod moderation_queue;
pub mod oversight;
pub mod tokens;

use actix_web::web;

use crate::error::AppError;

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
            .default_service(web::to(not_found)),
    );
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::not_found())
}
