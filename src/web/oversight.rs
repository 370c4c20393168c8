//! Staff pages: the review queue, safeguarding alerts, the access log and guardian views.

use actix_session::Session;
use actix_web::{get, post, web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::access::Capability;
use crate::app::AppState;
use crate::error::AppResult;
use crate::services::oversight::{self, AlertStep};
use crate::services::review::{self, Decision};
use crate::web::pages::redirect;
use crate::web::{csrf, identity, templates};

#[get("/review")]
pub async fn queue(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ReviewHeldMessages)?;
    let reader = actor.clone();
    let (items, requests) = crate::db::run(&state.pool, move |conn| {
        Ok((review::queue(conn, &reader)?, crate::services::lifecycle::held_requests(conn, &reader)?))
    })
    .await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("items", &items);
    context.insert("held_requests", &requests);
    templates::render("review.html", &context)
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf_token: String,
    decision: Decision,
    #[serde(default)]
    note: String,
}

#[post("/review/{message_id}")]
pub async fn decide(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let form = form.into_inner();
    let id = path.into_inner();
    let st = state.clone();
    let outcome = crate::db::run(&state.pool, move |conn| {
        review::decide(conn, &st.programme, &st.settings.public_url, &actor, &id, form.decision, &form.note)
    })
    .await?;
    state.notify_conversation_change(&outcome.conversation_id);
    identity::flash(
        &session,
        match outcome.decision {
            Decision::Approve => "Approved: the message was delivered and the sender can see it arrived.",
            Decision::Reject => "Rejected: the message will never be delivered, and the sender was told.",
            Decision::Escalate => "Escalated: a safeguarding alert was raised for the programme lead.",
        },
    );
    Ok(redirect("/review"))
}

#[derive(Deserialize)]
pub struct RequestDecisionForm {
    #[serde(default)]
    csrf_token: String,
    decision: String,
    #[serde(default)]
    note: String,
}

#[post("/review/requests/{id}")]
pub async fn decide_request(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RequestDecisionForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let form = form.into_inner();
    let approve = form.decision == "approve";
    let id = path.into_inner();
    let st = state.clone();
    crate::db::run(&state.pool, move |conn| {
        let ctx = st.lifecycle_context(crate::db::now());
        crate::services::lifecycle::review_request(conn, &ctx, &actor, &id, approve, &form.note)
    })
    .await?;
    identity::flash(
        &session,
        if approve {
            "The request was sent to the mentor."
        } else {
            "The request was not sent; the student was told why."
        },
    );
    Ok(redirect("/review"))
}

#[get("/alerts")]
pub async fn alerts(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ProgrammeOversight)?;
    let reader = actor.clone();
    let list = crate::db::run(&state.pool, move |conn| oversight::list_alerts(conn, &reader)).await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("alerts", &list);
    context.insert("support_resources", &state.programme.support_resources);
    templates::render("alerts.html", &context)
}

#[derive(Deserialize)]
pub struct AlertForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    note: String,
}

#[post("/alerts/{id}/acknowledge")]
pub async fn acknowledge(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<AlertForm>,
) -> AppResult<HttpResponse> {
    advance(session, state, path.into_inner(), form.into_inner(), AlertStep::Acknowledge).await
}

#[post("/alerts/{id}/resolve")]
pub async fn resolve(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<AlertForm>,
) -> AppResult<HttpResponse> {
    advance(session, state, path.into_inner(), form.into_inner(), AlertStep::Resolve).await
}

async fn advance(
    session: Session,
    state: web::Data<AppState>,
    id: String,
    form: AlertForm,
    step: AlertStep,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    crate::db::run(&state.pool, move |conn| oversight::advance_alert(conn, &actor, &id, step, &form.note)).await?;
    identity::flash(&session, if step == AlertStep::Acknowledge { "Alert acknowledged." } else { "Alert resolved." });
    Ok(redirect("/alerts"))
}

#[get("/access-log")]
pub async fn access_log(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ProgrammeOversight)?;
    let reader = actor.clone();
    let rows = crate::db::run(&state.pool, move |conn| oversight::access_log_page(conn, &reader, 500)).await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("rows", &rows);
    templates::render("access_log.html", &context)
}

#[derive(Serialize)]
struct GuardianRow {
    id: String,
    guardian: String,
    student: String,
    suspended: bool,
    reason: Option<String>,
}

#[get("/guardians")]
pub async fn guardians(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use crate::db::schema::{guardianships, users};
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ProgrammeOversight)?;
    let rows = crate::db::run(&state.pool, |conn| {
        let (g, s) = diesel::alias!(users as guardian_users, users as student_users);
        let rows: Vec<(String, String, String, bool, Option<String>)> = guardianships::table
            .inner_join(g.on(g.field(users::id).eq(guardianships::guardian_id)))
            .inner_join(s.on(s.field(users::id).eq(guardianships::student_id)))
            .select((
                guardianships::id,
                g.field(users::display_name),
                s.field(users::display_name),
                guardianships::view_suspended,
                guardianships::view_suspended_reason,
            ))
            .order(s.field(users::display_name).asc())
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(id, guardian, student, suspended, reason)| GuardianRow { id, guardian, student, suspended, reason })
            .collect::<Vec<_>>())
    })
    .await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    context.insert("rows", &rows);
    templates::render("guardians.html", &context)
}

#[derive(Deserialize)]
pub struct GuardianViewForm {
    #[serde(default)]
    csrf_token: String,
    suspend: bool,
    #[serde(default)]
    reason: String,
}

#[post("/guardians/{id}")]
pub async fn set_guardian_view(
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<GuardianViewForm>,
) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    csrf::verify(&session, &form.csrf_token)?;
    let id = path.into_inner();
    let form = form.into_inner();
    crate::db::run(&state.pool, move |conn| {
        oversight::set_guardian_view(conn, &actor, &id, form.suspend, &form.reason)
    })
    .await?;
    identity::flash(
        &session,
        if form.suspend { "The guardian's view is suspended." } else { "The guardian's view is restored." },
    );
    Ok(redirect("/guardians"))
}

#[get("/analytics")]
pub async fn analytics(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use crate::services::analytics;
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ProgrammeOversight)?;
    let reader = actor.clone();
    let figures = crate::db::run(&state.pool, move |conn| analytics::compute(conn, &reader, 12)).await?;
    let short = |w: &str| w.get(5..).unwrap_or(w).to_owned();
    let charts: Vec<(String, String)> = vec![
        analytics::bar_chart(
            "Messages per week",
            &figures.weeks.iter().map(|w| (short(&w.week), w.messages as f64)).collect::<Vec<_>>(),
            "",
        ),
        analytics::bar_chart(
            "Held or blocked share per week",
            &figures
                .weeks
                .iter()
                .map(|w| {
                    let share =
                        if w.messages > 0 { (w.held + w.blocked) as f64 * 100.0 / w.messages as f64 } else { 0.0 };
                    (short(&w.week), share)
                })
                .collect::<Vec<_>>(),
            "%",
        ),
        analytics::bar_chart(
            "Flagged messages by category (share of all messages)",
            &figures.categories.iter().map(|c| (c.category.replace('_', " "), c.rate_percent)).collect::<Vec<_>>(),
            "%",
        ),
        analytics::bar_chart(
            "Median review time per week (hours)",
            &figures.weeks.iter().map(|w| (short(&w.week), w.median_review_hours.unwrap_or(0.0))).collect::<Vec<_>>(),
            "h",
        ),
        analytics::bar_chart(
            "Median mentor response time per week (hours)",
            &figures
                .weeks
                .iter()
                .map(|w| (short(&w.week), w.median_mentor_response_hours.unwrap_or(0.0)))
                .collect::<Vec<_>>(),
            "h",
        ),
        analytics::bar_chart(
            "Active pairs per week",
            &figures.weeks.iter().map(|w| (short(&w.week), w.active_pairs as f64)).collect::<Vec<_>>(),
            "",
        ),
    ];
    let mut context = identity::page_context(&session, Some(&actor))?;
    let charts: Vec<serde_json::Value> =
        charts.into_iter().map(|(title, svg)| serde_json::json!({ "title": title, "svg": svg })).collect();
    context.insert("figures", &figures);
    context.insert("charts", &charts);
    templates::render("analytics.html", &context)
}

#[get("/analytics.csv")]
pub async fn analytics_csv(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    use crate::services::analytics;
    let actor = identity::require(&session, &state).await?;
    actor.require(Capability::ProgrammeOversight)?;
    let figures = crate::db::run(&state.pool, move |conn| analytics::compute(conn, &actor, 12)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"trellis-analytics.csv\""))
        .body(analytics::to_csv(&figures)))
}
