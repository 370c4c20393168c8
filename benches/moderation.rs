//! Rules-pipeline throughput and latency on a mixed corpus.
//! `cargo bench --bench moderation` prints criterion timings plus a p50/p99 summary.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use trellis::moderation::{Pipeline, Policy, PriorMessage, SenderRole};

const BENIGN: &[&str] = &[
    "Hi! I read the article you sent about photosynthesis, it was really interesting.",
    "see you Tuesday 4pm in our session",
    "solve 3x + 5 = 20 and tell me what you get for x",
    "My CHEM 101 lab is at 10:30 on Thursdays so I might be a few minutes late.",
    "The textbook is ISBN 978-0-13-110362-7 if you want to look at chapter 4.",
    "read https://en.wikipedia.org/wiki/Photosynthesis before next week",
    "I got 85 on the quiz, up from 72 last time!",
    "my phone died yesterday so I couldn't reply, sorry",
    "oh snap it compiled on the first try",
    "You should email your teacher about the extension.",
    "What do you think about studying engineering at university?",
    "I'm working on a Python script that sorts numbers, it runs in O(n log n).",
    "The robotics competition is on March 14, 2026 at the school gym with our team.",
    "It costs $12.99 per month for the student plan.",
    "We learned about the years 1914 to 1918 in history class.",
    "Try the simulation at https://phet.colorado.edu/en/simulations/circuit-construction-kit-dc",
    "The speed of light is about 299,792,458 m/s.",
    "I'm a bit stressed about exams but I think I'll be okay.",
    "Thanks so much for the advice about the science fair project!",
    "Can you explain how vaccines train the immune system?",
];

const RISKY: &[&str] = &[
    "text me at four oh three 555 0199",
    "my number is (403) 555-0199, call me after school",
    "add me on snap: coolkid_22",
    "email me at jo dot smith at gmail dot com",
    "let's keep our chats just between us, ok? your parents wouldn't get it",
    "we should meet up at the mall this weekend, just the two of us",
    "I can buy you a gift card if you want",
    "my insta is @sarah.codes",
    "I live at 42 Wallaby Way, Sydney",
    "check out my site coolstuff.net/page",
];

fn corpus() -> Vec<(&'static str, SenderRole)> {
    let mut v = Vec::new();
    for (i, t) in BENIGN.iter().enumerate() {
        v.push((*t, if i % 2 == 0 { SenderRole::Student } else { SenderRole::Mentor }));
    }
    for (i, t) in RISKY.iter().enumerate() {
        v.push((*t, if i % 2 == 0 { SenderRole::Mentor } else { SenderRole::Student }));
    }
    v
}

fn latency_summary(name: &str, p: &Pipeline, msgs: &[(&str, SenderRole)]) {
    let ctx = vec![PriorMessage {
        sender: "u".into(),
        sender_role: SenderRole::Student,
        text: "ok sounds good".into(),
        age_seconds: Some(60),
    }];
    // Warm up lazily built automata so the first call does not count.
    for (t, r) in msgs {
        std::hint::black_box(p.moderate(t, "u", *r, &ctx).unwrap());
    }
    let mut times = Vec::with_capacity(msgs.len() * 200);
    let start = Instant::now();
    for _ in 0..200 {
        for (t, r) in msgs {
            let t0 = Instant::now();
            let v = p.moderate(t, "u", *r, &ctx).unwrap();
            std::hint::black_box(v);
            times.push(t0.elapsed().as_nanos() as u64);
        }
    }
    let total = start.elapsed();
    times.sort_unstable();
    let pct = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "{name} ({} msgs, with 1 context message): {:.0} msgs/s on one core; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        times.len(),
        times.len() as f64 / total.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        *times.last().unwrap() as f64 / 1000.0
    );
}

/// Texts of the labelled corpus (tests/corpus/*.jsonl), when present.
fn labelled_corpus() -> Vec<(String, SenderRole)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut out = Vec::new();
    for name in ["train.jsonl", "test.jsonl"] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let role = if v["sender_role"] == "mentor" { SenderRole::Mentor } else { SenderRole::Student };
            if let Some(t) = v["text"].as_str() {
                out.push((t.to_string(), role));
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let p = Pipeline::new(Policy::builtin());
    let msgs = corpus();
    latency_summary("built-in mixed corpus", &p, &msgs);
    let labelled = labelled_corpus();
    if !labelled.is_empty() {
        let refs: Vec<(&str, SenderRole)> = labelled.iter().map(|(t, r)| (t.as_str(), *r)).collect();
        latency_summary("labelled corpus (train+test)", &p, &refs);
    }
    let mut g = c.benchmark_group("rules_pipeline");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("mixed_corpus", |b| {
        b.iter(|| {
            for (t, r) in &msgs {
                std::hint::black_box(p.moderate(t, "u", *r, &[]).unwrap());
            }
        })
    });
    g.bench_function("benign_only", |b| {
        b.iter(|| {
            for t in BENIGN {
                std::hint::black_box(p.moderate(t, "u", SenderRole::Student, &[]).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
