//! Generalisation cases for the contact-detail rules, written for the rules and never taken
//! from the labelled corpus (`generalisation/gen.py` renders `cases.jsonl`: obfuscation
//! families with random fills, hand-written variants and benign look-alikes). They guard the
//! families as a whole, so that a rule tuned on one sentence does not pass for a family.
//!
//! `benign-dev.jsonl` (hand-written benign mentoring talk full of numbers, links, code and
//! phrases that look like grooming or contact details but are not) and `contact-dev.jsonl`
//! (hand-written contact details in the families the rules were weakest on) are a second,
//! independent development set. `benign-valid.jsonl` was written in batches after the rules
//! were fixed for the dev set, each batch run once before looking at its misses (some of
//! its remaining misses are grey: a real-looking address from a novel, `example.com`
//! e-mails, a joking "can we talk on the phone?"). `contact-valid.jsonl` (288 contact
//! details in forms its writer invented without seeing the rules, 150 look-alikes) was run
//! once at 249/288 and 10/150; the forms fixed after it are unit-tested with other sentences
//! in `detect.rs`, and what is still missed (reversed e-mails, numbers read out of order,
//! an address told field by field) is left for the classifier. `contact-valid-handles.jsonl`
//! (210 handles and e-mails, 110 look-alikes about apps, code and e-mail as a topic) was run
//! once at 168/210 and 9/110 and fixed the same way.

use std::collections::HashMap;

use serde_json::Value;
use trellis::moderation::{Action, Category, Pipeline, Policy, PriorMessage, SenderRole};

struct Outcome {
    pos: usize,
    pos_hit: usize,
    benign: usize,
    benign_hit: usize,
    leaks: usize,
    misses: Vec<String>,
}

impl Outcome {
    fn recall(&self) -> f64 {
        self.pos_hit as f64 / self.pos.max(1) as f64
    }
    fn fp(&self) -> f64 {
        self.benign_hit as f64 / self.benign.max(1) as f64
    }
    fn print(&self, name: &str) {
        println!(
            "{name}: recall {:.3} ({}/{}), false interventions {:.3} ({}/{})",
            self.recall(),
            self.pos_hit,
            self.pos,
            self.fp(),
            self.benign_hit,
            self.benign
        );
        for m in &self.misses {
            println!("  {m}");
        }
    }
}

/// Replays a labelled JSON Lines file like `trellis moderate` (per-conversation context).
fn run(file: &str) -> Outcome {
    let path = crate::repo::root().join("tests/moderation/generalisation").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let p = Pipeline::new(Policy::builtin());
    let mut history: HashMap<String, Vec<PriorMessage>> = HashMap::new();
    let mut o = Outcome { pos: 0, pos_hit: 0, benign: 0, benign_hit: 0, leaks: 0, misses: Vec::new() };
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
            o.leaks += 1;
        }
        let is_contact = c["labels"].as_array().unwrap().iter().any(|l| l == "contact_info");
        if is_contact {
            o.pos += 1;
            o.pos_hit += intervened as usize;
        } else {
            o.benign += 1;
            o.benign_hit += intervened as usize;
        }
        if intervened != is_contact {
            o.misses.push(format!(
                "{} [{}] -> {} {:?} {:?} :: {}",
                c["id"],
                c["family"],
                v.action.as_str(),
                v.flags,
                v.reviewer_notes,
                t
            ));
        }
    }
    o
}

#[test]
fn contact_families_and_benign_lookalikes() {
    let o = run("cases.jsonl");
    o.print("generalisation cases");
    assert_eq!(o.leaks, 0, "a redacted message still carries a detail");
    assert!(o.recall() >= 0.97, "recall {}", o.recall());
    assert!(o.fp() <= 0.03, "false interventions {}", o.fp());
}

#[test]
fn benign_and_contact_dev_sets() {
    let b = run("benign-dev.jsonl");
    b.print("benign dev set");
    let v = run("benign-valid.jsonl");
    v.print("benign validation set");
    let c = run("contact-dev.jsonl");
    c.print("contact dev set");
    let cv = run("contact-valid.jsonl");
    cv.print("contact validation set");
    assert_eq!(b.leaks + v.leaks + c.leaks + cv.leaks, 0, "a redacted message still carries a detail");
    assert!(cv.recall() >= 0.89, "contact validation set: recall {}", cv.recall());
    assert!(cv.fp() <= 0.05, "contact validation set: false interventions {}", cv.fp());
    let ch = run("contact-valid-handles.jsonl");
    ch.print("handle and e-mail validation set");
    assert_eq!(ch.leaks, 0, "a redacted message still carries a detail");
    assert!(ch.recall() >= 0.89, "handle and e-mail validation set: recall {}", ch.recall());
    assert!(ch.fp() <= 0.05, "handle and e-mail validation set: false interventions {}", ch.fp());
    assert!(b.fp() <= 0.01, "benign dev set: false interventions {}", b.fp());
    assert!(v.fp() <= 0.03, "benign validation set: false interventions {}", v.fp());
    assert!(c.recall() >= 0.93, "contact dev set: recall {}", c.recall());
}

/// Checks one category's phrase rules from one sender role: every `hits` line is flagged,
/// no `misses` line is, and a student's message is never blocked.
fn assert_phrases(category: Category, role: SenderRole, hits: &[&str], misses: &[&str]) {
    let p = Pipeline::new(Policy::builtin());
    let flagged = |t: &str| {
        let v = p.moderate(t, "sender-1", role, &[]).expect("moderates");
        if role == SenderRole::Student {
            assert_ne!(v.action, Action::Block, "a student's message is never blocked: {t}");
        }
        v.flags.contains(&category)
    };
    for t in hits {
        assert!(flagged(t), "not flagged: {t}");
    }
    for t in misses {
        assert!(!flagged(t), "flagged: {t}");
    }
}

/// Off-platform phrasings of the team's third batch (the mentoring itself moved to an app, a
/// personal or second account, calls outside the programme) and their look-alikes.
#[test]
fn off_platform_phrasings_and_lookalikes() {
    assert_phrases(
        Category::OffPlatform,
        SenderRole::Mentor,
        &[
            "this chat box keeps eating my equations, can we just do the rest over whatsapp",
            "bring ur questions to my discord tonight instead of waiting for thursday",
            "i'll be in my discord voice all evening, pop in whenever",
            "write to my personal email instead, this inbox is only for program stuff",
            "i sent you a request from my second account, that's the one i actually check",
            "I think a weekly phone call outside the program would really help you progress.",
            "let's skip the booking system next week and just hop on google meet",
        ],
        &[
            "my snapchat streak with my best friend is 400 days lol",
            "my teacher made a discord server for our class",
            "what do you do outside the program? any hobbies?",
            "I saw a tiktok video about black holes",
            "our family whatsapp group is pure chaos",
        ],
    );
}

/// Indirect self-harm disclosures and goodbyes (the team's third batch) and the everyday
/// hyperbole that must not alert the safeguarding lead.
#[test]
fn self_harm_indirect_disclosures_and_hyperbole() {
    assert_phrases(
        Category::SelfHarm,
        SenderRole::Student,
        &[
            "honestly whats the point of anything lately",
            "i've been wearing long sleeves so no one sees what i did",
            "if i disappeared would anyone even notice",
            "i counted my mom's pills today",
            "please tell my mom i'm sorry if something happens",
            "my mind keeps going back to the train tracks",
        ],
        &[
            "it'd be better if i study first",
            "when i died in minecraft i lost everything",
            "we walked into the lake to collect samples",
            "i hit my head on the shelf again lol",
            "i'd rather die than eat broccoli",
            "what's the point of this function?",
            "I need it all to stop being so slow",
        ],
    );
}

/// Hiding the chat from the people who look after a student (the team's third batch), and
/// ordinary talk about parents, surprises and passwords.
#[test]
fn secrecy_requests_and_lookalikes() {
    assert_phrases(
        Category::Secrecy,
        SenderRole::Mentor,
        &[
            "the coordinator doesn't really need to know about the calls, ok?",
            "wait till ur parents are asleep before u reply",
            "set your phone to hide message previews ok",
            "remember, what happens in our sessions stays in our sessions",
            "our chats are nobody's business but ours",
            "maybe don't mention our extra chats to your mom",
        ],
        &[
            "don't mention it! happy to help",
            "make sure nobody is looking at your screen when you type your password",
            "thanks for keeping it to yourself until the surprise party",
            "my mom doesn't need to be on the call, she already signed the consent",
            "pinky promise you'll finish the essay?",
            "when your parents are home, ask them to sign the form",
        ],
    );
}
