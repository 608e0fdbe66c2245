#!/usr/bin/env bash
# Configures and builds bitsweep into build/ (Release, Ninja, ccache when
# present). Extra arguments are build targets (default: everything).
#
#   scripts/build.sh [TARGET...]              with the tests and benchmarks
#                                             (needs `install-deps.sh test`)
#   scripts/build.sh --no-tests [TARGET...]   a build/ configured without
#                                             them (needs only `install-deps.sh
#                                             build`); an existing build/ keeps
#                                             its configuration
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${BITSWEEP_JOBS:-$(nproc)}"
tests=ON
if [[ "${1:-}" == "--no-tests" ]]; then
  tests=""
  shift
fi
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBITSWEEP_BUILD_TESTS="${tests:-OFF}" -DBITSWEEP_BUILD_BENCH="${tests:-OFF}"
elif [[ -n "$tests" ]] && ! grep -q '^BITSWEEP_BUILD_TESTS:BOOL=ON$' build/CMakeCache.txt; then
  # Configured for the binary alone (the demo ran first): add the tests.
  cmake -S . -B build -DBITSWEEP_BUILD_TESTS=ON -DBITSWEEP_BUILD_BENCH=ON
fi
cmake --build build --parallel "$jobs" ${1:+--target "$@"}
