use crate::helpers::*;

#[tokio::test]
async fn sign_in_reaches_the_dashboard() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let response = app.login(&client, "student1@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/dashboard");
    let page = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sam Student"), "viewer name shown");
    assert!(html.contains("Dr. Maya Mentor"), "the student's mentor is shown");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let wrong = app.login(&client, "student1@demo.trellis.test", "not-the-password").await;
    let wrong_status = wrong.status();
    let wrong_html = wrong.text().await.unwrap();
    let unknown = app.login(&client, "nobody@demo.trellis.test", "not-the-password").await;
    assert_eq!(wrong_status, 401);
    assert_eq!(unknown.status(), 401);
    let unknown_html = unknown.text().await.unwrap();
    let message = "That e-mail address and password do not match an account.";
    assert!(wrong_html.contains(message));
    assert!(unknown_html.contains(message));
    let dashboard = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(dashboard.status(), 303, "still signed out");
}

#[tokio::test]
async fn ten_failures_lock_the_account_for_fifteen_minutes() {
    let app = TestApp::with_demo().await;
    for _ in 0..10 {
        let client = app.client();
        let r = app.login(&client, "mentor1@demo.trellis.test", "wrong-password-123").await;
        assert_eq!(r.status(), 401);
    }
    // Even the right password is refused now, with a plain explanation.
    let client = app.client();
    let r = app.login(&client, "mentor1@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 429);
    let html = r.text().await.unwrap();
    assert!(html.contains("Too many failed sign-in attempts"), "{html}");
    assert!(html.contains("15 more minutes"), "{html}");
    // Other accounts are not locked by someone else's failures... except through the
    // per-address limit, which this test's single address has now also reached.
    let r = app.login(&app.client(), "mentor2@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 429, "the per-address limit applies too");
}

#[tokio::test]
async fn account_lockout_does_not_depend_on_the_address() {
    let app = TestApp::with_demo().await;
    // Failures spread over several accounts (below each account's limit) lock the address.
    for i in 0..10 {
        let r = app.login(&app.client(), &format!("nobody{i}@demo.trellis.test"), "wrong").await;
        assert_eq!(r.status(), 401);
    }
    let r = app.login(&app.client(), "student2@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 429);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let _ = app.csrf_token(&client, "/login").await;
    let r = client
        .post(app.url("/login"))
        .form(&[("email", "student1@demo.trellis.test"), ("password", DEMO_PASSWORD), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("This form has expired"));
    let r = client
        .post(app.url("/login"))
        .form(&[("email", "student1@demo.trellis.test"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a missing token is refused like a wrong one");

    // Sign-out needs the token too.
    let signed_in = app.signed_in("student1").await;
    let r = signed_in.post(app.url("/logout")).form(&[("csrf_token", "nope")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(signed_in.get(app.url("/dashboard")).send().await.unwrap().status(), 200, "still signed in");
}

#[tokio::test]
async fn signing_in_renews_the_session_and_signing_out_ends_it() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    // The anonymous session (created for the sign-in form's CSRF token).
    let form = client.get(app.url("/login")).send().await.unwrap();
    let before = session_cookie(&form).expect("anonymous session cookie");
    let old_token = extract_csrf(&form.text().await.unwrap()).unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[("email", "teacher@demo.trellis.test"), ("password", DEMO_PASSWORD), ("csrf_token", &old_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let after = session_cookie(&response).expect("new session cookie");
    assert_ne!(before, after, "session key changes at sign-in");

    // Replaying the pre-login cookie does not give the signed-in session (no fixation).
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = raw.get(app.url("/dashboard")).header("cookie", &before).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // The signed-in cookie works...
    let r = raw.get(app.url("/dashboard")).header("cookie", &after).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // ...and the CSRF token from before sign-in no longer does.
    let r = client.post(app.url("/logout")).form(&[("csrf_token", &old_token)]).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // Signing out deletes the session server-side: a copied cookie stops working.
    let token = app.csrf_token(&client, "/dashboard").await;
    let r = client.post(app.url("/logout")).form(&[("csrf_token", &token)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = raw.get(app.url("/dashboard")).header("cookie", &after).send().await.unwrap();
    assert_eq!(r.status(), 303, "copied cookie is dead after sign-out");
}

#[tokio::test]
async fn idle_sessions_expire() {
    use diesel::{ExpressionMethods, RunQueryDsl};
    let app = TestApp::with_demo().await;
    let client = app.signed_in("guardian1").await;
    assert_eq!(client.get(app.url("/dashboard")).send().await.unwrap().status(), 200);
    // Pretend the session has been idle past its lifetime.
    let past = trellis::db::now() - chrono::Duration::minutes(5);
    diesel::update(trellis::db::schema::web_sessions::table)
        .set(trellis::db::schema::web_sessions::expires_at.eq(past))
        .execute(&mut app.conn())
        .unwrap();
    let r = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site() {
    let app = TestApp::with_demo().await;
    let client = app.client();
    let r = app.login(&client, "student1@demo.trellis.test", DEMO_PASSWORD).await;
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("trellis_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn secure_cookies_when_configured() {
    let mut settings = test_settings();
    settings.secure_cookies = true;
    let app = TestApp::spawn_with(settings).await;
    let r = app.client().get(app.url("/login")).send().await.unwrap();
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(r.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in() {
    let app = TestApp::with_demo().await;
    let r = app.client().get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=/dashboard");
}

#[tokio::test]
async fn suspended_accounts_cannot_sign_in() {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use trellis::db::schema::users;
    let app = TestApp::with_demo().await;
    diesel::update(users::table.filter(users::email.eq("mentor3@demo.trellis.test")))
        .set(users::status.eq("suspended"))
        .execute(&mut app.conn())
        .unwrap();
    let r = app.login(&app.client(), "mentor3@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("not active"));
}
