//! The object set: which DVC objects each destination (remote × layout) must hold, derived
//! from snapshots' DVC files, with `.dir` manifests expanded to their members.

pub mod changes;
pub mod checkout_scope;
pub mod collect;
pub mod expand;
pub mod glob_targets;
pub mod parsed_cache;
pub mod pipeline_index;
pub mod pipeline_inputs;
pub mod projects;
pub mod pyglob;
pub mod snapshot;
pub mod targets;
pub mod verified_dirs;

use std::collections::{BTreeMap, HashMap};

use crate::dvc::config::RemoteConfig;
use crate::dvc::hash::DvcHash;

/// Where an object was first seen: for messages that name the output and revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Repository-relative output path (for a directory member, `dir/relpath`).
    pub path: String,
    /// `workspace`, a branch or tag name, or a short commit id.
    pub revision: String,
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.path, self.revision)
    }
}

/// One remote and the objects it must hold: the outputs' own hashes (files and `.dir`s).
#[derive(Debug)]
pub struct DestinationObjects {
    pub remote: RemoteConfig,
    pub objects: BTreeMap<DvcHash, Provenance>,
    /// The order in which `objects` were first met (revision by revision, output by
    /// output): an object several outputs use is named after the first, a directory's
    /// members right after their directory, as DVC names it (`status -c`).
    pub order: HashMap<DvcHash, u32>,
}
