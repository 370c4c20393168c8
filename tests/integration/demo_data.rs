use diesel::prelude::*;
use trellis::db::schema::{matches, mentorship_requests, messages, users};

use crate::helpers::*;

#[tokio::test]
async fn demo_data_matches_the_design_and_is_created_only_once() {
    let app = TestApp::spawn().await;
    assert!(app.seed_demo(), "first seeding creates data");
    let count_users = |app: &TestApp| users::table.count().get_result::<i64>(&mut app.conn()).unwrap();
    assert_eq!(count_users(&app), 10);
    assert!(!app.seed_demo(), "second seeding does nothing");
    assert_eq!(count_users(&app), 10);

    let active: i64 = matches::table.filter(matches::status.eq("active")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(active, 2);
    let open: i64 = mentorship_requests::table
        .filter(mentorship_requests::status.eq("open"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(open, 1);
    let held: i64 = messages::table.filter(messages::status.eq("held")).count().get_result(&mut app.conn()).unwrap();
    assert_eq!(held, 1);
    let delivered: i64 =
        messages::table.filter(messages::status.eq("delivered")).count().get_result(&mut app.conn()).unwrap();
    assert!(delivered >= 4);
    // Every demo account can sign in.
    for (email, _, _) in trellis::services::demo::DEMO_ACCOUNTS {
        let r = app.login(&app.client(), email, DEMO_PASSWORD).await;
        assert_eq!(r.status(), 303, "{email}");
    }
}

#[tokio::test]
async fn demo_is_not_added_to_a_database_with_data() {
    let app = TestApp::spawn().await;
    app.create_user(trellis::db::enums::Role::Coordinator, "admin@example.org", "long enough password");
    assert!(!app.seed_demo());
    let n: i64 = users::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn no_demo_data_without_the_flag() {
    let app = TestApp::spawn().await;
    let n: i64 = users::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 0);
    let r = app.login(&app.client(), "coordinator@demo.trellis.test", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 401);
}
