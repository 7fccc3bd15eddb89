//! The shared front half of every command: from a resolved request to per-remote object
//! sets (revision selection → tree scan → parse → routing).

use std::path::Path;

use crate::cli::args::SyncRequest;
use crate::dvc::config::RemoteConfig;
use crate::error::Error;
use crate::objects::collect::{self, CollectOptions, Collected};
use crate::objects::snapshot::{self, RepoContext};

/// Opens the repository around `cwd` and collects what `request` covers.
pub fn collect(cwd: &Path, request: &SyncRequest) -> Result<(RepoContext, Collected), Error> {
    collect_with(cwd, request, true)
}

/// Like [`collect`]; `include_workspace` false covers committed revisions only.
pub fn collect_with(
    cwd: &Path,
    request: &SyncRequest,
    include_workspace: bool,
) -> Result<(RepoContext, Collected), Error> {
    let ctx = RepoContext::open(cwd)?;
    if ctx.git.work_dir().is_some() && !ctx.dvc_dir.is_dir() {
        return Err(Error::NotDvcRepo(cwd.to_path_buf()));
    }
    let mut revisions = request.revisions.clone();
    if ctx.git.work_dir().is_none() && revisions.is_empty() {
        // A bare repository has no work tree: its current state is HEAD.
        revisions.revs.push("HEAD".to_string());
    }
    let (snapshots, blobs) = snapshot::build(&ctx, &revisions, include_workspace)?;
    let options = CollectOptions {
        remote_override: request.remote.clone(),
        fallback_config: Some(ctx.workspace_config.clone()),
        committed_remotes: collect::committed_remotes_policy(&ctx.git.local()),
        targets: request.targets.as_ref(),
        ..CollectOptions::default()
    };
    let collected = collect::collect(&snapshots, &blobs, &options, &ctx.root)?;
    Ok((ctx, collected))
}

/// The current directory relative to the DVC project's directory (the top of the work
/// tree, or a `--subdir` project's), for targets given from a subdirectory.
pub fn cwd_prefix(cwd: &Path) -> String {
    let Ok(ctx) = RepoContext::open(cwd) else {
        return String::new();
    };
    let (Ok(cwd), Ok(root)) = (cwd.canonicalize(), ctx.root.canonicalize()) else {
        return String::new();
    };
    cwd.strip_prefix(&root)
        .ok()
        .and_then(|p| p.to_str())
        .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
        .unwrap_or_default()
}

/// `-j`, else the remote's `jobs`, else 4 × CPUs as DVC defaults.
pub fn jobs_for(remote: &RemoteConfig, requested: Option<usize>) -> usize {
    requested
        .or_else(|| {
            remote
                .options
                .get("jobs")
                .and_then(|j| j.parse::<usize>().ok())
        })
        .unwrap_or_else(|| {
            4 * std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}
