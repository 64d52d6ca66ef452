//! `cargo xtask check-cuda`: compiles the trainer's CUDA build on a machine without a GPU.
//!
//! A CUDA 13.0 compiler comes from PyPI into a local virtualenv (`target/cuda-venv`): the
//! cu12 wheels carry no `nvcc` driver, and a newer nvvm emits PTX that a CUDA 13.0 driver
//! rejects, hence the pins. `PATH`, `CUDA_ROOT`, `CUDA_PATH` and `CUDA_COMPUTE_CAP=90` (H100 /
//! H200) point the build at it; the binaries land in `target/cuda/release/` (`trainer`, and
//! `xtask` for the thesis-scale benchmark), ready to be carried to a GPU machine.
//!
//! Linking needs `libcuda`, which only a GPU driver installs: the build links against a shim
//! generated here (one empty function per CUDA driver symbol that `cudarc` references, soname
//! `libcuda.so.1`); on a GPU machine the driver's real library is loaded instead. The wheels'
//! runtime libraries carry only versioned names, so unversioned links are made beside the shim.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root;
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
    let link = venv.join("link");
    std::fs::create_dir_all(&link).with_context(|| format!("{}: cannot create", link.display()))?;
    for (name, versioned) in [
        ("libnvrtc.so", "libnvrtc.so.13"),
        ("libcurand.so", "libcurand.so.10"),
        ("libcublas.so", "libcublas.so.13"),
        ("libcublasLt.so", "libcublasLt.so.13"),
        ("libcudart.so", "libcudart.so.13"),
    ] {
        let target = lib.join(versioned);
        ensure!(
            target.is_file(),
            "{}: missing from the wheels",
            target.display()
        );
        let dest = link.join(name);
        let _ = std::fs::remove_file(&dest);
        std::os::unix::fs::symlink(&target, &dest)
            .with_context(|| format!("{}: cannot link", dest.display()))?;
    }
    let lib_path = format!("{}:{lib_path}", link.display());
    // The toolchain's own rustc (beside its cargo), not rustup's proxy: the proxy picks a
    // toolchain by directory, and a dependency of candle (macro_rules_attribute) ships a
    // rust-toolchain.toml naming one that is not installed.
    let rustc = Path::new(env!("CARGO")).with_file_name("rustc");
    let cargo = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO"));
        if rustc.is_file() {
            c.env("RUSTC", &rustc);
        }
        c.current_dir(&root)
            .args([
                "build",
                "--release",
                "-p",
                "sirenade-trainer",
                "-p",
                "xtask",
                "--features",
                "sirenade-trainer/cuda,xtask/cuda",
            ])
            .args(["--target-dir", "target/cuda"])
            .args(extra)
            .env("PATH", &path)
            .env("CUDA_ROOT", &cuda)
            .env("CUDA_PATH", &cuda)
            .env("CUDA_COMPUTE_CAP", &args.compute_cap)
            .env("LIBRARY_PATH", &lib_path);
        c
    };
    run(
        &mut cargo(&["--lib"]),
        "cargo build --features cuda (library)",
    )?;
    write_driver_shim(&root.join("target/cuda/release/deps"), &link)?;
    run(&mut cargo(&[]), "cargo build --features cuda")?;
    println!(
        "check-cuda: the CUDA build compiles; binaries at {} and {} (`xtask bench train \
         --thesis-scale --device cuda` on a GPU machine)",
        root.join("target/cuda/release/trainer").display(),
        root.join("target/cuda/release/xtask").display()
    );
    Ok(())
}

/// Writes `link/libcuda.so`, a shim defining every CUDA driver function (`cu*`) that the
/// compiled `cudarc` library references, so that the binary links without a driver.
fn write_driver_shim(deps: &Path, link: &Path) -> Result<()> {
    let rlibs: Vec<PathBuf> = std::fs::read_dir(deps)
        .with_context(|| format!("{}: cannot list", deps.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libcudarc-") && n.ends_with(".rlib"))
        })
        .collect();
    ensure!(
        !rlibs.is_empty(),
        "{}: no compiled cudarc library",
        deps.display()
    );
    let out = Command::new("nm")
        .arg("-u")
        .args(&rlibs)
        .output()
        .context("cannot run nm (binutils)")?;
    let mut symbols: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|s| s.starts_with("cu") && s[2..].starts_with(|c: char| c.is_ascii_uppercase()))
        .map(str::to_string)
        .collect();
    symbols.sort();
    symbols.dedup();
    ensure!(
        !symbols.is_empty(),
        "nm found no CUDA driver symbols in cudarc"
    );
    let source: String = symbols
        .iter()
        .map(|s| format!("void {s}(void) {{}}\n"))
        .collect();
    let c_file = link.join("libcuda_shim.c");
    std::fs::write(&c_file, source)
        .with_context(|| format!("{}: cannot write", c_file.display()))?;
    run(
        Command::new("cc")
            .args(["-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o"])
            .arg(link.join("libcuda.so"))
            .arg(&c_file),
        "compiling the libcuda link shim",
    )
}
