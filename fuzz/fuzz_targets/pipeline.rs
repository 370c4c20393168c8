#![no_main]
//! The input is up to five messages of one sender separated by U+241E (␞); the last is
//! moderated with the others as its context. The first byte picks the sender's role.
use libfuzzer_sys::fuzz_target;
use trellis_fuzz::moderation::SenderRole;

fuzz_target!(init: trellis_fuzz::moderation::fuzzing::warm_up(), |data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let role = if first & 1 == 0 { SenderRole::Student } else { SenderRole::Mentor };
    let parts: Vec<&str> = text.split('\u{241E}').take(5).collect();
    let (last, earlier) = parts.split_last().expect("split yields at least one part");
    trellis_fuzz::moderation::fuzzing::whole_pipeline(last, earlier, role);
});
