//! Landing, sign-in, sign-out and the role dashboards.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::services::{accounts, dashboard};
use crate::web::error_pages::safe_next;
use crate::web::{csrf, identity, templates};

#[get("/")]
pub async fn landing(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::current(&session, &state).await?;
    let context = identity::page_context(&session, actor.as_ref())?;
    templates::render("landing.html", &context)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[get("/login")]
pub async fn login_form(
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> AppResult<HttpResponse> {
    if identity::current(&session, &state).await?.is_some() {
        return Ok(redirect(&safe_next(query.next.as_deref())));
    }
    let mut context = identity::page_context(&session, None)?;
    context.insert("next", &safe_next(query.next.as_deref()));
    templates::render("login.html", &context)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
    next: Option<String>,
}

#[post("/login")]
pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    csrf::verify(&session, &form.csrf_token)?;
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let client = client_address(&req);
    let passwords = state.passwords.clone();
    let throttle = state.throttle();
    let email = form.email.clone();
    let _slot = state.password_slots.acquire().await.map_err(AppError::internal)?;
    let result = crate::db::run(&state.pool, move |conn| {
        accounts::authenticate(conn, &passwords, throttle, &email, &form.password, &client)
    })
    .await;
    match result {
        Ok(user) => {
            identity::sign_in(&session, &user.id)?;
            tracing::info!(user_id = %user.id, "signed in");
            Ok(redirect(&next))
        }
        Err(error)
            if matches!(error.kind, ErrorKind::Unauthenticated | ErrorKind::TooManyRequests | ErrorKind::Forbidden) =>
        {
            let mut context = identity::page_context(&session, None)?;
            context.insert("next", &next);
            context.insert("email", &form.email);
            context.insert("error", error.message());
            let body = templates::render_string("login.html", &context)?;
            Ok(HttpResponse::build(error.kind.status()).content_type("text/html; charset=utf-8").body(body))
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

#[post("/logout")]
pub async fn logout(session: Session, form: web::Form<CsrfOnly>) -> AppResult<HttpResponse> {
    csrf::verify(&session, &form.csrf_token)?;
    identity::sign_out(&session);
    Ok(redirect("/login"))
}

#[get("/dashboard")]
pub async fn dashboard_page(session: Session, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let actor = identity::require(&session, &state).await?;
    let viewer = actor.clone();
    let board = crate::db::run(&state.pool, move |conn| dashboard::for_actor(conn, &viewer)).await?;
    let mut context = identity::page_context(&session, Some(&actor))?;
    let template = match &board {
        dashboard::Dashboard::Coordinator(d) => {
            context.insert("board", d);
            "dashboard/coordinator.html"
        }
        dashboard::Dashboard::Teacher(d) => {
            context.insert("board", d);
            "dashboard/teacher.html"
        }
        dashboard::Dashboard::Guardian(d) => {
            context.insert("board", d);
            "dashboard/guardian.html"
        }
        dashboard::Dashboard::Student(d) | dashboard::Dashboard::Mentor(d) => {
            context.insert("board", d);
            "dashboard/participant.html"
        }
    };
    templates::render(template, &context)
}

#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let check = crate::db::run(&state.pool, |conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT 1").execute(conn).map_err(AppError::from)?;
        Ok(())
    })
    .await;
    match check {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "database": "ok" })),
        Err(error) => {
            tracing::error!(error = ?error, "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "unavailable", "database": "unavailable" }))
        }
    }
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_owned())).finish()
}

/// The peer address. Forwarded headers are not trusted: a client could forge them to dodge
/// the per-address sign-in throttle.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".to_owned())
}
