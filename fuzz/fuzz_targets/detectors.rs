#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: trellis_fuzz::moderation::fuzzing::warm_up(), |text: &str| trellis_fuzz::moderation::fuzzing::detectors(text));
