#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // ytcaption catches decoder panics (turning them into decode_failed); libfuzzer-sys's hook
    // would abort on them anyway, so the default hook is put back. A panic that escapes
    // ytcaption still aborts the run: fuzz_target! catches it and aborts.
    init: { let _ = std::panic::take_hook(); },
    |data: &[u8]| ytcaption_fuzz::entries::ggml_reader(data)
);
