#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

/// DVC's exit code for a command line its parser refuses (argparse's error, through
/// DVC's `DvcParserError`).
const USAGE_ERROR_EXIT: i32 = 254;

fn main() {
    let args = git_dvc::cli::argv::as_dvc_splits(std::env::args_os().collect());
    let cli = match git_dvc::cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { USAGE_ERROR_EXIT } else { 0 });
        }
    };
    std::process::exit(git_dvc::cli::run(cli));
}
