//! The one pipeline every command runs: a resolved request in, an outcome out.
//!
//! Each command builds one request ([`SyncRequest`], [`pre_push::PrePushRequest`]), calls
//! one entry ([`push::push`], [`pre_push::pre_push`], [`fetch::fetch`], [`status::status`],
//! [`check::check`]; the server check is [`crate::receive::validate_push`]) and prints the
//! outcome it gets back; an [`notice::Observer`] hears what happens on the way. The front
//! half, shared by all of them, lives here: from a request to per-remote object sets
//! (revision selection → tree scan → parse → routing). Rules every command must keep (an
//! invalid manifest stops an upload, a failed revision stops a check) live in the stages,
//! not in the commands.

pub mod check;
pub mod fetch;
pub mod notice;
pub mod pre_push;
pub mod push;
mod run_cache;
pub mod status;
mod upload;

pub use run_cache::RUN_CACHE_REVISION;

use std::path::Path;
use std::sync::Arc;

use crate::dvc::config::{ConfigLevel, DvcConfig, RemoteConfig};
use crate::error::Error;
use crate::git::revisions::{root_tree, Revision, RevisionSelection};
use crate::objects::collect::{
    self, CollectOptions, Collected, Direction, FailedRevisions, WorkspaceOutput,
};
use crate::objects::projects;
use crate::objects::snapshot::{self, ConfigKey, RepoContext};
use crate::objects::targets::Targets;
use crate::sync::MemberCheck;

/// What a command asks of the pipeline, resolved from its flags (or a hook's input) before
/// any work starts.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub revisions: RevisionSelection,
    /// `None`: every output of each selected revision.
    pub targets: Option<TargetSpec>,
    pub remote: Option<String>,
    pub jobs: Option<usize>,
    pub quiet: bool,
    pub verbose: u8,
    /// Whether a `.dir` on the remote vouches for its members.
    pub members: MemberCheck,
    /// Whether a revision that cannot be collected is skipped (push) or stops the command
    /// (status).
    pub failed_revisions: FailedRevisions,
    /// Up (push, status, check), down (fetch, pull) or the work tree only (checkout):
    /// which outputs count.
    pub direction: Direction,
    /// Keep the work tree's selected outputs (checkout, pull).
    pub workspace_outputs: bool,
    /// `--run-cache` (push, fetch): the run cache goes too.
    pub run_cache: bool,
}

impl SyncRequest {
    /// A revision that cannot be collected stops the command, as in DVC's `status -c`.
    pub fn aborting_on_failed_revisions(mut self) -> SyncRequest {
        self.failed_revisions = FailedRevisions::Abort;
        self
    }

    /// A request for data coming down from storage (fetch).
    pub fn downloading(mut self) -> SyncRequest {
        self.direction = Direction::Down;
        self
    }

    /// For checkout and pull: the work tree's selected outputs are kept
    /// ([`Collected::workspace_outputs`]); `fetch` false touches no remote (checkout).
    pub fn checking_out(mut self, fetch: bool) -> SyncRequest {
        self.direction = if fetch {
            Direction::Down
        } else {
            Direction::Workspace
        };
        self.workspace_outputs = true;
        self
    }

    /// `--check-members`: every directory member is looked up.
    pub fn checking_members(mut self, check_members: bool) -> SyncRequest {
        if check_members {
            self.members = MemberCheck::EveryMember;
        }
        self
    }
}

/// Targets as the user typed them (relative to the current directory), with the flags
/// that say how to read them.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub patterns: Vec<String>,
    pub recursive: bool,
    pub with_deps: bool,
    pub glob: bool,
}

impl TargetSpec {
    /// The targets as paths in the project, given where the command runs.
    fn resolve(&self, root: &Path, cwd_prefix: &str) -> Targets {
        Targets::new(
            &self.patterns,
            root,
            cwd_prefix,
            self.recursive,
            self.with_deps,
            self.glob,
        )
    }
}

/// The directory a command runs in; a clear error when it was deleted under the shell.
pub fn current_dir() -> Result<std::path::PathBuf, Error> {
    std::env::current_dir().map_err(Error::CurrentDir)
}

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
    let (ctx, revisions) = open(cwd, request, RepoContext::open)?;
    let (snapshots, blobs) = snapshot::build(&ctx, &revisions, include_workspace)?;
    let collected = finish(&ctx, snapshots, &blobs, request, None, true)?;
    Ok((ctx, collected))
}

/// Like [`collect`], in a repository already open (the work tree and the revisions
/// `request` selects).
pub fn collect_in(ctx: &RepoContext, request: &SyncRequest) -> Result<Collected, Error> {
    if ctx.git.work_dir().is_some() && !ctx.dvc_dir.is_dir() {
        return Err(Error::NotDvcRepo(ctx.root.clone()));
    }
    let (snapshots, blobs) = snapshot::build(ctx, &request.revisions, true)?;
    finish(ctx, snapshots, &blobs, request, None, true)
}

/// The cached outputs that `files` (DVC files, project-relative) declare in `commit`,
/// shaped as the work tree would hold them: the checkout hooks compare the work tree with
/// what the commit they moved from declared.
pub fn committed_outputs(
    ctx: &RepoContext,
    commit: crate::git::GitOid,
    files: &[String],
) -> Result<Vec<WorkspaceOutput>, Error> {
    let selection = RevisionSelection {
        revs: vec![commit.to_string()],
        ..RevisionSelection::default()
    };
    let (snapshots, blobs) = snapshot::build(ctx, &selection, false)?;
    let targets = Targets::new(files, &ctx.root, "", false, false, false);
    let options = CollectOptions {
        direction: Direction::Workspace,
        fallback_config: Some(ctx.workspace_config.clone()),
        targets: Some(&targets),
        cache: Some(&ctx.cache),
        failed_revisions: FailedRevisions::Abort,
        keep_committed_outputs: true,
        ..CollectOptions::default()
    };
    Ok(collect::collect(&snapshots, &blobs, &options, &ctx.root)?.workspace_outputs)
}

/// The repository around `cwd` (opened by `open_repo`) and the revisions `request` selects:
/// HEAD in a bare repository, which has no work tree to stand for the current state.
fn open(
    cwd: &Path,
    request: &SyncRequest,
    open_repo: impl FnOnce(&Path) -> Result<RepoContext, Error>,
) -> Result<(RepoContext, RevisionSelection), Error> {
    let ctx = open_repo(cwd)?;
    if ctx.git.work_dir().is_some() && !ctx.dvc_dir.is_dir() {
        return Err(Error::NotDvcRepo(cwd.to_path_buf()));
    }
    let mut revisions = request.revisions.clone();
    if ctx.git.work_dir().is_none() && revisions.is_empty() {
        revisions.revs.push("HEAD".to_string());
    }
    Ok((ctx, revisions))
}

/// Routes the snapshots' outputs to remotes. With `storage`, every snapshot's remotes are
/// defined by that config alone (`check --storage-config`, as the server uses
/// `$GIT_DIR/dvc/config`); without it, committed remote definitions must match the user's
/// own config (nested projects': that project's). `keep_parses`: the run may reuse and add
/// to the `.dvc` parses kept in the git directory (not for `check`, which vouches for what
/// it reads).
fn finish(
    ctx: &RepoContext,
    mut snapshots: Vec<snapshot::Snapshot>,
    blobs: &snapshot::BlobSource,
    request: &SyncRequest,
    storage: Option<&Arc<DvcConfig>>,
    keep_parses: bool,
) -> Result<Collected, Error> {
    let mut nested_configured = std::collections::HashMap::new();
    for snap in &mut snapshots {
        if let Some(storage) = storage {
            snap.config = storage.clone();
            snap.config_key = ConfigKey::Files;
        } else if let ConfigKey::Nested(dir, _) = &snap.config_key {
            if !nested_configured.contains_key(dir) {
                nested_configured.insert(dir.clone(), Arc::new(ctx.nested_configured(dir)?));
            }
        }
    }
    let targets = request
        .targets
        .as_ref()
        .map(|spec| spec.resolve(&ctx.root, &ctx.cwd_prefix));
    let options = CollectOptions {
        direction: request.direction,
        remote_override: request.remote.clone(),
        fallback_config: match storage {
            Some(_) => None,
            None => Some(ctx.workspace_config.clone()),
        },
        nested_configured,
        committed_remotes: collect::committed_remotes_policy(&ctx.git.local()),
        targets: targets.as_ref(),
        cache: Some(&ctx.cache),
        failed_revisions: request.failed_revisions,
        keep_workspace_outputs: request.workspace_outputs,
        parsed_cache_in: keep_parses.then(|| ctx.git.git_dir().to_path_buf()),
        ..CollectOptions::default()
    };
    collect::collect(&snapshots, blobs, &options, &ctx.root)
}

/// Committed revisions only, like [`collect_with`] without the work tree, and also the
/// DVC projects nested in the project (directories with a `.dvc` of their own), which
/// DVC's commands never descend into: `check` must not skip their data. Each nested
/// project's outputs resolve remotes with its committed `.dvc/config`, then the project's
/// own config. With targets (paths in this project) nested projects are left out.
/// With `storage` (`check --storage-config`), every project's remotes are defined by that
/// file alone.
pub fn collect_with_nested(
    cwd: &Path,
    request: &SyncRequest,
    storage: Option<&Arc<DvcConfig>>,
) -> Result<(RepoContext, Collected), Error> {
    let (ctx, revisions) = open(cwd, request, |cwd| {
        let mut ctx = RepoContext::open(cwd)?;
        // A check: every committed DVC file counts, whatever a `.dvcignore` says.
        ctx.apply_dvcignore = false;
        Ok(ctx)
    })?;
    let (mut snapshots, blobs) = snapshot::build(&ctx, &revisions, false)?;
    if request.targets.is_none() {
        let repo = ctx.git.local();
        let mut committed = Vec::new();
        for snap in &snapshots {
            if let Some(commit) = snap.commit {
                committed.push(Revision {
                    commit,
                    tree: root_tree(&repo, commit)?,
                    label: snap.label.clone(),
                });
            }
        }
        let nested =
            projects::project_snapshots(&ctx.git, &committed, &ctx.project, false, &mut |site| {
                let text = match site.config_blob {
                    Some(blob) => Some(projects::read_capped(
                        &repo,
                        &blob,
                        &format!("{}/.dvc/config@{}", site.dir, site.revision.label),
                        ctx.git.limits().dvc_file,
                    )?),
                    None => None,
                };
                let source = format!("{}:{}/.dvc/config", site.revision.label, site.dir);
                let config =
                    ctx.nested_committed_config(site.dir, text.as_deref().map(|t| (t, source)))?;
                Ok((
                    ConfigKey::Nested(site.dir.to_string(), site.config_blob),
                    Arc::new(config),
                ))
            })?;
        // The nested projects' paths are shown from the top of the repository; this
        // project's stay relative to it, as in every other command.
        snapshots.extend(nested.into_iter().map(|mut s| {
            s.prefix = relative_to(&s.prefix, &ctx.project);
            s
        }));
    }
    let collected = finish(&ctx, snapshots, &blobs, request, storage, false)?;
    Ok((ctx, collected))
}

/// `dir` relative to the project directory `project` (which contains it).
fn relative_to(dir: &str, project: &str) -> String {
    if project.is_empty() {
        return dir.to_string();
    }
    dir.strip_prefix(project)
        .map(|d| d.trim_start_matches('/').to_string())
        .unwrap_or_else(|| dir.to_string())
}

/// `-j`, else the remote's `jobs`, else 4 × CPUs as DVC defaults.
pub fn jobs_for(remote: &RemoteConfig, requested: Option<usize>) -> usize {
    requested
        .or_else(|| {
            remote
                .options
                .get("jobs")
                .and_then(|j| crate::dvc::config_schema::py_int(j))
                .and_then(|j| usize::try_from(j).ok())
        })
        .unwrap_or_else(|| {
            4 * std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1)
}

/// A storage configuration trusted over anything in the repository: one DVC config file
/// (`git dvc check --storage-config`), with `FILE.local` beside it when present, as the
/// server reads `$GIT_DIR/dvc/config` and `config.local`.
pub fn load_storage_config(path: &Path) -> Result<Arc<DvcConfig>, Error> {
    let mut levels = Vec::new();
    match ConfigLevel::load_file(path)? {
        Some(level) => levels.push(level),
        None => return Err(Error::NoStorageConfig(path.to_path_buf())),
    }
    let mut local = path.as_os_str().to_owned();
    local.push(".local");
    levels.extend(ConfigLevel::load_file(Path::new(&local))?);
    let config = DvcConfig::from_levels(levels);
    config.check_schema()?;
    Ok(Arc::new(config))
}
