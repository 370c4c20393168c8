//! Classifier latency: one message (the pipeline's per-message call) and a batch of 32.
//! `cargo bench --bench classifier` (release). Needs `models/` and `policies/`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

use trellis::classifier;
use trellis::moderation::Classifier;

const MESSAGES: [&str; 8] = [
    "let's keep our chats just between us, ok? your parents wouldn't get it",
    "see you Tuesday 4pm in our session",
    "can you explain how you got the derivative in step 3? i got 2x + 3 but the answer says 2x",
    "thanks!!",
    "what school do you go to? which bus do you take home",
    "i'm so tired of everything, i don't think i can do this anymore",
    "I'll send you a $50 gift card if you finish the project, don't tell anyone",
    "for the science fair, try measuring the pH of the soil samples before and after watering",
];

fn bench(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let clf = classifier::load_concrete(&root.join("models"), &root.join("policies")).expect("classifier loads");
    let mut g = c.benchmark_group("classifier");
    g.sample_size(50);
    g.bench_function("single_message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            clf.score(MESSAGES[i], &[]).unwrap()
        })
    });
    let batch: Vec<(&str, &[trellis::moderation::PriorMessage])> =
        (0..32).map(|i| (MESSAGES[i % MESSAGES.len()], &[][..])).collect();
    g.bench_function("batch_32", |b| b.iter(|| clf.score_batch(&batch).unwrap()));
    #[cfg(feature = "rust-bert")]
    {
        // Same classifier on libtorch; the .ot weights are made in a temporary directory.
        let d = std::env::temp_dir().join(format!("trellis-rb-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("encoder")).unwrap();
        for f in ["config.json", "tokenizer.json", "vocab.txt", "model.safetensors"] {
            std::os::unix::fs::symlink(root.join("models/encoder").join(f), d.join("encoder").join(f)).unwrap();
        }
        for f in ["MANIFEST.toml", "heads.json", "LICENSE-all-MiniLM-L6-v2.txt"] {
            std::fs::copy(root.join("models").join(f), d.join(f)).unwrap();
        }
        classifier::rustbert::convert_to_ot(&d).unwrap();
        let rb = classifier::rustbert::load_rust_bert(&d, &root.join("policies")).unwrap();
        g.bench_function("rust_bert_single_message", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % MESSAGES.len();
                rb.score(MESSAGES[i], &[]).unwrap()
            })
        });
        g.bench_function("rust_bert_batch_32", |b| b.iter(|| rb.score_batch(&batch).unwrap()));
        let _ = std::fs::remove_dir_all(&d);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
