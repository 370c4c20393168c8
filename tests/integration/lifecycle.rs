//! User stories of the mentoring lifecycle, end to end through the real app.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};
use trellis::db::schema::{alerts, conversations, mail_outbox, matches, mentor_profiles, users};

use crate::helpers::*;

struct Api<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(app: &'a TestApp) -> Self {
        Api { app, http: reqwest::Client::new() }
    }
    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.http.get(self.app.url(path)).bearer_auth(token).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

fn id_of(app: &TestApp, who: &str) -> String {
    users::table.filter(users::email.eq(demo_email(who))).select(users::id).first(&mut app.conn()).unwrap()
}

fn mails_to(app: &TestApp, who: &str) -> Vec<(String, String)> {
    mail_outbox::table
        .filter(mail_outbox::to_address.eq(demo_email(who)))
        .order(mail_outbox::created_at.asc())
        .select((mail_outbox::subject, mail_outbox::body_text))
        .load(&mut app.conn())
        .unwrap()
}

fn run_jobs_at(app: &TestApp, days: i64) {
    trellis::jobs::run_pass(&app.state, trellis::db::now() + Duration::days(days) + Duration::minutes(1)).unwrap();
}

#[tokio::test]
async fn request_acceptance_agreement_consent_by_email_link_active_then_closure_at_twelve_months() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let mentor3 = app.token("mentor3").await;
    let student3 = app.token("student3").await;

    // The mentor sees the demo request and accepts it.
    let (_, list) = api.get(&mentor3, "/api/v1/requests").await;
    let request_id = list["requests"][0]["id"].as_str().unwrap().to_owned();
    let (status, answered) =
        api.post(&mentor3, &format!("/api/v1/requests/{request_id}/accept"), json!({ "message": "Happy to!" })).await;
    assert_eq!(status, 200, "{answered}");
    let (status, again) = api.post(&mentor3, &format!("/api/v1/requests/{request_id}/accept"), json!({})).await;
    assert_eq!(status, 409, "accepting twice: {again}");
    let match_id: String = matches::table
        .filter(matches::student_id.eq(id_of(&app, "student3")))
        .select(matches::id)
        .first(&mut app.conn())
        .unwrap();

    // Both sign the agreement; only then do guardians get the consent e-mail.
    let (_, signed) = api.post(&student3, &format!("/api/v1/matches/{match_id}/agreement"), json!({})).await;
    assert_eq!(signed["status"], "signed");
    assert!(mails_to(&app, "guardian2").iter().all(|(s, _)| !s.contains("consent")));
    let (status, _) = api.post(&student3, &format!("/api/v1/matches/{match_id}/agreement"), json!({})).await;
    assert_eq!(status, 409, "signing twice");
    let (_, signed) = api.post(&mentor3, &format!("/api/v1/matches/{match_id}/agreement"), json!({})).await;
    assert_eq!(signed["status"], "awaiting_consent");
    // No conversation before consent.
    let n: i64 =
        conversations::table.filter(conversations::match_id.eq(&match_id)).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 0);

    // The guardian follows the link in the e-mail.
    let mail = mails_to(&app, "guardian2").into_iter().find(|(s, _)| s.contains("consent")).expect("consent mail");
    assert!(mail.0.contains("Max Mentor"), "the mail names the mentor: {}", mail.0);
    let start = mail.1.find("/consent/").unwrap();
    let path: String = mail.1[start..].split_whitespace().next().unwrap().to_owned();
    let guardian_browser = app.client();
    let page = guardian_browser.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Max Mentor") && html.contains("Sasha Student"));
    let csrf = extract_csrf(&html).unwrap();
    // A forged token is refused.
    let r = guardian_browser.get(app.url("/consent/0000forged")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = guardian_browser
        .post(app.url(&path))
        .form(&[("csrf_token", csrf.as_str()), ("decision", "give")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("The mentorship has started"));
    // The link works once.
    let r = guardian_browser
        .post(app.url(&path))
        .form(&[("csrf_token", csrf.as_str()), ("decision", "give")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // Active: the conversation is open and takes messages.
    let status: String = matches::table.find(&match_id).select(matches::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "active");
    let (_, convs) = api.get(&student3, "/api/v1/conversations").await;
    let conversation = convs["conversations"][0]["id"].as_str().unwrap().to_owned();
    let (status, sent) = api
        .post(
            &student3,
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "Hi Max! Thanks for saying yes." }),
        )
        .await;
    assert_eq!(status, 201, "{sent}");

    // A month before the end both are reminded; at 12 months it closes by itself.
    run_jobs_at(&app, 336);
    assert!(mails_to(&app, "student3").iter().any(|(s, _)| s.contains("ends in a month")));
    run_jobs_at(&app, 366);
    let status: String = matches::table.find(&match_id).select(matches::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "completed");
    let (status, body) = api
        .post(
            &student3,
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "one more question" }),
        )
        .await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("read-only"));
    // Closure surveys for student, mentor and guardian.
    let surveys: i64 = trellis::db::schema::closure_surveys::table
        .filter(trellis::db::schema::closure_surveys::match_id.eq(&match_id))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(surveys, 3);
    let survey_mail =
        mails_to(&app, "student3").into_iter().find(|(s, _)| s.contains("How did the mentorship go")).unwrap();
    let start = survey_mail.1.find("/surveys/").unwrap();
    let survey_path: String = survey_mail.1[start..].split_whitespace().next().unwrap().to_owned();
    let browser = app.signed_in("student3").await;
    let html = browser.get(app.url(&survey_path)).send().await.unwrap().text().await.unwrap();
    let csrf = extract_csrf(&html).unwrap();
    let r = browser
        .post(app.url(&survey_path))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("rating", "5"),
            ("went_well", "Learned a lot about oceans"),
            ("improve", "More time"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let other = app.signed_in("student1").await;
    assert_eq!(other.get(app.url(&survey_path)).send().await.unwrap().status(), 404, "someone else's survey");
}

#[tokio::test]
async fn a_guardian_can_decline_and_the_coordinator_sees_why() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let mentor3 = app.token("mentor3").await;
    let student3 = app.token("student3").await;
    let (_, list) = api.get(&mentor3, "/api/v1/requests").await;
    let request_id = list["requests"][0]["id"].as_str().unwrap().to_owned();
    api.post(&mentor3, &format!("/api/v1/requests/{request_id}/accept"), json!({})).await;
    let match_id: String = matches::table
        .filter(matches::student_id.eq(id_of(&app, "student3")))
        .select(matches::id)
        .first(&mut app.conn())
        .unwrap();
    api.post(&student3, &format!("/api/v1/matches/{match_id}/agreement"), json!({})).await;
    api.post(&mentor3, &format!("/api/v1/matches/{match_id}/agreement"), json!({})).await;
    let mail = mails_to(&app, "guardian2").into_iter().find(|(s, _)| s.contains("consent")).unwrap();
    let start = mail.1.find("/consent/").unwrap();
    let path: String = mail.1[start..].split_whitespace().next().unwrap().to_owned();
    let browser = app.client();
    let csrf = app.csrf_token(&browser, &path).await;
    let r = browser
        .post(app.url(&path))
        .form(&[("csrf_token", csrf.as_str()), ("decision", "decline"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a reason is needed to decline");
    let r = browser
        .post(app.url(&path))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("decision", "decline"),
            ("reason", "We would prefer a mentor closer to home."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let status: String = matches::table.find(&match_id).select(matches::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "ended");
    let (_, alerts) = api.get(&app.token("coordinator").await, "/api/v1/alerts").await;
    assert!(alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["summary"].as_str().unwrap().contains("closer to home")));
}

#[tokio::test]
async fn suggestions_requests_reminders_and_expiry() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student3 = app.token("student3").await;
    // Answer the questionnaire; a wrong answer is refused clearly.
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/questionnaire"))
        .bearer_auth(&student3)
        .json(&json!({ "interests": ["knitting"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/questionnaire"))
        .bearer_auth(&student3)
        .json(&json!({ "interests": ["coding", "data"], "availability": ["weekday evenings"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mentor2 = app.token("mentor2").await;
    let r = reqwest::Client::new()
        .put(app.url("/api/v1/questionnaire"))
        .bearer_auth(&mentor2)
        .json(&json!({ "interests": ["data", "coding"], "availability": ["weekday evenings"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let (status, s) = api.get(&student3, "/api/v1/suggestions").await;
    assert_eq!(status, 200);
    let list = s["suggestions"].as_array().unwrap();
    assert!(!list.is_empty() && list.len() <= 3);
    assert_eq!(list[0]["name"], "Morgan Mentor", "best fit first: {s}");
    let reasons = list[0]["reasons"].to_string();
    assert!(
        reasons.contains("share an interest in coding and data") && reasons.contains("weekday evenings"),
        "{reasons}"
    );
    assert!(list.iter().all(|m| m["name"] != "Max Mentor"), "already asked");
    let (status, _) = api.get(&mentor2, "/api/v1/suggestions").await;
    assert_eq!(status, 404, "suggestions are for students");

    let mentor2_id = id_of(&app, "mentor2");
    let (status, created) = api
        .post(
            &student3,
            "/api/v1/requests",
            json!({ "mentor_id": mentor2_id, "message": "I love data and coding, would you mentor me?" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "open");
    let (status, _) = api
        .post(
            &student3,
            "/api/v1/requests",
            json!({ "mentor_id": mentor2_id, "message": "asking again please please" }),
        )
        .await;
    assert_eq!(status, 409, "no double request");
    let mentor1_id = id_of(&app, "mentor1");
    let (status, body) = api
        .post(
            &student3,
            "/api/v1/requests",
            json!({ "mentor_id": mentor1_id, "message": "Could you mentor me as well?" }),
        )
        .await;
    assert_eq!(status, 409, "at most two open requests: {body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("2 requests"));

    // Reminders on days 7 and 12, expiry on day 14 with new suggestions.
    run_jobs_at(&app, 7);
    run_jobs_at(&app, 12);
    let reminders = mails_to(&app, "mentor2").iter().filter(|(s, _)| s.contains("Reminder")).count();
    assert_eq!(reminders, 2);
    run_jobs_at(&app, 14);
    let (_, mine) = api.get(&student3, "/api/v1/requests").await;
    let req = mine["requests"].as_array().unwrap().iter().find(|r| r["id"] == created["id"]).unwrap().clone();
    assert_eq!(req["status"], "expired");
    assert!(mails_to(&app, "student3").iter().any(|(s, b)| s.contains("expired") && b.contains("/suggestions")));
    // Answering an expired request is refused.
    let (status, _) =
        api.post(&mentor2, &format!("/api/v1/requests/{}/accept", created["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn coordinators_match_manually_but_never_an_unvetted_mentor() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let coordinator = app.token("coordinator").await;
    let student3 = id_of(&app, "student3");
    let mentor3 = id_of(&app, "mentor3");
    let (status, _) = api
        .post(&coordinator, "/api/v1/matches", json!({ "student_id": student3, "mentor_id": mentor3, "note": "" }))
        .await;
    assert_eq!(status, 400, "a note is required");
    // Unvet mentor3: the match is refused and the database unchanged.
    let (status, v) = api
        .post(
            &coordinator,
            &format!("/api/v1/mentors/{mentor3}/vetting"),
            json!({ "safeguarding_training_done": false }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["fully_vetted"], false);
    let (status, body) = api
        .post(
            &coordinator,
            "/api/v1/matches",
            json!({ "student_id": student3, "mentor_id": mentor3, "note": "Both love the ocean" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("vetting"));
    let n: i64 = matches::table.filter(matches::student_id.eq(&student3)).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 0);
    api.post(
        &coordinator,
        &format!("/api/v1/mentors/{mentor3}/vetting"),
        json!({ "safeguarding_training_done": true }),
    )
    .await;
    let (status, m) = api
        .post(
            &coordinator,
            "/api/v1/matches",
            json!({ "student_id": student3, "mentor_id": mentor3, "note": "Both love the ocean" }),
        )
        .await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["status"], "awaiting_agreement");
    let (status, _) = api
        .post(
            &app.token("teacher").await,
            "/api/v1/matches",
            json!({ "student_id": student3, "mentor_id": mentor3, "note": "x" }),
        )
        .await;
    assert_eq!(status, 404, "only coordinators match");
}

#[tokio::test]
async fn expiring_background_checks_warn_and_expired_ones_stop_matching() {
    let app = TestApp::with_demo().await;
    let mentor1 = id_of(&app, "mentor1");
    let soon = trellis::db::now() + Duration::days(10);
    diesel::update(mentor_profiles::table.find(&mentor1))
        .set(mentor_profiles::background_check_expires_at.eq(Some(soon)))
        .execute(&mut app.conn())
        .unwrap();
    trellis::jobs::run_pass(&app.state, trellis::db::now()).unwrap();
    assert!(mails_to(&app, "mentor1").iter().any(|(s, _)| s.contains("expires soon")));
    assert!(mails_to(&app, "coordinator").iter().any(|(s, _)| s.contains("expires soon")));
    // After expiry: an alert about the active mentorship, and no new matches.
    run_jobs_at(&app, 11);
    let n: i64 = alerts::table.filter(alerts::kind.eq("vetting")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 1);
    let later = trellis::db::now() + Duration::days(11);
    assert!(!trellis::services::matching::mentor_is_matchable(&mut app.conn(), &mentor1, later).unwrap());
}

async fn form_post(app: &TestApp, client: &reqwest::Client, fields: &[(&str, &str)]) -> (u16, String) {
    let html = client.get(app.url("/mentoring")).send().await.unwrap().text().await.unwrap();
    let token = extract_csrf(&html).unwrap();
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let r = client.post(app.url("/mentoring")).form(&all).send().await.unwrap();
    let status = r.status().as_u16();
    let page = client.get(app.url("/mentoring")).send().await.unwrap().text().await.unwrap();
    (status, page)
}

#[tokio::test]
async fn the_mentoring_page_walks_the_lifecycle() {
    let app = TestApp::with_demo().await;
    let student = app.signed_in("student3").await;
    let html = student.get(app.url("/mentoring")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Suggested mentors") && html.contains("Your questionnaire"));
    // Answers with checkboxes (repeated keys).
    let (status, page) = form_post(
        &app,
        &student,
        &[("action", "answers"), ("q_interests", "nature"), ("q_interests", "animals"), ("q_language", "English")],
    )
    .await;
    assert_eq!(status, 303);
    assert!(page.contains("Your answers are saved"));
    assert!(page.contains("value=\"animals\" checked"));
    let (status, _) = form_post(&app, &student, &[("action", "answers"), ("q_interests", "knitting")]).await;
    assert_eq!(status, 400);

    // The mentor accepts the demo request on the page; both sign; goals after activation.
    let mentor = app.signed_in("mentor3").await;
    let html = mentor.get(app.url("/mentoring")).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let request_id = html[start..start + 36].to_owned();
    let (status, page) =
        form_post(&app, &mentor, &[("action", "accept"), ("request_id", &request_id), ("message", "Welcome!")]).await;
    assert_eq!(status, 303);
    assert!(page.contains("The mentoring agreement"));
    let start = page.find("name=\"match_id\" value=\"").unwrap() + "name=\"match_id\" value=\"".len();
    let match_id = page[start..start + 36].to_owned();
    let (_, page) = form_post(&app, &mentor, &[("action", "sign"), ("match_id", &match_id)]).await;
    assert!(page.contains("Waiting for Sasha Student to sign"));
    let (_, page) = form_post(&app, &student, &[("action", "sign"), ("match_id", &match_id)]).await;
    assert!(page.contains("e-mailed the student's guardian"));
    // Give consent through the service (the e-mailed link is covered above) and add a goal.
    {
        use trellis::db::schema::consents;
        diesel::update(consents::table.filter(consents::match_id.eq(&match_id)))
            .set(consents::expires_at.eq(trellis::db::now() + Duration::days(1)))
            .execute(&mut app.conn())
            .unwrap();
    }
    let mail = mails_to(&app, "guardian2").into_iter().find(|(s, _)| s.contains("consent")).unwrap();
    let start = mail.1.find("/consent/").unwrap();
    let token = mail.1[start + 9..].split_whitespace().next().unwrap().to_owned();
    let ctx = trellis::services::lifecycle::LifecycleContext {
        policy: &app.state.programme,
        pipeline: &app.state.pipeline,
        public_url: "http://t",
        at: trellis::db::now(),
    };
    assert_eq!(
        trellis::services::lifecycle::decide_consent(&mut app.conn(), &ctx, &token, true, "").unwrap(),
        "active"
    );
    let (status, page) = form_post(
        &app,
        &student,
        &[
            ("action", "goal"),
            ("match_id", &match_id),
            ("title", "Identify 10 shorebirds"),
            ("target_date", "2027-03-01"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(page.contains("Identify 10 shorebirds") && page.contains("Getting to know each other"));
    let (status, _) = form_post(
        &app,
        &student,
        &[("action", "goal"), ("match_id", &match_id), ("title", "x"), ("target_date", "soon")],
    )
    .await;
    assert_eq!(status, 400);
    // Goals are shown to the other side outside the conversation: they pass the same checks.
    let (status, page) = form_post(
        &app,
        &mentor,
        &[("action", "goal"), ("match_id", &match_id), ("title", "Text me on snap: reefguy_22 so we can plan")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(!page.contains("reefguy_22"), "a refused goal is not stored");
    let refused = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/matches/{match_id}/goals")))
        .bearer_auth(app.token("mentor3").await)
        .json(&serde_json::json!({ "title": "Plan", "description": "email me at reef.guy22@gmail.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body = refused.text().await.unwrap();
    assert!(body.contains("was not saved") && body.contains("contact details"), "{body}");
    // Someone else cannot see or change the goals.
    let (status, _) =
        (Api::new(&app)).get(&app.token("student1").await, &format!("/api/v1/matches/{match_id}/goals")).await;
    assert_eq!(status, 404);
    let (status, goals) =
        (Api::new(&app)).get(&app.token("guardian2").await, &format!("/api/v1/matches/{match_id}/goals")).await;
    assert_eq!(status, 200, "the guardian can read goals");
    assert_eq!(goals["goals"][0]["title"], "Identify 10 shorebirds");
}

#[tokio::test]
async fn held_requests_wait_for_a_reviewer() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student3 = app.token("student3").await;
    let (_, mine) = api.get(&student3, "/api/v1/requests").await;
    let demo_request = mine["requests"][0]["id"].as_str().unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/requests/{demo_request}/withdraw")))
        .bearer_auth(&student3)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mentor2 = id_of(&app, "mentor2");
    let (status, created) = api
        .post(&student3, "/api/v1/requests", json!({ "mentor_id": mentor2, "message": "Please be my mentor! Add me on snap: sasha.sea so we can talk more" }))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "awaiting_review");
    // The mentor does not see it; the teacher's review page does.
    let (_, theirs) = api.get(&app.token("mentor2").await, "/api/v1/requests").await;
    assert!(theirs["requests"].as_array().unwrap().iter().all(|r| r["id"] != created["id"]));
    let teacher = app.signed_in("teacher").await;
    let html = teacher.get(app.url("/review")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Held mentor requests") && html.contains("Sasha Student asks Morgan Mentor"));
    let token = extract_csrf(&html).unwrap();
    let id = created["id"].as_str().unwrap();
    let r = teacher
        .post(app.url(&format!("/review/requests/{id}")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("decision", "reject"),
            ("note", "Please leave out social media handles."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(mails_to(&app, "student3").iter().any(|(_, b)| b.contains("Please leave out social media handles.")));
    let (status, _) = api
        .post(&app.token("teacher").await, &format!("/api/v1/requests/{id}/review"), json!({ "decision": "approve" }))
        .await;
    assert_eq!(status, 409, "already reviewed");
}
