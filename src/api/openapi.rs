//! The OpenAPI 3.1 document of `/api/v1`, generated at compile time (utoipa) from the handlers'
//! `#[utoipa::path]` attributes and the request and response types themselves, and served at
//! `GET /api/v1/openapi.json`. `tests/integration/openapi.rs` checks it lists every route.

use std::sync::OnceLock;

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::api::{conversations, lifecycle, moderation_queue, oversight, tokens};

/// The scope every documented path lives under (`api::configure` registers the same).
pub const PREFIX: &str = "/api/v1";

/// The name of the bearer-token security scheme in the document.
pub const BEARER: &str = "bearer";

/// The body of every error answer under `/api`.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    /// One per status: 400, 401, 403, 404, 405, 409, 413, 429, 503, 500.
    pub code: crate::error::ErrorKind,
    /// What went wrong, in words for a person.
    pub message: String,
}

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `POST /api/v1/tokens`, sent as `Authorization: Bearer <token>`. \
                         It lasts `api_token_days` (30 by default) unless revoked.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Trellis JSON API",
        description = "For integrations and scripted clients of Trellis, a youth-safe e-mentoring platform. \
            Every route but `POST /tokens` and `GET /openapi.json` needs a bearer token. Errors are \
            `{\"error\": {\"code\", \"message\"}}`; a resource the caller may not see answers 404, as if it \
            did not exist. Request bodies are JSON (`Content-Type: application/json`) of at most \
            `max_body_bytes` (256 KiB by default)."
    ),
    paths(
        tokens::create,
        tokens::revoke_current,
        tokens::me,
        conversations::list,
        conversations::messages,
        conversations::send,
        moderation_queue::queue,
        moderation_queue::decide,
        oversight::report,
        oversight::alerts,
        lifecycle::suggestions,
        lifecycle::questionnaire,
        lifecycle::save_questionnaire,
        lifecycle::send_request,
        lifecycle::list_requests,
        lifecycle::accept,
        lifecycle::decline,
        lifecycle::withdraw,
        lifecycle::review_request,
        lifecycle::manual_match,
        lifecycle::sign,
        lifecycle::complete,
        lifecycle::end,
        lifecycle::vetting,
        lifecycle::approve_student,
        lifecycle::goals,
        lifecycle::create_goal,
        lifecycle::update_goal,
        openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme),
    tags(
        (name = "tokens", description = "Bearer tokens and the caller's identity"),
        (name = "conversations", description = "Supervised conversations and moderated messages"),
        (name = "moderation", description = "The review queue of held messages (teachers, coordinators)"),
        (name = "oversight", description = "Reports and safeguarding alerts"),
        (name = "matching", description = "Questionnaire, suggestions and mentorship requests"),
        (name = "mentorship", description = "Matches: agreement, completion, ending, goals"),
        (name = "programme", description = "Coordinators: vetting mentors, approving students"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// The document, with every path under [`PREFIX`].
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths.into_iter().map(|(path, item)| (format!("{PREFIX}{path}"), item)).collect();
    doc
}

/// The methods documented for a concrete path (`/api/v1/matches/42/goals` → GET, POST), or
/// `None` when no documented path template fits it.
pub fn documented_methods(path: &str) -> Option<String> {
    static ROUTES: OnceLock<Vec<(Vec<String>, String)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        document()
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let doc = serde_json::to_value(item).unwrap_or_default();
                let methods: Vec<String> = ["get", "put", "post", "delete", "patch"]
                    .iter()
                    .filter(|m| doc.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                (template.split('/').map(str::to_owned).collect(), methods.join(", "))
            })
            .collect()
    });
    let segments: Vec<&str> = path.split('/').collect();
    routes
        .iter()
        .find(|(template, _)| {
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
        .map(|(_, methods)| methods.clone())
}

fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().expect("the OpenAPI document serializes"))
}

/// This document (public: it says nothing about anyone).
#[utoipa::path(
    tag = "meta",
    operation_id = "get_openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of `/api/v1`", content_type = "application/json", body = Object)),
)]
#[get("/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(document_json())
}
