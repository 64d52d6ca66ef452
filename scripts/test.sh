#!/usr/bin/env bash
# The test suite: installs what the tests need, then runs every workspace test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --locked
