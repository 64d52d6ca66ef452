//! `cargo xtask check-cuda`: compiles the trainer's CUDA build on a machine without a GPU.
//!
//! A CUDA 13.0 compiler comes from PyPI into a local virtualenv (`target/cuda-venv`): the
//! cu12 wheels carry no `nvcc` driver, and a newer nvvm emits PTX that a CUDA 13.0 driver
//! rejects, hence the pins. `PATH`, `CUDA_ROOT`, `CUDA_PATH` and `CUDA_COMPUTE_CAP=90` (H100 /
//! H200) point the build at it; the binary lands in `target/cuda/release/trainer`, ready to be
//! carried to a GPU machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;

/// The pinned wheels of the CUDA 13.0 toolchain and the runtime libraries the link needs.
pub const WHEELS: [&str; 8] = [
    "nvidia-cuda-nvcc==13.0.88",
    "nvidia-cuda-crt==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cccl==13.0.*",
    "nvidia-nvvm==13.0.*",
    "nvidia-cublas==13.0.*",
    "nvidia-curand==10.4.0.*",
    "nvidia-cuda-nvrtc==13.0.88",
];

/// Options of `cargo xtask check-cuda`.
#[derive(Debug, Clone, Args)]
pub struct CheckCudaArgs {
    /// Compute capability to build the kernels for (90: H100 / H200).
    #[arg(long, default_value = "90")]
    pub compute_cap: String,
    /// Python interpreter used to create the virtualenv.
    #[arg(long, default_value = "python3")]
    pub python: String,
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// The workspace root (the parent of this crate's folder).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Finds `site-packages/nvidia/cu13` inside the virtualenv.
fn cuda_root(venv: &Path) -> Result<PathBuf> {
    for lib in ["lib", "lib64"] {
        let Ok(entries) = std::fs::read_dir(venv.join(lib)) else {
            continue;
        };
        for e in entries.flatten() {
            let candidate = e.path().join("site-packages/nvidia/cu13");
            if candidate.join("bin/nvcc").is_file() {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "{}: no nvidia/cu13/bin/nvcc after installing the wheels",
        venv.display()
    )
}

/// Installs the toolchain (once) and builds `sirenade-trainer --features cuda`.
pub fn check_cuda(args: &CheckCudaArgs) -> Result<()> {
    let root = workspace_root();
    let venv = root.join("target/cuda-venv");
    if !venv.join("bin/pip").is_file() {
        run(
            Command::new(&args.python).args(["-m", "venv"]).arg(&venv),
            "creating the virtualenv (python3 -m venv)",
        )?;
    }
    run(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(WHEELS),
        "pip install of the CUDA 13.0 wheels",
    )?;
    let cuda = cuda_root(&venv)?;
    let path = format!(
        "{}:{}",
        cuda.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let lib = cuda.join("lib");
    let lib_path = format!(
        "{}:{}",
        lib.display(),
        std::env::var("LIBRARY_PATH").unwrap_or_default()
    );
    eprintln!("check-cuda: building with nvcc from {}", cuda.display());
    run(
        Command::new(env!("CARGO"))
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "-p",
                "sirenade-trainer",
                "--features",
                "cuda",
            ])
            .args(["--target-dir", "target/cuda"])
            .env("PATH", path)
            .env("CUDA_ROOT", &cuda)
            .env("CUDA_PATH", &cuda)
            .env("CUDA_COMPUTE_CAP", &args.compute_cap)
            .env("LIBRARY_PATH", lib_path),
        "cargo build --features cuda",
    )?;
    println!(
        "check-cuda: the CUDA build compiles; binary at {}",
        root.join("target/cuda/release/trainer").display()
    );
    Ok(())
}
