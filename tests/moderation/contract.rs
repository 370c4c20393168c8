//! The `trellis moderate` contract and the product's expected verdicts.

use serde_json::Value;
use trellis::moderation::{run_jsonl, Action, Category, Pipeline, Policy, PriorMessage, SenderRole};

fn pipeline() -> Pipeline {
    Pipeline::new(Policy::builtin())
}

fn run(input: &str) -> Vec<Value> {
    let mut out = Vec::new();
    run_jsonl(&pipeline(), input.as_bytes(), &mut out).unwrap();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn done_when_example_holds_with_reason() {
    let out = run("{\"id\":\"1\",\"text\":\"text me at four oh three 555 0199\",\"sender_role\":\"mentor\"}\n");
    assert_eq!(out.len(), 1);
    let v = &out[0];
    assert_eq!(v["id"], "1");
    assert_eq!(v["action"], "hold");
    assert!(v["flags"].as_array().unwrap().contains(&Value::from("contact_info")));
    assert_eq!(v["delivered_text"], Value::Null);
    assert!(!v["reasons"].as_array().unwrap().is_empty());
    let f = &v["findings"][0];
    assert_eq!(f["kind"], "phone");
    assert_eq!((f["start"].as_u64(), f["end"].as_u64()), (Some(11), Some(33)));
    let scores = v["scores"].as_object().unwrap();
    for c in Category::ALL {
        let s = scores[c.as_str()].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&s));
    }
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    for k in ["id", "action", "escalate", "flags", "scores", "findings", "delivered_text", "reasons"] {
        assert!(keys.iter().any(|x| *x == k), "missing {k}");
    }
}

#[test]
fn one_output_line_per_input_line_even_when_malformed() {
    let input = "{\"id\":\"a\",\"text\":\"hi\",\"sender_role\":\"student\"}\n\
                 {oops\n\
                 \n\
                 [1,2]\n\
                 {\"id\":\"b\",\"text\":\"hi\",\"sender_role\":\"teacher\"}\n\
                 {\"id\":\"c\",\"text\":\"hi\"}\n\
                 {\"id\":\"d\",\"text\":\"fine thanks\",\"sender_role\":\"mentor\",\"conversation\":null}\n";
    let out = run(input);
    assert_eq!(out.len(), 7);
    assert_eq!(out[0]["action"], "deliver");
    assert_eq!(out[0]["delivered_text"], "hi");
    for line in &out[1..6] {
        assert!(line["error"].is_string(), "{line}");
    }
    assert_eq!(out[4]["id"], "b");
    assert_eq!(out[6]["action"], "deliver");
}

#[test]
fn split_number_over_messages_is_caught() {
    let input = [
        r#"{"id":"1","text":"ok here it is","sender_role":"mentor","conversation":"c1"}"#,
        r#"{"id":"2","text":"four oh three","sender_role":"mentor","conversation":"c1"}"#,
        r#"{"id":"3","text":"that sounds great","sender_role":"student","conversation":"c1"}"#,
        r#"{"id":"4","text":"555","sender_role":"mentor","conversation":"c1"}"#,
        r#"{"id":"5","text":"0199","sender_role":"mentor","conversation":"c1"}"#,
        r#"{"id":"6","text":"0199","sender_role":"mentor","conversation":"c2"}"#,
    ]
    .join("\n");
    let out = run(&input);
    assert_eq!(out[4]["action"], "hold", "{}", out[4]);
    assert_eq!(out[4]["findings"][0]["kind"], "phone");
    assert_eq!(out[5]["action"], "deliver", "other conversation is separate");
}

#[test]
fn split_email_notes_earlier_parts() {
    let p = pipeline();
    let ctx = vec![
        PriorMessage {
            sender: "m".into(),
            sender_role: SenderRole::Mentor,
            text: "jane.doe.stem".into(),
            age_seconds: Some(30),
        },
        PriorMessage {
            sender: "m".into(),
            sender_role: SenderRole::Mentor,
            text: "at gmail".into(),
            age_seconds: Some(20),
        },
    ];
    let v = p.moderate("dot com", "m", SenderRole::Mentor, &ctx).unwrap();
    assert_ne!(v.action, Action::Deliver, "{v:?}");
    assert!(v.reviewer_notes.iter().any(|n| n.contains("split")), "{:?}", v.reviewer_notes);
}

#[test]
fn product_expectations() {
    let p = pipeline();
    let v = p
        .moderate(
            "let's keep our chats just between us, ok? your parents wouldn't get it",
            "m",
            SenderRole::Mentor,
            &[],
        )
        .unwrap();
    assert_eq!(v.action, Action::Hold);
    assert!(v.flags.contains(&Category::Secrecy));
    assert!(!v.reasons.is_empty());
    for t in [
        "my phone died",
        "oh snap it compiled",
        "email your teacher",
        "see you Tuesday 4pm in our session",
        "solve 3x + 5 = 20",
        "CHEM 101 at 10:30",
        "ISBN 978-0-13-110362-7",
        "read https://en.wikipedia.org/wiki/Photosynthesis",
        "try https://phet.colorado.edu/en/simulations and https://www.desmos.com/calculator",
        "the arxiv paper is https://arxiv.org/abs/1706.03762",
    ] {
        for role in [SenderRole::Student, SenderRole::Mentor] {
            let v = p.moderate(t, "x", role, &[]).unwrap();
            assert_eq!(v.action, Action::Deliver, "{t}: {v:?}");
            assert_eq!(v.delivered_text.as_deref(), Some(t));
            assert!(v.flags.is_empty(), "{t}: {:?}", v.flags);
        }
    }
}

#[test]
fn directions_differ_for_contact_info() {
    let p = pipeline();
    let s = p.moderate("my email is sam.lee@example.com", "s", SenderRole::Student, &[]).unwrap();
    assert_eq!(s.action, Action::Redact);
    assert_eq!(s.delivered_text.as_deref(), Some("my email is [email removed]"));
    let m = p.moderate("my email is sam.lee@example.com", "m", SenderRole::Mentor, &[]).unwrap();
    assert_eq!(m.action, Action::Hold);
    assert!(m.delivered_text.is_none());
}

#[test]
fn non_allowlisted_link_intervened() {
    let p = pipeline();
    let v = p.moderate("check out https://my-cool-site.net/page", "m", SenderRole::Mentor, &[]).unwrap();
    assert_ne!(v.action, Action::Deliver);
    assert_eq!(v.findings[0].kind, "url");
}

#[test]
fn self_harm_from_student_is_never_blocked() {
    let p = pipeline();
    for t in
        ["i want to kill myself", "I dont want to live anymore you idiot", "everyone would be better off without me"]
    {
        let v = p.moderate(t, "s", SenderRole::Student, &[]).unwrap();
        assert!(v.flags.contains(&Category::SelfHarm), "{t}");
        assert!(v.escalate);
        assert_ne!(v.action, Action::Block);
    }
}

#[test]
fn over_long_and_empty_refused_with_plain_error() {
    let p = pipeline();
    let long = "x".repeat(1 << 20);
    let e = p.moderate(&long, "s", SenderRole::Student, &[]).unwrap_err();
    assert!(e.to_string().contains("too long"));
    assert!(p.moderate("", "s", SenderRole::Student, &[]).is_err());
    let out = run(&format!("{{\"id\":\"big\",\"text\":\"{long}\",\"sender_role\":\"student\"}}\n"));
    assert_eq!(out[0]["id"], "big");
    assert!(out[0]["error"].as_str().unwrap().contains("too long"));
}

#[test]
fn policy_loads_from_dir_and_matches_builtin() {
    let dir = crate::repo::root().join("policies");
    let p = Policy::load(&dir).unwrap();
    assert_eq!(p.version(), Policy::builtin().version());
}

#[test]
fn pipeline_is_send_sync_and_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pipeline>();
    let p = std::sync::Arc::new(pipeline());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let p = p.clone();
            std::thread::spawn(move || p.moderate(&format!("hello {i}"), "u", SenderRole::Student, &[]).unwrap().action)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Action::Deliver);
    }
}
