//! Validation without uploading: is every object the selected commits reference in
//! storage? Shared by `git dvc check` (CI) and `git dvc pre-receive` (server). A `.dir`
//! counts as stored only with its manifest and every member stored.

use serde::Serialize;

use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest::RelpathRules;
use crate::error::Error;
use crate::limits::Limits;
use crate::objects::DestinationObjects;
use crate::sync::{self, AssessOptions, MemberCheck};

#[derive(Debug, Clone, Serialize)]
pub struct MissingObject {
    pub path: String,
    pub revision: String,
    pub hash: String,
    pub remote: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Validation {
    /// Objects looked up (files, `.dir`s and members), across remotes.
    pub checked: usize,
    pub missing: Vec<MissingObject>,
}

/// Checks each destination under the repository's `limits`; `max_objects` bounds the work
/// ([`Error::OverObjectCap`] past it).
pub fn validate(
    destinations: Vec<DestinationObjects>,
    cache: &LocalCache,
    limits: Limits,
    jobs: impl Fn(&DestinationObjects) -> usize,
    max_objects: Option<usize>,
) -> Result<Validation, Error> {
    let mut result = Validation::default();
    // Outputs named by the DVC files, before any storage is asked: over the cap already,
    // the expansion of directories would only add more.
    if let Some(max) = max_objects {
        if destinations.iter().map(|d| d.objects.len()).sum::<usize>() > max {
            return Err(Error::OverObjectCap { max });
        }
    }
    for dest in destinations {
        let options = AssessOptions {
            jobs: jobs(&dest),
            full_local_check: false,
            members: MemberCheck::EveryMember,
            // What passes here, any client may pull: relpaths must be safe on every platform.
            relpaths: RelpathRules::AnyPlatform,
            limits,
        };
        let a = sync::assess(dest, cache, &options, None)?;
        result.checked += a.set.len();
        if let Some(max) = max_objects {
            if result.checked > max {
                return Err(Error::OverObjectCap { max });
            }
        }
        for (hash, prov) in a.set.files.iter() {
            if !a.present.contains(hash) {
                result.missing.push(MissingObject {
                    path: prov.path.clone(),
                    revision: prov.revision.clone(),
                    hash: hash.oid.to_string(),
                    remote: a.remote.name.clone(),
                });
            }
        }
        for (hash, dir) in &a.set.dirs {
            if !a.present.contains(hash) {
                result.missing.push(MissingObject {
                    path: dir.provenance.path.clone(),
                    revision: dir.provenance.revision.clone(),
                    hash: hash.oid.to_string(),
                    remote: a.remote.name.clone(),
                });
            }
        }
    }
    result
        .missing
        .sort_by(|a, b| (&a.path, &a.revision, &a.hash).cmp(&(&b.path, &b.revision, &b.hash)));
    Ok(result)
}

/// `path@revision (hash) [remote 'r']` lines, at most `shown`, then a count of the rest.
pub fn missing_lines(missing: &[MissingObject], shown: usize) -> Vec<String> {
    let mut lines: Vec<String> = missing
        .iter()
        .take(shown)
        .map(|m| {
            format!(
                "  {}@{} ({}) [remote '{}']",
                m.path, m.revision, m.hash, m.remote
            )
        })
        .collect();
    if missing.len() > shown {
        lines.push(format!("  … and {} more", missing.len() - shown));
    }
    lines
}
