#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esr_core::fuzzing::vpd_code(data));
