//! Replays the fuzzers' committed seeds (and every crash input once fixed and added there)
//! through the same invariant checks the fuzz targets run, so `cargo test` keeps them.

use trellis::moderation::fuzzing;
use trellis::moderation::SenderRole;

fn seeds(folder: &str) -> Vec<Vec<u8>> {
    let dir = crate::repo::root().join("fuzz/seeds").join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() > 100, "seeds in {}", dir.display());
    files.into_iter().map(|f| std::fs::read(f).unwrap()).collect()
}

#[test]
fn text_seeds_keep_the_normaliser_and_detector_invariants() {
    for seed in seeds("text") {
        let text = String::from_utf8_lossy(&seed);
        fuzzing::normaliser(&text);
        fuzzing::detectors(&text);
    }
}

#[test]
fn pipeline_seeds_keep_the_verdict_invariants() {
    for seed in seeds("pipeline") {
        let Some((&first, rest)) = seed.split_first() else { continue };
        let text = String::from_utf8_lossy(rest);
        let role = if first & 1 == 0 { SenderRole::Student } else { SenderRole::Mentor };
        let parts: Vec<&str> = text.split('\u{241E}').take(5).collect();
        let (last, earlier) = parts.split_last().unwrap();
        fuzzing::whole_pipeline(last, earlier, role);
    }
}

#[test]
fn jsonl_seeds_get_one_answer_per_line() {
    for seed in seeds("jsonl") {
        fuzzing::jsonl(&seed);
    }
}
