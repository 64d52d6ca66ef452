//! The `trainer` command line. All logic lives in the library so that it can be tested.

/// Training allocates and frees activation tensors of tens of MB every step; mimalloc keeps
/// their pages mapped for reuse where glibc's malloc returns them to the kernel and pays a page
/// fault per 4 KB on the next step (a sizeable part of a pi-GAN step on the CPU; BENCHMARKS.md,
/// "Training throughput");
/// `main` also tells it to keep freed memory ([`sirenade_trainer::allocator`]).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sirenade_trainer::allocator::keep_freed_memory();
    sirenade_trainer::cli::main()
}
