//! The conversation, review, alert and oversight pages through a browser-like client.

use diesel::prelude::*;
use trellis::db::schema::{conversations, matches, users};

use crate::helpers::*;

fn conversation_of(app: &TestApp, student: &str) -> String {
    let mut conn = app.conn();
    let student_id: String =
        users::table.filter(users::email.eq(demo_email(student))).select(users::id).first(&mut conn).unwrap();
    conversations::table
        .inner_join(matches::table)
        .filter(matches::student_id.eq(student_id))
        .select(conversations::id)
        .first(&mut conn)
        .unwrap()
}

async fn page(client: &reqwest::Client, url: String) -> (u16, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn participants_send_from_the_conversation_page() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    let mentor = app.signed_in("mentor1").await;
    let (status, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert_eq!(status, 200);
    assert!(html.contains("This conversation is supervised."));
    assert!(html.contains("Gabriel Guardian (guardian)"));
    assert!(html.contains("<a href=\"https://en.wikipedia.org/wiki/Truss_bridge\""), "allowed link is a link");
    assert!(html.contains("Report this message"));
    let token = extract_csrf(&html).unwrap();
    let r = mentor
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .form(&[
            ("csrf_token", token.as_str()),
            ("text", "<script>alert(1)</script> see you Tuesday at 4pm in our session"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!html.contains("<script>alert(1)</script>"));

    // A held message tells its sender why, in words, and keeps nothing from the recipient.
    let r = mentor
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .form(&[("csrf_token", token.as_str()), ("text", "my cell is 403-555-0188, text me")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(html.contains("Not delivered yet: waiting for a teacher to review"), "status in words");
    let student = app.signed_in("student1").await;
    let (_, html) = page(&student, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(!html.contains("403-555-0188"));

    // Empty text: the page is shown again with a clear message.
    let r = mentor
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .form(&[("csrf_token", token.as_str()), ("text", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Please write a message before sending."));
}

/// The live list fetched by the page's script must not swallow the one-time notice that the
/// redirect after "send" shows (the race made "Message delivered." vanish now and then).
#[tokio::test]
async fn a_live_update_leaves_the_send_notice_for_the_page() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    let mentor = app.signed_in("mentor1").await;
    let token = app.csrf_token(&mentor, &format!("/conversations/{conversation}")).await;
    let r = mentor
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .form(&[("csrf_token", token.as_str()), ("text", "see you Tuesday at 4pm in our session")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, fragment) = page(&mentor, app.url(&format!("/conversations/{conversation}/messages"))).await;
    assert_eq!(status, 200);
    assert!(!fragment.contains("Message delivered."), "the fragment has no notice");
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(html.contains("Message delivered."), "the page still shows the notice");
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(!html.contains("Message delivered."), "once");
}

#[tokio::test]
async fn outsiders_get_404_on_conversation_pages() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    for who in ["student2", "mentor2", "guardian2"] {
        let client = app.signed_in(who).await;
        let (status, html) = page(&client, app.url(&format!("/conversations/{conversation}"))).await;
        assert_eq!(status, 404, "{who}");
        assert!(html.contains("Page not found"));
        let (status, _) = page(&client, app.url(&format!("/conversations/{conversation}/events"))).await;
        assert_eq!(status, 404, "{who} events");
    }
    for (who, path) in [
        ("student1", "/review"),
        ("guardian1", "/review"),
        ("teacher", "/alerts"),
        ("mentor1", "/access-log"),
        ("teacher", "/guardians"),
    ] {
        let client = app.signed_in(who).await;
        let (status, _) = page(&client, app.url(path)).await;
        assert_eq!(status, 404, "{who} {path}");
    }
}

#[tokio::test]
async fn teacher_reviews_from_the_queue_page() {
    let app = TestApp::with_demo().await;
    let teacher = app.signed_in("teacher").await;
    let (status, html) = page(&teacher, app.url("/review")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<mark>403 555 0142</mark>"), "finding highlighted");
    assert!(html.contains("Earlier messages"));
    let token = extract_csrf(&html).unwrap();
    let marker = "action=\"/review/";
    let start = html.find(marker).unwrap() + marker.len();
    let id = &html[start..start + 36];
    let r = teacher
        .post(app.url(&format!("/review/{id}")))
        .form(&[("csrf_token", token.as_str()), ("decision", "reject"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a rejection needs a note");
    let r = teacher
        .post(app.url(&format!("/review/{id}")))
        .form(&[("csrf_token", token.as_str()), ("decision", "reject"), ("note", "Keep phone numbers off Trellis.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&teacher, app.url("/review")).await;
    assert!(html.contains("Rejected: the message will never be delivered"));
    assert!(html.contains("Nothing is waiting for review."));
}

#[tokio::test]
async fn guardians_read_only_and_can_pause() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    let guardian = app.signed_in("guardian1").await;
    let (status, html) = page(&guardian, app.url(&format!("/conversations/{conversation}"))).await;
    assert_eq!(status, 200);
    assert!(!html.contains("name=\"text\""), "no send box for a guardian");
    assert!(html.contains("read only"));
    let token = extract_csrf(&html).unwrap();
    let r = guardian
        .post(app.url(&format!("/conversations/{conversation}/messages")))
        .form(&[("csrf_token", token.as_str()), ("text", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a guardian cannot send");
    let r = guardian
        .post(app.url(&format!("/conversations/{conversation}/pause")))
        .form(&[("csrf_token", token.as_str()), ("reason", "We are moving house; pausing for now.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mentor = app.signed_in("mentor1").await;
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(html.contains("This conversation is paused"));
    assert!(!html.contains("name=\"text\""));
    // The coordinator was told, and sees the access log of the guardian's reads.
    let coordinator = app.signed_in("coordinator").await;
    let (_, html) = page(&coordinator, app.url("/alerts")).await;
    assert!(html.contains("A mentorship was paused by a guardian"));
    let (_, html) = page(&coordinator, app.url("/access-log")).await;
    assert!(html.contains("Gabriel Guardian") && html.contains("guardian"));
}

#[tokio::test]
async fn coordinators_acknowledge_and_resolve_alerts_and_suspend_guardian_views() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student2");
    let guardian = app.signed_in("guardian2").await;
    let (_, html) = page(&guardian, app.url(&format!("/conversations/{conversation}"))).await;
    let token = extract_csrf(&html).unwrap();
    let r = guardian
        .post(app.url(&format!("/conversations/{conversation}/reports")))
        .form(&[("csrf_token", token.as_str()), ("reason", "The last message worried me.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let coordinator = app.signed_in("coordinator").await;
    let (_, html) = page(&coordinator, app.url("/alerts")).await;
    assert!(html.contains("A guardian reported a conversation."));
    let token = extract_csrf(&html).unwrap();
    let marker = "action=\"/alerts/";
    let start = html.find(marker).unwrap() + marker.len();
    let id = html[start..start + 36].to_owned();
    let r = coordinator
        .post(app.url(&format!("/alerts/{id}/acknowledge")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = coordinator
        .post(app.url(&format!("/alerts/{id}/acknowledge")))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "acknowledging twice is refused");
    let r = coordinator
        .post(app.url(&format!("/alerts/{id}/resolve")))
        .form(&[("csrf_token", token.as_str()), ("note", "Spoke with the family; all fine.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(&coordinator, app.url("/alerts")).await;
    assert!(html.contains("Resolved: Spoke with the family; all fine."));

    // Suspend guardian2's view: their conversation page becomes a 404.
    let (_, html) = page(&coordinator, app.url("/guardians")).await;
    let token = extract_csrf(&html).unwrap();
    let guardianship: String = {
        use trellis::db::schema::guardianships;
        let g2: String = users::table
            .filter(users::email.eq(demo_email("guardian2")))
            .select(users::id)
            .first(&mut app.conn())
            .unwrap();
        let s2: String = users::table
            .filter(users::email.eq(demo_email("student2")))
            .select(users::id)
            .first(&mut app.conn())
            .unwrap();
        guardianships::table
            .filter(guardianships::guardian_id.eq(g2))
            .filter(guardianships::student_id.eq(s2))
            .select(guardianships::id)
            .first(&mut app.conn())
            .unwrap()
    };
    let r = coordinator
        .post(app.url(&format!("/guardians/{guardianship}")))
        .form(&[("csrf_token", token.as_str()), ("suspend", "true"), ("reason", "Court order")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, _) = page(&guardian, app.url(&format!("/conversations/{conversation}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_live_stream_announces_new_messages() {
    use futures_util::StreamExt;
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    let student = app.signed_in("student1").await;
    let response = student.get(app.url(&format!("/conversations/{conversation}/events"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let token = app.token("mentor1").await;
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/conversations/{conversation}/messages")))
        .bearer_auth(token)
        .json(&serde_json::json!({ "text": "How did the bridge test go?" }))
        .send()
        .await
        .unwrap();
    let chunk =
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.next()).await.unwrap().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: changed"));
}

#[tokio::test]
async fn coordinators_see_analytics_as_charts_and_csv() {
    let app = TestApp::with_demo().await;
    // One review so review latency has a figure this week.
    let teacher = app.token("teacher").await;
    let queue: serde_json::Value = reqwest::Client::new()
        .get(app.url("/api/v1/moderation/queue"))
        .bearer_auth(&teacher)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queue["items"][0]["message_id"].as_str().unwrap().to_owned();
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/moderation/queue/{id}")))
        .bearer_auth(&teacher)
        .json(&serde_json::json!({ "decision": "approve" }))
        .send()
        .await
        .unwrap();
    let coordinator = app.signed_in("coordinator").await;
    let (status, html) = page(&coordinator, app.url("/analytics")).await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 6);
    assert!(html.contains("Messages per week"));
    let r = coordinator.get(app.url("/analytics.csv")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with("week,messages,"));
    let total: i64 = csv
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split(',').nth(1).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 7, "every demo message is counted once");
    assert!(csv.contains("contact_info,"));
    let (status, _) = page(&app.signed_in("teacher").await, app.url("/analytics.csv")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_coordinator_ends_a_mentorship_from_its_page() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student2");
    let coordinator = app.signed_in("coordinator").await;
    let (_, html) = page(&coordinator, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(html.contains("End this mentorship"));
    let token = extract_csrf(&html).unwrap();
    let teacher = app.signed_in("teacher").await;
    let (_, thtml) = page(&teacher, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(!thtml.contains("End this mentorship"));
    let ttoken = extract_csrf(&thtml).unwrap();
    let r = teacher
        .post(app.url(&format!("/conversations/{conversation}/end")))
        .form(&[("csrf_token", ttoken.as_str()), ("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "only coordinators end mentorships");
    let r = coordinator
        .post(app.url(&format!("/conversations/{conversation}/end")))
        .form(&[("csrf_token", token.as_str()), ("reason", "The mentor left the programme.")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let mentor = app.signed_in("mentor2").await;
    let (_, html) = page(&mentor, app.url(&format!("/conversations/{conversation}"))).await;
    assert!(html.contains("read-only"));
}
