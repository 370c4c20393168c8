//! Moderated messaging, the review queue, reports and alerts through the real API.

use diesel::prelude::*;
use serde_json::{json, Value};
use trellis::db::schema::{access_log, alerts, matches, messages, users};
use trellis::moderation::Category;

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
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

async fn conversation_of(api: &Api<'_>, token: &str) -> String {
    let (status, body) = api.get(token, "/api/v1/conversations").await;
    assert_eq!(status, 200);
    body["conversations"][0]["id"].as_str().expect("a conversation").to_owned()
}

#[tokio::test]
async fn the_safety_story() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let mentor1 = app.token("mentor1").await;
    let conversation = conversation_of(&api, &mentor1).await;

    // mentor1 sends a phone number to student1: held, with a reason in words.
    let (status, sent) = api
        .post(
            &mentor1,
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "text me at 403 555 0142" }),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["status"], "held");
    assert!(sent["delivered_text"].is_null());
    let reasons = sent["reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r.as_str().unwrap().contains("waiting for a teacher to review")), "{reasons:?}");
    let message_id = sent["id"].as_str().unwrap().to_owned();

    // The teacher's queue shows it, with the finding and reasons.
    let teacher = app.token("teacher").await;
    let (status, queue) = api.get(&teacher, "/api/v1/moderation/queue").await;
    assert_eq!(status, 200);
    let item = queue["items"].as_array().unwrap().iter().find(|i| i["message_id"] == message_id).expect("in queue");
    assert!(item["flags"].as_array().unwrap().iter().any(|f| f == "contact_info"));
    assert!(item["highlighted"].as_array().unwrap().iter().any(|p| p[1] == true && p[0] == "403 555 0142"), "{item}");

    // Others cannot see the conversation at all.
    for who in ["student2", "guardian2", "mentor2"] {
        let token = app.token(who).await;
        let (status, body) = api.get(&token, &format!("/api/v1/conversations/{conversation}/messages")).await;
        assert_eq!(status, 404, "{who}: {body}");
        let (status, _) = api.get(&token, "/api/v1/moderation/queue").await;
        assert_eq!(status, 404, "{who} has no queue");
    }

    // The student does not receive the held message.
    let student1 = app.token("student1").await;
    let (_, seen) = api.get(&student1, &format!("/api/v1/conversations/{conversation}/messages")).await;
    assert!(seen["messages"].as_array().unwrap().iter().all(|m| m["id"] != message_id));

    // The teacher rejects it; deciding again is refused.
    let (status, decided) = api
        .post(
            &teacher,
            &format!("/api/v1/moderation/queue/{message_id}"),
            json!({ "decision": "reject", "note": "Phone numbers stay off the platform." }),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "rejected");
    let (status, again) =
        api.post(&teacher, &format!("/api/v1/moderation/queue/{message_id}"), json!({ "decision": "approve" })).await;
    assert_eq!(status, 409, "{again}");
    assert!(again["error"]["message"].as_str().unwrap().contains("already been decided"));

    // guardian1 sees that something was held (no text); the sender sees why.
    let guardian1 = app.token("guardian1").await;
    let (status, gview) = api.get(&guardian1, &format!("/api/v1/conversations/{conversation}/messages")).await;
    assert_eq!(status, 200);
    let note = gview["messages"].as_array().unwrap().iter().find(|m| m["id"] == message_id).expect("note for guardian");
    assert_eq!(note["status"], "rejected");
    assert!(note["text"].is_null(), "the guardian does not get the text");
    let (_, mview) = api.get(&mentor1, &format!("/api/v1/conversations/{conversation}/messages")).await;
    let own = mview["messages"].as_array().unwrap().iter().find(|m| m["id"] == message_id).unwrap();
    assert_eq!(own["status"], "rejected");

    // The access log has the teacher's and the guardian's reads, not the participants'.
    let relations: Vec<String> = access_log::table
        .filter(access_log::conversation_id.eq(&conversation))
        .select(access_log::reader_relation)
        .load(&mut app.conn())
        .unwrap();
    assert!(relations.contains(&"guardian".to_owned()), "{relations:?}");
    let (_, _) = api.get(&teacher, &format!("/api/v1/conversations/{conversation}/messages")).await;
    let relations: Vec<String> = access_log::table
        .filter(access_log::conversation_id.eq(&conversation))
        .select(access_log::reader_relation)
        .load(&mut app.conn())
        .unwrap();
    assert!(relations.contains(&"teacher".to_owned()));
    assert!(!relations.contains(&"participant".to_owned()));

    // The audit chain is intact.
    assert!(matches!(trellis::audit::verify(&mut app.conn()).unwrap(), trellis::audit::ChainCheck::Intact { .. }));
}

#[tokio::test]
async fn benign_messages_are_delivered_and_approved_ones_arrive() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let mentor1 = app.token("mentor1").await;
    let conversation = conversation_of(&api, &student1).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let (status, sent) = api
        .post(&student1, &path, json!({ "text": "Can we go over 3x + 5 = 20 in our session Tuesday at 4pm?" }))
        .await;
    assert_eq!(status, 201);
    assert_eq!(sent["status"], "delivered", "{sent}");
    let (_, seen) = api.get(&mentor1, &path).await;
    assert!(seen["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == sent["id"] && m["text"] == "Can we go over 3x + 5 = 20 in our session Tuesday at 4pm?"));

    // A held message approved by the coordinator reaches the student.
    let (_, held) = api.post(&mentor1, &path, json!({ "text": "add me on snap, my handle is maya.codes" })).await;
    assert_eq!(held["status"], "held", "{held}");
    let coordinator = app.token("coordinator").await;
    let (status, _) = api
        .post(
            &coordinator,
            &format!("/api/v1/moderation/queue/{}", held["id"].as_str().unwrap()),
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, seen) = api.get(&student1, &path).await;
    assert!(seen["messages"].as_array().unwrap().iter().any(|m| m["id"] == held["id"] && m["status"] == "delivered"));
}

#[tokio::test]
async fn sending_refuses_bad_input_without_storing_it() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let student2 = app.token("student2").await;
    let conversation = conversation_of(&api, &student1).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let before: i64 = messages::table.count().get_result(&mut app.conn()).unwrap();

    let (status, body) = api.post(&student2, &path, json!({ "text": "hello" })).await;
    assert_eq!(status, 404, "not a participant: {body}");
    let teacher = app.token("teacher").await;
    let (status, _) = api.post(&teacher, &path, json!({ "text": "hello" })).await;
    assert_eq!(status, 404, "readers cannot send");
    let (status, body) = api.post(&student1, &path, json!({ "text": "   " })).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("write a message"));
    let (status, body) = api.post(&student1, &path, json!({ "text": "a".repeat(20_000) })).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("limit"));
    let (status, _) = api.post(&student1, "/api/v1/conversations/nope/messages", json!({ "text": "hi" })).await;
    assert_eq!(status, 404);

    // A paused mentorship says why.
    diesel::update(matches::table).set(matches::status.eq("paused")).execute(&mut app.conn()).unwrap();
    let (status, body) = api.post(&student1, &path, json!({ "text": "hello" })).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("paused"));

    let after: i64 = messages::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(before, after, "nothing stored");
}

#[tokio::test]
async fn senders_are_rate_limited() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let conversation = conversation_of(&api, &student1).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let limit = app.state.programme.messaging.max_per_minute;
    for i in 0..limit {
        let (status, _) = api.post(&student1, &path, json!({ "text": format!("question {i} about vectors") })).await;
        assert_eq!(status, 201);
    }
    let (status, body) = api.post(&student1, &path, json!({ "text": "one more" })).await;
    assert_eq!(status, 429);
    assert!(body["error"]["message"].as_str().unwrap().contains("Please wait"));
}

fn urgent_self_harm_alerts(app: &TestApp) -> i64 {
    alerts::table
        .filter(alerts::kind.eq("self_harm"))
        .filter(alerts::severity.eq("urgent"))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[tokio::test]
async fn self_harm_disclosures_escalate_with_support() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let conversation = conversation_of(&api, &student1).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let (status, sent) = api
        .post(
            &student1,
            &path,
            json!({ "text": "honestly i don't want to be alive anymore, i keep thinking about killing myself" }),
        )
        .await;
    assert_eq!(status, 201);
    assert!(sent["status"] == "delivered" || sent["status"] == "held", "never blocked: {sent}");
    let reasons = sent["reasons"].to_string();
    assert!(reasons.contains("Kids Help Phone"), "support resources shown: {reasons}");
    assert_eq!(urgent_self_harm_alerts(&app), 1);
    let coordinator = app.token("coordinator").await;
    let (status, list) = api.get(&coordinator, "/api/v1/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(list["alerts"][0]["severity"], "urgent");
    let (status, _) = api.get(&app.token("teacher").await, "/api/v1/alerts").await;
    assert_eq!(status, 404, "alerts are for coordinators");
    // The safeguarding lead is e-mailed (through the outbox) without any names or text.
    let mails: Vec<(String, String)> = trellis::db::schema::mail_outbox::table
        .select((trellis::db::schema::mail_outbox::to_address, trellis::db::schema::mail_outbox::body_text))
        .load(&mut app.conn())
        .unwrap();
    assert!(mails.iter().any(|(to, body)| to == "coordinator@demo.trellis.test" && !body.contains("alive")));
}

/// Scores one category at a fixed value, every other at 0.
struct FixedScore(Category, f32);
impl trellis::moderation::Classifier for FixedScore {
    fn score(
        &self,
        _: &str,
        _: &[trellis::moderation::PriorMessage],
    ) -> Result<std::collections::BTreeMap<Category, f32>, trellis::moderation::ClassifierError> {
        Ok(Category::ALL.into_iter().map(|c| (c, if c == self.0 { self.1 } else { 0.0 })).collect())
    }
}

#[tokio::test]
async fn a_weaker_self_harm_signal_from_a_student_alerts_staff_and_is_delivered() {
    // 0.45: under the flag threshold (0.5), over the lower bar for a student's message (0.4).
    let app = TestApp::spawn_with_classifier(
        crate::helpers::test_settings(),
        std::sync::Arc::new(FixedScore(Category::SelfHarm, 0.45)),
    )
    .await;
    app.seed_demo();
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let conversation = conversation_of(&api, &student1).await;
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let (status, sent) =
        api.post(&student1, &path, json!({ "text": "idk what the point of any of it is lately" })).await;
    assert_eq!(status, 201);
    assert_eq!(sent["status"], "delivered", "{sent}");
    assert_eq!(urgent_self_harm_alerts(&app), 1);
    // The mentor's view: delivered unchanged.
    let mentor1 = app.token("mentor1").await;
    let (_, msgs) = api.get(&mentor1, &path).await;
    assert!(msgs.to_string().contains("idk what the point of any of it is lately"), "{msgs}");
}

#[tokio::test]
async fn reports_keep_a_copy_and_alert_the_coordinator() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let guardian1 = app.token("guardian1").await;
    let conversation = conversation_of(&api, &guardian1).await;
    let (_, msgs) = api.get(&guardian1, &format!("/api/v1/conversations/{conversation}/messages")).await;
    let message_id = msgs["messages"][0]["id"].as_str().unwrap().to_owned();
    let (status, report) = api
        .post(
            &guardian1,
            "/api/v1/reports",
            json!({ "conversation_id": conversation, "message_id": message_id, "reason": "This felt too personal." }),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    let copy: Option<String> = trellis::db::schema::reports::table
        .select(trellis::db::schema::reports::reported_text)
        .first(&mut app.conn())
        .unwrap();
    assert!(copy.unwrap().starts_with("Hi Sam!"));
    let (_, list) = api.get(&app.token("coordinator").await, "/api/v1/alerts").await;
    assert!(list["alerts"].as_array().unwrap().iter().any(|a| a["kind"] == "report"));
    // Someone who cannot read the conversation cannot report on it; an empty reason is refused.
    let (status, _) = api
        .post(
            &app.token("guardian2").await,
            "/api/v1/reports",
            json!({ "conversation_id": conversation, "reason": "x" }),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) =
        api.post(&guardian1, "/api/v1/reports", json!({ "conversation_id": conversation, "reason": " " })).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn two_reviewers_at_once_exactly_one_wins() {
    let app = TestApp::with_demo().await;
    let api = Api::new(&app);
    let teacher = app.token("teacher").await;
    let coordinator = app.token("coordinator").await;
    let (_, queue) = api.get(&teacher, "/api/v1/moderation/queue").await;
    let id = queue["items"][0]["message_id"].as_str().expect("demo held message").to_owned();
    let path = format!("/api/v1/moderation/queue/{id}");
    let (a, b) = tokio::join!(
        api.post(&teacher, &path, json!({ "decision": "approve" })),
        api.post(&coordinator, &path, json!({ "decision": "reject", "note": "no" }))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let reviews: i64 = trellis::db::schema::moderation_reviews::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(reviews, 1);
}

#[tokio::test]
async fn pending_messages_are_moderated_on_recovery() {
    let app = TestApp::with_demo().await;
    let mentor_id: String =
        users::table.filter(users::email.eq(demo_email("mentor1"))).select(users::id).first(&mut app.conn()).unwrap();
    let actor = trellis::services::accounts::load_actor(&mut app.conn(), &mentor_id).unwrap().unwrap();
    let conversation = conversation_of(&Api::new(&app), &app.token("mentor1").await).await;
    // A crash right after storing leaves the message pending.
    let stored = trellis::services::messaging::store_pending(
        &mut app.conn(),
        &actor,
        &conversation,
        "my number is 416 555 0199",
    )
    .unwrap();
    let n = trellis::services::messaging_runtime::recover_pending(&app.state).unwrap();
    assert_eq!(n, 1);
    let status: String = messages::table.find(&stored.id).select(messages::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "held");
    assert_eq!(trellis::services::messaging_runtime::recover_pending(&app.state).unwrap(), 0);
}

#[tokio::test]
async fn without_a_working_model_every_message_is_held_and_says_why() {
    let broken = std::sync::Arc::new(trellis::app::UnavailableClassifier("model file missing".into()));
    let app = TestApp::spawn_with_classifier(test_settings(), broken).await;
    app.seed_demo();
    let api = Api::new(&app);
    let student1 = app.token("student1").await;
    let conversation = conversation_of(&api, &student1).await;
    let (status, sent) = api
        .post(
            &student1,
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "text": "see you Tuesday at 4pm in our session" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(sent["status"], "held", "fail closed: {sent}");
    assert!(sent["reasons"].to_string().contains("unavailable"), "{sent}");
    // And the real loader reports a missing model this way instead of failing to start.
    let missing =
        trellis::app::load_classifier(std::path::Path::new("/nonexistent/models"), std::path::Path::new("policies"));
    assert!(missing.score("hello", &[]).is_err());
}
