//! The `perch` binary: parses the command line and hands over to [`perch::cli`].

use std::process::ExitCode;

/// mimalloc instead of the system allocator: a request allocates often and
/// from several threads, and glibc's allocator spent a fifth of the CPU of
/// `perch bench --workload profile` (much of it waiting on its arena lock).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    perch::cli::main()
}
