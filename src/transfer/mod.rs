//! Transfer, both directions: uploads what a [`TransferPlan`] says, members before their
//! `.dir`, with bounded concurrency, verification on the way out and retries for transient
//! failures; downloads what a [`download_plan::DownloadPlan`] says ([`download`]), members
//! before their `.dir`, verified on the way in.

pub mod download;
pub mod download_plan;
pub mod plan;
pub mod progress;
pub mod queue;
pub mod run_cache;
pub mod run_cache_fetch;
pub mod verify;

pub use plan::{DirUpload, FileUpload, TransferPlan};
pub use queue::{run, TransferOutcome};
