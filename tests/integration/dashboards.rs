use crate::helpers::*;

async fn dashboard_html(app: &TestApp, who: &str) -> String {
    let client = app.signed_in(who).await;
    let r = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{who}'s dashboard");
    r.text().await.unwrap()
}

#[tokio::test]
async fn coordinator_sees_programme_counts_and_work() {
    let app = TestApp::with_demo().await;
    let html = dashboard_html(&app, "coordinator").await;
    assert!(html.contains("Programme dashboard"));
    assert!(html.contains("<span class=\"stat-value\">3</span><span class=\"stat-label\">Students</span>"), "{html}");
    assert!(html.contains("<span class=\"stat-value\">2</span><span class=\"stat-label\">Active mentorships</span>"));
    assert!(html.contains("1 held message waiting for review"));
    assert!(html.contains("Every mentor is fully vetted."));
}

#[tokio::test]
async fn coordinator_sees_mentors_missing_vetting() {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use trellis::db::schema::{mentor_profiles, users};
    let app = TestApp::with_demo().await;
    let mentor3: String = {
        use diesel::QueryDsl;
        users::table
            .filter(users::email.eq("mentor3@demo.trellis.test"))
            .select(users::id)
            .first(&mut app.conn())
            .unwrap()
    };
    diesel::update(mentor_profiles::table.filter(mentor_profiles::user_id.eq(&mentor3)))
        .set(mentor_profiles::safeguarding_training_at.eq(None::<chrono::NaiveDateTime>))
        .execute(&mut app.conn())
        .unwrap();
    let html = dashboard_html(&app, "coordinator").await;
    assert!(html.contains("Max Mentor"));
    assert!(html.contains("safeguarding training"));
}

#[tokio::test]
async fn teacher_sees_their_students() {
    let app = TestApp::with_demo().await;
    let html = dashboard_html(&app, "teacher").await;
    for name in ["Sam Student", "Sky Student", "Sasha Student", "Riverside High School", "Morgan Mentor"] {
        assert!(html.contains(name), "{name} missing");
    }
    assert!(html.contains("1 held message involving your students is waiting for review"));
}

#[tokio::test]
async fn guardian_sees_only_their_children() {
    let app = TestApp::with_demo().await;
    let html = dashboard_html(&app, "guardian2").await;
    assert!(html.contains("Sky Student") && html.contains("Sasha Student"));
    assert!(!html.contains("Sam Student"), "not guardian2's child");
    assert!(html.contains("Morgan Mentor"));
    let html = dashboard_html(&app, "guardian1").await;
    assert!(html.contains("Sam Student") && html.contains("Dr. Maya Mentor"));
    assert!(!html.contains("Sky Student"));
}

#[tokio::test]
async fn student_sees_mentor_with_supervision_banner() {
    let app = TestApp::with_demo().await;
    let html = dashboard_html(&app, "student1").await;
    assert!(html.contains("Dr. Maya Mentor"));
    assert!(html.contains("This conversation is supervised."));
    assert!(html.contains("Gabriel Guardian (guardian)"));
    assert!(html.contains("Taylor Teacher (teacher)"));
    let html = dashboard_html(&app, "student3").await;
    assert!(html.contains("Max Mentor"), "pending request listed");
    assert!(html.contains("open"));
}

#[tokio::test]
async fn mentor_sees_mentee_and_requests() {
    let app = TestApp::with_demo().await;
    let html = dashboard_html(&app, "mentor1").await;
    assert!(html.contains("Sam Student"));
    assert!(!html.contains("Sky Student"));
    let html = dashboard_html(&app, "mentor3").await;
    assert!(html.contains("Sasha Student"));
    assert!(html.contains("marine biology"), "the request text reaches the mentor");
}

#[tokio::test]
async fn dashboard_escapes_user_supplied_text() {
    let app = TestApp::with_demo().await;
    app.create_user(trellis::db::enums::Role::Coordinator, "xss@demo.trellis.test", "long enough password");
    {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use trellis::db::schema::users;
        diesel::update(users::table.filter(users::email.eq("xss@demo.trellis.test")))
            .set(users::display_name.eq("<script>alert(1)</script>"))
            .execute(&mut app.conn())
            .unwrap();
    }
    let client = app.client();
    assert_eq!(app.login(&client, "xss@demo.trellis.test", "long enough password").await.status(), 303);
    let html = client.get(app.url("/dashboard")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
}
