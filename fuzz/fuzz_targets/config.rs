//! DVC config (configobj INI) parser, through `ConfigLevel::parse`, and DVC's schema check
//! of what it parsed (merged, as the commands check it, and alone, as the server checks a
//! pushed file).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(level) = git_dvc::dvc::config::ConfigLevel::parse(text, "/fuzz/.dvc", "fuzz") {
            let _ = level.check_schema_alone();
            let _ = git_dvc::dvc::config::DvcConfig::from_levels(vec![level]).check_schema();
        }
    }
});
