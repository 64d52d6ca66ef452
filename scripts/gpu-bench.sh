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
source scripts/cuda-libs.sh
exec "$bin" bench train --thesis-scale --device cuda --compare-plain "$@"
