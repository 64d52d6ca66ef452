#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for Sirenade: espeak-ng (speech data rendering),
# fluid-soundfont-gm (FluidR3_GM, MIT, the project's soundfont) and fonts-dejavu-core (plot
# labels); for the editor tests, Xvfb and Mesa's OpenGL (the editor draws with OpenGL, in
# software there); for the third-party plugin host tests, qtractor (its CLAP scanner) and a
# virtualenv at target/host-venv with pinned pedalboard and mido (from PyPI). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# Third-party host test tools: qtractor's scanner and the Python packages of the pedalboard test.
QTRACTOR_SCANNER=/usr/lib/x86_64-linux-gnu/qtractor/qtractor_plugin_scan
HOST_VENV=target/host-venv
HOST_PINS=(pedalboard==0.9.26 mido==1.3.3 numpy==2.4.6)

need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
# The libraries the editor opens at run time: Xlib with its XCB bridge, GLX and Mesa's drivers.
for lib in libX11.so.6 libX11-xcb.so.1 libGL.so.1 libxcb-dri2.so.0; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || { need+=(libgl1-mesa-dri libglx-mesa0 libx11-xcb1 libxcb-dri2-0); break; }
done
# Installed without recommends (qtractor recommends a desktop's worth of packages).
need_norec=()
[ -x "$QTRACTOR_SCANNER" ] || need_norec+=(qtractor)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_norec+=(python3-venv)

if [ $((${#need[@]} + ${#need_norec[@]})) -gt 0 ]; then
  echo "setup: installing ${need[*]} ${need_norec[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root or sudo to install ${need[*]} ${need_norec[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ${#need_norec[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
      "${need_norec[@]}" >/dev/null
  fi
fi

# The virtualenv is rebuilt only when its pins change.
bash scripts/pinned-venv.sh "$HOST_VENV" "${HOST_PINS[@]}"

command -v cargo >/dev/null 2>&1 || { echo "setup: cargo not found (install Rust with rustup)" >&2; exit 1; }
