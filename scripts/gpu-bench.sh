#!/usr/bin/env bash
# Runs the thesis-scale training benchmark on a GPU machine (no Rust toolchain or registry
# needed there): `cargo xtask check-cuda` builds target/cuda/release/xtask here; carry that path
# to the GPU machine and run this script from the repository root. It finds the CUDA 13 runtime
# libraries (cuBLAS, cuRAND, NVRTC, cudart) the binary loads in the machine's Python
# site-packages (PyTorch's nvidia wheels) or CUDA installation, then prints seconds per epoch
# for 1024 items at batch 128, the default sine layers (on CUDA: the composed network op) against
# candle's plain layers in the same run (`--json` and other flags are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/cuda/release/xtask
[ -x "$bin" ] || { echo "gpu-bench: $bin missing: run 'cargo xtask check-cuda' first" >&2; exit 1; }
# Where to look first: the nvidia wheels of the machine's Python (PyTorch's), CUDA installs;
# the whole file system only if those lack a library.
roots=()
nv=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]) + "/nvidia")' 2>/dev/null || true)
[ -n "$nv" ] && [ -d "$nv" ] && roots+=("$nv")
for d in /usr/local/cuda*/ /usr/lib/x86_64-linux-gnu; do [ -d "$d" ] && roots+=("$d"); done
dirs=()
for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13 libcudart.so.13; do
  found=$(find "${roots[@]}" -name "$lib" -print 2>/dev/null | head -1 || true)
  [ -n "$found" ] || found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name "$lib" -print 2>/dev/null | head -1 || true)
  [ -n "$found" ] || { echo "gpu-bench: $lib not found on this machine" >&2; exit 1; }
  dirs+=("$(dirname "$found")")
done
export LD_LIBRARY_PATH="$(printf '%s\n' "${dirs[@]}" | sort -u | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
exec "$bin" bench train --thesis-scale --device cuda --compare-plain "$@"
