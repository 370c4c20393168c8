//! Sends a message end to end: check and store in one step, moderate without holding a database
//! connection, then apply the verdict. A stored message is never lost: if anything fails
//! after storing, it stays `pending` and the start-up recovery moderates it.

use crate::access::Actor;
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::services::messaging::{self, MessagingContext, SendOutcome};

pub async fn send(state: &AppState, actor: Actor, conversation_id: String, text: String) -> AppResult<SendOutcome> {
    let (pipeline, programme, public_url) =
        (state.pipeline.clone(), state.programme.clone(), state.settings.public_url.clone());
    let id = conversation_id.clone();
    let (p, pr, url) = (pipeline.clone(), programme.clone(), public_url.clone());
    // 1. Check and store (the message is safe from here on), and read the context window.
    let (message, role, context) = crate::db::run(&state.pool, move |conn| {
        let ctx = MessagingContext { pipeline: &p, policy: &pr, public_url: &url };
        let role = messaging::check_can_send(conn, &ctx, &actor, &id, &text)?;
        let message = messaging::store_pending(conn, &actor, &id, &text)?;
        match messaging::context_for(conn, &message, messaging::CONTEXT_WINDOW) {
            Ok(context) => Ok((message, role, context)),
            Err(error) => Err(left_pending(&message.id, error)),
        }
    })
    .await?;
    // 2. Moderate without holding a database connection: the classifier is the slow part, and
    //    holding a pooled connection through it would cap concurrent sends at the pool size.
    let p = pipeline.clone();
    let slot = state.moderation_slots.clone().acquire_owned().await.map_err(AppError::internal)?;
    let (message, verdict) = actix_web::web::block(move || {
        let _slot = slot;
        let verdict = messaging::verdict_for(&p, &message, role, &context);
        (message, verdict)
    })
    .await
    .map_err(AppError::internal)?;
    // 3. Apply the verdict with its audit row and any alert, in one transaction.
    let message_id = message.id.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let ctx = MessagingContext { pipeline: &pipeline, policy: &programme, public_url: &public_url };
        messaging::apply_verdict(conn, &ctx, &message, &verdict)
    })
    .await
    .map_err(|error| left_pending(&message_id, error))?;
    state.notify_conversation_change(&conversation_id);
    Ok(outcome)
}

/// Stored, not lost: the start-up recovery moderates the message again.
fn left_pending(message_id: &str, error: AppError) -> AppError {
    tracing::error!(message_id, error = ?error, "moderation failed after storing; left pending");
    error
}

/// Moderates messages left `pending` by a crash. Called once at start-up.
pub fn recover_pending(state: &AppState) -> AppResult<usize> {
    let mut conn = state.pool.get()?;
    let ctx = MessagingContext {
        pipeline: &state.pipeline,
        policy: &state.programme,
        public_url: &state.settings.public_url,
    };
    messaging::remoderate_pending(&mut conn, &ctx)
}
