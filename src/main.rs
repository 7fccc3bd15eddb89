use clap::Parser;

fn main() {
    let cli = git_dvc::cli::Cli::parse();
    std::process::exit(git_dvc::cli::run(cli));
}
