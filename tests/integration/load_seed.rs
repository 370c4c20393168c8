//! `trellis seed --load-test` data: the accounts and conversations the load generator uses
//! work through the real API, and the dashboards read the historic messages.

use diesel::prelude::*;
use trellis::db::enums::Role;
use trellis::db::schema::{conversations, messages, users};
use trellis::services::{demo, load_seed};

use crate::helpers::*;

#[tokio::test]
async fn load_test_accounts_sign_in_and_send_through_the_pipeline() {
    let app = TestApp::spawn().await;
    let moderate = demo::pipeline_moderator(&app.state.pipeline);
    let mut lines = Vec::new();
    let summary = {
        let mut conn = app.conn();
        load_seed::seed(&mut conn, &app.state.passwords, &*moderate, 30, 250, &mut |l: &str| lines.push(l.to_owned()))
            .unwrap()
    };
    assert_eq!(summary.users, 30);
    assert_eq!(summary.messages, 250);
    assert!(lines.iter().any(|l| l.contains("messages: 250 of 250")), "progress is reported: {lines:?}");
    let mut conn = app.conn();
    let count: i64 = users::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 30);
    let open: i64 =
        conversations::table.filter(conversations::status.eq("open")).count().get_result(&mut conn).unwrap();
    assert_eq!(open as usize, summary.conversations);
    let stored: i64 = messages::table.count().get_result(&mut conn).unwrap();
    assert_eq!(stored, 250);
    drop(conn);

    // A second run is refused instead of adding a second programme.
    let again = load_seed::seed(&mut app.conn(), &app.state.passwords, &*moderate, 30, 10, &mut |_: &str| {});
    assert_eq!(again.err().map(|e| e.kind.status().as_u16()), Some(409));

    let client = reqwest::Client::new();
    let response = client
        .post(app.url("/api/v1/tokens"))
        .json(&serde_json::json!({ "email": load_seed::load_email(Role::Student, 3), "password": load_seed::LOAD_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token = response.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let list: serde_json::Value =
        client.get(app.url("/api/v1/conversations")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let conversations = list["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1, "a student sees only their own conversation");
    let id = conversations[0]["id"].as_str().unwrap();
    let sent = client
        .post(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "text": "I got 12.5 N for question 4 as well." }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let history: serde_json::Value = client
        .get(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(history["messages"].as_array().unwrap().len() > 1, "historic messages are readable");
}
