#!/usr/bin/env bash
# The one list of Debian 12 packages bitsweep needs, grouped by what the
# caller is about to do. Idempotent: it runs `apt-get update` and
# `apt-get install` only when something is missing.
#
#   scripts/install-deps.sh build    compile the bitsweep binary (what an
#                                    image's build stage needs, nothing more)
#   scripts/install-deps.sh run      build, plus what the demo and real jobs
#                                    read at run time (Fashion-MNIST, fonts,
#                                    the sqlite3 shell); no npm
#   scripts/install-deps.sh test     run, plus everything the test suite uses
#                                    (GoogleTest, the fuzzing toolchain, the
#                                    browser tests' Chromium and driver, the
#                                    one-node Slurm of the Slurm test)
#   scripts/install-deps.sh deploy   test, plus a Docker engine and debootstrap
#                                    for the live Compose test
#                                    (tests/deploy/compose_live_test.sh)
#   scripts/install-deps.sh bench    test, plus the Python side of the
#                                    benchmarks
#
# Several profiles may be named; none means `test`. BITSWEEP_DEPS_DRY_RUN=1 prints what would be
# installed and changes nothing (the deployment checks run the Dockerfile's
# install step that way, with only the files the Dockerfile copied).
set -euo pipefail

# --- build: the toolchain and every library the binary links -------------
# Toolchain and build speed.
BUILD_PACKAGES=(g++ cmake ninja-build ccache pkg-config)
# The science core: LibTorch (CPU) with a fast BLAS. Debian's LibTorch links
# libblas.so.3; with the reference BLAS a DCGAN step is ~12x slower, so the
# OpenMP build of OpenBLAS is required, not optional.
BUILD_PACKAGES+=(libtorch-dev libopenblas0-openmp nlohmann-json3-dev zlib1g-dev libstb-dev libcli11-dev)
# The sweep service: gRPC + protobuf (code generator included), SQLite with
# the SQLiteCpp wrapper.
BUILD_PACKAGES+=(libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libsqlite3-dev libsqlitecpp-dev)
# SHA-256 of every stored artifact (OpenSSL's libcrypto).
BUILD_PACKAGES+=(libssl-dev)
# The web dashboard: cpp-httplib (header-only HTTP server) and Chart.js,
# which the binary embeds (served by the dashboard itself, no CDN).
BUILD_PACKAGES+=(libcpp-httplib-dev libjs-chart.js)

# --- run: what jobs, the demo and users read at run time -----------------
# Real data for the demo and the tests; the sqlite3 shell users query the
# store with; the font `bitsweep plot` labels its charts with (without it,
# a cruder built-in stroke font is used).
RUN_PACKAGES=(dataset-fashion-mnist sqlite3 fonts-dejavu-core)

# --- test: everything the test suite runs --------------------------------
# GoogleTest, GoogleMock, Google Benchmark (the benchmarks are built with
# the tests, so they keep compiling).
TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev)
# The fuzz targets: clang with libFuzzer and the sanitizers' runtime.
TEST_PACKAGES+=(clang libclang-rt-14-dev)
# Test certificates (openssl); the deployment checks: docker-compose (it
# validates compose files without an engine) and PyYAML; the Slurm test's
# one-node cluster (slurm-wlm, with munge for its authentication); the
# Python client the docs generate with Debian's gRPC tools (python3-grpcio,
# python3-protobuf; protoc and grpc_python_plugin come with the build).
TEST_PACKAGES+=(openssl docker-compose python3-yaml slurm-wlm munge python3-grpcio python3-protobuf)
# The dashboard's browser tests: headless Chromium driven by playwright-core
# (from npm, tests/browser/package-lock.json; it downloads no browser).
# Debian's npm only where no npm came with an installed Node.js.
TEST_PACKAGES+=(chromium nodejs)
# The edge runtime's WebAssembly build (the dashboard's in-browser sampling,
# tested in Chromium): Debian's emscripten, whose JavaScript tools need acorn.
TEST_PACKAGES+=(emscripten node-acorn)
if ! command -v npm >/dev/null 2>&1; then TEST_PACKAGES+=(npm); fi

# --- deploy: the live Compose test -----------------------------------------
# A Docker engine, and debootstrap to make the `debian:12` base image from a
# minimal Debian root where no image registry can be reached.
DEPLOY_PACKAGES=(docker.io debootstrap)

# --- bench: the benchmarks' references -----------------------------------
# The PyTorch reference the training benchmark compares against.
BENCH_PACKAGES=(python3-torch python3-numpy python3-scipy)

dry_run="${BITSWEEP_DEPS_DRY_RUN:-0}"
here="$(cd "$(dirname "$0")" && pwd)"

usage() {
  echo "usage: scripts/install-deps.sh [build|run|test|deploy|bench]..." >&2
  exit 2
}

# Each profile includes the ones before it.
want_build=0 want_run=0 want_test=0 want_deploy=0 want_bench=0
[[ $# -gt 0 ]] || set -- test
for profile in "$@"; do
  case "$profile" in
    build) want_build=1 ;;
    run) want_build=1 want_run=1 ;;
    test) want_build=1 want_run=1 want_test=1 ;;
    deploy) want_build=1 want_run=1 want_test=1 want_deploy=1 ;;
    bench) want_build=1 want_run=1 want_test=1 want_bench=1 ;;
    --bench) want_build=1 want_run=1 want_test=1 want_bench=1 ;;  # the older spelling
    *) echo "install-deps: unknown profile \"$profile\"" >&2; usage ;;
  esac
done

PACKAGES=()
[[ $want_build -eq 0 ]] || PACKAGES+=("${BUILD_PACKAGES[@]}")
[[ $want_run -eq 0 ]] || PACKAGES+=("${RUN_PACKAGES[@]}")
[[ $want_test -eq 0 ]] || PACKAGES+=("${TEST_PACKAGES[@]}")
[[ $want_deploy -eq 0 ]] || PACKAGES+=("${DEPLOY_PACKAGES[@]}")
[[ $want_bench -eq 0 ]] || PACKAGES+=("${BENCH_PACKAGES[@]}")

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
  if [[ "$dry_run" == 1 ]]; then
    echo "install-deps: would install ${missing[*]}"
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
  local dir="$here/../tests/browser"
  if [[ ! -f "$dir/package-lock.json" ]]; then
    echo "install-deps: $dir/package-lock.json is missing (the test profile needs the checkout's tests/)" >&2
    exit 1
  fi
  if [[ ! -f "$dir/node_modules/playwright-core/package.json" ]] ||
     [[ "$dir/package-lock.json" -nt "$dir/node_modules/playwright-core/package.json" ]]; then
    if [[ "$dry_run" == 1 ]]; then
      echo "install-deps: would run npm ci in tests/browser"
      return
    fi
    echo "install-deps: installing the browser tests' driver (npm ci in tests/browser)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

install_packages
if [[ $want_test -eq 1 ]]; then
  install_browser_driver
fi
