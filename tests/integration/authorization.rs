//! The authorization matrix: every GET route (pages and API) × every role × own and someone
//! else's resource, with the expected status. A GET route in the code without a row here
//! fails the test. (State-changing routes have their own matrix, with bodies, in
//! `authorization_writes.rs`.)

use std::collections::BTreeSet;

use diesel::prelude::*;
use trellis::db::schema::{conversations, matches, users};

use crate::helpers::*;

const ROLES: [&str; 9] =
    ["anon", "student1", "mentor1", "guardian1", "teacher", "coordinator", "student2", "mentor2", "guardian2"];

/// Expected status per role, in the order of `ROLES`.
struct Row {
    pattern: &'static str,
    path: String,
    expect: [u16; 9],
}

fn pages_rows(conv1: &str, match1: &str) -> Vec<Row> {
    // anon, s1, m1, g1, teacher, coord, s2, m2, g2
    const ALL: [u16; 9] = [303, 200, 200, 200, 200, 200, 200, 200, 200];
    const CONV1: [u16; 9] = [303, 200, 200, 200, 200, 200, 404, 404, 404];
    const STAFF: [u16; 9] = [303, 404, 404, 404, 200, 200, 404, 404, 404];
    const COORD: [u16; 9] = [303, 404, 404, 404, 404, 200, 404, 404, 404];
    let row = |pattern: &'static str, path: String, expect: [u16; 9]| Row { pattern, path, expect };
    vec![
        row("/", "/".into(), [200; 9]),
        row("/login", "/login".into(), [200, 303, 303, 303, 303, 303, 303, 303, 303]),
        row("/dashboard", "/dashboard".into(), ALL),
        row("/healthz", "/healthz".into(), [200; 9]),
        row("/static/{file}", "/static/trellis.css".into(), [200; 9]),
        row("/suggestions", "/suggestions".into(), [303; 9]),
        row("/conversations", "/conversations".into(), ALL),
        row("/conversations/{id}", format!("/conversations/{conv1}"), CONV1),
        row("/conversations/{id}/messages", format!("/conversations/{conv1}/messages"), CONV1),
        row("/conversations/{id}/events", format!("/conversations/{conv1}/events"), CONV1),
        row("/review", "/review".into(), STAFF),
        row("/alerts", "/alerts".into(), COORD),
        row("/access-log", "/access-log".into(), COORD),
        row("/guardians", "/guardians".into(), COORD),
        row("/analytics", "/analytics".into(), COORD),
        row("/analytics.csv", "/analytics.csv".into(), COORD),
        row("/mentoring", "/mentoring".into(), [303, 200, 200, 404, 404, 200, 200, 200, 404]),
        row("/consent/{token}", "/consent/not-a-real-token".into(), [404; 9]),
        row("/surveys/{id}", format!("/surveys/{match1}"), [303, 404, 404, 404, 404, 404, 404, 404, 404]),
        // The API, reached with each role's bearer token (anonymous = none).
        row("/api/v1/openapi.json", "/api/v1/openapi.json".into(), [200; 9]),
        row("/api/v1/me", "/api/v1/me".into(), [401, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("/api/v1/conversations", "/api/v1/conversations".into(), [401, 200, 200, 200, 200, 200, 200, 200, 200]),
        row(
            "/api/v1/conversations/{id}/messages",
            format!("/api/v1/conversations/{conv1}/messages"),
            [401, 200, 200, 200, 200, 200, 404, 404, 404],
        ),
        row(
            "/api/v1/moderation/queue",
            "/api/v1/moderation/queue".into(),
            [401, 404, 404, 404, 200, 200, 404, 404, 404],
        ),
        row("/api/v1/alerts", "/api/v1/alerts".into(), [401, 404, 404, 404, 404, 200, 404, 404, 404]),
        row("/api/v1/suggestions", "/api/v1/suggestions".into(), [401, 200, 404, 404, 404, 404, 200, 404, 404]),
        row("/api/v1/questionnaire", "/api/v1/questionnaire".into(), [401, 200, 200, 404, 404, 404, 200, 200, 404]),
        row("/api/v1/requests", "/api/v1/requests".into(), [401, 200, 200, 404, 404, 200, 200, 200, 404]),
        row(
            "/api/v1/matches/{id}/goals",
            format!("/api/v1/matches/{match1}/goals"),
            [401, 200, 200, 200, 200, 200, 404, 404, 404],
        ),
    ]
}

/// Every `#[get("…")]` in the web and API modules, with the API scope prefix.
fn get_routes_in_code() -> BTreeSet<String> {
    let root = crate::repo::root().join("src");
    let mut routes = BTreeSet::new();
    for (dir, prefix) in [("web", ""), ("api", "/api/v1")] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("#[get(\"").skip(1) {
                let path = part.split('"').next().unwrap();
                routes.insert(format!("{prefix}{path}"));
            }
        }
    }
    routes.insert("/suggestions".into()); // registered as a plain resource
    routes
}

#[tokio::test]
async fn every_get_route_for_every_role() {
    let app = TestApp::with_demo().await;
    let student1: String =
        users::table.filter(users::email.eq(demo_email("student1"))).select(users::id).first(&mut app.conn()).unwrap();
    let (conv1, match1): (String, String) = conversations::table
        .inner_join(matches::table)
        .filter(matches::student_id.eq(&student1))
        .select((conversations::id, matches::id))
        .first(&mut app.conn())
        .unwrap();
    let rows = pages_rows(&conv1, &match1);
    let covered: BTreeSet<String> = rows.iter().map(|r| r.pattern.to_owned()).collect();
    assert_eq!(covered, get_routes_in_code(), "every GET route needs a row in the matrix");

    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        let (browser, token) = if *role == "anon" {
            (app.client(), None)
        } else {
            (app.signed_in(role).await, Some(app.token(role).await))
        };
        for row in &rows {
            let request = if row.path.starts_with("/api/") {
                let r = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(app.url(&row.path));
                match &token {
                    Some(t) => r.bearer_auth(t),
                    None => r,
                }
            } else {
                browser.get(app.url(&row.path))
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            if status != row.expect[i] {
                failures.push(format!("{role} GET {} → {status}, expected {}", row.pattern, row.expect[i]));
            }
            // Denials never leak the resource: a 404 body is the generic page or JSON error.
            if status == 404 && !row.path.contains("/static/") {
                let body = response.text().await.unwrap();
                assert!(!body.contains("Dr. Maya Mentor"), "{role} {}: 404 leaks a name", row.pattern);
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix mismatches:\n{}", failures.join("\n"));
}
