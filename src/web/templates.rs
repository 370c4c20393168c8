//! Tera templates, embedded in the binary so Trellis runs from any folder. Autoescaping is on
//! for every template; only `SafeHtml` values are marked safe.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use tera::{Context, Tera};

use crate::error::{AppError, AppResult};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("partials/supervised_banner.html", include_str!("../../templates/partials/supervised_banner.html")),
    ("landing.html", include_str!("../../templates/landing.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("dashboard/coordinator.html", include_str!("../../templates/dashboard/coordinator.html")),
    ("dashboard/teacher.html", include_str!("../../templates/dashboard/teacher.html")),
    ("dashboard/guardian.html", include_str!("../../templates/dashboard/guardian.html")),
    ("dashboard/participant.html", include_str!("../../templates/dashboard/participant.html")),
    ("conversations/list.html", include_str!("../../templates/conversations/list.html")),
    ("conversations/_messages.html", include_str!("../../templates/conversations/_messages.html")),
    ("conversations/show.html", include_str!("../../templates/conversations/show.html")),
    ("review.html", include_str!("../../templates/review.html")),
    ("alerts.html", include_str!("../../templates/alerts.html")),
    ("access_log.html", include_str!("../../templates/access_log.html")),
    ("guardians.html", include_str!("../../templates/guardians.html")),
    ("analytics.html", include_str!("../../templates/analytics.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("survey.html", include_str!("../../templates/survey.html")),
    ("mentoring.html", include_str!("../../templates/mentoring.html")),
];

pub fn tera() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied()).expect("embedded templates parse");
        tera.autoescape_on(vec![".html"]);
        tera
    })
}

pub fn render_string(name: &str, context: &Context) -> AppResult<String> {
    tera().render(name, context).map_err(|e| AppError::internal(anyhow::anyhow!("template {name}: {e:?}")))
}

pub fn render(name: &str, context: &Context) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(render_string(name, context)?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn all_templates_parse() {
        assert!(super::tera().get_template_names().count() >= super::TEMPLATES.len());
    }
}
