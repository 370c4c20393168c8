use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn token_lifecycle() {
    let app = TestApp::with_demo().await;
    let http = reqwest::Client::new();
    let r = http
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": "mentor1@demo.trellis.test", "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(body["user"]["role"], "mentor");
    assert_eq!(body["user"]["display_name"], "Dr. Maya Mentor");
    assert!(body["user"]["id"].as_str().is_some());

    let me: Value = http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "mentor");
    assert_eq!(me["id"], body["user"]["id"]);

    let r = http.delete(app.url("/api/v1/tokens/current")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    use diesel::{QueryDsl, RunQueryDsl};
    let app = TestApp::with_demo().await;
    let token = app.token("student1").await;
    let hashes: Vec<String> = trellis::db::schema::api_tokens::table
        .select(trellis::db::schema::api_tokens::token_hash)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token);
    assert_eq!(hashes[0], trellis::services::accounts::hash_token(&token));
}

#[tokio::test]
async fn api_errors_are_json_with_a_clear_message() {
    let app = TestApp::with_demo().await;
    let http = reqwest::Client::new();
    // Wrong password.
    let r = http
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": "mentor1@demo.trellis.test", "password": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "That e-mail address and password do not match an account.");
    // Malformed JSON.
    let r = http
        .post(app.url("/api/v1/tokens"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    // Missing field.
    let r = http.post(app.url("/api/v1/tokens")).json(&serde_json::json!({ "email": "x@y.z" })).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("password"));
    // Wrong content type.
    let r = http.post(app.url("/api/v1/tokens")).body("email=x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    // No token, bad token.
    let r = http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unauthenticated");
    let r = http.get(app.url("/api/v1/me")).bearer_auth("trl_forged").send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Unknown route and wrong method under /api.
    let r = http.get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    let r = http.put(app.url("/api/v1/me")).send().await.unwrap();
    assert!(r.status().is_client_error());
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::with_demo().await;
    let big = "x".repeat(300 * 1024);
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": big, "password": "p" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
    let client = app.client();
    let token = app.csrf_token(&client, "/login").await;
    let r = client
        .post(app.url("/login"))
        .form(&[("email", big.as_str()), ("password", "p"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
