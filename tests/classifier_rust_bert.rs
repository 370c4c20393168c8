//! Parity of the rust-bert engine with the default candle engine (feature `rust-bert`):
//! 240 messages, embeddings cosine >= 0.9999, calibrated category scores within 1e-4.
//! `LIBTORCH=/usr LIBTORCH_LIB=/usr/lib/x86_64-linux-gnu cargo test --release --features rust-bert --test classifier_rust_bert`
#![cfg(feature = "rust-bert")]

use std::io::BufRead;
use std::path::PathBuf;

use trellis::classifier::{self, rustbert};
use trellis::moderation::{Category, PriorMessage};

#[path = "support/repo.rs"]
mod repo;
use repo::root;

fn messages() -> Vec<String> {
    let mut out = Vec::new();
    for f in ["sms-ham.jsonl", "hatecheck.jsonl"] {
        let file = std::fs::File::open(root().join("data/training").join(f)).unwrap();
        for line in std::io::BufReader::new(file).lines().take(120) {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            out.push(v["text"].as_str().unwrap().to_string());
        }
    }
    out.push("let's keep our chats just between us, ok? your parents wouldn't get it".into());
    out
}

/// A models directory whose encoder files link to the repository's, so the `.ot` file made
/// by the test does not land in the repository.
fn temp_models() -> PathBuf {
    let d = std::env::temp_dir().join(format!("trellis-rb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("encoder")).unwrap();
    let src = root().join("models");
    for f in ["config.json", "tokenizer.json", "vocab.txt", "model.safetensors"] {
        std::os::unix::fs::symlink(src.join("encoder").join(f), d.join("encoder").join(f)).unwrap();
    }
    for f in ["MANIFEST.toml", "heads.json", "LICENSE-all-MiniLM-L6-v2.txt"] {
        std::fs::copy(src.join(f), d.join(f)).unwrap();
    }
    d
}

#[test]
fn rust_bert_matches_candle() {
    let models = temp_models();
    let ot = rustbert::convert_to_ot(&models).expect("convert");
    assert!(ot.exists());
    let pol = root().join("policies");
    let candle = classifier::load_concrete(&root().join("models"), &pol).unwrap();
    let rb = rustbert::load_rust_bert(&models, &pol).unwrap();
    let msgs = messages();
    assert!(msgs.len() >= 200);
    let mut min_cos = 1f32;
    let mut max_diff = 0f32;
    for chunk in msgs.chunks(16) {
        let t: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
        let a = candle.encoder().embed(&t).unwrap();
        let b = rb.encoder().embed(&t).unwrap();
        for (x, y) in a.iter().zip(&b) {
            min_cos = min_cos.min(x.iter().zip(y.iter()).map(|(p, q)| p * q).sum());
        }
        let items: Vec<(&str, &[PriorMessage])> = t.iter().map(|s| (*s, &[][..])).collect();
        let sa = candle.score_batch(&items).unwrap();
        let sb = rb.score_batch(&items).unwrap();
        for (p, q) in sa.iter().zip(&sb) {
            for c in Category::ALL {
                max_diff = max_diff.max((p[&c] - q[&c]).abs());
            }
        }
    }
    eprintln!("{} messages: min cosine {min_cos:.7}, max score difference {max_diff:.2e}", msgs.len());
    assert!(min_cos >= 0.9999, "min cosine {min_cos}");
    assert!(max_diff <= 1e-4, "max score difference {max_diff}");
    // A tampered .ot is refused, naming the file.
    let mut bytes = std::fs::read(&ot).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x55;
    std::fs::write(&ot, bytes).unwrap();
    let e = rustbert::load_rust_bert(&models, &pol).unwrap_err().to_string();
    assert!(e.contains("model.ot") && e.contains("sha256"), "{e}");
    let _ = std::fs::remove_dir_all(&models);
}
