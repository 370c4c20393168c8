//! Synchronizer-token CSRF protection: a random token lives in the session and every form
//! carries it in a hidden field; a POST whose token does not match is refused.

use actix_session::Session;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::error::{AppError, AppResult, ErrorKind};

const SESSION_KEY: &str = "csrf";

fn fresh() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The session's token, created on first use.
pub fn token(session: &Session) -> AppResult<String> {
    if let Ok(Some(existing)) = session.get::<String>(SESSION_KEY) {
        return Ok(existing);
    }
    rotate(session)
}

/// Replaces the token (at sign-in, so a token seen before cannot be replayed after).
pub fn rotate(session: &Session) -> AppResult<String> {
    let token = fresh();
    session.insert(SESSION_KEY, &token).map_err(|e| AppError::internal(anyhow::anyhow!("session insert: {e}")))?;
    Ok(token)
}

/// Refuses (403) unless `provided` is the session's token. Forms default a missing
/// `csrf_token` field to empty (`#[serde(default)]`), so a form without one gets this same 403
/// rather than a "malformed form" 400.
#[track_caller]
pub fn verify(session: &Session, provided: &str) -> AppResult<()> {
    let expected = session.get::<String>(SESSION_KEY).ok().flatten();
    match expected {
        Some(expected) if !provided.is_empty() && bool::from(expected.as_bytes().ct_eq(provided.as_bytes())) => Ok(()),
        _ => Err(AppError::new(
            ErrorKind::Forbidden,
            "This form has expired or did not come from Trellis. Please go back, reload the page and try again.",
        )),
    }
}
