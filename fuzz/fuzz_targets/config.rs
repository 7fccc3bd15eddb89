//! DVC config (configobj INI) parser, through `ConfigLevel::parse`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = git_dvc::dvc::config::ConfigLevel::parse(text, "/fuzz/.dvc", "fuzz");
    }
});
