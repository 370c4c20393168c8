//! Turns every error answer into what the caller expects: JSON `{"error": {...}}` under
//! `/api/`, an HTML page in the site layout elsewhere (or a redirect to sign in on 401).
//! Framework errors (unknown route, wrong method, bad form) get the same treatment.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, Result};
use tera::Context;

use crate::error::{default_message, AppError, ErrorKind};
use crate::web::templates;

pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

fn public_message<B>(res: &ServiceResponse<B>, kind: ErrorKind) -> String {
    res.response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| e.message().to_owned())
        .unwrap_or_else(|| default_message(kind).to_owned())
}

fn title(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "Page not found",
        ErrorKind::MethodNotAllowed => "Not possible here",
        ErrorKind::Forbidden => "Not allowed",
        ErrorKind::Unauthenticated => "Please sign in",
        ErrorKind::TooManyRequests => "Please wait",
        ErrorKind::PayloadTooLarge => "Too much data",
        ErrorKind::Conflict => "Already changed",
        ErrorKind::Unavailable => "Busy",
        ErrorKind::Internal => "Something went wrong",
        ErrorKind::BadRequest => "Please check what you sent",
    }
}

pub fn render_error_page(kind: ErrorKind, message: &str) -> HttpResponse {
    let mut context = Context::new();
    context.insert("status", &kind.status().as_u16());
    context.insert("title", title(kind));
    context.insert("message", message);
    let body = templates::render_string("error.html", &context)
        .unwrap_or_else(|_| format!("<!doctype html><title>{0}</title><p>{0}</p>", kind.status().as_u16()));
    HttpResponse::build(kind.status()).content_type("text/html; charset=utf-8").body(body)
}

pub fn handle<B: MessageBody + 'static>(res: ServiceResponse<B>) -> Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let kind = ErrorKind::from_status(status);
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let path = res.request().path().to_owned();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_api_path(&path) {
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let message = public_message(&res, kind);
        let (req, old) = res.into_parts();
        let mut new =
            HttpResponse::build(status).content_type("application/json").body(AppError::json_body(kind, &message));
        copy_allow_header(&old, &mut new);
        return Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()));
    }
    if is_html {
        // A handler already rendered its own page (e.g. the sign-in form with its error).
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let (req, old) = res.into_parts();
    let message = old
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| e.message().to_owned())
        .unwrap_or_else(|| default_message(kind).to_owned());
    let new: HttpResponse<BoxBody> =
        if kind == ErrorKind::Unauthenticated && req.method() == actix_web::http::Method::GET {
            let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/dashboard");
            let target = format!("/login?next={}", urlencode(next));
            HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish()
        } else {
            let mut page = render_error_page(kind, &message);
            copy_allow_header(&old, &mut page);
            page
        };
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body()))
}

fn copy_allow_header<B>(old: &HttpResponse<B>, new: &mut HttpResponse) {
    if let Some(allow) = old.headers().get(header::ALLOW) {
        new.headers_mut().insert(header::ALLOW, allow.clone());
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only same-site relative paths are accepted as a post-login target (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n.len() < 512 => n.to_owned(),
        _ => "/dashboard".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(safe_next(Some("/dashboard")), "/dashboard");
        assert_eq!(safe_next(Some("//evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("https://evil.example")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
