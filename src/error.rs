//! One error type for the whole application.
//!
//! Every failure is an [`AppError`] with a [`ErrorKind`] that decides the status code. The
//! message is written for the person on the other end ("That e-mail and password do not
//! match"); the cause and the caller's location are logged, never shown. JSON is the default
//! body; the `web::error_pages` middleware turns error answers on page routes into HTML.

use std::fmt;
use std::panic::Location;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// Serialised (for the OpenAPI document) as the same snake_case names `code()` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code for the JSON API.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn from_status(status: StatusCode) -> ErrorKind {
        match status.as_u16() {
            405 => ErrorKind::MethodNotAllowed,
            400 | 411 | 415 | 422 => ErrorKind::BadRequest,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            413 => ErrorKind::PayloadTooLarge,
            429 => ErrorKind::TooManyRequests,
            503 => ErrorKind::Unavailable,
            s if (400..500).contains(&s) => ErrorKind::BadRequest,
            _ => ErrorKind::Internal,
        }
    }

    fn default_message(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "The request could not be understood.",
            ErrorKind::Unauthenticated => "Please sign in to continue.",
            ErrorKind::Forbidden => "You are not allowed to do that.",
            ErrorKind::NotFound => "We could not find that page.",
            ErrorKind::MethodNotAllowed => "That address does not take this kind of request.",
            ErrorKind::Conflict => "That has already been done or changed by someone else.",
            ErrorKind::PayloadTooLarge => "That is more data than we accept in one request.",
            ErrorKind::TooManyRequests => "Too many attempts. Please wait and try again.",
            ErrorKind::Unavailable => "Trellis is busy right now. Please try again in a moment.",
            ErrorKind::Internal => "Something went wrong on our side. Nothing you sent was lost; please try again.",
        }
    }
}

pub struct AppError {
    pub kind: ErrorKind,
    message: String,
    cause: Option<anyhow::Error>,
    location: &'static Location<'static>,
}

pub type AppResult<T> = Result<T, AppError>;

/// What the error pages middleware needs to know about an error answer: its public message.
#[derive(Clone, Debug)]
pub struct PublicErrorMessage(pub String);

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl AppError {
    #[track_caller]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError { kind, message: message.into(), cause: None, location: Location::caller() }
    }

    #[track_caller]
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    #[track_caller]
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, ErrorKind::NotFound.default_message())
    }

    #[track_caller]
    pub fn unauthenticated() -> Self {
        Self::new(ErrorKind::Unauthenticated, ErrorKind::Unauthenticated.default_message())
    }

    #[track_caller]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    #[track_caller]
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        AppError {
            kind: ErrorKind::Internal,
            message: ErrorKind::Internal.default_message().to_owned(),
            cause: Some(cause.into()),
            location: Location::caller(),
        }
    }

    pub fn with_cause(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    pub fn json_body(kind: ErrorKind, message: &str) -> String {
        serde_json::to_string(&ErrorBody { error: ErrorDetail { code: kind.code(), message } })
            .unwrap_or_else(|_| String::from("{\"error\":{\"code\":\"internal\",\"message\":\"error\"}}"))
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("cause", &self.cause)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|c| c.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.kind == ErrorKind::Internal {
            tracing::error!(location = %self.location, cause = ?self.cause, "internal error");
        } else if let Some(cause) = &self.cause {
            tracing::warn!(location = %self.location, kind = ?self.kind, cause = %cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code())
            .content_type("application/json")
            .body(Self::json_body(self.kind, &self.message));
        response.extensions_mut().insert(PublicErrorMessage(self.message.clone()));
        response
    }
}

impl From<diesel::result::Error> for AppError {
    #[track_caller]
    fn from(err: diesel::result::Error) -> Self {
        match err {
            diesel::result::Error::NotFound => AppError::not_found().with_cause(err),
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                AppError::conflict(ErrorKind::Conflict.default_message()).with_cause(err)
            }
            other => AppError::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    #[track_caller]
    fn from(err: diesel::r2d2::PoolError) -> Self {
        AppError::new(ErrorKind::Unavailable, ErrorKind::Unavailable.default_message()).with_cause(err)
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    #[track_caller]
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

impl From<tera::Error> for AppError {
    #[track_caller]
    fn from(err: tera::Error) -> Self {
        AppError::internal(err)
    }
}

/// Turns a kind into a default public message (used for framework errors).
pub fn default_message(kind: ErrorKind) -> &'static str {
    kind.default_message()
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn the_documented_code_is_the_code_sent() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::Unauthenticated,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::MethodNotAllowed,
            ErrorKind::Conflict,
            ErrorKind::PayloadTooLarge,
            ErrorKind::TooManyRequests,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.code());
        }
    }
}
