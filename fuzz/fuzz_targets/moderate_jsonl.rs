#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| trellis_fuzz::moderation::fuzzing::jsonl(data));
