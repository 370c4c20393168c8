//! Who is signed in to the web pages, and the context every page template gets.

use actix_session::Session;
use tera::Context;

use crate::access::Actor;
use crate::app::AppState;
use crate::db::now;
use crate::error::{AppError, AppResult};
use crate::services::accounts;
use crate::web::csrf;

const USER_KEY: &str = "user_id";
const SEEN_KEY: &str = "seen_at";

/// Marks the session as belonging to `user_id`, with a new session key and a new CSRF token.
pub fn sign_in(session: &Session, user_id: &str) -> AppResult<()> {
    session.renew();
    session.clear();
    let insert = |k: &str, v: &str| session.insert(k, v).map_err(|e| AppError::internal(anyhow::anyhow!("{e}")));
    insert(USER_KEY, user_id)?;
    insert(SEEN_KEY, &now().and_utc().timestamp().to_string())?;
    csrf::rotate(session)?;
    Ok(())
}

pub fn sign_out(session: &Session) {
    session.purge();
}

/// The signed-in actor, or `None`. A session idle for longer than the configured time is
/// ended here too (the store's TTL does the same server-side).
pub async fn current(session: &Session, state: &AppState) -> AppResult<Option<Actor>> {
    let Ok(Some(user_id)) = session.get::<String>(USER_KEY) else { return Ok(None) };
    let seen: Option<i64> = session.get::<String>(SEEN_KEY).ok().flatten().and_then(|s| s.parse().ok());
    let at = now();
    let idle_limit = chrono::Duration::minutes(state.settings.session_idle_minutes);
    let fresh = seen
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|d| d.naive_utc())
        .is_some_and(|seen_at| at - seen_at <= idle_limit);
    if !fresh {
        session.purge();
        return Ok(None);
    }
    let _ = session.insert(SEEN_KEY, at.and_utc().timestamp().to_string());
    let actor = crate::db::run(&state.pool, move |conn| accounts::load_actor(conn, &user_id)).await?;
    if actor.is_none() {
        session.purge();
    }
    Ok(actor)
}

/// The signed-in actor, or 401 (which page routes turn into a redirect to the sign-in page).
pub async fn require(session: &Session, state: &AppState) -> AppResult<Actor> {
    current(session, state).await?.ok_or_else(AppError::unauthenticated)
}

const FLASH_KEY: &str = "flash";

/// A one-time notice shown on the next page (after a redirect).
pub fn flash(session: &Session, message: &str) {
    let _ = session.insert(FLASH_KEY, message);
}

/// Context shared by every page: the viewer (if any), the CSRF token for its forms and any
/// one-time notice.
pub fn page_context(session: &Session, actor: Option<&Actor>) -> AppResult<Context> {
    let mut context = fragment_context(session, actor)?;
    if let Some(Ok(notice)) = session.remove_as::<String>(FLASH_KEY) {
        context.insert("notice", &notice);
    }
    Ok(context)
}

/// The same context for a part of a page fetched by script (the live message list): it leaves
/// the one-time notice for the page itself. Otherwise a live update racing the redirect after
/// "send" would swallow "Message delivered."
pub fn fragment_context(session: &Session, actor: Option<&Actor>) -> AppResult<Context> {
    let mut context = Context::new();
    context.insert("csrf_token", &csrf::token(session)?);
    if let Some(actor) = actor {
        context.insert("viewer_name", &actor.display_name);
        context.insert("viewer_role", actor.role.as_str());
        context.insert("viewer_role_label", actor.role.label());
        context.insert(
            "viewer_is_staff",
            &matches!(actor.role, crate::db::enums::Role::Teacher | crate::db::enums::Role::Coordinator),
        );
        context.insert("viewer_is_coordinator", &(actor.role == crate::db::enums::Role::Coordinator));
    }
    Ok(context)
}
