//! Conversation pages: the list, one conversation with its send box and report buttons, live
//! updates by Server-Sent Events, and the guardian's pause.

use std::time::Duration;

use actix_session::Session;
use actix_web::web::Bytes;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use tera::Context;

use crate::access::{self, Actor};
use crate::app::AppState;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::moderation::SafeHtml;
use crate::services::messaging::{self, ConversationView, MessageView};
use crate::services::oversight;
use crate::web::pages::redirect;
use crate::web::{csrf, identity, templates};

/// A message prepared for display: the text only ever reaches the page as `SafeHtml`.
#[derive(Serialize)]
struct DisplayMessage {
    #[serde(flatten)]
    view: MessageView,
    html: Option<String>,
    status_words: String,
}

fn status_words(view: &MessageView, state: &AppState) -> String {
    match view.status.as_str() {
        "held" if view.mine => format!("Not delivered yet: {}.", state.programme.messaging.held_wait_text),
        "held" => "Held for review.".to_owned(),
        "blocked" if view.mine => "Not delivered.".to_owned(),
        "blocked" => "Blocked, never delivered.".to_owned(),
        "rejected" if view.mine => "Not delivered: a reviewer decided against it.".to_owned(),
        "rejected" => "Held and then rejected by a reviewer; never delivered.".to_owned(),
        "redacted" if view.mine => "Delivered with some details removed.".to_owned(),
        "redacted" => "Delivered with some details removed.".to_owned(),
        "pending" => "Being checked…".to_owned(),
        _ => String::new(),
    }
}

fn display(views: Vec<MessageView>, state: &AppState) -> Vec<DisplayMessage> {
    let policy = state.pipeline.policy();
    views
        .into_iter()
        .map(|view| DisplayMessage {
            html: view.text.as_deref().map(|t| SafeHtml::from_message(t, policy).into_string()),
            status_words: status_words(&view, state),
            view,
        })
        .collect()
}

async fn load(
    state: &web::Data<AppState>,
    actor: &Actor,
    id: String,
) -> AppResult<(ConversationView, Vec<DisplayMessage>)> {
    let st = state.clone();
    let reader = actor.clone();
    let (conversation, views) =
        crate::db::run(&state.pool, move |conn| messaging::read_messages(conn, &st.programme, &reader, &id)).await?;
    Ok((conversation, display(views, state)))
}

fn conversation_context(
    session: &Session,
    actor: &Actor,
    conversation: &ConversationView,
    messages: &[DisplayMessage],
    whole_page: bool,
) -> AppResult<Context> {
    let mut context = if whole_page {
        identity::page_context(session, Some(actor))?
    } else {
        identity::fragment_context(session, Some(actor))?
    };
    let participant = conversation.relation == "participant";
    let other =
        if actor.user_id == conversation.student_id { &conversation.mentor_name } else { &conversation.student_name };
    context.insert("conversation", conversation);
    context.insert("messages", messages);
    context.insert("participant", &participant);
    context.insert(
        "title",
        &if participant {
            format!("Conversation with {other}")
        } else {
            format!("{} and {}", conversation.student_name, conversation.mentor_name)
        },
    );
    context.insert("supervisors", &conversation.supervisors);
    context.insert(
        "can_pause",
        &(matches!(conversation.relation, "guardian" | "coordinator") && conversation.closed_reason.is_none()),
    );
    context.insert("can_end", &(conversation.relation == "coordinator" && conversation.status != "locked"));
    Ok(context)
}

#[get("/conversations")]
pub async fn list(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let reader = actor.clone();
    let list = crate::db::run(&state.pool, move |conn| messaging::list_conversations(conn, &reader)).await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("conversations", &list);
    templates::render("conversations/list.html", &context)
}

#[get("/conversations/{id}")]
pub async fn show(session: Session, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let (conversation, messages) = load(&state, &actor, path.into_inner()).await?;
    let context = conversation_context(&session, &actor, &conversation, &messages, true)?;
    templates::render("conversations/show.html", &context)
}

/// The message list alone, fetched by the page's script when the live stream says "changed".
#[get("/conversations/{id}/messages")]
pub async fn fragment(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let (conversation, messages) = load(&state, &actor, path.into_inner()).await?;
    let context = conversation_context(&session, &actor, &conversation, &messages, false)?;
    templates::render("conversations/_messages.html", &context)
}

/// Server-Sent Events: one `changed` event whenever the conversation has news.
#[get("/conversations/{id}/events")]
pub async fn events(session: Session, state: web::Data<AppState>, path: web::Path<String>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let id = path.into_inner();
    let check_id = id.clone();
    let visible =
        crate::db::run(&state.pool, move |conn| access::conversation_relation(conn, &actor, &check_id)).await?;
    if visible.is_none() {
        return Err(AppError::not_found());
    }
    let receiver = state.events.subscribe();
    let stream = futures_util::stream::unfold((receiver, id), |(mut receiver, id)| async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), receiver.recv()).await {
                Ok(Ok(changed)) if changed == id => {
                    return Some((
                        Ok::<_, actix_web::Error>(Bytes::from_static(b"event: changed\ndata: 1\n\n")),
                        (receiver, id),
                    ))
                }
                Ok(Ok(_)) => continue,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                    return Some((Ok(Bytes::from_static(b"event: changed\ndata: 1\n\n")), (receiver, id)))
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
                // A comment line keeps proxies from closing an idle stream.
                Err(_) => return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (receiver, id))),
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(default)]
    csrf_token: String,
    text: String,
}

#[post("/conversations/{id}/messages")]
pub async fn send(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SendForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let id = path.into_inner();
    let form = form.into_inner();
    match crate::services::messaging_runtime::send(&state, actor.clone(), id.clone(), form.text.clone()).await {
        Ok(outcome) => {
            let words = match outcome.status {
                crate::db::enums::MessageStatus::Delivered => "Message delivered.".to_owned(),
                _ => outcome.reasons.join(" "),
            };
            identity::flash(&session, &words);
            Ok(redirect(&format!("/conversations/{id}#latest")))
        }
        Err(error)
            if matches!(error.kind, ErrorKind::BadRequest | ErrorKind::TooManyRequests | ErrorKind::Conflict) =>
        {
            // Show the page again with the text kept, so nothing typed is lost.
            let (conversation, messages) = load(&state, &actor, id).await?;
            let mut context = conversation_context(&session, &actor, &conversation, &messages, true)?;
            context.insert("error", error.message());
            context.insert("draft", &form.text);
            let body = templates::render_string("conversations/show.html", &context)?;
            Ok(HttpResponse::build(error.kind.status()).content_type("text/html; charset=utf-8").body(body))
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    csrf_token: String,
    message_id: Option<String>,
    reason: String,
}

#[post("/conversations/{id}/reports")]
pub async fn report(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ReportForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let id = path.into_inner();
    let form = form.into_inner();
    let st = state.clone();
    let conversation = id.clone();
    crate::db::run(&state.pool, move |conn| {
        oversight::file_report(
            conn,
            &st.programme,
            &st.settings.public_url,
            &actor,
            &conversation,
            form.message_id.as_deref().filter(|m| !m.is_empty()),
            &form.reason,
        )
    })
    .await?;
    identity::flash(
        &session,
        "Thank you. Your report was sent to the programme's safeguarding lead, who will look into it.",
    );
    Ok(redirect(&format!("/conversations/{id}")))
}

#[derive(Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    csrf_token: String,
    reason: String,
}

#[post("/conversations/{id}/pause")]
pub async fn pause(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<PauseForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let id = path.into_inner();
    let st = state.clone();
    let conversation = id.clone();
    let reason = form.into_inner().reason;
    crate::db::run(&state.pool, move |conn| {
        oversight::pause_mentorship(conn, &st.programme, &st.settings.public_url, &actor, &conversation, &reason)
    })
    .await?;
    state.notify_conversation_change(&id);
    identity::flash(
        &session,
        "The mentorship is paused. The programme coordinator has been told and will be in touch.",
    );
    Ok(redirect(&format!("/conversations/{id}")))
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    csrf_token: String,
    reason: String,
}

/// A coordinator ends a mentorship from its conversation page, with a reason.
#[post("/conversations/{id}/end")]
pub async fn end(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<EndForm>,
) -> AppResult<HttpResponse> {
    use diesel::prelude::*;
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let id = path.into_inner();
    let st = state.clone();
    let conversation = id.clone();
    let reason = form.into_inner().reason;
    crate::db::run(&state.pool, move |conn| {
        let match_id: String = crate::db::schema::conversations::table
            .find(&conversation)
            .select(crate::db::schema::conversations::match_id)
            .first(conn)
            .optional()?
            .ok_or_else(AppError::not_found)?;
        let ctx = st.lifecycle_context(crate::db::now());
        crate::services::lifecycle::end_match(conn, &ctx, &actor, &match_id, &reason)
    })
    .await?;
    state.notify_conversation_change(&id);
    identity::flash(
        &session,
        "The mentorship has ended. The conversation is now read-only and closure surveys were sent.",
    );
    Ok(redirect(&format!("/conversations/{id}")))
}
