//! Command-line definitions: one clap definition feeds `--help`, the man pages and the
//! shell completions. Each command lives in its own file and is thin: it turns arguments
//! into a request and prints the pipeline's outcome.

pub mod add;
pub mod args;
pub mod check;
pub mod install;
pub mod pre_push;
pub mod pre_receive;
pub mod push;
pub mod report;
pub mod status;

use clap::{Parser, Subcommand};

/// Keep DVC data and git history in step.
///
/// git-dvc reads `.dvc` files, `dvc.yaml`/`dvc.lock` and `.dvc/config` straight from git
/// objects, for any revisions, and uploads the data they reference to DVC remote storage,
/// byte-compatible with DVC 3.
#[derive(Debug, Parser)]
#[command(
    name = "git-dvc",
    bin_name = "git dvc",
    version,
    max_term_width = 100,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Track files and directories with DVC, exactly as `dvc add` does.
    ///
    /// Hashes the data (md5, in parallel), stores it in the DVC cache (`.dvc/cache`, or
    /// `cache.dir`), writes `<path>.dvc` beside each path and adds `/<name>` to the
    /// `.gitignore` there. The files stay in place. Commit the `.dvc` and `.gitignore` files;
    /// `git dvc push` (or the pre-push hook) uploads the data. Adding a path again whose data
    /// has not changed changes nothing.
    Add(add::AddArgs),
    /// Upload the data that revisions reference to DVC remote storage.
    ///
    /// By default covers the current state, as `dvc push` does: HEAD's committed DVC files
    /// plus uncommitted `.dvc`, `dvc.yaml`, `dvc.lock` and `.dvc/config` changes in the
    /// work tree. `-a`, `-T`, `-A` and `--rev` add revisions, read from git objects without
    /// checking anything out.
    Push(args::PushArgs),
    /// Show which data the remote is missing (`--cloud`), without uploading.
    ///
    /// Unlike `dvc status -c`, every member of a tracked directory is checked, not only its
    /// `.dir` manifest.
    Status(args::StatusArgs),
    /// Install the pre-push hook, so every `git push` uploads the DVC data of the commits it
    /// sends.
    ///
    /// The hook goes where git looks for hooks (`core.hooksPath` and linked worktrees
    /// honoured). An existing hook git-dvc does not recognise is left alone unless
    /// `--force` (replace it) or `--chain` (keep it and run it first); a git-lfs hook is
    /// chained automatically. With `--server`, in a bare repository, installs the
    /// pre-receive hook instead.
    Install(install::InstallArgs),
    /// Remove git-dvc's pre-push hook (and restore a chained previous hook).
    Uninstall,
    /// Run by the pre-push hook: upload the data of the commits being pushed.
    ///
    /// Reads git's `<local ref> <local oid> <remote ref> <remote oid>` lines on stdin. The
    /// data of every commit the remote does not have is uploaded, to each commit's default
    /// DVC remote (or `remote.<git remote>.dvcRemote` from git config); outputs' own
    /// `remote:` is honoured. Data missing both locally and on the remote stops the push,
    /// unless `git config dvc.allowIncompletePush true`. Set GIT_DVC_SKIP_PUSH=1 to skip.
    PrePush(pre_push::PrePushArgs),
    /// Run by the server's pre-receive hook: reject pushes whose data is not in storage.
    ///
    /// Checks only commits new to the repository, reading them inside git's quarantine.
    /// Storage is configured in `$GIT_DIR/dvc/config` (DVC's format); the pushed
    /// `.dvc/config` is never used. Settings in the server's git config:
    /// `dvc.preReceive.timeout` (seconds, default 120), `dvc.preReceive.maxObjects`
    /// (default 1000000), `dvc.preReceive.failOpen` (default false: reject when storage is
    /// unreachable or time runs out), `dvc.preReceive.refs` (repeatable glob; default all).
    PreReceive,
    /// Check that the data of committed revisions is in remote storage (for CI).
    ///
    /// Same selection flags as push (HEAD when none given); exit 1 when anything is
    /// missing. Every member of a tracked directory is checked.
    Check(check::CheckArgs),
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Add(args) => add::run(args),
        Command::Push(args) => push::run(args),
        Command::Status(args) => status::run(args),
        Command::Install(args) => install::install(args),
        Command::Uninstall => install::uninstall(),
        Command::PrePush(args) => pre_push::run(args),
        Command::PreReceive => pre_receive::run(),
        Command::Check(args) => check::run(args),
    }
}
