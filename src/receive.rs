//! The server check of one push (`git dvc pre-receive`): which commits are new, which DVC
//! projects they hold, which of the server's configs serves each project, and whether the
//! server's storage has every object they reference.
//!
//! Only the pushed commits are read: never the configs of commits already on the server
//! (HEAD's may be one git-dvc cannot parse, which must not block pushes that fix it).
//!
//! Storage comes from the server's files only:
//! - a server-wide file, when one is named (`--storage-config`, `$GIT_DVC_STORAGE_CONFIG`
//!   or git config `dvc.preReceive.storageConfig`), overridden key by key by
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
use crate::git::{GitError, GitOid, GitRepo};
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
    /// A server-wide DVC config file (and `FILE.local`), under the repository's own files.
    pub server_wide: Option<PathBuf>,
}

impl Settings {
    fn covers(&self, refname: &str) -> bool {
        self.refs.is_empty() || self.refs.iter().any(|m| m.is_match(refname))
    }
}

/// Checks the push described by pre-receive's stdin (`<old> <new> <ref>` lines) in `git`,
/// the server repository opened once by the hook (inside the quarantine); `Ok(None)` when
/// no new commit needs checking.
pub fn validate_push(
    git: &GitRepo,
    input: &str,
    settings: &Settings,
) -> Result<Option<Validation>, Error> {
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
            return Err(GitError::msg(
                format!("malformed pre-receive input line {}", n + 1),
                format!("'{line}' is not '<old> <new> <ref>'"),
            )
            .into());
        };
        let new = GitOid::from_hex(new.as_bytes()).map_err(|e| {
            GitError::new(format!("malformed object id on input line {}", n + 1), e)
        })?;
        if new.is_null() || !settings.covers(refname) {
            continue; // a delete, or a ref the server does not check
        }
        if let Some(commit) = peel_to_commit(&repo, new)? {
            tips.push(commit);
        }
        // The ref's tip so far: a checked ref's, so validated when it came.
        let old = GitOid::from_hex(old.as_bytes()).map_err(|e| {
            GitError::new(format!("malformed object id on input line {}", n + 1), e)
        })?;
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
    let base = snapshot::configured_project(git)?;
    let mut configs = ServerConfigs::new(git, settings.server_wide.clone());
    let mut changes = Changes::new(git, false, true, vec![base]);
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
    // The server prints no per-revision warnings: the last failure says it all.
    .map_err(|e| server_error(configs.blame(e.without_skip_warnings())))?;
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
        git.limits(),
        |d| engine::jobs_for(&d.remote, None),
        Some(settings.max_objects),
    )?;
    Ok(Some(validation))
}

/// The server's configs, loaded once per project directory.
struct ServerConfigs {
    /// The cap on a pushed `.dvc/config` (`dvc.maxFileSize`).
    max_file: usize,
    dvc_dir: PathBuf,
    server_wide: Option<PathBuf>,
    loaded: HashMap<String, Arc<DvcConfig>>,
    /// Why a project got an empty config (none written, or unreadable): an error only when
    /// the push turns out to need storage, so a hook shared by repositories without DVC
    /// storage (gitolite's admin repository, say) still accepts pushes without DVC data.
    problem: Option<Error>,
}

impl ServerConfigs {
    fn new(git: &GitRepo, server_wide: Option<PathBuf>) -> ServerConfigs {
        // Absolute: messages for the administrators name these files.
        let git_dir = git.git_dir();
        let git_dir = std::path::absolute(git_dir).unwrap_or_else(|_| git_dir.to_path_buf());
        ServerConfigs {
            max_file: git.limits().dvc_file,
            dvc_dir: git_dir.join("dvc"),
            server_wide,
            loaded: HashMap::new(),
            problem: None,
        }
    }

    /// An output that found no remote in an empty config: the server's missing setup is
    /// the reason, not the pushed commits.
    fn blame(&self, e: Error) -> Error {
        match (&self.problem, e) {
            (
                Some(Error::ServerSetup { message, detail }),
                Error::Config(_) | Error::NoRemote { .. },
            ) => Error::ServerSetup {
                message: format!("{message}, so it refuses commits that reference DVC data"),
                detail: detail.clone(),
            },
            (_, e) => e,
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
            Some(blob) => pushed_core_remote(repo, &blob, site, self.max_file)?,
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
        let mut problem = None;
        // The server-wide file first: the repository's own files override it, key by key.
        if let Some(file) = &self.server_wide {
            match crate::engine::load_storage_config(file) {
                Ok(config) => levels.extend(config.levels().iter().cloned()),
                Err(e) => {
                    problem = Some(Error::ServerSetup {
                        message: "the server-wide DVC storage config cannot be read".to_string(),
                        detail: e.to_string(),
                    })
                }
            }
        }
        for name in ["config", "config.local"] {
            match ConfigLevel::load_file(&dir.join(name)) {
                Ok(level) => levels.extend(level),
                Err(e) => {
                    problem = Some(Error::ServerSetup {
                        message:
                            "the server's DVC storage config for this repository cannot be read"
                                .to_string(),
                        detail: e.to_string(),
                    })
                }
            }
        }
        if levels.is_empty() && problem.is_none() {
            problem = Some(Error::ServerSetup {
                message: "the server has no DVC storage configured for this repository".to_string(),
                detail: format!(
                    "no DVC storage configured: create {} with the remote(s) pushes must use (DVC config format, `[core] remote = …`), or name a server-wide file (git config --system dvc.preReceive.storageConfig FILE)",
                    dir.join("config").display()
                ),
            });
        }
        let mut config = DvcConfig::from_levels(levels);
        if problem.is_none() {
            // What DVC's schema refuses is refused here too: a misspelt option must not
            // quietly change what the check means.
            if let Err(e) = config.check_schema() {
                problem = Some(Error::ServerSetup {
                    message: "the server's DVC storage config for this repository is invalid"
                        .to_string(),
                    detail: format!("{e} (in {})", e.file().unwrap_or_default()),
                });
            }
        }
        if let Some(problem) = problem {
            // Half a config must route nothing: every output then needs the missing setup.
            config = DvcConfig::default();
            self.problem.get_or_insert(problem);
        }
        let config = Arc::new(config);
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
    max_file: usize,
) -> Result<Option<String>, Error> {
    let file = if site.dir.is_empty() {
        ".dvc/config".to_string()
    } else {
        format!("{}/.dvc/config", site.dir)
    };
    let what = format!("{file}@{}", site.revision.label);
    let text = projects::read_capped(repo, blob, &what, max_file)?;
    // The origin directory only resolves relative paths, which are never used here.
    // Checked alone: its remotes' URLs may live in the clones' config.local.
    let level = ConfigLevel::parse(&text, PathBuf::from("/"), what.clone())
        .and_then(|level| level.check_schema_alone().map(|()| level))
        .map_err(|e| {
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
        layout: Default::default(),
    }
}

/// Remote names resolve against the server's config: say so when one is unknown.
fn server_error(e: Error) -> Error {
    match e {
        // Every pushed revision failed: its reason, in the server's terms.
        Error::NoRevisionCollected { last, .. } => server_error(*last),
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
