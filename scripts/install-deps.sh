#!/usr/bin/env bash
# The one list of Debian 12 packages bitsweep needs. Idempotent: it runs
# `apt-get update` and `apt-get install` only when something is missing.
#
#   scripts/install-deps.sh           build, run and test
#   scripts/install-deps.sh --bench   also the Python side of the benchmarks
set -euo pipefail

# Toolchain and build speed.
PACKAGES=(g++ cmake ninja-build ccache pkg-config)
# The science core: LibTorch (CPU) with a fast BLAS. Debian's LibTorch links
# libblas.so.3; with the reference BLAS a DCGAN step is ~12x slower, so the
# OpenMP build of OpenBLAS is required, not optional.
PACKAGES+=(libtorch-dev libopenblas0-openmp nlohmann-json3-dev zlib1g-dev libstb-dev libcli11-dev)
# The sweep service: gRPC + protobuf (code generator included), SQLite with
# the SQLiteCpp wrapper, and the sqlite3 shell users query the store with.
PACKAGES+=(libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libsqlite3-dev libsqlitecpp-dev sqlite3)
# SHA-256 of every stored artifact (OpenSSL's libcrypto).
PACKAGES+=(libssl-dev)
# The font `bitsweep plot` labels its charts with (without it, a cruder
# built-in stroke font is used).
PACKAGES+=(fonts-dejavu-core)
# The web dashboard: cpp-httplib (header-only HTTP server) and Chart.js,
# which the binary embeds (served by the dashboard itself, no CDN).
PACKAGES+=(libcpp-httplib-dev libjs-chart.js)
# Real data for the demo and the tests.
PACKAGES+=(dataset-fashion-mnist)
# Tests and benchmarks: GoogleTest; clang with libFuzzer for the fuzz targets;
# openssl to make test certificates; docker-compose (it validates compose
# files without an engine) and PyYAML for the deployment-file checks.
PACKAGES+=(libgtest-dev libgmock-dev libbenchmark-dev)
PACKAGES+=(clang libclang-rt-14-dev openssl docker-compose python3-yaml)
# The dashboard's browser tests: headless Chromium driven by playwright-core
# (from npm, tests/browser/package-lock.json; it downloads no browser).
# Debian's npm only where no npm came with an installed Node.js.
PACKAGES+=(chromium nodejs)
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

if [[ "${1:-}" == "--bench" ]]; then
  # The PyTorch reference the training benchmark compares against.
  PACKAGES+=(python3-torch python3-numpy python3-scipy)
fi

install_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return
  fi
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The browser tests' driver, at the version the lock file pins.
install_browser_driver() {
  local dir
  dir="$(dirname "$0")/../tests/browser"
  if [[ ! -f "$dir/node_modules/playwright-core/package.json" ]] ||
     [[ "$dir/package-lock.json" -nt "$dir/node_modules/playwright-core/package.json" ]]; then
    echo "install-deps: installing the browser tests' driver (npm ci in tests/browser)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

install_packages
install_browser_driver
