//! Sizes read from git config when the repository is opened (bytes, git's `k`/`m`/`g`
//! suffixes allowed), carried by the opened repository ([`crate::git::GitRepo::limits`])
//! and handed to each parser, reader and storage that needs one:
//!
//! - caps on what a commit can make git-dvc parse: DVC files (`.dvc`, `dvc.yaml`,
//!   `dvc.lock`, `dvc.maxFileSize`) and `.dir` manifests (`dvc.maxManifestSize`). Anyone
//!   who can push chooses these bytes, so the server must not read arbitrarily large ones;
//!   the defaults are far above anything DVC writes.
//! - `dvc.maxIgnoreFileSize`: a cap on each `.dvcignore`, far lower than the DVC-file cap
//!   because building its matcher costs far more than its bytes.
//! - `dvc.multipartThreshold`: objects this big or bigger go to object stores in parts.

/// Default cap on one DVC file: 16 MiB (a `.dvc` file is usually under 1 KiB).
pub const DEFAULT_MAX_FILE_SIZE: usize = 16 << 20;
/// Default cap on one `.dir` manifest: 256 MiB (about two million members).
pub const DEFAULT_MAX_MANIFEST_SIZE: usize = 256 << 20;
/// Default cap on one `.dvcignore`: 1 MiB (real ones are a few hundred bytes). Its matcher
/// costs memory and time roughly in proportion (8 MB took 2.2 GB and 11 s).
pub const DEFAULT_MAX_IGNORE_FILE_SIZE: usize = 1 << 20;
/// Default size from which uploads go in parts: rclone's S3 `upload_cutoff`. One request
/// is atomic on object stores and cheaper for the server than parts it must join
/// (measured: half the CPU on s3s-fs, a third on moto); parts win on retries and on
/// per-connection bandwidth only for bigger objects.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 200 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub dvc_file: usize,
    pub manifest: usize,
    pub ignore_file: usize,
    pub multipart_threshold: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dvc_file: DEFAULT_MAX_FILE_SIZE,
            manifest: DEFAULT_MAX_MANIFEST_SIZE,
            ignore_file: DEFAULT_MAX_IGNORE_FILE_SIZE,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
        }
    }
}

impl Limits {
    /// Reads `dvc.maxFileSize`, `dvc.maxManifestSize`, `dvc.maxIgnoreFileSize` and
    /// `dvc.multipartThreshold`. Zero, negative or malformed values keep the default.
    pub fn from_config(config: &gix::config::Snapshot<'_>) -> Limits {
        let read = |key: &str, default: usize| {
            config
                .integer(key)
                .filter(|v| *v > 0)
                .map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX))
        };
        Limits {
            dvc_file: read("dvc.maxFileSize", DEFAULT_MAX_FILE_SIZE),
            manifest: read("dvc.maxManifestSize", DEFAULT_MAX_MANIFEST_SIZE),
            ignore_file: read("dvc.maxIgnoreFileSize", DEFAULT_MAX_IGNORE_FILE_SIZE),
            multipart_threshold: read(
                "dvc.multipartThreshold",
                DEFAULT_MULTIPART_THRESHOLD as usize,
            ) as u64,
        }
    }
}
