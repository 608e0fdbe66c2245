#!/usr/bin/env bash
# The edge runtime builds on its own, from edge/ alone, as a device build
# would (no LibTorch, gRPC, protobuf or SQLite anywhere in its configuration),
# and its binary runs and links none of them.
#
#   tests/edge/standalone_build_test.sh REPO_ROOT
set -euo pipefail
root="$1"
dir="$(mktemp -d "${TMPDIR:-/tmp}/bitsweep-edge-standalone.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root/edge" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBITSWEEP_EDGE_WASM=OFF "${launcher[@]}" \
  >"$dir/configure.log"
if grep -Eiq 'torch|grpc|protobuf|sqlite' "$dir/build/CMakeCache.txt"; then
  echo "FAIL: the standalone configuration mentions a dependency:" >&2
  grep -Ei 'torch|grpc|protobuf|sqlite' "$dir/build/CMakeCache.txt" >&2
  exit 1
fi
cmake --build "$dir/build" --target bitsweep-edge >"$dir/build.log" || { tail -30 "$dir/build.log" >&2; exit 1; }
"$dir/build/bitsweep-edge" generate "$root/fuzz/corpus/edge_bsg/dcgan32-grey-widths-1-2-3-4.bsg" -n 4 \
  -o "$dir/grid.png" --raw "$dir/images.npy"
[[ -s "$dir/grid.png" && -s "$dir/images.npy" ]] || { echo "FAIL: no grid or images written" >&2; exit 1; }
if ldd "$dir/build/bitsweep-edge" | grep -Ei 'torch|c10|grpc|protobuf|sqlite|stdc\+\+'; then
  echo "FAIL: bitsweep-edge links the libraries above" >&2
  exit 1
fi
echo "ok: edge/ builds alone and bitsweep-edge runs"
