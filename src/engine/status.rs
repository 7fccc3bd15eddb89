//! `status --cloud`: where each object the selection references stands against its
//! remote, in DVC's vocabulary, without uploading.

use std::path::Path;

use super::notice::{Notice, Observer};
use super::SyncRequest;
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::DvcHash;
use crate::error::Error;
use crate::sync::{self, AssessOptions, ObjectState};

/// One remote's objects that are not in sync.
#[derive(Debug)]
pub struct RemoteStatus {
    pub remote: String,
    /// (state, object, project-relative path of the output or member), by path.
    pub out_of_sync: Vec<(ObjectState, DvcHash, String)>,
    /// The directory outputs (project-relative paths): DVC names members from inside one
    /// relative to it.
    pub dir_outputs: Vec<String>,
}

#[derive(Debug)]
pub struct StatusOutcome {
    /// The current directory relative to the project (`""` at its top).
    pub cwd_prefix: String,
    /// The remote an in-sync answer names: `-r`, else the default, else the first used.
    pub remote: String,
    pub remotes: Vec<RemoteStatus>,
}

/// Collects what `request` covers (a revision that cannot be collected stops it, as DVC's
/// status) and asks each remote what it has.
pub fn status(
    cwd: &Path,
    request: &SyncRequest,
    observer: &mut dyn Observer,
) -> Result<StatusOutcome, Error> {
    let request = &request.clone().aborting_on_failed_revisions();
    let (ctx, collected) = super::collect(cwd, request)?;
    if !collected.warnings.is_empty() {
        observer.notice(Notice::Collect(&collected.warnings));
    }
    let mut remotes = Vec::new();
    for dest in collected.destinations {
        let jobs = super::jobs_for(&dest.remote, request.jobs);
        let options = AssessOptions {
            jobs,
            full_local_check: true,
            members: request.members,
            relpaths: RelpathRules::ThisPlatform,
            limits: ctx.git.limits(),
        };
        let assessment = sync::assess(dest, &ctx.cache, &options, None)?;
        let location = assessment.storage.describe();
        observer.notice(Notice::Requests {
            remote: &assessment.remote.name,
            location: &location,
            count: assessment.storage.requests(),
        });
        let out_of_sync = assessment
            .out_of_sync()
            .into_iter()
            .map(|(state, hash, prov)| (state, hash.clone(), prov.path.clone()))
            .collect();
        remotes.push(RemoteStatus {
            remote: assessment.remote.name.clone(),
            out_of_sync,
            dir_outputs: assessment
                .set
                .dirs
                .values()
                .map(|d| d.provenance.path.clone())
                .collect(),
        });
    }
    let remote = request
        .remote
        .clone()
        .or_else(|| ctx.workspace_config.core_remote())
        .or_else(|| remotes.first().map(|r| r.remote.clone()))
        .unwrap_or_default();
    Ok(StatusOutcome {
        cwd_prefix: ctx.cwd_prefix.clone(),
        remote,
        remotes,
    })
}
