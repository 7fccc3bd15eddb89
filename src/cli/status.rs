//! `git dvc status --cloud`: what the remote lacks, in DVC's words, without uploading.

use std::collections::BTreeMap;

use super::args::StatusArgs;
use super::report;
use crate::dvc::dir_manifest::RelpathRules;
use crate::engine;
use crate::error::Error;
use crate::sync::{self, ObjectState};

/// DVC's status prints its errors without a "failed to …" prefix.
const WHAT: &str = "";

pub fn run(args: StatusArgs) -> i32 {
    if !args.cloud {
        report::error(
            "git dvc status compares the local cache with remote storage only: run \
             `git dvc status -c` (as `dvc status -c`); for changes in the work tree, use `dvc status`",
        );
        return 2;
    }
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let request = args
        .selection
        .request(&args.output)
        .checking_members(args.check_members);
    match status(&cwd, &request, args.json) {
        Ok(code) => code,
        Err(Error::NoRemote {
            root,
            remotes_exist,
            ..
        }) => report::fail(
            WHAT,
            &Error::NoRemote {
                root,
                remotes_exist,
                command: "status",
            },
        ),
        Err(e) => report::fail(WHAT, &e),
    }
}

fn status(cwd: &std::path::Path, request: &engine::SyncRequest, json: bool) -> Result<i32, Error> {
    let (ctx, collected) = engine::collect(cwd, request)?;
    if !json {
        for w in &collected.warnings {
            report::warn(w);
        }
    }
    // path → state; DVC lists deleted, then new, then missing.
    let mut entries: Vec<(ObjectState, String)> = Vec::new();
    let mut remote_names = Vec::new();
    for dest in collected.destinations {
        let jobs = engine::jobs_for(&dest.remote, request.jobs);
        let assessment = sync::assess(
            dest,
            &ctx.cache,
            jobs,
            true,
            request.members,
            RelpathRules::ThisPlatform,
        )?;
        remote_names.push(assessment.remote.name.clone());
        report::requests(
            request.verbose,
            &assessment.remote.name,
            assessment.storage.as_ref(),
        );
        for (state, _, prov) in assessment.out_of_sync() {
            entries.push((state, prov.path.clone()));
        }
    }
    entries.sort();
    entries.dedup();
    if json {
        let map: BTreeMap<&str, &str> = entries
            .iter()
            .map(|(state, path)| (path.as_str(), state.as_str()))
            .collect();
        println!(
            "{}",
            serde_json::to_string(&map).expect("a string map always serialises")
        );
        return Ok(0);
    }
    if request.quiet {
        return Ok(i32::from(!entries.is_empty()));
    }
    if entries.is_empty() {
        let remote = request
            .remote
            .clone()
            .or_else(|| ctx.workspace_config.core_remote())
            .or_else(|| remote_names.first().cloned())
            .unwrap_or_default();
        println!("Cache and remote '{remote}' are in sync.");
        return Ok(0);
    }
    for (state, path) in &entries {
        let label = format!("{}:", state.as_str());
        println!("\t{label:<20}{path}");
    }
    Ok(0)
}
