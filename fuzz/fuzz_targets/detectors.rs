#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| trellis_fuzz::moderation::fuzzing::detectors(text));
