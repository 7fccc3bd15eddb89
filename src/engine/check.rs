//! `check` (for CI): is every object the selected commits reference, in this project and
//! the DVC projects nested in it, in storage? Every member is looked up.

use std::path::Path;
use std::sync::Arc;

use super::notice::{Notice, Observer};
use super::SyncRequest;
use crate::check::{self, Validation};
use crate::dvc::config::DvcConfig;
use crate::error::Error;

/// Checks what `request` covers (HEAD when it selects nothing). With `storage`, remotes are
/// defined by that config alone (`--storage-config`).
pub fn check(
    cwd: &Path,
    request: &SyncRequest,
    storage: Option<&Arc<DvcConfig>>,
    observer: &mut dyn Observer,
) -> Result<Validation, Error> {
    // A gate: a revision whose DVC files cannot be read stops the check (skipping it, as
    // DVC's push does, would pass the data of its readable files unchecked).
    let mut request = request.clone().aborting_on_failed_revisions();
    if request.revisions.is_empty() {
        request.revisions.revs.push("HEAD".to_string());
    }
    let (ctx, collected) = super::collect_with_nested(cwd, &request, storage)?;
    if !collected.warnings.is_empty() {
        observer.notice(Notice::Collect(&collected.warnings));
    }
    check::validate(
        collected.destinations,
        &ctx.cache,
        ctx.git.limits(),
        |d| super::jobs_for(&d.remote, request.jobs),
        None,
    )
}
