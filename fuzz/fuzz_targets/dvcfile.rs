//! `.dvc` file parser: any bytes must give `Ok` or `Err`, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = git_dvc::dvc::dvcfile::parse_dvc_file(data, git_dvc::limits::DEFAULT_MAX_FILE_SIZE);
});
