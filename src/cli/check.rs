//! `git dvc check`: for CI. Is every object the selected commits reference in remote
//! storage? Exit 1 when anything is missing. No upload, no work tree: committed state only
//! (HEAD by default).

use clap::Args;

use super::args::{OutputArgs, SelectionArgs};
use super::report;
use crate::check;
use crate::engine;
use crate::engine::notice::{Notice, Observer, Transfer};
use crate::transfer::progress::Progress;

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Take remote locations and credentials only from this DVC config file (and FILE.local
    /// beside it), never from the checked commits or the work tree; also
    /// $GIT_DVC_STORAGE_CONFIG.
    ///
    /// Without it, remotes are defined by the work tree's DVC config (which, in CI, is the
    /// checked commit: its author can point the check at storage of their choosing). With
    /// it, outputs without `remote:` go to its `core.remote`, and an output's `remote:` must
    /// name a remote it defines, as on the server.
    #[arg(long = "storage-config", value_name = "FILE")]
    pub storage_config: Option<std::path::PathBuf>,

    /// Print the result as JSON: `{"checked": N, "missing": [{path, revision, hash, remote}]}`.
    #[arg(long = "json")]
    pub json: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

const WHAT: &str = "failed to check data in the cloud";
/// The environment's way to pass `--storage-config` (a CI variable of type "file").
pub const STORAGE_CONFIG_ENV: &str = "GIT_DVC_STORAGE_CONFIG";

pub fn run(args: CheckArgs) -> i32 {
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let request = args.selection.request(&args.output);
    let storage_path = args.storage_config.clone().or_else(|| {
        std::env::var_os(STORAGE_CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(Into::into)
    });
    let storage = match storage_path.as_deref().map(engine::load_storage_config) {
        Some(Ok(config)) => Some(config),
        Some(Err(e)) => return report::fail(WHAT, &e),
        None => {
            if std::env::var_os("CI").is_some() && !args.json && !args.output.quiet {
                report::warn(&format!(
                    "storage locations come from the work tree's DVC config, which the checked commits control; pass --storage-config FILE (or {STORAGE_CONFIG_ENV}) for a check they cannot redirect"
                ));
            }
            None
        }
    };
    let mut printer = Printer { json: args.json };
    let result = engine::check::check(&cwd, &request, storage.as_ref(), &mut printer);
    let validation = match result {
        Ok(v) => v,
        Err(e) => return report::fail(WHAT, &e),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&validation).expect("plain data serialises")
        );
    } else if validation.missing.is_empty() {
        if !request.quiet {
            println!(
                "All {} referenced DVC objects are in remote storage.",
                validation.checked
            );
        }
    } else {
        eprintln!(
            "{} of {} referenced DVC objects are missing from remote storage:",
            validation.missing.len(),
            validation.checked
        );
        for line in check::missing_lines(&validation.missing, usize::MAX) {
            eprintln!("{line}");
        }
        // --check-members: plain `push` trusts a stored `.dir`, so it would not re-upload a
        // member deleted from storage; this command does not trust it.
        eprintln!(
            "hint: push them with `git dvc push --check-members` and the same revision flags"
        );
    }
    i32::from(!validation.missing.is_empty())
}

struct Printer {
    json: bool,
}

impl Observer for Printer {
    fn notice(&mut self, notice: Notice<'_>) {
        if let Notice::Collect(warnings) = notice {
            if !self.json {
                warnings.iter().for_each(|w| report::warn(w));
            }
        }
    }

    fn progress(&mut self, _: Transfer<'_>, total: usize) -> Progress {
        Progress::new(total, "", true)
    }
}
