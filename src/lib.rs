//! git-dvc: keeps DVC data and git history in step.
//!
//! The pipeline, one module per stage: [`git`] selects revisions and scans their trees,
//! [`dvc`] parses DVC's files, [`objects`] builds per-remote object sets, [`remote_status`]
//! asks storage what it has, [`sync`] classifies and plans, [`transfer`] uploads through
//! [`storage`]. The other direction, [`fetch`] asks the cache what it has and plans the
//! download [`transfer`] runs into the cache. [`cli`] holds the thin commands.

pub mod check;
pub mod cli;
pub mod dvc;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod git;
pub mod limits;
pub mod objects;
pub mod receive;
pub mod remote_status;
pub mod storage;
pub mod sync;
pub mod temp_files;
pub mod trace;
pub mod transfer;
pub mod workspace;
