//! Entry points for the fuzz targets in `fuzz/` — not part of the product's API. Each runs one
//! stage on arbitrary input and checks the invariants the later stages and the web layer rely
//! on, panicking (so the fuzzer reports it) when one breaks.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::detect::detect;
use super::normalize::{contact_view, folded_view, word_view};
use super::{Action, Pipeline, Policy, PriorMessage, SenderRole};

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::new(Policy::builtin()))
}

/// Builds the pipeline (compiling the policy's patterns) before fuzzing starts, so the first
/// input is not charged with it against the per-input timeout.
pub fn warm_up() {
    pipeline();
}

fn check_view(name: &str, view: &super::normalize::View, chars: usize) {
    assert_eq!(view.map.len(), view.text.len(), "{name}: one map entry per byte");
    for (i, &orig) in view.map.iter().enumerate() {
        assert!((orig as usize) < chars.max(1), "{name}: byte {i} maps past the original text");
    }
    // Every char boundary of the view maps to a span that lies inside the original.
    let boundaries: Vec<usize> = view.text.char_indices().map(|(i, _)| i).chain([view.text.len()]).collect();
    for pair in boundaries.windows(2) {
        let (s, e) = view.orig_span(pair[0], pair[1]);
        assert!(s <= e && e <= chars, "{name}: span {s}..{e} outside 0..{chars}");
    }
}

/// The normaliser: the folded, contact and word views of `text`.
pub fn normaliser(text: &str) {
    let chars = text.chars().count();
    let folded = folded_view(text);
    check_view("folded view", &folded, chars);
    let contact = contact_view(&folded);
    check_view("contact view", &contact.view, chars);
    let words = word_view(text, &HashMap::from([('👻', "snapchat".to_owned())]));
    assert!(words.len() <= text.len() * 8 + 16, "word view grows without bound");
}

/// The detectors: every finding is a non-empty span of whole characters of `text`.
pub fn detectors(text: &str) {
    let chars = text.chars().count();
    for finding in detect(text, pipeline().policy()) {
        assert!(finding.start < finding.end && finding.end <= chars, "finding {finding:?} outside 0..{chars}");
    }
}

/// The whole pipeline, with the earlier messages of the same sender as context. Checks that
/// spans fall inside the text, that `deliver` passes the text unchanged, and that a redacted
/// text no longer carries any detail the detectors find.
pub fn whole_pipeline(text: &str, earlier: &[&str], role: SenderRole) {
    let context: Vec<PriorMessage> = earlier
        .iter()
        .map(|t| PriorMessage { sender: "s".into(), sender_role: role, text: (*t).to_owned(), age_seconds: Some(30) })
        .collect();
    let Ok(verdict) = pipeline().moderate(text, "s", role, &context) else {
        return; // empty or over-long input is refused with an error, which is the contract
    };
    let chars = text.chars().count();
    for finding in &verdict.findings {
        assert!(finding.start <= finding.end && finding.end <= chars, "{finding:?} outside 0..{chars}");
    }
    assert_eq!(verdict.scores.len(), super::Category::ALL.len(), "a score for every category");
    match verdict.action {
        Action::Deliver => assert_eq!(verdict.delivered_text.as_deref(), Some(text), "deliver passes the text as sent"),
        Action::Redact => {
            let masked = verdict.delivered_text.as_deref().expect("redact carries the masked text");
            assert!(detect(masked, pipeline().policy()).is_empty(), "a redacted text still carries a detail");
        }
        Action::Hold | Action::Block => assert!(verdict.delivered_text.is_none(), "nothing is delivered"),
    }
    assert!(!verdict.reasons.is_empty() || verdict.action == Action::Deliver, "an intervention says why");
}

/// The `trellis moderate` JSON Lines contract: one output line per non-empty input line, whatever
/// the input bytes.
pub fn jsonl(input: &[u8]) {
    let mut out = Vec::new();
    super::run_jsonl(pipeline(), input, &mut out).expect("writing to memory cannot fail");
    let lines_in =
        input.iter().filter(|&&b| b == b'\n').count() + usize::from(input.last().is_some_and(|&b| b != b'\n'));
    let lines_out = out.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(lines_in, lines_out, "one answer per input line");
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("every answer is JSON");
    }
}
