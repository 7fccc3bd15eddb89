//! `git dvc pre-push <remote> <url>`: run by git's pre-push hook. Uploads the DVC data of
//! exactly the commits this push sends, before git sends them, and stops the push when data
//! is missing everywhere (fail closed). The work is [`crate::engine::pre_push`]'s.

use std::io::Read;

use clap::Args;

use super::{failures, report};
use crate::engine;
use crate::engine::notice::{MissingObject, Notice, Observer, Transfer};
use crate::engine::pre_push::{self, PrePushRequest, RefUpdates};
use crate::error::Error;
use crate::transfer::progress::Progress;

pub use crate::engine::pre_push::ALLOW_INCOMPLETE_KEY;

#[derive(Debug, Clone, Args)]
pub struct PrePushArgs {
    /// The git remote's name (or the URL, when pushing to a URL), as git passes it
    /// (under pre-commit: none, PRE_COMMIT_REMOTE_NAME is read).
    pub remote: Option<String>,
    /// The URL being pushed to, as git passes it.
    pub url: Option<String>,
}

/// Set to 1/true/yes to skip uploading (for example with `git push --dry-run`).
pub const SKIP_ENV: &str = "GIT_DVC_SKIP_PUSH";

pub fn run(args: PrePushArgs) -> i32 {
    if std::env::var(SKIP_ENV).is_ok_and(|v| is_truthy(&v)) {
        return 0;
    }
    let request = match (args.remote, pre_commit_remote()) {
        (Some(remote), _) => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                report::error(&format!(
                    "git-dvc pre-push: cannot read git's ref list: {e}"
                ));
                return 1;
            }
            PrePushRequest {
                remote,
                url: args.url,
                ref_updates: RefUpdates::Lines(input),
            }
        }
        // pre-commit read git's lines itself: the engine rebuilds a superset of them.
        (None, Some((remote, url))) => PrePushRequest {
            remote,
            url,
            ref_updates: RefUpdates::PreCommit {
                to_ref: std::env::var("PRE_COMMIT_TO_REF").ok(),
            },
        },
        (None, None) => {
            report::error(
                "git-dvc pre-push: expected the git remote's name and URL, as git's pre-push \
                 hook passes them (`git dvc install` writes that hook), or pre-commit's \
                 PRE_COMMIT_REMOTE_NAME (hook id git-dvc-pre-push in .pre-commit-hooks.yaml)",
            );
            return 1;
        }
    };
    match engine::current_dir().and_then(|cwd| pre_push::pre_push(&cwd, &request, &mut Printer)) {
        Ok(outcome) if outcome.may_push() => 0,
        Ok(outcome) => {
            if !outcome.failed.is_empty() {
                let failed: Vec<failures::UploadFailure> = outcome
                    .failed
                    .into_iter()
                    .map(|f| {
                        let note = f
                            .used_by
                            .as_ref()
                            .map(|p| format!(" ({p}; remote '{}')", f.remote))
                            .unwrap_or_default();
                        failures::UploadFailure::new(f, note)
                    })
                    .collect();
                for line in failures::lines(&failed) {
                    eprintln!("git-dvc: {line}");
                }
                eprintln!(
                    "git-dvc: {} failed to upload; the push was stopped so no commit reaches the server without its data. Retry the push.",
                    report::files(failed.len())
                );
            }
            1
        }
        Err(e) => match report::config_failure(&e) {
            // DVC's words for a configuration it refuses, and its exit code.
            Some(code) => {
                eprintln!("hint: the push was stopped: fix the DVC configuration and push again, or skip the upload once with {SKIP_ENV}=1 git push ...");
                code
            }
            None => {
                fail(&e);
                1
            }
        },
    }
}

fn fail(e: &Error) {
    eprintln!("git-dvc: cannot upload the DVC data of this push: {e}");
    eprintln!(
        "hint: fix the problem and push again, or skip the upload once with {SKIP_ENV}=1 git push ..."
    );
}

/// The remote pre-commit's pre-push stage names (its hooks get no arguments and no stdin).
fn pre_commit_remote() -> Option<(String, Option<String>)> {
    let name = std::env::var("PRE_COMMIT_REMOTE_NAME")
        .ok()
        .filter(|n| !n.is_empty())?;
    let url = std::env::var("PRE_COMMIT_REMOTE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    Some((name, url))
}

fn is_truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// git shows the hook's stderr to the person pushing: every line says it is git-dvc's.
struct Printer;

impl Observer for Printer {
    fn notice(&mut self, notice: Notice<'_>) {
        match notice {
            Notice::Collect(warnings) => warnings.iter().for_each(|w| eprintln!("git-dvc: {w}")),
            Notice::MissingEverywhere { objects, stops } => report_missing(objects, !stops),
            Notice::Uploaded {
                remote,
                location,
                count,
            } => {
                // The location too: the same name may mean another place in another checkout.
                eprintln!(
                    "git-dvc: {} pushed to DVC remote '{remote}' ({location})",
                    report::files(count),
                );
            }
            _ => {}
        }
    }

    fn progress(&mut self, transfer: Transfer<'_>, total: usize) -> Progress {
        let label = match transfer {
            Transfer::Upload { remote } => format!("Uploading DVC data to '{remote}'"),
            _ => String::new(),
        };
        Progress::new(total, &label, false)
    }
}

fn report_missing(missing: &[MissingObject], allowed: bool) {
    if allowed {
        eprintln!("git-dvc: pushing although this DVC data is in neither the local cache nor its remote ({ALLOW_INCOMPLETE_KEY} is set):");
    } else {
        eprintln!(
            "git-dvc: push refused: this DVC data is in neither the local cache nor its remote:"
        );
    }
    const SHOWN: usize = 50;
    for m in missing.iter().take(SHOWN) {
        eprintln!(
            "  (missing) {} ({}: {}) [remote '{}']",
            m.used_by,
            m.hash.kind.name(),
            m.hash.oid,
            m.remote
        );
    }
    if missing.len() > SHOWN {
        eprintln!("  … and {} more", missing.len() - SHOWN);
    }
    if !allowed {
        eprintln!("hint: get the data into the cache (`dvc fetch`, or re-create it with `dvc add`/`dvc repro`) and push again;");
        eprintln!(
            "hint: or allow pushes with missing data: git config {ALLOW_INCOMPLETE_KEY} true"
        );
    }
}
