//! Regression tests for what API fuzzing (`.ci/schemathesis.sh`) and its follow-up probes found:
//! bad input answers 4xx with a reason a person understands, on SQLite and PostgreSQL alike,
//! never a 500.

use diesel::prelude::*;
use serde_json::{json, Value};
use trellis::db::schema::{goals, messages, reports, users};

use crate::helpers::*;

async fn send(app: &TestApp, token: Option<&str>, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn message_of(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_else(|| panic!("an error body: {body}"))
}

async fn conversation_and_match(app: &TestApp, token: &str) -> (String, String) {
    let (status, body) = send(app, Some(token), "GET", "/api/v1/conversations", None).await;
    assert_eq!(status, 200);
    let c = &body["conversations"][0];
    (c["id"].as_str().unwrap().to_owned(), c["match_id"].as_str().unwrap().to_owned())
}

/// PostgreSQL cannot store U+0000 in text: a message, report, goal or e-mail with one was a 500
/// there (and stored as is on SQLite). Now it is a 400 on both, and nothing is stored.
#[tokio::test]
async fn a_nul_character_in_json_text_is_refused_with_a_reason() {
    let app = TestApp::with_demo().await;
    let student = app.token("student1").await;
    let (conversation, match_id) = conversation_and_match(&app, &student).await;
    let count = |app: &TestApp| -> (i64, i64, i64) {
        let mut conn = app.conn();
        (
            messages::table.count().get_result(&mut conn).unwrap(),
            reports::table.count().get_result(&mut conn).unwrap(),
            goals::table.count().get_result(&mut conn).unwrap(),
        )
    };
    let before = count(&app);
    let cases = [
        (
            "POST",
            format!("/api/v1/conversations/{conversation}/messages"),
            r#"{"text": "hello \u0000 there"}"#.to_owned(),
        ),
        (
            "POST",
            "/api/v1/reports".to_owned(),
            format!(r#"{{"conversation_id": "{conversation}", "reason": "a worry \u0000"}}"#),
        ),
        ("POST", format!("/api/v1/matches/{match_id}/goals"), r#"{"title": "\u0000"}"#.to_owned()),
        ("PUT", "/api/v1/questionnaire".to_owned(), r#"{"interests\u0000": ["robotics"]}"#.to_owned()),
    ];
    for (method, path, body) in &cases {
        let (status, answer) = send(&app, Some(&student), method, path, Some(body)).await;
        assert_eq!(status, 400, "{method} {path}: {answer}");
        assert!(message_of(&answer).contains("NUL character"), "{method} {path}: {answer}");
    }
    let (status, answer) = send(
        &app,
        None,
        "POST",
        "/api/v1/tokens",
        Some(r#"{"email": "student1@demo.trellis.test\u0000", "password": "x"}"#),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(count(&app), before, "nothing was stored");

    // An escaped backslash before "u0000" is just text.
    let (status, answer) = send(
        &app,
        Some(&student),
        "POST",
        &format!("/api/v1/conversations/{conversation}/messages"),
        Some(r#"{"text": "in C a string ends with \\u0000, did you know?"}"#),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

/// A `%00` in an id was a 500 on PostgreSQL (the lookup itself failed); now it is a 400.
#[tokio::test]
async fn a_nul_character_in_the_address_is_refused() {
    let app = TestApp::with_demo().await;
    let coordinator = app.token("coordinator").await;
    for (method, path) in [
        ("GET", "/api/v1/conversations/ab%00cd/messages"),
        ("POST", "/api/v1/students/ab%00cd/approve"),
        ("GET", "/api/v1/matches/x/goals?page=%00"),
    ] {
        let (status, answer) = send(&app, Some(&coordinator), method, path, None).await;
        assert_eq!(status, 400, "{method} {path}: {answer}");
        assert!(message_of(&answer).contains("NUL character"), "{answer}");
    }
    // Pages get the same answer as an HTML page.
    let client = app.signed_in("coordinator").await;
    let response = client.get(app.url("/conversations/ab%00cd")).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("NUL character"), "{page}");
}

/// Web forms go through the same check (a form post with `%00` was a 500 on PostgreSQL too).
#[tokio::test]
async fn a_nul_character_in_a_form_is_refused() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let token = app.csrf_token(&client, "/login").await;
    let response = client
        .post(app.url("/login"))
        .form(&[("email", "student1@demo.trellis.test\0"), ("password", "x"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("NUL character"), "{page}");
}

/// Dates beyond four-digit years were stored as given: "+10000-01-01" sorts before "2026" as
/// text on SQLite (an expiry far in the future counted as expired) and years before 4713 BC were
/// a 500 on PostgreSQL. Dates now lie in 2000..=2099, with a reason when they do not.
#[tokio::test]
async fn dates_outside_the_window_are_refused_with_a_reason() {
    let app = TestApp::with_demo().await;
    let student = app.token("student1").await;
    let coordinator = app.token("coordinator").await;
    let (_, match_id) = conversation_and_match(&app, &student).await;
    let mentor3: String =
        users::table.filter(users::email.eq(demo_email("mentor3"))).select(users::id).first(&mut app.conn()).unwrap();
    for date in ["-262143-01-01", "0000-01-01", "1999-12-31", "2100-01-01", "+10000-01-01", "+262142-12-31"] {
        let (status, answer) = send(
            &app,
            Some(&student),
            "POST",
            &format!("/api/v1/matches/{match_id}/goals"),
            Some(&json!({ "title": "Build a weather station", "target_date": date }).to_string()),
        )
        .await;
        assert_eq!(status, 400, "target {date}: {answer}");
        assert!(message_of(&answer).contains("between 2000-01-01 and 2099-12-31"), "{answer}");
        let (status, answer) = send(
            &app,
            Some(&coordinator),
            "POST",
            &format!("/api/v1/mentors/{mentor3}/vetting"),
            Some(&json!({ "background_check_expires_on": date }).to_string()),
        )
        .await;
        assert_eq!(status, 400, "expiry {date}: {answer}");
    }
    let (status, answer) = send(
        &app,
        Some(&student),
        "POST",
        &format!("/api/v1/matches/{match_id}/goals"),
        Some(r#"{"title": "Build a weather station", "target_date": "2030-06-01"}"#),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    let (status, goals) = send(&app, Some(&student), "GET", &format!("/api/v1/matches/{match_id}/goals"), None).await;
    assert_eq!(status, 200);
    assert_eq!(goals["goals"][0]["target_date"], "2030-06-01");
}

/// JSON that does not fit says what is wrong in words, without the parser's jargon.
#[tokio::test]
async fn malformed_json_says_what_is_wrong() {
    let app = TestApp::with_demo().await;
    let student = app.token("student1").await;
    let (conversation, _) = conversation_and_match(&app, &student).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let (status, answer) = send(&app, Some(&student), "POST", &path, Some(r#"{"txt": "hi"}"#)).await;
    assert_eq!(status, 400);
    let message = message_of(&answer);
    assert!(message.contains("missing field `text`") && !message.contains("Json deserialize"), "{message}");
    let (status, answer) = send(&app, Some(&student), "POST", &path, Some(r#"{"text": "hi""#)).await;
    assert_eq!(status, 400);
    assert!(message_of(&answer).starts_with("The request body is not valid JSON"), "{answer}");
    // Too large is still 413, also now that bodies are read before the handler.
    let big = json!({ "text": "a".repeat(300_000) }).to_string();
    let (status, answer) = send(&app, Some(&student), "POST", &path, Some(&big)).await;
    assert_eq!(status, 413, "{answer}");
}
