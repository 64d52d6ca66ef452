#!/usr/bin/env bash
# The main job: set up the machine, then train a model with the notes recipe
# (trainer/configs/notes.toml, shortened to 600 epochs) on the bundled keyboard set on CPU, evaluate it, render reconstructions, export a preset, reconstruct held-out clips with
# the frozen decoder, play the preset through the instrument's voice engine (`synth render`)
# and bundle the CLAP and VST3 plugin. Outputs land in target/sirenade/ and target/bundled/.
# Running it again continues the run (--resume) instead of starting over.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

out=target/sirenade
mkdir -p "$out"
cargo build --release --locked -p sirenade-trainer -p sirenade-synth
trainer=target/release/trainer
synth=target/release/synth

echo "== data: the bundled keyboard set =="
"$trainer" data info --data bundled:keyboard

echo "== model =="
"$trainer" model info --model layered-96

run="$out/notes-run"
# A run of an older trainer's format (run.json's "version" below 2) cannot be continued:
# start it over. A newer one is left for the trainer to refuse.
if [ -f "$run/run.json" ]; then
  version=$(sed -n 's/^ *"version": *\([0-9][0-9]*\).*/\1/p' "$run/run.json" | head -1)
  if [ "${version:-0}" -lt 2 ]; then
    echo "$run: written by an older trainer (run format ${version:-unknown}); training it again"
    rm -rf "$run"
  fi
fi
# A run trained with another version of the recipe cannot be continued with this one (the
# trainer refuses other settings): start it over. The recipe's digest is kept beside the run.
recipe=$(sha256sum trainer/configs/notes.toml | cut -d' ' -f1)
if [ -f "$run/run.json" ] && [ "$(cat "$run.recipe" 2>/dev/null)" != "$recipe" ]; then
  echo "$run: trained with another version of trainer/configs/notes.toml; training it again"
  rm -rf "$run"
fi
resume=()
[ -f "$run/checkpoint.safetensors" ] && resume=(--resume)
echo "$recipe" > "$run.recipe"
echo "== training (32 items; 8 are held out) =="
start=$(date +%s)
"$trainer" fit --data bundled:keyboard --ids trainer/data/keyboard-train.json \
  --config trainer/configs/notes.toml --epochs 600 --out "$run" "${resume[@]}"
echo "training took $(( $(date +%s) - start )) s"

echo "== evaluation (training items) =="
"$trainer" eval "$run"

echo "== rendering items 0, 13 and 27 at 16 and 48 kHz =="
"$trainer" render "$run" --items 0,13,27 --out "$out/renders-16k"
"$trainer" render "$run" --items 0,13,27 --rate 48000 --out "$out/renders-48k"

echo "== exporting the preset =="
"$trainer" export "$run" --out "$out/keyboard-notes.sirenade" --eval

echo "== held-out clips: new latents for a frozen decoder =="
rm -rf "$out/held-out"
"$trainer" invert "$run" --data bundled:keyboard --ids trainer/data/keyboard-heldout.json \
  --out "$out/held-out"
"$trainer" eval "$out/held-out"

echo "== the preset in the instrument: what it holds, a note, a latent sweep's end point, a MIDI phrase =="
preset="$out/keyboard-notes.sirenade"
"$synth" info --preset "$preset"
"$synth" render --preset "$preset" --item 0 --out "$out/synth-item0.wav"
"$synth" render --preset "$preset" --note 67 --key-tracking on --latents 2,-1.5 \
  --out "$out/synth-g4-latents.wav"
"$synth" render --preset "$preset" --midi synth/midi/demo.mid --rate 44100 --out "$out/synth-demo.wav"
"$synth" render --preset "$preset" --midi synth/midi/demo.mid --render-rate native \
  --out "$out/synth-demo-native.wav"

echo "== bundling the plugin =="
cargo xtask bundle sirenade-synth --release
ls -l target/bundled/
echo "outputs in $out/ and target/bundled/"
