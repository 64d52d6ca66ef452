#!/usr/bin/env bash
# The main job: set up the machine, then run the pipeline on the bundled data.
# Outputs land in target/sirenade/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

out=target/sirenade
mkdir -p "$out"
cargo build --release -p sirenade-trainer
trainer=target/release/trainer

echo "== bundled data sets =="
"$trainer" data info --data bundled:keyboard
"$trainer" data info --data bundled:speech

echo "== rendering an NSynth-format diverse set from the FluidR3 soundfont =="
cargo xtask dataset nsynth --out "$out/data/diverse" --families keyboard,mallet,guitar \
  --programs 0,4,8,11,24,26 --pitches 48-72 --velocities 100 --seconds 4 --hold 3
"$trainer" data info --data "$out/data/diverse" --items 60 --seed 0
