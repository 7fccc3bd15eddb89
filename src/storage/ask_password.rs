//! `ask_password` for HTTP(S) and WebDAV remotes, as dvc-http and dvc-webdav ask: on the
//! terminal ([`super::prompt`]), with their prompt (`Enter a password for host '<host>'
//! user '<user>':`), once per host and user in a run (they memoize it). In a hook or
//! without a terminal the remote fails with a message saying how to provide the
//! password instead, never waiting for an answer nobody sees.

use std::collections::HashMap;
use std::sync::Mutex;

use super::prompt;
use super::StorageError;

/// Passwords typed in this run, by (host, user).
static TYPED: Mutex<Option<HashMap<(String, String), String>>> = Mutex::new(None);

/// What else the remote takes in place of a typed password (for the message).
#[derive(Debug, Clone, Copy)]
pub enum Alternative {
    /// HTTP(S): `password`.
    Password,
    /// WebDAV: `password` or `token`.
    PasswordOrToken,
}

/// The password for `user` at `host`, asked on the terminal; `remote` names the remote in
/// the error when it cannot be asked.
pub fn ask(
    remote: &str,
    host: &str,
    user: &str,
    alternative: Alternative,
) -> Result<String, StorageError> {
    let key = (host.to_string(), user.to_string());
    let mut typed = TYPED.lock().unwrap_or_else(|e| e.into_inner());
    let typed = typed.get_or_insert_with(HashMap::new);
    if let Some(password) = typed.get(&key) {
        return Ok(password.clone());
    }
    match prompt::secret(&format!(
        "Enter a password for host '{host}' user '{user}':\n"
    )) {
        Ok(password) => {
            typed.insert(key, password.clone());
            Ok(password)
        }
        Err(why) => Err(unavailable(remote, why, alternative)),
    }
}

fn unavailable(remote: &str, why: prompt::Unavailable, alternative: Alternative) -> StorageError {
    let token = match alternative {
        Alternative::Password => "",
        Alternative::PasswordOrToken => " (or `token <token>`)",
    };
    StorageError::config(
        remote,
        format!(
            "ask_password is set, but git-dvc does not prompt {why}: store the password with \
             `dvc remote modify --local {remote} password <password>`{token} (in \
             .dvc/config.local, which git does not track), or run `git dvc push` in a terminal \
             first"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_says_how_to_provide_the_password() {
        let e = unavailable("r", prompt::Unavailable::Hook, Alternative::Password);
        assert!(e.config);
        assert!(
            e.message
                .contains("ask_password is set, but git-dvc does not prompt in a hook"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("dvc remote modify --local r password <password>"),
            "{}",
            e.message
        );
        let e = unavailable(
            "w",
            prompt::Unavailable::NoTerminal,
            Alternative::PasswordOrToken,
        );
        assert!(e.message.contains("without a terminal"), "{}", e.message);
        assert!(e.message.contains("`token <token>`"), "{}", e.message);
    }
}
