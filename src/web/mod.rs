//! Server-rendered pages (cookie sessions, CSRF tokens on every form).

pub mod csrf;
pub mod error_pages;
pub mod identity;
pub mod pages;
pub mod session_store;
pub mod static_files;
pub mod templates;

pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(pages::landing)
        .service(pages::login_form)
        .service(pages::login)
        .service(pages::logout)
        .service(pages::dashboard_page)
        .service(pages::healthz)
        .service(static_files::serve);
}
