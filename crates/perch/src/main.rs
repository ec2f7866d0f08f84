//! The `perch` binary: the command line ([`cli`]) over the server library
//! (`perch`, in crates/perch-server) and the load generator (`perch_bench`,
//! in crates/perch-bench).

use std::process::ExitCode;

mod cli;

/// mimalloc instead of the system allocator: a request allocates often and
/// from several threads, and glibc's allocator spent a fifth of the CPU of
/// `perch bench --workload profile` (much of it waiting on its arena lock).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
