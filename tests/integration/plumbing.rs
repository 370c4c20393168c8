use crate::helpers::*;

#[tokio::test]
async fn health_check_answers() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["database"], "ok");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::with_demo().await;
    for path in ["/", "/login", "/healthz", "/dashboard", "/no-such-page", "/api/v1/me", "/static/trellis.css"] {
        let r = app.client().get(app.url(path)).send().await.unwrap();
        let csp = r.headers().get("content-security-policy").unwrap_or_else(|| panic!("CSP on {path}"));
        let csp = csp.to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn pages_have_no_inline_script() {
    let app = TestApp::with_demo().await;
    let client = app.signed_in("coordinator").await;
    for path in ["/", "/dashboard", "/no-such-page"] {
        let html = client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..html[i..].find('>').unwrap() + i];
            assert!(tag.contains("src=\"/static/"), "inline script on {path}: {tag}");
        }
        assert!(!html.contains(" style=\""), "inline style on {path}");
        assert!(!html.contains(" onclick="), "inline handler on {path}");
    }
}

#[tokio::test]
async fn unknown_pages_and_methods_get_a_friendly_page() {
    let app = TestApp::spawn().await;
    let r = app.client().get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("Page not found") && html.contains("We could not find that page."));
    let r = app.client().delete(app.url("/login")).send().await.unwrap();
    assert!(r.status().is_client_error());
    let r = app.client().get(app.url("/static/nope.css")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn malformed_forms_get_a_clear_400() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let r = client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("The form was incomplete or malformed"));
}

#[tokio::test]
async fn static_files_are_served() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(app.url("/static/trellis.css")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn queued_mail_is_delivered_through_the_outbox() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let id =
        trellis::mail::enqueue(&mut conn, "guardian@example.org", "Hello", "Body", None, trellis::db::now()).unwrap();
    assert!(app.mailer.sent().is_empty(), "nothing leaves before the outbox runs");
    assert_eq!(
        trellis::mail::deliver_due(&mut conn, &app.mailer, trellis::db::now(), chrono::Duration::minutes(5)).unwrap(),
        1
    );
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "guardian@example.org");
    assert_eq!(
        trellis::mail::deliver_due(&mut conn, &app.mailer, trellis::db::now(), chrono::Duration::minutes(5)).unwrap(),
        0,
        "sent once only"
    );
    use diesel::{QueryDsl, RunQueryDsl};
    let status: String = trellis::db::schema::mail_outbox::table
        .find(id)
        .select(trellis::db::schema::mail_outbox::status)
        .first(&mut conn)
        .unwrap();
    assert_eq!(status, "sent");
}

/// Concurrent writers on a file-backed SQLite database (where the pool really has several
/// connections) wait for each other instead of failing with "database is locked".
#[tokio::test]
async fn concurrent_writes_on_sqlite_wait_instead_of_failing() {
    if std::env::var("TRELLIS_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return; // a PostgreSQL run: this is about SQLite's locking
    }
    let dir = std::env::temp_dir().join(format!("trellis-locks-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut settings = test_settings();
    settings.database_url = format!("sqlite://{}/t.db", dir.display());
    settings.workers = Some(4);
    settings.login_max_failures = 1000;
    let app = TestApp::spawn_with(settings).await;
    app.seed_demo();
    let mut tasks = Vec::new();
    for i in 0..48 {
        let url = app.url("/api/v1/tokens");
        tasks.push(tokio::spawn(async move {
            // Wrong passwords: each one records a failure (a read, then a write) in a transaction.
            let who = ["student1", "student2", "mentor1", "mentor2"][i % 4];
            reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({ "email": format!("{who}@demo.trellis.test"), "password": "wrong" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
