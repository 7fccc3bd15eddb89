//! What a `git push` is about to send, from git's pre-push contract: stdin lines
//! `<local ref> <local oid> <remote ref> <remote oid>`; the commits to cover are those
//! reachable from the local oids and not from what the remote is known to have (the remote
//! oids on stdin and this remote's remote-tracking refs).

use super::revisions::{peel_to_commit, refs_with_prefix, root_tree, short, walk, Revision};
use super::{GitError, GitOid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local_ref: String,
    pub local_oid: GitOid,
    pub remote_ref: String,
    pub remote_oid: GitOid,
}

impl RefUpdate {
    pub fn is_delete(&self) -> bool {
        self.local_oid.is_null()
    }
}

/// Parses git's pre-push stdin. Blank lines are ignored; anything else malformed is an error,
/// since guessing could let data-less commits through.
pub fn parse_pre_push(input: &str) -> Result<Vec<RefUpdate>, GitError> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let bad = || {
            GitError::msg(
                "pre-push input",
                format!(
                    "line {}: expected '<local ref> <local oid> <remote ref> <remote oid>', got '{line}'",
                    i + 1
                ),
            )
        };
        if fields.len() != 4 {
            return Err(bad());
        }
        let oid = |s: &str| GitOid::from_hex(s.as_bytes()).map_err(|_| bad());
        out.push(RefUpdate {
            local_ref: fields[0].to_string(),
            local_oid: oid(fields[1])?,
            remote_ref: fields[2].to_string(),
            remote_oid: oid(fields[3])?,
        });
    }
    Ok(out)
}

/// The commits a push sends (each one's parents are either among them or on the remote).
pub struct PushRange {
    pub new_commits: Vec<Revision>,
}

/// `remote_name` is the git remote (for its `refs/remotes/<name>/*`), `None` when pushing to
/// a URL that matches no configured remote.
pub fn commits_to_send(
    repo: &gix::Repository,
    updates: &[RefUpdate],
    remote_name: Option<&str>,
) -> Result<PushRange, GitError> {
    let mut hidden: Vec<GitOid> = Vec::new();
    let mut all_known = true;
    for u in updates.iter().filter(|u| !u.is_delete()) {
        if !u.remote_oid.is_null() && repo.has_object(u.remote_oid) {
            if let Some(c) = peel_to_commit(repo, u.remote_oid)? {
                hidden.push(c);
                continue;
            }
        }
        all_known = false;
    }
    let mut tips = Vec::new();
    for u in updates.iter().filter(|u| !u.is_delete()) {
        if let Some(c) = peel_to_commit(repo, u.local_oid)? {
            tips.push(c);
        }
    }
    // Every ref's old tip known: what lies between is what is sent, at most, and usually
    // a few commits; then reading every remote-tracking ref (thousands in a big
    // repository) to perhaps drop some would cost more than checking them.
    if all_known {
        let commits = walk(repo, tips.clone(), hidden.clone())?;
        if commits.len() <= SMALL_PUSH {
            return revisions(repo, commits);
        }
    }
    if let Some(name) = remote_name {
        for (_, oid) in refs_with_prefix(repo, &format!("refs/remotes/{name}/"))? {
            if let Some(c) = peel_to_commit(repo, oid)? {
                hidden.push(c);
            }
        }
    }
    hidden.sort();
    hidden.dedup();
    let commits = walk(repo, tips, hidden)?;
    revisions(repo, commits)
}

/// Pushes of at most this many commits (with every old tip known) are walked against the
/// old tips alone.
const SMALL_PUSH: usize = 16;

fn revisions(repo: &gix::Repository, commits: Vec<GitOid>) -> Result<PushRange, GitError> {
    let mut new_commits = Vec::with_capacity(commits.len());
    for commit in commits {
        new_commits.push(Revision {
            commit,
            tree: root_tree(repo, commit)?,
            label: short(&commit),
        });
    }
    Ok(PushRange { new_commits })
}

/// The configured remote a pre-push `$1`/`$2` pair stands for: `$1` if it names a remote,
/// else the remote whose URL equals the URL pushed to.
pub fn resolve_remote_name(repo: &gix::Repository, name: &str, url: &str) -> Option<String> {
    let names: Vec<String> = repo.remote_names().iter().map(|n| n.to_string()).collect();
    if names.iter().any(|n| n == name) {
        return Some(name.to_string());
    }
    let config = repo.config_snapshot();
    let canonical = |u: &str| {
        std::path::Path::new(u)
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| u.trim_end_matches('/').to_string())
    };
    let wanted = canonical(url);
    names.into_iter().find(|n| {
        config
            .string(format!("remote.{n}.url").as_str())
            .is_some_and(|u| canonical(&u.to_string()) == wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_updates_and_deletes() {
        let zero = "0000000000000000000000000000000000000000";
        let a = "1111111111111111111111111111111111111111";
        let input = format!(
            "refs/heads/main {a} refs/heads/main {zero}\n(delete) {zero} refs/heads/old {a}\n\n"
        );
        let updates = parse_pre_push(&input).unwrap();
        assert_eq!(updates.len(), 2);
        assert!(!updates[0].is_delete());
        assert!(updates[1].is_delete());
        assert!(parse_pre_push("garbage\n").is_err());
    }
}
