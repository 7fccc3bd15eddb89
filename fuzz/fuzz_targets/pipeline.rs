//! dvc.yaml + dvc.lock parser. The input is split in two at the first NUL byte: the part
//! before is `dvc.yaml`, the part after (if any) is `dvc.lock`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (yaml, lock) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    // Templating runs too (`${…}`, `foreach`, `matrix`, inline `vars`); no vars files.
    let _ = git_dvc::dvc::pipeline::parse_pipeline(
        yaml,
        lock,
        &git_dvc::dvc::pipeline::NoVarsFiles,
        git_dvc::limits::DEFAULT_MAX_FILE_SIZE,
    );
});
