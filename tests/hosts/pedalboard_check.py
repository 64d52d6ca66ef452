"""Loads the Sirenade VST3 in Spotify's pedalboard (a JUCE host) and renders MIDI with it.

Usage: pedalboard_check.py <Sirenade.vst3>

Run by tests/tests/plugin_third_party_hosts.rs with the interpreter of target/host-venv
(made by scripts/setup.sh). Prints one JSON object on the last line of stdout:
is_instrument, the parameter names, peak/RMS of a render, the RMS difference between two
identical renders, and the RMS difference after moving `latent_1`. The Rust test asserts on it;
this script only fails when pedalboard itself raises.
"""

import json
import sys

import mido
import numpy as np
import pedalboard

SAMPLE_RATE = 48000
DURATION = 1.0
LATENT = "latent_1"


def render(plugin):
    """Plays a two-note chord for 0.6 s and renders 1 s of stereo audio."""
    messages = [
        mido.Message("note_on", note=57, velocity=110, time=0.0),
        mido.Message("note_on", note=64, velocity=100, time=0.0),
        mido.Message("note_off", note=57, velocity=0, time=0.6),
        mido.Message("note_off", note=64, velocity=0, time=0.6),
    ]
    audio = plugin(
        messages,
        duration=DURATION,
        sample_rate=SAMPLE_RATE,
        num_channels=2,
        buffer_size=512,
        reset=True,
    )
    return np.asarray(audio, dtype=np.float64)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def main():
    path = sys.argv[1]
    plugin = pedalboard.load_plugin(path)
    result = {
        "pedalboard": pedalboard.__version__,
        "name": getattr(plugin, "name", None),
        "is_instrument": bool(plugin.is_instrument),
        "parameters": list(plugin.parameters.keys()),
    }
    first = render(plugin)
    again = render(plugin)
    result.update(
        shape=list(first.shape),
        finite=bool(np.all(np.isfinite(first))),
        peak=float(np.max(np.abs(first))) if first.size else 0.0,
        rms=rms(first),
        repeat_diff_rms=rms(first - again) if first.shape == again.shape else None,
    )
    if LATENT in plugin.parameters:
        param = plugin.parameters[LATENT]
        before = float(getattr(plugin, LATENT))
        low, high = float(param.min_value), float(param.max_value)
        target = low + 0.9 * (high - low)
        if abs(target - before) < 0.25 * (high - low):
            target = low + 0.1 * (high - low)
        setattr(plugin, LATENT, target)
        moved = render(plugin)
        result.update(
            latent_range=[low, high],
            latent_before=before,
            latent_after=float(getattr(plugin, LATENT)),
            moved_finite=bool(np.all(np.isfinite(moved))),
            moved_rms=rms(moved),
            latent_diff_rms=rms(first - moved) if first.shape == moved.shape else None,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
