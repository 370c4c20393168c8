//! Refuses text with a NUL character (U+0000) before any handler sees it: in the address
//! (`%00` in the path or query) and in JSON (`\u0000`) or form (`%00`) bodies. A NUL has no
//! place in a message, a name or an id, and PostgreSQL cannot store it in a text column (it
//! was a 500 there, and silently stored on SQLite); now both backends answer 400 with a reason.
//! JSON and form bodies are read here once, within `max_body_bytes`, and handed on unchanged.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::HttpMessage;
use futures_util::StreamExt;

use crate::app::AppState;
use crate::error::{AppError, ErrorKind};

const NUL_IN_ADDRESS: &str = "The address contains a NUL character (%00), which Trellis does not accept.";
const NUL_IN_BODY: &str = "The request contains a NUL character (U+0000), which Trellis does not accept in text. \
     Please remove it and send again.";

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
}

fn body_kind(req: &ServiceRequest) -> Option<BodyKind> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Some(BodyKind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Some(BodyKind::Form)
    } else {
        None
    }
}

/// Does this JSON text hold a NUL, raw or as the escape `\u0000` (not `\\u0000`, an escaped
/// backslash followed by "u0000")?
pub fn json_has_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            0 => return true,
            b'\\' => {
                if body[i + 1..].starts_with(b"u0000") {
                    return true;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

/// Does this URL-encoded text (a query string or a form body) hold a NUL?
pub fn urlencoded_has_nul(text: &[u8]) -> bool {
    text.contains(&0) || text.windows(3).any(|w| w == b"%00")
}

fn refuse<B>(req: ServiceRequest, kind: ErrorKind, message: &str) -> ServiceResponse<EitherBody<B>> {
    // The error stays on the response, so the error pages show its message.
    req.error_response(AppError::new(kind, message)).map_into_right_body()
}

pub async fn reject_nul<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let uri = req.uri();
    if urlencoded_has_nul(uri.path().as_bytes()) || uri.query().is_some_and(|q| urlencoded_has_nul(q.as_bytes())) {
        return Ok(refuse(req, ErrorKind::BadRequest, NUL_IN_ADDRESS));
    }
    if let Some(kind) = body_kind(&req) {
        let limit = req.app_data::<Data<AppState>>().map(|s| s.settings.max_body_bytes).unwrap_or(262_144);
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return Ok(refuse(req, ErrorKind::BadRequest, "The request body could not be read."));
            };
            if body.len() + chunk.len() > limit {
                return Ok(refuse(req, ErrorKind::PayloadTooLarge, "That request body is too large."));
            }
            body.extend_from_slice(&chunk);
        }
        let has_nul = match kind {
            BodyKind::Json => json_has_nul(&body),
            BodyKind::Form => urlencoded_has_nul(&body),
        };
        if has_nul {
            return Ok(refuse(req, ErrorKind::BadRequest, NUL_IN_BODY));
        }
        let body: Bytes = body.freeze();
        req.set_payload(Payload::Stream { payload: Box::pin(futures_util::stream::once(async move { Ok(body) })) });
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_in_json_but_not_an_escaped_backslash() {
        assert!(json_has_nul(br#"{"text":"a\u0000b"}"#));
        assert!(json_has_nul(b"{\"text\":\"a\0b\"}"));
        assert!(json_has_nul(br#"{"text":"a\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"text":"a\\u0000b"}"#));
        assert!(json_has_nul(br#"{"text":"\u00000"}"#));
        assert!(!json_has_nul(br#"{"text":"\u0001 is fine"}"#));
        assert!(!json_has_nul(br#"{"text":"a\u0041b \"q\" \\"}"#));
        assert!(!json_has_nul(b"\\"));
    }

    #[test]
    fn finds_nul_in_urlencoded_text() {
        assert!(urlencoded_has_nul(b"text=a%00b"));
        assert!(!urlencoded_has_nul(b"text=a%2500b&n=100"));
    }
}
