//! The stylesheet and script, embedded and served with long caching.

use actix_web::{get, web, HttpResponse};

const CSS: &str = include_str!("../../static/trellis.css");
const JS: &str = include_str!("../../static/trellis.js");

#[get("/static/{file}")]
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "trellis.css" => (CSS, "text/css; charset=utf-8"),
        "trellis.js" => (JS, "application/javascript; charset=utf-8"),
        _ => {
            return crate::web::error_pages::render_error_page(
                crate::error::ErrorKind::NotFound,
                "We could not find that file.",
            )
        }
    };
    HttpResponse::Ok().content_type(content_type).insert_header(("Cache-Control", "public, max-age=3600")).body(body)
}
