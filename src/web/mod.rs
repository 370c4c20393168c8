//! Server-rendered pages (cookie sessions, CSRF tokens on every form).

pub mod conversations;
pub mod csrf;
pub mod error_pages;
pub mod identity;
pub mod lifecycle;
pub mod mentoring;
pub mod oversight;
pub mod pages;
pub mod request_guard;
pub mod session_store;
pub mod static_files;
pub mod templates;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.service(pages::landing)
        .service(pages::login_form)
        .service(pages::login)
        .service(pages::logout)
        .service(pages::dashboard_page)
        .service(pages::healthz)
        .service(static_files::serve)
        .service(conversations::list)
        .service(conversations::show)
        .service(conversations::fragment)
        .service(conversations::events)
        .service(conversations::send)
        .service(conversations::report)
        .service(conversations::pause)
        .service(conversations::end)
        .service(oversight::queue)
        .service(oversight::decide_request)
        .service(oversight::decide)
        .service(oversight::alerts)
        .service(oversight::acknowledge)
        .service(oversight::resolve)
        .service(oversight::access_log)
        .service(oversight::guardians)
        .service(oversight::set_guardian_view)
        .service(oversight::analytics)
        .service(oversight::analytics_csv)
        .service(lifecycle::consent_form)
        .service(lifecycle::consent_decide)
        .service(lifecycle::survey_form)
        .service(lifecycle::survey_submit)
        .service(mentoring::page)
        .service(mentoring::act)
        .service(
            web::resource("/suggestions").route(web::get().to(|| async { crate::web::pages::redirect("/mentoring") })),
        );
}
