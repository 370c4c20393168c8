//! Generalisation cases for the contact-detail rules, written for the rules and never taken
//! from the labelled corpus (`generalisation/gen.py` renders `cases.jsonl`: obfuscation
//! families with random fills, hand-written variants and benign look-alikes). They guard the
//! families as a whole, so that a rule tuned on one sentence does not pass for a family.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use trellis::moderation::{Action, Pipeline, Policy, PriorMessage, SenderRole};

#[test]
fn contact_families_and_benign_lookalikes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moderation/generalisation/cases.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let p = Pipeline::new(Policy::builtin());
    let mut history: HashMap<String, Vec<PriorMessage>> = HashMap::new();
    let (mut pos, mut pos_hit, mut benign, mut benign_hit, mut leaks) = (0, 0, 0, 0, 0);
    let mut misses: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let c: Value = serde_json::from_str(line).unwrap();
        let t = c["text"].as_str().unwrap();
        let role = if c["sender_role"] == "mentor" { SenderRole::Mentor } else { SenderRole::Student };
        let conv = c["conversation"].as_str().map(|s| s.to_string());
        let ctx = conv.as_ref().and_then(|k| history.get(k)).cloned().unwrap_or_default();
        let v = p.moderate(t, role.as_str(), role, &ctx).unwrap();
        if let Some(k) = conv {
            history.entry(k).or_default().push(PriorMessage {
                sender: role.as_str().into(),
                sender_role: role,
                text: t.into(),
                age_seconds: None,
            });
        }
        let intervened = v.action != Action::Deliver;
        if v.action == Action::Redact && !p.findings(v.delivered_text.as_deref().unwrap()).is_empty() {
            leaks += 1;
        }
        let is_contact = c["labels"].as_array().unwrap().iter().any(|l| l == "contact_info");
        if is_contact {
            pos += 1;
            pos_hit += intervened as usize;
        } else {
            benign += 1;
            benign_hit += intervened as usize;
        }
        if intervened != is_contact {
            misses.push(format!("{} [{}] -> {}", c["id"], c["family"], v.action.as_str()));
        }
    }
    let recall = pos_hit as f64 / pos as f64;
    let fp = benign_hit as f64 / benign as f64;
    println!("generalisation cases: recall {recall:.3} ({pos_hit}/{pos}), false interventions {fp:.3} ({benign_hit}/{benign})");
    for m in &misses {
        println!("  {m}");
    }
    assert_eq!(leaks, 0, "a redacted message still carries a detail");
    assert!(recall >= 0.97, "recall {recall}");
    assert!(fp <= 0.03, "false interventions {fp}");
}
