//! Command-line definitions: one clap definition feeds `--help`, the man pages and the
//! shell completions. Each command lives in its own file and is thin: it turns arguments
//! into a request and prints the pipeline's outcome.

pub mod add;
pub mod args;
pub mod argv;
pub mod check;
pub mod checkout;
pub mod checkout_hooks;
mod failures;
pub mod fetch;
pub mod install;
mod install_server;
pub mod pre_push;
pub mod pre_receive;
pub mod pull;
pub mod push;
mod pusher;
pub mod report;
pub mod status;

use clap::{Parser, Subcommand};

/// The closing sections of `git dvc --help` and git-dvc(1). In the man page each
/// `Heading:` line becomes a section and each `term  text` line a tagged paragraph.
const MAIN_AFTER_HELP: &str = "\
Examples:
  git dvc add data model.pt      Track a directory and a file; commit the .dvc and .gitignore files
  git dvc install                Make every `git push` upload the DVC data of the commits it sends,
                                 and every checkout, merge and rebase bring the new HEAD's data
  git dvc push                   Upload the data of the current state, like `dvc push`
  git dvc push -a -T             Also the data of every branch tip and tag, read from git
  git dvc status -c              Show what the remote lacks, without uploading
  git dvc fetch -a -T            Download the data of every branch tip and tag into the cache
  git dvc pull                   Download the current state's data and put it in the work tree
  git dvc checkout               Put the data of the work tree's DVC files in place, from the cache
  git dvc check --rev main       For CI: fail when data committed on main is not in storage
  git dvc install --server       In a bare repository: refuse pushes whose data is not in storage

Settings (git config):
  remote.<name>.dvcRemote        DVC remote for pushes to git remote <name> (default: core.remote)
  dvc.allowIncompletePush        true: let a push through when some data is nowhere to be found
  dvc.trustCommittedRemotes      true: send each commit's data where its own .dvc/config says, as DVC does
  dvc.preReceive.*               The server check: timeout, maxObjects, failOpen, refs, log, storageConfig (see git-dvc-pre-receive)
  dvc.maxFileSize                Refuse DVC files bigger than this (default 16m)
  dvc.maxManifestSize            Refuse .dir manifests bigger than this (default 256m)
  dvc.maxIgnoreFileSize          Refuse .dvcignore files bigger than this (default 1m)
  dvc.multipartThreshold         Upload objects this big or bigger in parts (default 200m)
  dvc.projectDir                 The DVC project's directory (dvc init --subdir), for the hooks; set by install
  dvc.checkout.fetch             false: the checkout hooks use the cache only, never download
  dvc.checkout.strict            true: a checkout hook that could not bring the data fails git checkout

Environment:
  GIT_DVC_SKIP_PUSH=1            Skip the pre-push upload once (e.g. `GIT_DVC_SKIP_PUSH=1 git push`)
  GIT_DVC_SKIP_CHECKOUT=1        Leave the data alone once (e.g. `GIT_DVC_SKIP_CHECKOUT=1 git checkout x`)
  GIT_DVC_STORAGE_CONFIG         git dvc check, pre-receive: the trusted storage config (as --storage-config)
  DVC_GLOBAL_CONFIG_DIR          Where DVC's global config lives, as for DVC
  DVC_SYSTEM_CONFIG_DIR          Where DVC's system config lives, as for DVC

Files:
  .dvc/config                    Remotes and cache settings, in DVC's format (`dvc remote add`)
  .dvc/config.local              The same, not committed (credentials, local paths)
  $GIT_DIR/dvc/config            On a server: the storage pushes must reach (pre-receive check)
  $GIT_DIR/dvc/projects/<dir>/config  On a server: the same for the DVC project at <dir>, if set

See also:
  git dvc <command> --help       Each command's own help; also man git-dvc-<command>
  https://dvc.org/doc            DVC, whose files, cache and remotes git-dvc reads and writes";

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
    disable_help_subcommand = true,
    after_long_help = MAIN_AFTER_HELP
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
    #[command(after_long_help = "\
Examples:
  git dvc add data               Track the directory data/: writes data.dvc, adds /data to .gitignore
  git dvc add a.csv b.csv        Track two files
  git add data.dvc .gitignore    Then commit them; the data itself goes to DVC storage on push")]
    Add(add::AddArgs),
    /// Upload the data that revisions reference to DVC remote storage.
    ///
    /// By default covers the current state, as `dvc push` does: HEAD's committed DVC files
    /// plus uncommitted `.dvc`, `dvc.yaml`, `dvc.lock` and `.dvc/config` changes in the
    /// work tree. `-a`, `-T`, `-A` and `--rev` add revisions, read from git objects without
    /// checking anything out.
    #[command(after_long_help = "\
Examples:
  git dvc push                   The current state: HEAD plus uncommitted DVC files
  git dvc push -a -T             Also every branch tip and tag
  git dvc push --rev main~5..main    Every commit in a range
  git dvc push -r backup         To the DVC remote 'backup' instead of the default
  git dvc push data.dvc dvc.yaml:train    Only these outputs
  git dvc push --run-cache       Also past stage runs, for `dvc repro` to reuse")]
    Push(args::PushArgs),
    /// Download the data that revisions reference from DVC remote storage into the cache.
    ///
    /// The same selection as push, the other way: by default the current state (HEAD plus
    /// uncommitted DVC files), `-a`, `-T`, `-A` and `--rev` add revisions, read from git
    /// objects without checking anything out. Objects land in the cache exactly as DVC
    /// writes them (`files/md5/` or the 2.x layout, read-only), each one verified against
    /// its name while it downloads: bytes that do not match never enter the cache (DVC
    /// does not check). A directory's `.dir` manifest is stored only once all its files
    /// are in. Objects already in the cache are not downloaded again, and a fetch with
    /// nothing missing sends no request. Holds DVC's lock (`.dvc/tmp/lock`) while it
    /// runs. The work tree is not touched: `dvc checkout` links the data in.
    #[command(after_long_help = "\
Examples:
  git dvc fetch                  The current state: HEAD plus uncommitted DVC files
  git dvc fetch -a -T            Also every branch tip and tag
  git dvc fetch --rev v1.0       The data of one revision
  git dvc fetch -r backup data.dvc    One output, from the DVC remote 'backup'
  git dvc fetch --run-cache      Also past stage runs, for `dvc repro` to reuse

Exit status:
  0  everything fetched (objects missing from the remote too are only a warning, as in DVC)
  1  an object failed to download or was refused (its bytes do not match its name)")]
    Fetch(args::FetchArgs),
    /// Put the data the work tree's DVC files name in place, from the cache.
    ///
    /// What `dvc checkout` does, with its output: `A`/`M`/`D` lines per output, unchanged
    /// files left untouched, files linked or copied as `cache.type` says (`reflink,copy` by
    /// default, `hardlink`, `symlink`, `copy`), `isexec` files made executable. Files in a
    /// tracked directory that it does not list are removed, except `.dvcignore`d ones. A
    /// file whose content is not in the cache (a modified file, an unsaved one) is never
    /// deleted or replaced without `--force`: the checkout stops first and lists them.
    /// Without targets, outputs git-dvc checked out whose DVC file no longer declares them
    /// are removed, when untouched since. `cache: false` outputs and `.gitignore` are never
    /// touched. Files are written under a temporary name and renamed; a work-tree state in
    /// `.dvc/tmp/git-dvc/` makes a checkout with nothing to do read no file. Holds DVC's
    /// lock (`.dvc/tmp/lock`). Unlike DVC, an object missing from the cache leaves the rest
    /// of its directory in place, a stale exec bit is cleared, and an executable is never
    /// hard- or symlinked to the cache (its mode would change the cache object's).
    #[command(after_long_help = "\
Examples:
  git dvc checkout               Every output of the work tree's DVC files
  git dvc checkout data.dvc      One output
  git dvc checkout --relink      Make every file again (after changing cache.type)
  git dvc checkout -f            Also replace modified files (their changes are lost)

Exit status:
  0    the work tree holds the data
  255  an output could not be checked out (its data is not in the cache: `git dvc pull`),
       or files would be lost without --force (as DVC)")]
    Checkout(checkout::CheckoutArgs),
    /// Download the data of the current state and put it in the work tree: fetch, then
    /// checkout.
    ///
    /// What `dvc pull` does: `git dvc fetch` with the same flags (`-a`, `-T`, `-A`, `--rev`
    /// fetch more revisions; the checkout is always the work tree's), then, when every
    /// download worked, `git dvc checkout` (see its help). Downloads are verified against
    /// their names, so wrong bytes never reach the cache or the work tree. Prints DVC's
    /// lines and summary (`6 files fetched and 5 files added`), or `Everything is up to
    /// date.`
    #[command(after_long_help = "\
Examples:
  git dvc pull                   The data of the work tree's DVC files
  git dvc pull data.dvc          One output
  git dvc pull -r backup         From the DVC remote 'backup'
  git dvc pull -a -T             Also fetch every branch tip's and tag's data into the cache

Exit status:
  0  the work tree holds the data
  1  a download failed (nothing is checked out then), an output could not be checked out,
     or files would be lost without --force")]
    Pull(pull::PullArgs),
    /// Show which data the remote is missing (`--cloud`), without uploading.
    ///
    /// Prints DVC's `new:`/`deleted:`/`missing:` lines, paths relative to the current
    /// directory as DVC shows them. Exits 0 whatever it finds; with `-q`, prints nothing
    /// and exits 1 when anything is out of sync (also a directory whose `.dir` is in neither
    /// the cache nor the remote, which the list leaves out after a warning, as DVC does). A
    /// revision that cannot be collected (a DVC file DVC rejects, a target it lacks) stops
    /// the command, as in DVC. Unlike `dvc status -c`, outputs pinned with `remote:` are
    /// checked against their remote, each revision against its own remote, and directory
    /// members wherever that costs no extra request (`--check-members`: always).
    #[command(mut_arg("glob", |a| a.help(
        "Expand targets as glob patterns, as `push --glob` does (git-dvc's own: DVC's status \
         has no --glob)"
    )))]
    Status(args::StatusArgs),
    /// Check that the data of committed revisions is in remote storage (for CI).
    ///
    /// Same selection flags as push (HEAD when none given); exit 1 when anything is
    /// missing. Every member of a tracked directory is checked, and so are DVC projects
    /// nested in this one (directories with their own `.dvc`), with their committed config.
    /// Unlike DVC, `.dvcignore` files hide no DVC file from the check.
    Check(check::CheckArgs),
    /// Install the hooks: pre-push, so every `git push` uploads the DVC data of the commits
    /// it sends; post-checkout, post-merge and post-rewrite, so every checkout, merge and
    /// rebase brings the new HEAD's data into the work tree.
    ///
    /// The hooks go where git looks for hooks (`core.hooksPath` and linked worktrees
    /// honoured); `--hook NAME` installs only those named. An existing hook git-dvc does not
    /// recognise stops the install before anything is written, unless `--force` (replace
    /// it) or `--chain` (keep it and run it first); git-lfs hooks are chained
    /// automatically. Run inside a `dvc init --subdir` project, it records the
    /// project's directory in git config `dvc.projectDir`, since git runs hooks at the top
    /// of the work tree. With `--server`, in a bare repository, installs the pre-receive
    /// hook instead (`dvc.projectDir` set there selects a subdirectory project too), where
    /// the server runs hooks: `hooks/pre-receive` for plain git (`--chain` keeps an existing
    /// one, run first); beside the forge's own hook under Gitea/Forgejo
    /// (`hooks/pre-receive.d/git-dvc`) and GitLab (`custom_hooks/pre-receive.d/git-dvc`,
    /// with the `gitaly hooks set` steps); for gitolite, which owns the hooks, it prints
    /// gitolite's steps and writes nothing. The server hook runs git-dvc from PATH, else
    /// from where the installing binary is. `--print` and `--output FILE` write the script
    /// for any other hook manager.
    #[command(after_long_help = "\
Examples:
  git dvc install                In a clone: every git push uploads its DVC data first
  git dvc install --chain        Keep existing hooks and run each first
  git dvc install --hook pre-push    Only the pre-push hook (no checkout hooks)
  git dvc install --server       In a bare repository: refuse pushes whose data is not in storage
                                 (described in $GIT_DIR/dvc/config)
  git dvc install --server --output /srv/git/hooks/pre-receive.d/git-dvc
                                 Write the server hook for a hook manager or a global hooks directory
  git dvc install --print        The pre-push hook on stdout, for another hook manager
  git dvc install --hook post-checkout --output ~/.git-templates/hooks/post-checkout
                                 For git's template directory: `git clone` brings the data")]
    Install(install::InstallArgs),
    /// Remove git-dvc's hooks (and restore chained previous hooks).
    ///
    /// Removes pre-push, post-checkout, post-merge and post-rewrite where they are
    /// git-dvc's; a hook that is not git-dvc's is left in place (and named: exit status 1).
    /// With `--server`, in a bare repository, removes the pre-receive hook `install
    /// --server` wrote instead, from where it wrote it (hooks/pre-receive, putting back a
    /// hook kept by `--chain`; Gitea/Forgejo's hooks/pre-receive.d/git-dvc; GitLab's
    /// custom_hooks/pre-receive.d/git-dvc); for gitolite it says what to undo there.
    #[command(after_long_help = "\
Examples:
  git dvc uninstall              In a clone: remove the client hooks
  git dvc uninstall --server     In a bare repository: remove the pre-receive hook")]
    Uninstall(install::UninstallArgs),
    /// Run by the pre-push hook: upload the data of the commits being pushed.
    ///
    /// Reads git's `<local ref> <local oid> <remote ref> <remote oid>` lines on stdin. The
    /// data of every commit the remote does not have is uploaded, to each commit's default
    /// DVC remote (or `remote.<git remote>.dvcRemote` from git config); outputs' own
    /// `remote:` is honoured. Remote locations come from your own configuration only: a
    /// pushed commit whose `.dvc/config` points a remote elsewhere stops the push (git config
    /// `dvc.trustCommittedRemotes true` allows it, as DVC does). Data missing both locally
    /// and on the remote stops the push,
    /// unless `git config dvc.allowIncompletePush true`. Set GIT_DVC_SKIP_PUSH=1 to skip.
    ///
    /// Under the pre-commit framework (`.pre-commit-hooks.yaml`, hook id `git-dvc-pre-push`)
    /// there are no arguments and pre-commit has read git's lines: the remote comes from
    /// PRE_COMMIT_REMOTE_NAME/_URL, and the data of every local branch and tag commit the
    /// remote's tracking refs lack is uploaded (pre-commit passes on only one pushed ref).
    PrePush(pre_push::PrePushArgs),
    /// Run by the server's pre-receive hook: reject pushes whose data is not in storage.
    ///
    /// Checks only commits new to the repository, reading them inside git's quarantine;
    /// every DVC project in them (the top, and each directory holding a `.dvc`) is checked,
    /// and every DVC file in them: `.dvcignore` files hide nothing from this check.
    /// Storage is configured on the server, in DVC's format:
    /// `$GIT_DIR/dvc/projects/<dir>/config` for the project at `<dir>` when it exists, else
    /// `$GIT_DIR/dvc/config`, over a server-wide file when one is named (`--storage-config`,
    /// $GIT_DVC_STORAGE_CONFIG, or git config `dvc.preReceive.storageConfig`). The
    /// pushed `.dvc/config` is only validated and read for its `core.remote` name, never
    /// for URLs or credentials. Settings in the server's git config:
    /// `dvc.preReceive.timeout` (seconds, default 120), `dvc.preReceive.maxObjects`
    /// (default 1000000; a push over it is rejected even with failOpen: split it or raise
    /// the limit), `dvc.preReceive.failOpen` (default false; true accepts a push only when
    /// storage is unreachable or the timeout is hit, never for anything the pushed content
    /// decides), `dvc.preReceive.refs` (repeatable glob; default all; an invalid pattern
    /// rejects every push), `dvc.preReceive.log` (a file that gets the administrators' copy
    /// of every message, with the server paths the pusher is not shown).
    ///
    /// Without storage configured (a hook shared by many repositories), pushes whose new
    /// commits reference no DVC data are accepted and the others refused. Under GitLab
    /// (`GL_ID` set) rejection lines start with `GL-HOOK-ERR:` for its web UI.
    PreReceive(pre_receive::PreReceiveArgs),
    /// Run by the post-checkout hook: bring the DVC data of the new HEAD into the work tree.
    ///
    /// After `git checkout`/`git switch` of a branch or commit (flag 1; file checkouts,
    /// flag 0, are skipped), `git clone` and `git worktree add`: the outputs whose DVC files
    /// differ between the previous HEAD and the new one are checked out as `git dvc pull`
    /// does (fetched from the default remote first, unless git config `dvc.checkout.fetch`
    /// is false, or the checkout brought a new `.dvc/config` and `dvc.trustCommittedRemotes`
    /// is not true), and outputs whose DVC file no longer declares them are removed when
    /// untouched. Everything after a clone or `worktree add`, or when
    /// `.dvc/config` changed. A checkout that changes no DVC file reads no DVC file and
    /// prints nothing. Skipped in the middle of a rebase (post-rewrite brings the data at
    /// the end). A modified file is never overwritten. Failures are warnings that name the
    /// way out (`git dvc pull`); git config `dvc.checkout.strict true` makes them fail the
    /// checkout. GIT_DVC_SKIP_CHECKOUT=1 skips the hook; the next one catches up, since
    /// the commit whose data the work tree holds is recorded in
    /// `.dvc/tmp/git-dvc/synced-commit`. Under the pre-commit framework (hook id
    /// `git-dvc-post-checkout`) the arguments come from PRE_COMMIT_FROM_REF and
    /// PRE_COMMIT_CHECKOUT_TYPE.
    #[command(after_long_help = "\
Examples:
  git dvc post-checkout 0000000000000000000000000000000000000000 $(git rev-parse HEAD) 1
                                 What the hook runs after a clone: every output
  GIT_DVC_SKIP_CHECKOUT=1 git checkout other    Switch without touching the data

Exit status:
  0  always, unless dvc.checkout.strict is true and some data could not be checked out")]
    PostCheckout(checkout_hooks::PostCheckoutArgs),
    /// Run by the post-merge hook: bring the DVC data of the merged HEAD into the work
    /// tree.
    ///
    /// After `git merge` and `git pull` (merge or fast-forward): as post-checkout, for the
    /// DVC files that differ between ORIG_HEAD (HEAD before the merge) and HEAD. After
    /// `git merge --squash` (argument 1), every output of the work tree's DVC files.
    /// Under pre-commit (hook id `git-dvc-post-merge`) the argument comes from
    /// PRE_COMMIT_IS_SQUASH_MERGE. git ignores this hook's exit status.
    PostMerge(checkout_hooks::PostMergeArgs),
    /// Run by the post-rewrite hook: bring the DVC data of a rebased HEAD into the work
    /// tree.
    ///
    /// After `git rebase` and `git pull --rebase` (argument `rebase`): as post-checkout,
    /// for the DVC files that differ between ORIG_HEAD (the branch before the rebase) and
    /// HEAD. `git commit --amend` (argument `amend`) changes nothing in the work tree and is
    /// skipped. Under pre-commit (hook id `git-dvc-post-rewrite`) the argument comes from
    /// PRE_COMMIT_REWRITE_COMMAND. git ignores this hook's exit status.
    PostRewrite(checkout_hooks::PostRewriteArgs),
}

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    // A person runs these and may be asked for a secret (ask_password, an encrypted key);
    // hooks run unattended and never prompt (see storage::prompt).
    crate::storage::prompt::allow(matches!(
        cli.command,
        Command::Add(_)
            | Command::Push(_)
            | Command::Fetch(_)
            | Command::Pull(_)
            | Command::Status(_)
            | Command::Check(_)
    ));
    match cli.command {
        Command::Add(args) => add::run(args),
        Command::Push(args) => push::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Checkout(args) => checkout::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Status(args) => status::run(args),
        Command::Install(args) => install::install(args),
        Command::Uninstall(args) => install::uninstall(args),
        Command::PrePush(args) => pre_push::run(args),
        Command::PreReceive(args) => pre_receive::run(args),
        Command::PostCheckout(args) => checkout_hooks::post_checkout(args),
        Command::PostMerge(args) => checkout_hooks::post_merge(args),
        Command::PostRewrite(args) => checkout_hooks::post_rewrite(args),
        Command::Check(args) => check::run(args),
    }
}
