#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    zkproto_fuzz::push_requests::check(data);
});
