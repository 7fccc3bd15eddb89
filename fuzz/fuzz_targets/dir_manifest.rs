//! `.dir` manifest parser, plus the round-trip property: whatever `parse` accepts,
//! `serialize` writes bytes that `parse` reads back to the same entries (in sorted order),
//! and serializing again gives the same bytes.
#![no_main]
use git_dvc::dvc::dir_manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = dir_manifest::parse(data) else {
        return;
    };
    let bytes = dir_manifest::serialize(&entries);
    let again = dir_manifest::parse(&bytes).expect("serialize output must parse");
    let mut sorted: Vec<(&str, String)> = entries
        .iter()
        .map(|e| (e.relpath.as_str(), e.md5.to_string()))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let got: Vec<(&str, String)> = again
        .iter()
        .map(|e| (e.relpath.as_str(), e.md5.to_string()))
        .collect();
    assert_eq!(sorted, got, "round trip changed the entries");
    assert_eq!(
        bytes,
        dir_manifest::serialize(&again),
        "serialize is not stable"
    );
});
