//! Rows for `docs/reliability.md`: each fault or hostile input a test tried, how many times,
//! and the outcome. A test collects rows in a [`Ledger`] and writes them, when it finishes,
//! to `target/reliability/<name>.tsv` (one file per test, replaced on every run);
//! `scripts/reliability-table.sh` renders the doc from those files.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

/// The directory the TSV files go to: `target/reliability/`.
pub fn reliability_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    // CARGO_TARGET_TMPDIR is `target/tmp`.
    tmp.parent().unwrap().join("reliability")
}

pub struct Ledger {
    name: String,
    rows: Vec<[String; 5]>,
}

impl Ledger {
    /// `name` is the test's name; it becomes the file name.
    pub fn new(name: &str) -> Self {
        Ledger {
            name: name.to_string(),
            rows: Vec::new(),
        }
    }

    /// One row: area (e.g. "hostile input"), case, how many times it was tried, outcome.
    pub fn row(&mut self, area: &str, case: &str, times: usize, outcome: &str) {
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        self.rows.push([
            clean(area),
            clean(case),
            times.to_string(),
            clean(outcome),
            self.name.clone(),
        ]);
    }

    /// Writes the file; call at the end of a test that passed.
    pub fn write(&self) {
        let dir = reliability_dir();
        fs::create_dir_all(&dir).unwrap();
        let mut out = String::new();
        for row in &self.rows {
            writeln!(out, "{}", row.join("\t")).unwrap();
        }
        fs::write(dir.join(format!("{}.tsv", self.name)), out).unwrap();
    }
}
