//! The durable job queue and its duties, driven with an explicit clock.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::json;
use trellis::db::schema::{alerts, jobs, mail_outbox};
use trellis::job_queue;

use crate::helpers::*;

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

async fn send(app: &TestApp, who: &str, text: &str) -> serde_json::Value {
    let token = app.token(who).await;
    let http = reqwest::Client::new();
    let list: serde_json::Value =
        http.get(app.url("/api/v1/conversations")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let id = list["conversations"][0]["id"].as_str().unwrap().to_owned();
    http.post(app.url(&format!("/api/v1/conversations/{id}/messages")))
        .bearer_auth(&token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn recipients_are_notified_without_the_text_and_students_not_at_night() {
    let app = TestApp::with_demo().await;
    let sent = send(&app, "mentor1", "How did the bridge test go? Tell me about the load numbers.").await;
    assert_eq!(sent["status"], "delivered");
    // 12:00 UTC is 05:00 in the programme's time zone: the student's mail waits until 07:00.
    let tomorrow = trellis::db::now().date() + Duration::days(1);
    let at = |h: u32, m: u32| tomorrow.and_hms_opt(h, m, 0).unwrap();
    let report = trellis::jobs::run_pass(&app.state, at(12, 0)).unwrap();
    assert!(report.jobs_done >= 1);
    let queued: Vec<(String, NaiveDateTime, String)> = mail_outbox::table
        .filter(mail_outbox::to_address.eq("student1@demo.trellis.test"))
        .select((mail_outbox::subject, mail_outbox::not_before, mail_outbox::body_text))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].1, at(14, 0));
    assert!(!queued[0].2.contains("bridge test"), "no message text in e-mail");
    assert!(app.mailer.sent().iter().all(|m| m.to != "student1@demo.trellis.test"), "not sent at night");
    // After quiet hours it goes out, once.
    trellis::jobs::run_pass(&app.state, at(14, 1)).unwrap();
    trellis::jobs::run_pass(&app.state, at(14, 2)).unwrap();
    let to_student = app.mailer.sent().into_iter().filter(|m| m.to == "student1@demo.trellis.test").count();
    assert_eq!(to_student, 1);
}

#[tokio::test]
async fn the_weekly_digest_reaches_guardians_once_a_week() {
    let app = TestApp::with_demo().await;
    send(&app, "mentor1", "my number is 403 555 0177, text me").await;
    let sunday_night = trellis::db::now().date().and_hms_opt(23, 30, 0).unwrap() + Duration::days(7);
    trellis::jobs::run_pass(&app.state, trellis::db::now()).unwrap();
    trellis::jobs::run_pass(&app.state, sunday_night).unwrap();
    let digests: Vec<(String, String)> = mail_outbox::table
        .filter(mail_outbox::subject.eq("Your weekly Trellis summary"))
        .select((mail_outbox::to_address, mail_outbox::body_text))
        .load(&mut app.conn())
        .unwrap();
    let to_g1: Vec<_> = digests.iter().filter(|(to, _)| to == "guardian1@demo.trellis.test").collect();
    assert_eq!(to_g1.len(), 1, "{digests:?}");
    assert!(to_g1[0].1.contains("Sam Student"));
    assert!(!to_g1[0].1.contains("403 555 0177"), "no message text");
    assert!(digests.iter().any(|(to, _)| to == "guardian2@demo.trellis.test"));
    // Running again in the same week does not send another.
    trellis::jobs::run_pass(&app.state, sunday_night + Duration::minutes(5)).unwrap();
    let again: i64 = mail_outbox::table
        .filter(mail_outbox::subject.eq("Your weekly Trellis summary"))
        .filter(mail_outbox::to_address.eq("guardian1@demo.trellis.test"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(again, 1);
    // The guardian's dashboard shows the same summary.
    let html = app.signed_in("guardian1").await.get(app.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("This week"));
}

#[tokio::test]
async fn overdue_alerts_notify_again() {
    let app = TestApp::with_demo().await;
    send(&app, "student1", "i want to kill myself, i can't do this anymore").await;
    let due: NaiveDateTime = alerts::table.select(alerts::due_at).first(&mut app.conn()).unwrap();
    let before: i64 = mail_outbox::table.count().get_result(&mut app.conn()).unwrap();
    let r = trellis::jobs::run_pass(&app.state, due - Duration::minutes(1)).unwrap();
    assert_eq!(r.alerts_renotified, 0, "not overdue yet");
    let r = trellis::jobs::run_pass(&app.state, due + Duration::hours(2)).unwrap();
    assert_eq!(r.alerts_renotified, 1);
    let after: i64 =
        mail_outbox::table.filter(mail_outbox::subject.like("Overdue%")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(after, 1);
    assert!(before > 0);
}

#[tokio::test]
async fn jobs_are_claimed_once_retried_with_backoff_and_recovered_after_a_crash() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    let at = t("2026-01-01 10:00:00");
    assert!(job_queue::enqueue(&mut conn, "unknown.kind", json!({}), at, Some("k1"), at).unwrap());
    assert!(!job_queue::enqueue(&mut conn, "unknown.kind", json!({}), at, Some("k1"), at).unwrap(), "idempotent");
    let job = job_queue::claim(&mut conn, at, Duration::minutes(5)).unwrap().expect("due job");
    assert!(job_queue::claim(&mut conn, at, Duration::minutes(5)).unwrap().is_none(), "leased, not claimed twice");
    // The worker "crashes": after the lease the job is claimed again.
    let again = job_queue::claim(&mut conn, at + Duration::minutes(6), Duration::minutes(5)).unwrap().unwrap();
    assert_eq!(again.id, job.id);
    assert_eq!(again.attempts, 2);
    job_queue::fail(&mut conn, &again, "boom", at + Duration::minutes(6)).unwrap();
    let (status, run_at): (String, NaiveDateTime) =
        jobs::table.find(&job.id).select((jobs::status, jobs::run_at)).first(&mut conn).unwrap();
    assert_eq!(status, "queued");
    assert_eq!(run_at, at + Duration::minutes(6) + Duration::seconds(120), "30 s × 2^2");
    drop(conn);
    // An unknown kind fails every time and ends as failed after max attempts.
    let mut clock = at + Duration::hours(1);
    for _ in 0..10 {
        trellis::jobs::run_pass(&app.state, clock).unwrap();
        clock += Duration::days(1);
    }
    let status: String = jobs::table.find(&job.id).select(jobs::status).first(&mut app.conn()).unwrap();
    assert_eq!(status, "failed");
}
