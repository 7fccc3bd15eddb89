//! Repository content shared by several test files: a directory tree with
//! unicode names and empty files, a DVC pipeline with every kind of output,
//! DVC 2-era legacy files, and helpers to snapshot what a work tree holds.

use std::collections::BTreeMap;

use super::{list_files, pseudo_random_bytes, Repo};

/// The name of the second remote that `remote: r2` outputs go to.
pub const SECOND_REMOTE: &str = "r2";

/// Writes a nested tree under `dir` with unicode names (accents, an emoji, a
/// space), a CRLF file, empty files and an empty sub-directory. `variant`
/// changes some contents (0 = the base tree).
pub fn write_unicode_tree(repo: &Repo<'_>, dir: &str, variant: u32) {
    repo.write(&format!("{dir}/a.txt"), format!("a {variant}\n"));
    repo.write(&format!("{dir}/sub/b.txt"), "b\n");
    repo.write(&format!("{dir}/é.txt"), "accent\n");
    repo.write(&format!("{dir}/ünïcødé/😀 smile.txt"), "emoji\n");
    repo.write(
        &format!("{dir}/ünïcødé/日本/データ.bin"),
        pseudo_random_bytes(7, 3000),
    );
    repo.write(&format!("{dir}/crlf inside.txt"), "one\r\ntwo\r\n");
    repo.write(&format!("{dir}/empty.txt"), "");
    repo.write(&format!("{dir}/sub/deeper/empty2"), "");
    std::fs::create_dir_all(repo.path(&format!("{dir}/empty-dir"))).unwrap();
    if variant > 0 {
        repo.write(
            &format!("{dir}/variant-{variant}.bin"),
            pseudo_random_bytes(100 + u64::from(variant), 1000),
        );
    }
}

/// The shell script the pipeline's main stage runs.
const GEN_SH: &str = r#"set -e
v=$(cat version.txt)
mkdir -p out/sub
printf 'o1 %s\n' "$v" > out/o1.txt
printf 'o2\n' > out/sub/o2.txt
printf '{"acc": 0.%s}\n' "$v" > metrics.json
printf 'x,y\n1,%s\n' "$v" > plot.csv
printf 'nocache %s\n' "$v" > nocache.txt
printf 'nopush\n' > nopush.txt
printf 'other %s\n' "$v" > other.txt
"#;

/// Bytes of the `push: false` output (the same in every version).
pub const NOPUSH_BYTES: &[u8] = b"nopush\n";

/// The pipeline's cached outputs (pushed somewhere unless noted):
/// `out` (dir), `metrics.json` (metric), `plot.csv` (plot), `other.txt`
/// (`remote: r2`), `nopush.txt` (`push: false`), the foreach outputs
/// `f_x.txt`/`f_y.txt` and the matrix outputs `m_1_p.txt`/`m_2_p.txt`.
/// `nocache.txt` (`cache: false`) is committed to git instead.
pub const PIPELINE_OUTPUTS: &[&str] = &[
    "out",
    "metrics.json",
    "plot.csv",
    "nocache.txt",
    "nopush.txt",
    "other.txt",
    "f_x.txt",
    "f_y.txt",
    "m_1_p.txt",
    "m_2_p.txt",
];

/// Adds a pipeline with `dvc stage add` (main stage `gen` with an output
/// directory, a metric, a plot, a `cache: false` out, and two outs that are
/// then given `push: false` and `remote: r2` in dvc.yaml), plus a foreach
/// stage `each` and a matrix stage `mat`. Does not run it: call
/// [`set_pipeline_version`] and `dvc repro`.
pub fn add_pipeline(repo: &Repo<'_>) {
    repo.write("gen.sh", GEN_SH);
    set_pipeline_version(repo, 1);
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "gen",
        "-d",
        "gen.sh",
        "-d",
        "version.txt",
        "-o",
        "out",
        "-m",
        "metrics.json",
        "--plots",
        "plot.csv",
        "-O",
        "nocache.txt",
        "-o",
        "nopush.txt",
        "-o",
        "other.txt",
        "sh gen.sh",
    ]);
    let yaml = String::from_utf8(repo.read("dvc.yaml")).unwrap();
    let patched = yaml
        .replace(
            "    - nopush.txt\n",
            "    - nopush.txt:\n        push: false\n",
        )
        .replace(
            "    - other.txt\n",
            &format!("    - other.txt:\n        remote: {SECOND_REMOTE}\n"),
        );
    assert!(
        patched.contains("push: false") && patched.contains("remote: r2"),
        "dvc stage add wrote an unexpected dvc.yaml:\n{yaml}"
    );
    let patched = patched
        + r#"  each:
    foreach:
    - x
    - y
    do:
      cmd: printf '${item} %s\n' "$(cat version.txt)" > f_${item}.txt
      deps:
      - version.txt
      outs:
      - f_${item}.txt
  mat:
    matrix:
      n: [1, 2]
      s: [p]
    cmd: printf 'm${item.n}${item.s}\n' > m_${item.n}_${item.s}.txt
    outs:
    - m_${item.n}_${item.s}.txt
"#;
    repo.write("dvc.yaml", patched);
}

/// Sets the value the pipeline's outputs depend on.
pub fn set_pipeline_version(repo: &Repo<'_>, version: u32) {
    repo.write("version.txt", format!("{version}\n"));
}

/// DVC 2-era outputs made by real DVC 2.58.2 (`md5-dos2unix` hashes, legacy
/// cache layout, no `hash:` field): a CRLF text file and a directory with a
/// CRLF member and a binary member.
pub const LEGACY_OUTPUTS: &[&str] = &["legacy.txt", "legacy_dir"];

pub fn add_legacy_outputs(repo: &Repo<'_>) {
    repo.write("legacy.txt", "legacy\r\ntext\r\n");
    repo.write("legacy_dir/s/x.txt", "x\r\n");
    repo.write("legacy_dir/y.bin", pseudo_random_bytes(42, 700));
    repo.dvc2(&["add", "-q", "legacy.txt", "legacy_dir"]);
    let dvc_file = String::from_utf8(repo.read("legacy.txt.dvc")).unwrap();
    assert!(
        !dvc_file.contains("hash:"),
        "DVC 2 wrote a `hash:` field?\n{dvc_file}"
    );
}

/// Every file under the given work-tree paths (files or directories), as
/// relative path → bytes: what `dvc pull` must restore.
pub fn snapshot(repo: &Repo<'_>, paths: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for p in paths {
        let full = repo.path(p);
        if full.is_dir() {
            for (rel, bytes) in list_files(&full) {
                out.insert(format!("{p}/{rel}"), bytes);
            }
        } else {
            out.insert(p.to_string(), std::fs::read(&full).unwrap());
        }
    }
    out
}

/// md5 of a work-tree file.
pub fn file_md5(repo: &Repo<'_>, rel: &str) -> String {
    super::md5_hex(&repo.read(rel))
}

/// The `md5:` value recorded for the single output of a `.dvc` file.
pub fn dvc_file_md5(repo: &Repo<'_>, dvc_file: &str) -> String {
    md5_field(&String::from_utf8(repo.read(dvc_file)).unwrap())
}

/// The first `md5:` value in a YAML text.
pub fn md5_field(text: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("md5: ")
        })
        .unwrap_or_else(|| panic!("no md5 in:\n{text}"))
        .trim()
        .to_string()
}
