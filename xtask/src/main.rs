//! `cargo xtask`: the project's development tasks.

/// The training benchmark allocates and frees tensors of tens of MB every step; mimalloc keeps
/// their pages mapped for reuse where glibc's malloc hands them back to the kernel and takes a
/// page fault per 4 KB on the next step (a sizeable part of the step; BENCHMARKS.md, "Training
/// throughput"); `main` also tells it
/// to keep freed memory ([`sirenade_trainer::allocator`]). The wrapper counts allocations of a
/// MiB or more for the training benchmark ([`xtask::large_allocs`]).
#[global_allocator]
static ALLOCATOR: xtask::large_allocs::Counting<mimalloc::MiMalloc> =
    xtask::large_allocs::Counting(mimalloc::MiMalloc);

fn main() -> std::process::ExitCode {
    sirenade_trainer::allocator::keep_freed_memory();
    sirenade_common::exit::exit_code(xtask::run(std::env::args_os()))
}
