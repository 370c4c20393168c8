//! The access module against real demo data: who may read which conversation.

use diesel::prelude::*;
use trellis::access::{self, ReadRelation};
use trellis::db::schema::{conversations, guardianships, matches, users};
use trellis::services::accounts;

use crate::helpers::*;

fn actor(app: &TestApp, who: &str) -> trellis::access::Actor {
    let mut conn = app.conn();
    let id: String = users::table.filter(users::email.eq(demo_email(who))).select(users::id).first(&mut conn).unwrap();
    accounts::load_actor(&mut conn, &id).unwrap().unwrap()
}

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

#[tokio::test]
async fn conversation_readers_follow_the_safety_model() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student1");
    let expected = [
        ("student1", Some(ReadRelation::Participant)),
        ("mentor1", Some(ReadRelation::Participant)),
        ("guardian1", Some(ReadRelation::Guardian)),
        ("teacher", Some(ReadRelation::Teacher)),
        ("coordinator", Some(ReadRelation::Coordinator)),
        ("student2", None),
        ("student3", None),
        ("mentor2", None),
        ("mentor3", None),
        ("guardian2", None),
    ];
    for (who, relation) in expected {
        let a = actor(&app, who);
        let got = access::conversation_relation(&mut app.conn(), &a, &conversation).unwrap();
        assert_eq!(got, relation, "{who} reading student1's conversation");
        let may_send = access::may_send(&mut app.conn(), &a, &conversation).unwrap();
        assert_eq!(may_send, relation == Some(ReadRelation::Participant), "{who} sending");
    }
    // Unknown conversations are simply not visible.
    let a = actor(&app, "coordinator");
    assert_eq!(access::conversation_relation(&mut app.conn(), &a, "no-such-id").unwrap(), None);
}

#[tokio::test]
async fn a_suspended_guardian_view_is_denied() {
    let app = TestApp::with_demo().await;
    let conversation = conversation_of(&app, "student2");
    let g = actor(&app, "guardian2");
    assert_eq!(
        access::conversation_relation(&mut app.conn(), &g, &conversation).unwrap(),
        Some(ReadRelation::Guardian)
    );
    diesel::update(guardianships::table.filter(guardianships::guardian_id.eq(&g.user_id)))
        .set(guardianships::view_suspended.eq(true))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(access::conversation_relation(&mut app.conn(), &g, &conversation).unwrap(), None);
}

#[tokio::test]
async fn a_teacher_of_another_school_is_denied() {
    use trellis::db::enums::Role;
    let app = TestApp::with_demo().await;
    let other_id = app.create_user(Role::Teacher, "other-teacher@demo.trellis.test", "long enough password");
    let other = accounts::load_actor(&mut app.conn(), &other_id).unwrap().unwrap();
    let conversation = conversation_of(&app, "student1");
    assert_eq!(access::conversation_relation(&mut app.conn(), &other, &conversation).unwrap(), None);
    let student1: String =
        users::table.filter(users::email.eq(demo_email("student1"))).select(users::id).first(&mut app.conn()).unwrap();
    assert_eq!(access::student_relation(&mut app.conn(), &other, &student1).unwrap(), None);
}
