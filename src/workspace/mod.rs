//! Changing the work tree the way DVC does: `git dvc add` tracks files and directories,
//! writing the cache objects, the `.dvc` file and the `.gitignore` entry `dvc add` writes.
//!
//! Everything else in git-dvc reads git objects and never touches the work tree; this
//! module is the exception, and it keeps to what DVC 3.67.1 would leave behind, byte for
//! byte, so either tool can take over from the other.

pub mod add;
pub mod checkout;
pub mod gitignore;
pub mod synced_commit;
pub mod tree;
pub mod trusted_config;
