//! The `perch` binary: parses the command line and hands over to [`perch::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    perch::cli::main()
}
