#!/usr/bin/env bash
# Installs the benchmarks' Python baselines into target/bench-venv: PyTorch for `cargo xtask
# bench train` and ONNX Runtime for `cargo xtask bench evaluator`, pinned to the versions the
# goals' reference figures in BENCHMARKS.md name. Not part of the main job or the tests (PyPI's torch wheel
# brings its CUDA libraries: about 4 GB). Idempotent: rebuilt only when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_VENV=target/bench-venv
BENCH_PINS=(torch==2.15.0 adabelief-pytorch==0.2.0 onnxruntime==1.32.0 onnx==1.23.2 numpy==2.4.6)

python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || bash scripts/setup.sh
bash scripts/pinned-venv.sh "$BENCH_VENV" "${BENCH_PINS[@]}"
"$BENCH_VENV/bin/python" -c 'import torch, onnxruntime; print("bench-venv: torch", torch.__version__, "onnxruntime", onnxruntime.__version__)'
