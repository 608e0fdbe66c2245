#!/usr/bin/env bash
# Installs what is missing, builds everything and runs the whole test suite,
# then fuzzes the input parsers for a bounded time (scripts/fuzz.sh;
# BITSWEEP_FUZZ_SECONDS per target, 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/install-deps.sh test
bash scripts/build.sh
(cd build && ctest --output-on-failure --no-tests=error --parallel "${BITSWEEP_TEST_JOBS:-$(nproc)}" "$@")
if [[ "${BITSWEEP_FUZZ_SECONDS:-30}" != 0 ]]; then
  bash scripts/fuzz.sh
fi
