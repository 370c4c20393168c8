//! Runs a send on the blocking pool: check and store in one step, moderate outside any
//! transaction, then apply the verdict. A stored message is never lost: if anything fails
//! after storing, it stays `pending` and the start-up recovery moderates it.

use crate::access::Actor;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::messaging::{self, MessagingContext, SendOutcome};

pub async fn send(state: &AppState, actor: Actor, conversation_id: String, text: String) -> AppResult<SendOutcome> {
    let pipeline = state.pipeline.clone();
    let programme = state.programme.clone();
    let public_url = state.settings.public_url.clone();
    let id = conversation_id.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        let ctx = MessagingContext { pipeline: &pipeline, policy: &programme, public_url: &public_url };
        messaging::send(conn, &ctx, &actor, &id, &text)
    })
    .await?;
    state.notify_conversation_change(&conversation_id);
    Ok(outcome)
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
