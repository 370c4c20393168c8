//! Wiring: the shared state, the middleware stack and the routes. `main` and the tests build
//! the server through the same functions.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::configuration::Settings;
use crate::db::{Backend, DbPool};
use crate::error::AppError;
use crate::mail::Mailer;
use crate::moderation::{Category, Classifier, ClassifierError, Pipeline, Policy, PriorMessage};
use crate::programme_policy::ProgrammePolicy;
use crate::services::accounts::{PasswordPolicy, ThrottlePolicy};
use crate::telemetry::PrivacyRootSpan;
use crate::web::error_pages;
use crate::web::session_store::DbSessionStore;
use std::collections::BTreeMap;

pub struct AppState {
    pub pool: DbPool,
    pub backend: Backend,
    pub settings: Settings,
    pub passwords: PasswordPolicy,
    pub mailer: Mailer,
    pub pipeline: Arc<Pipeline>,
    pub programme: ProgrammePolicy,
    /// Conversation ids with news, for the live (Server-Sent Events) views.
    pub events: tokio::sync::broadcast::Sender<String>,
    /// Messages being moderated at once. The classifier uses a core fully for ~10 ms; running
    /// more inferences than cores at a time only adds memory (each blocking thread keeps its
    /// own allocations) and makes every one of them slower. Waiting senders queue here, cheaply.
    pub moderation_slots: Arc<tokio::sync::Semaphore>,
    /// One argon2 verification per core at a time (19 MiB each): a burst of sign-ins waits
    /// here instead of holding database connections and hundreds of hash buffers at once.
    pub password_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn notify_conversation_change(&self, conversation_id: &str) {
        // No subscribers is fine: nobody is watching live.
        let _ = self.events.send(conversation_id.to_owned());
    }

    /// What lifecycle services need from the shared state, at time `at`.
    pub fn lifecycle_context(&self, at: chrono::NaiveDateTime) -> crate::services::lifecycle::LifecycleContext<'_> {
        crate::services::lifecycle::LifecycleContext {
            policy: &self.programme,
            pipeline: &self.pipeline,
            public_url: &self.settings.public_url,
            at,
        }
    }

    pub fn throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.settings.login_max_failures,
            lockout: chrono::Duration::minutes(self.settings.login_lockout_minutes),
        }
    }
}

/// A strict policy: no inline script or style, nothing from other origins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Starts the HTTP server on an already-bound listener (tests bind port 0).
pub fn run(listener: TcpListener, state: web::Data<AppState>, session_key: Key) -> std::io::Result<Server> {
    let workers = state
        .settings
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 8));
    let server = HttpServer::new(move || {
        let settings = &state.settings;
        let session = SessionMiddleware::builder(DbSessionStore::new(state.pool.clone()), session_key.clone())
            .cookie_name("trellis_session".into())
            .cookie_secure(settings.secure_cookies)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl(actix_web::cookie::time::Duration::minutes(settings.session_idle_minutes))
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build();
        let mut headers = DefaultHeaders::new()
            .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
            .add(("X-Content-Type-Options", "nosniff"))
            .add(("X-Frame-Options", "DENY"))
            .add(("Referrer-Policy", "no-referrer"))
            .add(("Cross-Origin-Opener-Policy", "same-origin"))
            .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
            .add(("Cache-Control", "no-store"));
        if settings.secure_cookies {
            headers = headers.add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"));
        }
        let body_limit = settings.max_body_bytes;
        App::new()
            .app_data(state.clone())
            .app_data(web::JsonConfig::default().limit(body_limit).error_handler(|err, _| {
                let message = match &err {
                    actix_web::error::JsonPayloadError::ContentType => {
                        "Send JSON with the header Content-Type: application/json.".to_owned()
                    }
                    actix_web::error::JsonPayloadError::Overflow { .. }
                    | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                        return AppError::new(
                            crate::error::ErrorKind::PayloadTooLarge,
                            "That request body is too large.",
                        )
                        .into();
                    }
                    actix_web::error::JsonPayloadError::Deserialize(e) => match e.classify() {
                        serde_json::error::Category::Data => {
                            format!("Something in the JSON body is missing or of the wrong kind: {e}.")
                        }
                        _ => format!("The request body is not valid JSON: {e}."),
                    },
                    other => format!("The JSON body could not be read: {other}"),
                };
                AppError::bad_request(message).into()
            }))
            .app_data(web::FormConfig::default().limit(body_limit).error_handler(|err, _| match err {
                actix_web::error::UrlencodedError::Overflow { .. } => {
                    AppError::new(crate::error::ErrorKind::PayloadTooLarge, "That form is too large.").into()
                }
                _ => {
                    AppError::bad_request("The form was incomplete or malformed. Please go back and try again.").into()
                }
            }))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|_, _| AppError::bad_request("The address has a malformed query string.").into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::not_found().into()))
            .app_data(web::PayloadConfig::default().limit(body_limit))
            .wrap(actix_web::middleware::from_fn(crate::web::request_guard::reject_nul))
            .wrap(ErrorHandlers::new().default_handler(error_pages::handle))
            .wrap(session)
            .wrap(headers)
            .wrap(TracingLogger::<PrivacyRootSpan>::new())
            .configure(crate::api::configure)
            .configure(crate::web::configure)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(AppError::not_found()) }))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Loads the session-cookie key from `path`, creating it (64 random bytes, mode 0600) on first run.
pub fn load_or_create_session_key(path: &std::path::Path) -> anyhow::Result<Key> {
    use std::io::Write;
    if path.exists() {
        let bytes =
            std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read session key {}: {e}", path.display()))?;
        if bytes.len() < 64 {
            anyhow::bail!("session key {} is too short; delete it to have a new one made", path.display());
        }
        return Ok(Key::from(&bytes));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let key = Key::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file =
        options.open(path).map_err(|e| anyhow::anyhow!("cannot create session key {}: {e}", path.display()))?;
    file.write_all(key.master())?;
    Ok(key)
}

/// Connects the database (running migrations) and assembles the shared state, loading the
/// classifier from `settings.models_dir`.
pub fn prepare_state(settings: Settings, mailer: Mailer) -> anyhow::Result<web::Data<AppState>> {
    let classifier = load_classifier(&settings.models_dir, &settings.policies_dir);
    prepare_state_with(settings, mailer, classifier)
}

/// As `prepare_state`, with an already loaded classifier (tests share one across apps).
pub fn prepare_state_with(
    settings: Settings,
    mailer: Mailer,
    classifier: Arc<dyn Classifier>,
) -> anyhow::Result<web::Data<AppState>> {
    let (pool, backend) = crate::db::connect(&settings.database_url, settings.database_pool_size)?;
    let passwords = PasswordPolicy::new(settings.password_hashing);
    let (pipeline, programme) = load_policies(&settings.policies_dir, classifier)?;
    let (events, _) = tokio::sync::broadcast::channel(256);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let moderation_slots = Arc::new(tokio::sync::Semaphore::new(cores));
    let password_slots = Arc::new(tokio::sync::Semaphore::new(cores));
    Ok(web::Data::new(AppState {
        pool,
        backend,
        settings,
        passwords,
        mailer,
        pipeline,
        programme,
        events,
        moderation_slots,
        password_slots,
    }))
}

/// Loads the moderation and programme policies from `dir`, or the built-in copies when the
/// folder does not exist (so the binary runs from anywhere).
pub fn load_policies(
    dir: &std::path::Path,
    classifier: Arc<dyn Classifier>,
) -> anyhow::Result<(Arc<Pipeline>, ProgrammePolicy)> {
    let policy = if dir.join("moderation.toml").exists() { Policy::load(dir)? } else { Policy::builtin() };
    let programme = ProgrammePolicy::load(dir)?;
    Ok((Arc::new(Pipeline::new(policy).with_classifier(Box::new(SharedClassifier(classifier)))), programme))
}

/// Lets one loaded model serve several pipelines.
pub struct SharedClassifier(pub Arc<dyn Classifier>);

impl Classifier for SharedClassifier {
    fn score(&self, text: &str, context: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, ClassifierError> {
        self.0.score(text, context)
    }
}

/// Stands in for a model that could not be loaded: every score fails, so the pipeline holds
/// every message for a person (fail closed) and says automatic checking is unavailable.
pub struct UnavailableClassifier(pub String);

impl Classifier for UnavailableClassifier {
    fn score(&self, _: &str, _: &[PriorMessage]) -> Result<BTreeMap<Category, f32>, ClassifierError> {
        Err(ClassifierError(self.0.clone()))
    }
}

/// Loads the classifier once. A missing or corrupt model is logged loudly and replaced by
/// `UnavailableClassifier`: the server still starts, and moderation runs rules-and-hold.
pub fn load_classifier(models_dir: &std::path::Path, policies_dir: &std::path::Path) -> Arc<dyn Classifier> {
    match crate::classifier::load(models_dir, policies_dir) {
        Ok(classifier) => Arc::from(classifier),
        Err(error) => {
            let message = format!("the moderation model could not be loaded ({error})");
            tracing::error!("{message}; EVERY MESSAGE WILL BE HELD FOR REVIEW (rules only, then hold)");
            eprintln!("trellis: WARNING: {message}. Moderation runs rules-only-and-hold: every message waits for a reviewer until the model is fixed.");
            Arc::new(UnavailableClassifier(message))
        }
    }
}
