//! Size caps on what a commit can make git-dvc parse: DVC files (`.dvc`, `dvc.yaml`,
//! `dvc.lock`) and `.dir` manifests. Anyone who can push chooses these bytes, so the
//! server must not read arbitrarily large ones. Set with git config `dvc.maxFileSize` and
//! `dvc.maxManifestSize` (bytes, git's `k`/`m`/`g` suffixes allowed), read when the
//! repository is opened; the defaults are far above anything DVC writes.

use std::sync::OnceLock;

/// Default cap on one DVC file: 16 MiB (a `.dvc` file is usually under 1 KiB).
pub const DEFAULT_MAX_FILE_SIZE: usize = 16 << 20;
/// Default cap on one `.dir` manifest: 256 MiB (about two million members).
pub const DEFAULT_MAX_MANIFEST_SIZE: usize = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub dvc_file: usize,
    pub manifest: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            dvc_file: DEFAULT_MAX_FILE_SIZE,
            manifest: DEFAULT_MAX_MANIFEST_SIZE,
        }
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// The limits in force: those read from the repository's config, else the defaults.
pub fn get() -> Limits {
    LIMITS.get().copied().unwrap_or_default()
}

/// Reads `dvc.maxFileSize` and `dvc.maxManifestSize` (the first repository opened wins;
/// a process works on one repository). Zero, negative or malformed values keep the default.
pub fn init(config: &gix::config::Snapshot<'_>) {
    let read = |key: &str, default: usize| {
        config
            .integer(key)
            .filter(|v| *v > 0)
            .map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX))
    };
    let _ = LIMITS.set(Limits {
        dvc_file: read("dvc.maxFileSize", DEFAULT_MAX_FILE_SIZE),
        manifest: read("dvc.maxManifestSize", DEFAULT_MAX_MANIFEST_SIZE),
    });
}
