//! Transfer: uploads what a [`TransferPlan`] says, members before their `.dir`, with bounded
//! concurrency, verification on the way out and retries for transient failures.

pub mod plan;
pub mod progress;
pub mod queue;
pub mod run_cache;
pub mod verify;

pub use plan::{DirUpload, FileUpload, TransferPlan};
pub use queue::{run, TransferOutcome};
