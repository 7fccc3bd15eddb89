//! Snapshots: the states whose data a command covers. A snapshot is the work tree or one
//! commit: its DVC files (as a shared [`DvcTree`] DAG) and the DVC config in force for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dvc::cache::LocalCache;
use crate::dvc::config::{self, ConfigLevel, DvcConfig};
use crate::error::Error;
use crate::git::revisions::{self, RevisionSelection};
use crate::git::tree_scan::{DvcTree, TreeScan};
use crate::git::{workspace, GitOid, GitRepo};

/// Which config a snapshot uses: snapshots with the same key resolve remotes identically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConfigKey {
    /// The config files on disk (work tree).
    Files,
    /// A revision's committed `.dvc/config` blob (or none) plus the machine's other levels.
    Committed(Option<GitOid>),
    /// A nested project's committed config (`dir`, blob), for `check`.
    Nested(String, Option<GitOid>),
    /// The server's config for the project at `project`, with the default remote in force
    /// (the pushed `core.remote` name when the server's config has none).
    Server {
        project: String,
        default_remote: Option<String>,
    },
}

pub struct Snapshot {
    /// `workspace`, a branch or tag name, or a short commit id.
    pub label: String,
    pub commit: Option<GitOid>,
    /// The directory of this snapshot's DVC project in the repository, prefixed to paths in
    /// messages: `""` for the project the command works on, `sub` for a nested one.
    pub prefix: String,
    /// The project's tree in the commit (`None` for the work tree): vars files are read here.
    pub tree: Option<GitOid>,
    pub root: Option<Arc<DvcTree>>,
    pub config_key: ConfigKey,
    pub config: Arc<DvcConfig>,
}

/// The repository as DVC sees it: git, the config levels outside git, the local cache.
pub struct RepoContext {
    pub git: GitRepo,
    /// Where the DVC project sits in the repository: `""` at its root, else the directory
    /// of a `dvc init --subdir` project (`ml/project`). Revisions are read from that subtree.
    pub project: String,
    /// The project's directory: printed in "no remote specified in …" messages, like DVC's
    /// repo root.
    pub root: PathBuf,
    pub dvc_dir: PathBuf,
    machine_levels: (Option<ConfigLevel>, Option<ConfigLevel>),
    local_level: Option<ConfigLevel>,
    pub workspace_config: Arc<DvcConfig>,
    pub cache: LocalCache,
    /// Whether committed `.dvcignore` files hide DVC files (true, as in DVC's commands);
    /// `check` turns it off so that every DVC file is checked.
    pub apply_dvcignore: bool,
    /// The current directory relative to `root` (`""` at the top or outside it): targets
    /// typed in a subdirectory are relative to it, as in DVC.
    pub cwd_prefix: String,
}

/// `dir` relative to `root` with `/` separators; `""` when it is `root` or not below it.
fn relative_dir(dir: &Path, root: &Path) -> String {
    let (Ok(dir), Ok(root)) = (dir.canonicalize(), root.canonicalize()) else {
        return String::new();
    };
    dir.strip_prefix(&root)
        .ok()
        .and_then(|p| p.to_str())
        .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
        .unwrap_or_default()
}

impl RepoContext {
    /// The repository around `cwd`, its configuration checked against DVC's schema as DVC
    /// checks it when it opens a repository (an unknown key stops every command).
    pub fn open(cwd: &Path) -> Result<RepoContext, Error> {
        let ctx = Self::open_unchecked(cwd)?;
        ctx.workspace_config.check_schema()?;
        Ok(ctx)
    }

    /// [`Self::open`] without the schema check: for finding the project (`install`),
    /// which must work whatever the configuration holds.
    pub fn open_unchecked(cwd: &Path) -> Result<RepoContext, Error> {
        let git = GitRepo::discover(cwd)?;
        let project = project_of(&git, cwd)?;
        // (`join("")` would add a trailing `/` to the messages that print the root.)
        let root = match git.work_dir() {
            Some(w) if project.is_empty() => w.to_path_buf(),
            Some(w) => w.join(&project),
            None => git.git_dir().to_path_buf(),
        };
        let dvc_dir = match git.work_dir() {
            Some(_) => root.join(".dvc"),
            None if project.is_empty() => git.dvc_dir(),
            None => git.git_dir().join(&project).join(".dvc"),
        };
        let load = |path: Option<PathBuf>| -> Result<Option<ConfigLevel>, Error> {
            match path {
                Some(p) => Ok(ConfigLevel::load_file(&p)?),
                None => Ok(None),
            }
        };
        let system = load(Some(config::system_config_path()))?;
        let global = load(config::global_config_path())?;
        let repo_level = if git.work_dir().is_some() {
            load(Some(dvc_dir.join("config")))?
        } else {
            head_config(&git, &project, &dvc_dir)?
        };
        let local_level = load(Some(dvc_dir.join("config.local")))?;
        let workspace_config = Arc::new(DvcConfig::from_levels(
            [
                system.clone(),
                global.clone(),
                repo_level,
                local_level.clone(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        ));
        let shared = workspace_config
            .get("cache", "shared")
            .is_some_and(crate::dvc::dir_modes::is_group);
        let cache = LocalCache::new(
            workspace_config
                .cache_dir()
                .unwrap_or_else(|| dvc_dir.join("cache")),
        )
        .with_shared_group(shared);
        let cwd_prefix = relative_dir(cwd, &root);
        Ok(RepoContext {
            git,
            project,
            cwd_prefix,
            root,
            dvc_dir,
            machine_levels: (system, global),
            local_level,
            workspace_config,
            cache,
            apply_dvcignore: true,
        })
    }

    /// The project's tree in a revision's root tree (the root itself for a project at the
    /// top); `None` when the revision has no such directory.
    pub fn project_tree(&self, root: GitOid) -> Result<Option<GitOid>, Error> {
        if self.project.is_empty() {
            return Ok(Some(root));
        }
        Ok(crate::git::tree_scan::subtree(
            &self.git.local(),
            root,
            &self.project,
        )?)
    }

    /// The config of a revision: its committed `.dvc/config` between the machine levels and
    /// the work tree's `config.local`, as DVC does for `-a/-T/-A`. Relative paths in the
    /// committed file resolve against the real `.dvc` directory (DVC 3.67 resolves them
    /// against `/`, which writes to the filesystem root).
    pub(crate) fn committed_config(
        &self,
        text: Option<(&str, String)>,
    ) -> Result<DvcConfig, Error> {
        let mut levels: Vec<ConfigLevel> = Vec::new();
        levels.extend(self.machine_levels.0.clone());
        levels.extend(self.machine_levels.1.clone());
        if let Some((text, source)) = text {
            // A file DVC cannot read makes the revision fail to collect, not the command.
            match ConfigLevel::parse(text, self.dvc_dir.clone(), source) {
                Ok(level) => levels.push(level),
                Err(e) => return Ok(DvcConfig::unreadable(&e)),
            }
        }
        levels.extend(self.local_level.clone());
        Ok(DvcConfig::from_levels(levels))
    }

    /// The `.dvc` directory of the project at `dir` (relative to the top of the work
    /// tree), for a nested project; `None` without a work tree.
    fn nested_dvc_dir(&self, dir: &str) -> Option<PathBuf> {
        Some(self.git.work_dir()?.join(dir).join(".dvc"))
    }

    /// A nested project's committed config as DVC would see it in a checkout: the machine
    /// levels, the committed file, and that project's own `config.local` (never the outer
    /// project's: its credentials belong to other remotes).
    pub(crate) fn nested_committed_config(
        &self,
        dir: &str,
        text: Option<(&str, String)>,
    ) -> Result<DvcConfig, Error> {
        let dvc_dir = self
            .nested_dvc_dir(dir)
            .unwrap_or_else(|| self.dvc_dir.clone());
        let mut levels: Vec<ConfigLevel> = Vec::new();
        levels.extend(self.machine_levels.0.clone());
        levels.extend(self.machine_levels.1.clone());
        if let Some((text, source)) = text {
            match ConfigLevel::parse(text, dvc_dir.clone(), source) {
                Ok(level) => levels.push(level),
                Err(e) => return Ok(DvcConfig::unreadable(&e)),
            }
        }
        if self.git.work_dir().is_some() {
            levels.extend(ConfigLevel::load_file(&dvc_dir.join("config.local"))?);
        }
        Ok(DvcConfig::from_levels(levels))
    }

    /// The user's own configuration for the nested project at `dir`: its work-tree
    /// `.dvc/config` and `config.local` with the machine levels. Without a work tree (or
    /// without that project in it) only the machine levels: a committed remote definition
    /// is then one the user never made.
    pub(crate) fn nested_configured(&self, dir: &str) -> Result<DvcConfig, Error> {
        let mut levels: Vec<ConfigLevel> = Vec::new();
        levels.extend(self.machine_levels.0.clone());
        levels.extend(self.machine_levels.1.clone());
        if let Some(dvc_dir) = self.nested_dvc_dir(dir) {
            levels.extend(ConfigLevel::load_file(&dvc_dir.join("config"))?);
            levels.extend(ConfigLevel::load_file(&dvc_dir.join("config.local"))?);
        }
        let config = DvcConfig::from_levels(levels);
        config.check_schema()?;
        Ok(config)
    }
}

/// The DVC project a command run in `cwd` works on, as [`RepoContext::open`] finds it:
/// the nearest directory holding `.dvc` from `cwd` up, else git config `dvc.projectDir`,
/// else the top. Cheap (no config file read): the hooks ask before deciding to work.
pub fn project_of(git: &GitRepo, cwd: &Path) -> Result<String, Error> {
    match git.work_dir() {
        Some(work_dir) => match project_above(work_dir, cwd) {
            Some(found) => Ok(found),
            None => configured_project(git),
        },
        None => configured_project(git),
    }
}

/// Git config naming the project directory for commands run outside it (the hooks,
/// which git runs at the top of the work tree). `git dvc install` sets it.
pub const PROJECT_DIR_KEY: &str = "dvc.projectDir";

/// The DVC project a command run in `cwd` works on, as DVC finds its root: the nearest
/// directory from `cwd` up to the top of the work tree that holds a `.dvc` directory.
fn project_above(work_dir: &Path, cwd: &Path) -> Option<String> {
    let work_dir = work_dir
        .canonicalize()
        .unwrap_or_else(|_| work_dir.to_path_buf());
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let mut dir = cwd.as_path();
    while dir.starts_with(&work_dir) {
        if dir.join(".dvc").is_dir() {
            let rel = dir.strip_prefix(&work_dir).ok()?.to_str()?;
            return Some(rel.replace(std::path::MAIN_SEPARATOR, "/"));
        }
        dir = dir.parent()?;
    }
    None
}

/// Outside any project (the hooks run at the top of the work tree; a bare repository has
/// none), the directory git config `dvc.projectDir` names; else the top.
pub(crate) fn configured_project(git: &GitRepo) -> Result<String, Error> {
    let configured = git
        .local()
        .config_snapshot()
        .string(PROJECT_DIR_KEY)
        .map(|v| v.to_string());
    let Some(dir) = configured else {
        return Ok(String::new());
    };
    let dir = dir.trim_matches('/').to_string();
    if dir.split('/').any(|p| p == ".." || p == ".") || Path::new(&dir).is_absolute() {
        return Err(Error::GitConfig {
            key: PROJECT_DIR_KEY,
            value: dir,
            problem: "must be a directory inside the repository, relative to its top",
        });
    }
    Ok(dir)
}

/// A bare repository's repo-level config: HEAD's committed `.dvc/config`, as if the bare
/// directory were the work tree (so `cache.dir` and relative URLs mean what they mean there).
fn head_config(git: &GitRepo, project: &str, dvc_dir: &Path) -> Result<Option<ConfigLevel>, Error> {
    let repo = git.local();
    let Ok(head) = repo.head_id() else {
        return Ok(None); // unborn HEAD: nothing committed yet
    };
    let tree = revisions::root_tree(&repo, head.detach())?;
    let Some(tree) = crate::git::tree_scan::subtree(&repo, tree, project)? else {
        return Ok(None);
    };
    let Some(blob) = crate::git::tree_scan::find_dvc_config(&repo, tree)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&GitRepo::read_blob(&repo, &blob)?).into_owned();
    Ok(Some(ConfigLevel::parse(
        &text,
        dvc_dir.to_path_buf(),
        "HEAD:.dvc/config",
    )?))
}

/// Where parsers get bytes: the work tree's files, or git's object database.
pub struct BlobSource {
    git: GitRepo,
    workspace: HashMap<GitOid, Arc<Vec<u8>>>,
    /// The project's directory in the work tree, when there is one.
    work_dir: Option<PathBuf>,
}

impl BlobSource {
    /// Reads git objects only (no work tree).
    pub fn git_only(git: GitRepo) -> BlobSource {
        BlobSource {
            git,
            workspace: HashMap::new(),
            work_dir: None,
        }
    }

    pub fn read(&self, repo: &gix::Repository, oid: &GitOid) -> Result<Arc<Vec<u8>>, Error> {
        if let Some(bytes) = self.workspace.get(oid) {
            return Ok(bytes.clone());
        }
        Ok(Arc::new(GitRepo::read_blob(repo, oid)?))
    }

    pub fn git(&self) -> &GitRepo {
        &self.git
    }

    /// The work tree's DVC files, by blob id.
    pub fn workspace_blobs(&self) -> &HashMap<GitOid, Arc<Vec<u8>>> {
        &self.workspace
    }

    /// The project's directory in the work tree (for the work-tree snapshot).
    pub fn work_dir(&self) -> Option<&Path> {
        self.work_dir.as_deref()
    }
}

/// Builds the snapshots for a command: the work tree first when `include_workspace` (and
/// there is one), then each selected revision once.
pub fn build(
    ctx: &RepoContext,
    selection: &RevisionSelection,
    include_workspace: bool,
) -> Result<(Vec<Snapshot>, BlobSource), Error> {
    let mut revisions = revisions::select(&ctx.git, selection)?;
    let mut snapshots = Vec::new();
    let mut workspace_blobs = HashMap::new();
    if include_workspace {
        if let Some(work_dir) = ctx.git.work_dir() {
            let scan = workspace::scan(&work_dir.join(&ctx.project))?;
            workspace_blobs = scan.blobs;
            snapshots.push(Snapshot {
                label: "workspace".to_string(),
                commit: None,
                prefix: String::new(),
                tree: None,
                root: scan.root.tree,
                config_key: ConfigKey::Files,
                config: ctx.workspace_config.clone(),
            });
        }
    }

    // A `--subdir` project is read from its subtree of each revision; a revision without
    // that directory has no DVC files.
    if !ctx.project.is_empty() {
        for rev in &mut revisions {
            // The null id is never scanned, so such a revision gets an empty root.
            rev.tree = ctx
                .project_tree(rev.tree)?
                .unwrap_or_else(|| GitOid::null(gix::hash::Kind::Sha1));
        }
    }
    let scanner = TreeScan::with_dvcignore(ctx.git.clone(), ctx.apply_dvcignore);
    let roots: Vec<GitOid> = revisions
        .iter()
        .map(|r| r.tree)
        .filter(|t| !t.is_null())
        .collect();
    let scanned = scanner.scan_roots(&roots)?;
    let blobs = BlobSource {
        git: ctx.git.clone(),
        workspace: workspace_blobs,
        work_dir: ctx.git.work_dir().map(|w| w.join(&ctx.project)),
    };
    let mut configs = CommittedConfigs::default();
    for rev in revisions {
        let root = scanned.get(&rev.tree).cloned().unwrap_or_default();
        let config = configs.get(ctx, root.config, &rev.label)?;
        snapshots.push(Snapshot {
            label: rev.label,
            commit: Some(rev.commit),
            prefix: String::new(),
            tree: (!rev.tree.is_null()).then_some(rev.tree),
            root: root.tree,
            config_key: ConfigKey::Committed(root.config),
            config,
        });
    }
    Ok((snapshots, blobs))
}

/// Revisions' configs ([`RepoContext::committed_config`]), each distinct committed
/// `.dvc/config` blob read once.
#[derive(Default)]
pub struct CommittedConfigs {
    loaded: HashMap<Option<GitOid>, Arc<DvcConfig>>,
}

impl CommittedConfigs {
    /// The config of a revision (`label`, for messages) whose `.dvc/config` is `blob`.
    pub fn get(
        &mut self,
        ctx: &RepoContext,
        blob: Option<GitOid>,
        label: &str,
    ) -> Result<Arc<DvcConfig>, Error> {
        if let Some(c) = self.loaded.get(&blob) {
            return Ok(c.clone());
        }
        let text = match blob {
            Some(oid) => Some(
                String::from_utf8_lossy(&GitRepo::read_blob(&ctx.git.local(), &oid)?).into_owned(),
            ),
            None => None,
        };
        let source = format!("{label}:.dvc/config");
        let config = Arc::new(ctx.committed_config(text.as_deref().map(|t| (t, source)))?);
        self.loaded.insert(blob, config.clone());
        Ok(config)
    }
}
