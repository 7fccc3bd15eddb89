//! Flags shared by commands, and their resolution into one request before any work starts.

use clap::Args;

use crate::engine::{SyncRequest, TargetSpec};
use crate::git::revisions::RevisionSelection;
use crate::objects::collect::Direction;
use crate::objects::collect::FailedRevisions;
use crate::sync::MemberCheck;

/// Which revisions and outputs: the same flags `dvc push` and `dvc status -c` take.
#[derive(Debug, Clone, Args)]
pub struct SelectionArgs {
    /// Limit to these `.dvc` files, `dvc.yaml[:stage]` files, stage names or output paths.
    /// Targets that overlap select their union; a path inside a tracked directory selects
    /// the whole directory (`pull` then checks out only that path, as `checkout` does).
    #[arg(value_name = "TARGETS")]
    pub targets: Vec<String>,

    /// Remote to use instead of the default (`core.remote`). Outputs pinned to another
    /// remote with `remote:` are skipped, as DVC does.
    #[arg(short = 'r', long = "remote", value_name = "NAME")]
    pub remote: Option<String>,

    /// Also cover the tips of all local branches.
    #[arg(short = 'a', long = "all-branches")]
    pub all_branches: bool,

    /// Also cover all tags (annotated tags peeled to their commits).
    #[arg(short = 'T', long = "all-tags")]
    pub all_tags: bool,

    /// Also cover every commit reachable from HEAD, branches, remote-tracking branches and
    /// tags.
    #[arg(short = 'A', long = "all-commits")]
    pub all_commits: bool,

    /// Also cover this revision (that commit only) or range (`main~5..main`, every commit in
    /// it). Repeatable.
    #[arg(long = "rev", value_name = "REV")]
    pub revs: Vec<String>,

    /// Include the stages and files the targets depend on.
    #[arg(short = 'd', long = "with-deps")]
    pub with_deps: bool,

    /// Treat directory targets as "every DVC file under it". A tracked directory holds no
    /// DVC file, so as a target it selects nothing, as in DVC.
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,

    /// Expand targets as glob patterns, as DVC does (Python's glob: `*`, `?`, `[…]`, `**`
    /// for any depth; wildcards skip names starting with `.`), against the work tree; for
    /// other revisions, against what each revision tracks (DVC files, outputs and the
    /// members of its directories). A match inside a tracked directory selects the whole
    /// directory. An error only when no pattern matches anything.
    #[arg(long = "glob")]
    pub glob: bool,

    /// Parallel storage operations (default, also for 0: the remote's `jobs`, else 4 × CPUs).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16))]
    pub jobs: Option<u16>,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet", conflicts_with = "verbose")]
    pub quiet: bool,

    /// Explain what is being done (repeat for more).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Look up every member of each directory on the remote, even when its `.dir` is
    /// there. DVC takes a stored `.dir` as proof of its members; git-dvc checks them
    /// anyway when one listing answers for all at no extra request, and trusts the `.dir`
    /// only where checking would cost more requests than DVC makes (always on HTTP). This
    /// flag always checks: it finds members deleted from the remote and uploads them again.
    #[arg(long = "check-members")]
    pub check_members: bool,
    /// Also push the run cache (`.dvc/cache/runs`: past stage runs, which `dvc repro`
    /// reuses after `dvc pull --run-cache`) to `-r` or the default remote, with the
    /// outputs of those runs still in the cache. Each entry goes after its outputs; entries
    /// already on the remote are not sent again.
    #[arg(long = "run-cache", overrides_with = "no_run_cache")]
    pub run_cache: bool,
    /// Do not push the run cache (the default).
    #[arg(long = "no-run-cache", overrides_with = "run_cache")]
    pub no_run_cache: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Also fetch the run cache (`runs/` on `-r` or the default remote: past stage runs,
    /// which `dvc repro` reuses) into the cache's `runs/`, as `dvc fetch --run-cache`
    /// does. Entries already in the cache are not downloaded again; names and contents
    /// that are not DVC's are refused. Not available on HTTP remotes (nor in DVC).
    #[arg(long = "run-cache", overrides_with = "no_run_cache")]
    pub run_cache: bool,
    /// Do not fetch the run cache (the default).
    #[arg(long = "no-run-cache", overrides_with = "run_cache")]
    pub no_run_cache: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Compare the cache with remote storage. Required: it is the only mode git-dvc has
    /// (for changes in the work tree, use `dvc status`).
    #[arg(short = 'c', long = "cloud")]
    pub cloud: bool,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Look up every member of each directory on the remote, even when its `.dir` is
    /// there. DVC takes a stored `.dir` as proof of its members; git-dvc checks them
    /// anyway when one listing answers for all at no extra request, and trusts the `.dir`
    /// only where checking would cost more requests than DVC makes (always on HTTP). This
    /// flag always checks: it finds members deleted from the remote.
    #[arg(long = "check-members")]
    pub check_members: bool,

    /// Print the status as a JSON object `{path: state}`.
    #[arg(long = "json")]
    pub json: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

impl SelectionArgs {
    /// The engine request these flags (and `-q`/`-v`) describe. Targets stay as typed:
    /// the engine resolves them against the current directory once it has opened the
    /// repository.
    pub fn request(&self, out: &OutputArgs) -> SyncRequest {
        let targets = (!self.targets.is_empty()).then(|| TargetSpec {
            patterns: self.targets.clone(),
            recursive: self.recursive,
            with_deps: self.with_deps,
            glob: self.glob,
        });
        SyncRequest {
            revisions: RevisionSelection {
                all_branches: self.all_branches,
                all_tags: self.all_tags,
                all_commits: self.all_commits,
                revs: self.revs.clone(),
            },
            targets,
            remote: self.remote.clone(),
            // `-j 0` means the default, as in DVC.
            jobs: self.jobs.filter(|&j| j > 0).map(usize::from),
            quiet: out.quiet,
            verbose: out.verbose,
            members: MemberCheck::TrustManifests,
            failed_revisions: FailedRevisions::Skip,
            direction: Direction::Up,
            workspace_outputs: false,
            run_cache: false,
        }
    }
}
