//! The `imgscope` binary; everything is in `cli/` (see its documentation).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
