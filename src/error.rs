//! The errors commands report, and the exit codes they map to (DVC's: 1 for a failed
//! operation, 255 for an unexpected error).

use std::path::PathBuf;

use crate::dvc::config::ConfigError;
use crate::git::GitError;
use crate::objects::expand::InvalidManifest;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No `-r`, no `core.remote`, and an output without `remote:`.
    /// `command` is what the hint suggests after `dvc`: DVC's push prints `<command>`
    /// literally, its status prints `status`.
    #[error("{}", no_remote_message(.root, *.remotes_exist, .command))]
    NoRemote {
        root: PathBuf,
        remotes_exist: bool,
        command: &'static str,
    },
    /// No `.dvc` directory from the current directory up to the top of the work tree
    /// (nor at git config `dvc.projectDir`). DVC exits 253 with this line.
    #[error("you are not inside of a DVC repository (no .dvc directory from {} up to the top of the git work tree; run `dvc init`, or `dvc init --subdir` for a project in a subdirectory)", .0.display())]
    NotDvcRepo(PathBuf),
    /// A commit's `.dvc/config` puts a remote somewhere the user's own configuration does
    /// not (see `objects::collect::CommittedRemotes`).
    #[error("{}", untrusted_remote_message(.revision, .path, .name, .committed_url, .configured_url.as_deref()))]
    UntrustedRemote {
        revision: String,
        path: String,
        name: String,
        committed_url: String,
        configured_url: Option<String>,
    },
    /// `.dir` manifests that exist but cannot be trusted: every command stops on them
    /// ([`crate::sync::assess`]).
    #[error("{}", invalid_manifests_message(.0))]
    InvalidManifests(Vec<InvalidManifest>),
    /// A configured bound on the work was reached (the server check's time budget): the
    /// check could not finish, which is not a verdict on the pushed data.
    #[error("{0}")]
    LimitReached(String),
    /// The pushed commits reference more DVC objects than the server check's cap
    /// (`dvc.preReceive.maxObjects`). The pushed content decides this, so it rejects
    /// whatever `dvc.preReceive.failOpen` says (a pusher could otherwise hit it on purpose).
    #[error("the pushed commits reference more than {max} DVC objects, over the server's limit (git config dvc.preReceive.maxObjects); dvc.preReceive.failOpen does not apply to it")]
    OverObjectCap { max: usize },
    /// A git config setting git-dvc reads has a value it cannot use.
    #[error("git config {key} = '{value}' {problem}")]
    GitConfig {
        key: &'static str,
        value: String,
        problem: &'static str,
    },
    /// `check --storage-config FILE` (or its environment variable) names no file.
    #[error("storage config {} does not exist: write the remote(s) in DVC's config format (`[core] remote = …` and a `['remote \"NAME\"']` section with its `url`)", .0.display())]
    NoStorageConfig(PathBuf),
    /// A target that selects nothing, or that DVC refuses.
    #[error(transparent)]
    Target(#[from] crate::objects::targets::TargetError),
    /// A command that writes the work tree or cache run in a bare repository.
    #[error("git dvc {command} needs a work tree (this repository is bare): run it in a clone")]
    NeedsWorkTree { command: &'static str },
    /// A checkout stopped before touching the work tree (files that would be lost, a
    /// setting it cannot use).
    #[error(transparent)]
    Checkout(#[from] crate::workspace::checkout::CheckoutError),
    /// DVC's repository lock (`.dvc/tmp/lock`) could not be taken.
    #[error(transparent)]
    Lock(#[from] crate::dvc::repo_lock::LockError),
    /// A file git-dvc must write to do its job cannot be written.
    #[error("cannot write to {}: {source}", .path.display())]
    CannotWrite {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A DVC setting git-dvc cannot honour for this command; `message` says what to do.
    #[error("{message}")]
    UnsupportedSetting { message: &'static str },
    /// The current directory cannot be read (deleted under the shell).
    #[error("cannot read the current directory (was it deleted?): {0}")]
    CurrentDir(std::io::Error),
    /// A DVC file the pipeline cannot load, in the only revision being processed.
    #[error("{0}")]
    BadInput(String),
    /// The server's own setup (its DVC storage config) is missing or unusable for a push
    /// that needs it: the administrators can fix it, the pusher cannot. `detail` (which may
    /// name server paths) is for the administrators only.
    #[error("{message}")]
    ServerSetup { message: String, detail: String },
    /// A revision whose DVC files cannot be loaded, or that lacks a target, where the
    /// command does not skip such revisions (`status -c`, as DVC's status): DVC's words.
    #[error("Failed to collect '{revision}': {reason}")]
    RevisionNotCollected { revision: String, reason: String },
    /// No selected revision could be collected, where such revisions are skipped (push):
    /// DVC warns for each, then fails with the last one's error. `warnings` are printed
    /// before the error (see `cli::report::fail`).
    #[error("{last}")]
    NoRevisionCollected {
        warnings: Vec<String>,
        last: Box<Error>,
    },
    /// The client hook: pushed commits hold DVC files git-dvc cannot read (each named in a
    /// warning before this), and `dvc.allowIncompletePush` is not set.
    #[error("some pushed commits have DVC files git-dvc cannot read; fix them, or run `git config dvc.allowIncompletePush true` to push anyway")]
    UnreadablePushedFiles,
}

fn untrusted_remote_message(
    revision: &str,
    path: &str,
    name: &str,
    committed_url: &str,
    configured_url: Option<&str>,
) -> String {
    use crate::storage::redact_url;
    let (yours, define) = match configured_url {
        Some(url) => (
            format!("your configuration points it at '{}'", redact_url(url)),
            String::new(),
        ),
        None => (
            format!("your configuration does not define '{name}'"),
            format!(" If that location is yours, define it: dvc remote add --local {name} <url>."),
        ),
    };
    format!(
        "the .dvc/config of revision {revision} points DVC remote '{name}' (used for '{path}') at '{}', but {yours}.\n\
         git-dvc sends requests and credentials only to remote locations your own configuration names \
         (the work tree's .dvc/config, .dvc/config.local, global and system config).{define}\n\
         To use each revision's remote where its own .dvc/config says, as DVC does: git config {key} true",
        redact_url(committed_url),
        key = crate::objects::collect::TRUST_COMMITTED_REMOTES_KEY
    )
}

impl Error {
    /// The error itself, without the warnings of [`Error::NoRevisionCollected`], for
    /// callers that judge errors by kind.
    pub fn without_skip_warnings(self) -> Error {
        match self {
            Error::NoRevisionCollected { last, .. } => *last,
            other => other,
        }
    }

    /// Whether the server check may accept a push despite this error when the
    /// administrator sets `dvc.preReceive.failOpen`: only when storage could not be
    /// reached (after retries) or the time budget ran out. Everything the pushed content
    /// decides (unreadable DVC files or config, unknown remotes, invalid manifests, corrupt
    /// objects, too many objects) rejects whatever failOpen says.
    pub fn is_unavailability(&self) -> bool {
        match self {
            Error::Storage(e) => e.kind != crate::storage::ErrorKind::Corrupt,
            Error::LimitReached(_) => true,
            _ => false,
        }
    }
}

fn no_remote_message(root: &std::path::Path, remotes_exist: bool, command: &str) -> String {
    if remotes_exist {
        format!(
            "config file error: no remote specified in {}. Setup default remote with\n    dvc remote default <remote name>\nor use:\n    dvc {command} -r <remote name>",
            root.display()
        )
    } else {
        format!(
            "config file error: no remote specified in {}. Create a default remote with\n    dvc remote add -d <remote name> <remote url>",
            root.display()
        )
    }
}

fn invalid_manifests_message(invalid: &[InvalidManifest]) -> String {
    let mut lines = vec![format!(
        "{} cannot be trusted, so the directories' data cannot be checked:",
        if invalid.len() == 1 {
            "a directory manifest".to_string()
        } else {
            format!("{} directory manifests", invalid.len())
        }
    )];
    lines.extend(invalid.iter().map(|m| format!("  {m}")));
    lines.push(
        "hint: re-create the manifest with `dvc add` on the directory (or `dvc fetch` a good copy); \
         a bad copy in remote storage must be deleted there, then push again"
            .to_string(),
    );
    lines.join("\n")
}
