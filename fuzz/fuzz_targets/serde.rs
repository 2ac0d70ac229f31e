#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esr_core::fuzzing::serde(data));
