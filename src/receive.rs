//! The server check of one push (`git dvc pre-receive`): which commits are new, which DVC
//! projects they hold, which of the server's configs serves each project, and whether the
//! server's storage has every object they reference.
//!
//! Only the pushed commits are read: never the configs of commits already on the server
//! (HEAD's may be one git-dvc cannot parse, which must not block pushes that fix it).
//!
//! Storage comes from the server's files only:
//! - the project at directory `D`: `$GIT_DIR/dvc/projects/D/config` (+ `config.local` beside
//!   it) when that file exists, else `$GIT_DIR/dvc/config` (+ `config.local`);
//! - an output without `remote:` goes to that config's `core.remote`; else to the pushed
//!   project's `core.remote` name when the server's config defines a remote of that name;
//!   else the push is rejected.
//!
//! The pushed `.dvc/config` is parsed only to refuse one DVC could not read (teammates'
//! `dvc` would fail on it) and for its `core.remote` name; its URLs and credentials are
//! never used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::{self, Validation};
use crate::dvc::cache::LocalCache;
use crate::dvc::config::{ConfigData, ConfigLevel, DvcConfig};
use crate::engine;
use crate::error::Error;
use crate::git::revisions::{peel_to_commit, refs_with_prefix, root_tree, short, walk, Revision};
use crate::git::{GitOid, GitRepo};
use crate::objects::changes::Changes;
use crate::objects::collect::{self, CollectOptions};
use crate::objects::projects::{self, ProjectConfig, ProjectSite};
use crate::objects::snapshot::{self, ConfigKey};

/// Pushes of at most this many commits (every updated ref having had a tip) are walked
/// against the old tips alone.
const SMALL_PUSH: usize = 16;

/// What the server enforces, from its git config.
pub struct Settings {
    pub max_objects: usize,
    /// Only refs matching one of these are checked (all when empty).
    pub refs: Vec<globset::GlobMatcher>,
}

impl Settings {
    fn covers(&self, refname: &str) -> bool {
        self.refs.is_empty() || self.refs.iter().any(|m| m.is_match(refname))
    }
}

/// Checks the push described by pre-receive's stdin (`<old> <new> <ref>` lines); `Ok(None)`
/// when no new commit needs checking.
pub fn validate_push(
    cwd: &Path,
    input: &str,
    settings: &Settings,
) -> Result<Option<Validation>, Error> {
    let git = GitRepo::discover(cwd)?;
    let repo = git.local();
    let mut tips = Vec::new();
    let mut old_tips = Vec::new();
    let mut all_old_known = true;
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let [old, new, refname] = fields[..] else {
            return Err(Error::Message(format!(
                "malformed pre-receive input line {}: '{line}'",
                n + 1
            )));
        };
        let new = GitOid::from_hex(new.as_bytes())
            .map_err(|_| Error::Message(format!("malformed object id on input line {}", n + 1)))?;
        if new.is_null() || !settings.covers(refname) {
            continue; // a delete, or a ref the server does not check
        }
        if let Some(commit) = peel_to_commit(&repo, new)? {
            tips.push(commit);
        }
        // The ref's tip so far: a checked ref's, so validated when it came.
        let old = GitOid::from_hex(old.as_bytes())
            .map_err(|_| Error::Message(format!("malformed object id on input line {}", n + 1)))?;
        match (!old.is_null())
            .then(|| peel_to_commit(&repo, old).ok().flatten())
            .flatten()
        {
            Some(c) => old_tips.push(c),
            None => all_old_known = false,
        }
    }
    if tips.is_empty() {
        return Ok(None);
    }
    // Every updated ref had a tip: the commits between are all that can be new, usually a
    // few; reading every ref of a big repository to perhaps drop some costs more.
    let few = match all_old_known {
        true => Some(walk(&repo, tips.clone(), old_tips)?).filter(|c| c.len() <= SMALL_PUSH),
        false => None,
    };
    // Commits new to the repository: not reachable from any ref it already has. With a ref
    // filter, only refs the filter covers count: a commit reachable only from an unchecked
    // ref (say `refs/wip/x`) was never validated.
    let mut commits = match few {
        Some(commits) => commits,
        None => {
            let mut existing = Vec::new();
            for (name, oid) in refs_with_prefix(&repo, "refs/")? {
                if !settings.covers(&name) {
                    continue;
                }
                if let Some(c) = peel_to_commit(&repo, oid).ok().flatten() {
                    existing.push(c);
                }
            }
            walk(&repo, tips, existing)?
        }
    };
    if commits.is_empty() {
        return Ok(None);
    }
    // Oldest first: an output is then reported with the first pushed commit that holds its
    // DVC file's version (the one that introduced it), not the branch tip.
    commits.reverse();
    let mut revisions = Vec::with_capacity(commits.len());
    for commit in commits {
        revisions.push(Revision {
            commit,
            tree: root_tree(&repo, commit)?,
            label: short(&commit),
        });
    }

    // Every project in the pushed trees: the top (always, unless `dvc.projectDir` names
    // the project `$GIT_DIR/dvc/config` was set up for: then the top counts only where it
    // holds a `.dvc` directory), `dvc.projectDir` (always) and each directory holding a
    // `.dvc`. Of each, only what the commit's parents did not hold: they are on the server
    // already (checked when they came) or in this push (checked on their own).
    let base = snapshot::configured_project(&git)?;
    let mut configs = ServerConfigs::new(git.git_dir());
    let mut changes = Changes::new(&git, false, true, vec![base]);
    let mut snapshots = Vec::new();
    for revision in &revisions {
        for diff in changes.commit(revision.commit, "")? {
            // A project whose `.dvc/config` is new is read even without new DVC files:
            // one DVC cannot parse is refused.
            if diff.changed.is_none() && !(diff.fresh && diff.config.is_some()) {
                continue;
            }
            let site = ProjectSite {
                dir: &diff.dir,
                config_blob: diff.config,
                revision,
            };
            let (config_key, config) = configs.for_site(&repo, &site)?;
            snapshots.push(snapshot::Snapshot {
                label: revision.label.clone(),
                commit: Some(revision.commit),
                prefix: diff.dir,
                tree: Some(diff.tree),
                root: diff.changed,
                config_key,
                config,
            });
        }
    }
    changes.finish();
    let blobs = snapshot::BlobSource::git_only(git.clone());
    let collected = collect::collect(
        &snapshots,
        &blobs,
        &CollectOptions::default(),
        git.git_dir(),
    )
    .map_err(server_error)?;
    if let Some(w) = collected.warnings.first() {
        return Err(Error::BadInput(format!(
            "pushed DVC files cannot be read: {w}"
        )));
    }
    // The server has no DVC cache: manifests come from storage.
    let no_cache = LocalCache::new(git.git_dir().join("dvc").join("no-cache"));
    let validation = check::validate(
        collected.destinations,
        &no_cache,
        |d| engine::jobs_for(&d.remote, None),
        Some(settings.max_objects),
    )?;
    Ok(Some(validation))
}

/// The server's configs, loaded once per project directory.
struct ServerConfigs {
    dvc_dir: PathBuf,
    loaded: HashMap<String, Arc<DvcConfig>>,
}

impl ServerConfigs {
    fn new(git_dir: &Path) -> ServerConfigs {
        ServerConfigs {
            dvc_dir: git_dir.join("dvc"),
            loaded: HashMap::new(),
        }
    }

    /// The config for the project at `site`: the server's, with the pushed `core.remote`
    /// name as the default when the server's has none and defines that remote.
    fn for_site(
        &mut self,
        repo: &gix::Repository,
        site: &ProjectSite<'_>,
    ) -> Result<ProjectConfig, Error> {
        let server = self.server_config(site.dir)?;
        let pushed_default = match site.config_blob {
            Some(blob) => pushed_core_remote(repo, &blob, site)?,
            None => None,
        };
        let default_remote = match server.core_remote() {
            Some(own) => Some(own),
            None => pushed_default.filter(|name| server.remote_names().contains(&name.as_str())),
        };
        let key = ConfigKey::Server {
            project: site.dir.to_string(),
            default_remote: default_remote.clone(),
        };
        let config = match default_remote.filter(|_| server.core_remote().is_none()) {
            Some(name) => {
                let mut levels = server.levels().to_vec();
                levels.push(default_level(&name, &self.dvc_dir));
                Arc::new(DvcConfig::from_levels(levels))
            }
            None => server,
        };
        Ok((key, config))
    }

    fn server_config(&mut self, project: &str) -> Result<Arc<DvcConfig>, Error> {
        if let Some(c) = self.loaded.get(project) {
            return Ok(c.clone());
        }
        if project.split('/').any(|p| matches!(p, "" | "." | "..")) && !project.is_empty() {
            // git refuses to check such a tree out; it must not pick a server file either.
            return Err(Error::BadInput(format!(
                "the pushed commits hold a DVC project at '{project}', a path git cannot check out"
            )));
        }
        let own = self.dvc_dir.join("projects").join(project);
        let dir = if !project.is_empty() && own.join("config").is_file() {
            own
        } else {
            self.dvc_dir.clone()
        };
        let mut levels = Vec::new();
        for name in ["config", "config.local"] {
            if let Some(level) = ConfigLevel::load_file(&dir.join(name))? {
                levels.push(level);
            }
        }
        if levels.is_empty() {
            return Err(Error::Message(format!(
                "the server has no DVC storage configured: create {} with the remote(s) pushes must use (DVC config format, `[core] remote = …`)",
                dir.join("config").display()
            )));
        }
        let config = Arc::new(DvcConfig::from_levels(levels));
        self.loaded.insert(project.to_string(), config.clone());
        Ok(config)
    }
}

/// The pushed `.dvc/config`'s `core.remote`, after checking that DVC could read the file:
/// a config DVC cannot parse breaks every clone, so it is refused. Nothing else in it is
/// used.
fn pushed_core_remote(
    repo: &gix::Repository,
    blob: &GitOid,
    site: &ProjectSite<'_>,
) -> Result<Option<String>, Error> {
    let file = if site.dir.is_empty() {
        ".dvc/config".to_string()
    } else {
        format!("{}/.dvc/config", site.dir)
    };
    let what = format!("{file}@{}", site.revision.label);
    let text = projects::read_capped(repo, blob, &what)?;
    // The origin directory only resolves relative paths, which are never used here.
    let level = ConfigLevel::parse(&text, PathBuf::from("/"), what.clone()).map_err(|e| {
        Error::BadInput(format!(
            "{what} cannot be read ({e}): DVC would refuse it too; fix it and push again"
        ))
    })?;
    Ok(DvcConfig::from_levels(vec![level]).core_remote())
}

/// A config level holding only `core.remote = name`.
fn default_level(name: &str, dvc_dir: &Path) -> ConfigLevel {
    let mut data = ConfigData::default();
    data.sections
        .entry("core".to_string())
        .or_default()
        .insert("remote".to_string(), name.to_string());
    ConfigLevel {
        origin_dir: dvc_dir.to_path_buf(),
        source: "the pushed core.remote".to_string(),
        data,
    }
}

/// Remote names resolve against the server's config: say so when one is unknown.
fn server_error(e: Error) -> Error {
    match e {
        Error::Config(c) => Error::BadInput(format!(
            "{c} in the server's DVC config; outputs may only name remotes the server defines"
        )),
        Error::NoRemote { .. } => Error::BadInput(
            "an output has no `remote:` and neither the server's DVC config nor the pushed \
             .dvc/config names a default remote the server defines (`[core] remote = …`)"
                .to_string(),
        ),
        other => other,
    }
}
