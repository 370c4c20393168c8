//! The test harness: a real Trellis server on a random port over a fresh database per test
//! (in-memory SQLite, or a new PostgreSQL database when TRELLIS_TEST_DATABASE_URL is set).

use std::net::TcpListener;

use actix_web::web;
use reqwest::redirect::Policy;
use trellis::app::{self, AppState};
use trellis::configuration::{PasswordHashing, Settings};
use trellis::db::enums::Role;
use trellis::db::PooledDb;
use trellis::mail::Mailer;
use trellis::services::accounts::{self, NewUser};
use trellis::services::demo;

pub const DEMO_PASSWORD: &str = demo::DEMO_PASSWORD;

/// The real classifier, loaded once for the whole test binary.
pub fn shared_classifier() -> std::sync::Arc<dyn trellis::moderation::Classifier> {
    static CLASSIFIER: std::sync::OnceLock<std::sync::Arc<dyn trellis::moderation::Classifier>> =
        std::sync::OnceLock::new();
    CLASSIFIER
        .get_or_init(|| {
            let root = crate::repo::root();
            std::sync::Arc::from(
                trellis::classifier::load(&root.join("models"), &root.join("policies")).expect("the classifier loads"),
            )
        })
        .clone()
}

pub struct TestApp {
    pub address: String,
    pub state: web::Data<AppState>,
    pub mailer: Mailer,
}

/// A fresh, empty database URL for one test.
pub fn fresh_database_url() -> String {
    match std::env::var("TRELLIS_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => postgres_database(&base),
        _ => "sqlite://:memory:".to_owned(),
    }
}

#[cfg(feature = "postgres")]
fn postgres_database(base: &str) -> String {
    use diesel::{Connection, RunQueryDsl};
    let name = format!("trellis_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = diesel::pg::PgConnection::establish(base).expect("connect to TRELLIS_TEST_DATABASE_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
    format!("{prefix}/{name}")
}

#[cfg(not(feature = "postgres"))]
fn postgres_database(_: &str) -> String {
    panic!("TRELLIS_TEST_DATABASE_URL is set but the tests were built without --features postgres")
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::defaults();
    settings.database_url = fresh_database_url();
    settings.bind = "127.0.0.1:0".into();
    settings.password_hashing = PasswordHashing::TestOnlyFast;
    settings.workers = Some(1);
    let root = crate::repo::root();
    settings.policies_dir = root.join("policies");
    settings.models_dir = root.join("models");
    settings.database_pool_size = 4;
    settings
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(test_settings()).await
    }

    pub async fn spawn_with(settings: Settings) -> TestApp {
        Self::spawn_with_classifier(settings, shared_classifier()).await
    }

    pub async fn spawn_with_classifier(
        settings: Settings,
        classifier: std::sync::Arc<dyn trellis::moderation::Classifier>,
    ) -> TestApp {
        let mailer = Mailer::memory();
        let state = app::prepare_state_with(settings, mailer.clone(), classifier).expect("app state");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let key = actix_web::cookie::Key::generate();
        let server = app::run(listener, state.clone(), key).expect("server starts");
        tokio::spawn(server);
        TestApp { address, state, mailer }
    }

    /// A server over a database seeded with the demo programme.
    pub async fn with_demo() -> TestApp {
        let app = Self::spawn().await;
        app.seed_demo();
        app
    }

    pub fn seed_demo(&self) -> bool {
        let mut conn = self.conn();
        let moderate = demo::pipeline_moderator(&self.state.pipeline);
        demo::seed(&mut conn, &self.state.passwords, &*moderate).expect("demo seeding").created
    }

    pub fn conn(&self) -> PooledDb {
        self.state.pool.get().expect("database connection")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A browser-like client: its own cookie jar, redirects not followed (tests look at them).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
    }

    /// The CSRF token of the form on the page at `path`, fetched with `client`'s session.
    pub async fn csrf_token(&self, client: &reqwest::Client, path: &str) -> String {
        let html = client.get(self.url(path)).send().await.unwrap().text().await.unwrap();
        extract_csrf(&html).unwrap_or_else(|| panic!("no csrf token on {path}"))
    }

    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        let token = self.csrf_token(client, "/login").await;
        client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", password), ("csrf_token", &token), ("next", "/dashboard")])
            .send()
            .await
            .unwrap()
    }

    /// A client signed in as a demo account ("teacher", "student1", …).
    pub async fn signed_in(&self, who: &str) -> reqwest::Client {
        let client = self.client();
        let response = self.login(&client, &demo_email(who), DEMO_PASSWORD).await;
        assert_eq!(response.status(), 303, "sign-in as {who} should redirect");
        client
    }

    pub async fn token(&self, who: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/tokens"))
            .json(&serde_json::json!({ "email": demo_email(who), "password": DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    /// Creates an extra user (factory) and returns its id.
    pub fn create_user(&self, role: Role, email: &str, password: &str) -> String {
        let mut conn = self.conn();
        accounts::create_user(
            &mut conn,
            &self.state.passwords,
            NewUser { email, display_name: "Factory User", role, password: Some(password), programme_id: None },
            None,
        )
        .expect("create user")
        .id
    }
}

pub fn demo_email(who: &str) -> String {
    format!("{who}@demo.trellis.test")
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("trellis_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}
