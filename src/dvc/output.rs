//! One DVC output as the push pipeline needs it, whichever file declared it.

use super::hash::{DvcHash, ObjectId};

/// An output declared by a `.dvc` file or a `dvc.yaml` stage (hash from `dvc.lock`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcOutput {
    /// Path relative to the directory holding the declaring file, with `wdir` applied and
    /// normalised to `/`-separated form without `.` components. May start with `../` when the
    /// output sits above the declaring file; whether it leaves the repository is decided by
    /// the caller, who knows where the file lives.
    pub path: String,
    /// The recorded hash; `None` when the output was never committed (no hash yet), which
    /// DVC silently skips.
    pub hash: Option<DvcHash>,
    /// `remote:` on the output, lower-cased as DVC looks remotes up.
    pub remote: Option<String>,
    /// `push: false` keeps an output off remotes.
    pub push: bool,
    /// `cache: false` outputs are never cached, so never pushed.
    pub cache: bool,
    /// Set for a `files:` list (cloud versioning): the members DVC digests into a `.dir`
    /// when the output goes to an ordinary remote. `hash` then holds that digest.
    pub files: Option<Vec<ManifestEntry>>,
    /// For pipeline outputs, the stage name as `dvc.lock` records it (`train`, `each@x`).
    pub stage: Option<String>,
    /// `isexec: true`: a single-file output checked out with the owner's execute bit.
    pub isexec: bool,
}

impl DvcOutput {
    /// Whether `dvc push` would upload this output at all (before remote filtering).
    pub fn is_pushable(&self) -> bool {
        self.push && self.cache && self.hash.is_some()
    }

    /// Whether `dvc fetch` would download this output (before remote filtering): `push:
    /// false` ones too, since another clone may have put them in a shared cache or remote.
    pub fn is_fetchable(&self) -> bool {
        self.cache && self.hash.is_some()
    }
}

/// One member of a `.dir` manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ManifestEntry {
    /// `/`-separated path relative to the directory.
    pub relpath: String,
    pub md5: ObjectId,
}
