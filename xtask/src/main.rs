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
    match xtask::run(std::env::args_os()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if let Some(clap_err) = e.downcast_ref::<clap::Error>() {
                let _ = clap_err.print();
                return std::process::ExitCode::from(if clap_err.use_stderr() { 2 } else { 0 });
            }
            eprintln!("error: {}", sirenade_common::error_line::error_line(&*e));
            std::process::ExitCode::FAILURE
        }
    }
}
