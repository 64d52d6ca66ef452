#!/usr/bin/env bash
# The thesis-scale pi-GAN protocol on a GPU (1024 keyboard notes, batch 128, 5000 epochs, AdaBelief at 1e-5,
# thesis A.3.2) with this project's measures: trains with the CUDA build's trainer, then prints
# `trainer eval --json` (MSE, SNR, spectral convergence, harmonic error and reach, LSD).
#
# Prepare on a machine with the Rust toolchain (the GPU machine needs none):
#   cargo xtask check-cuda                                  # target/cuda/release/trainer
#   cargo xtask dataset nsynth --out target/gpu-data --families keyboard --pitches 21-108 \
#       --velocities 75,127 --seconds 1 --hold 0.8   # 1,408 notes, 45 MB (the carry limit is 64 MiB)
# then carry both paths (the `run` tool's `carry`) and run, from the repository root:
#   bash scripts/gpu-fidelity.sh [trainer fit flags, e.g. --epochs 2000 --stft-weight 1]
# The run folder is target/gpu-fidelity/run (resumable: run the script again to continue it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/cuda/release/trainer
data=${SIRENADE_GPU_DATA:-target/gpu-data}
[ -x "$bin" ] || { echo "gpu-fidelity: $bin missing: run 'cargo xtask check-cuda' first" >&2; exit 1; }
[ -f "$data/examples.json" ] || { echo "gpu-fidelity: $data/examples.json missing: render the notes first (see the script's header)" >&2; exit 1; }
source scripts/cuda-libs.sh
run=target/gpu-fidelity/run
resume=()
[ -f "$run/checkpoint.safetensors" ] && resume=(--resume)
"$bin" fit --data "$data" --items 1024 --seed 0 --model pigan --batch 128 --epochs 5000 --lr 1e-5 \
  --device cuda --checkpoint-every 100 --quiet --out "$run" "${resume[@]}" "$@"
"$bin" eval "$run" --json
