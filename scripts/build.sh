#!/usr/bin/env bash
# Configures and builds bitsweep into build/ (Release, Ninja, ccache when
# present). Extra arguments are build targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${BITSWEEP_JOBS:-$(nproc)}"
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build --parallel "$jobs" ${1:+--target "$@"}
