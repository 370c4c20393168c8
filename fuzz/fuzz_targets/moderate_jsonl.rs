#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: trellis_fuzz::moderation::fuzzing::warm_up(), |data: &[u8]| trellis_fuzz::moderation::fuzzing::jsonl(data));
