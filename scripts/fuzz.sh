#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ into build-fuzz/ (clang, sanitizers,
# Ninja, ccache when present) and fuzzes each for a bounded time, starting
# from a copy of its seed corpus. Fails on any crash, timeout, leak or
# out-of-memory, and says where the input that caused it is.
#
#   scripts/fuzz.sh                  every target, BITSWEEP_FUZZ_SECONDS each (default 30;
#                                    0 only runs the seeds, regressions included)
#   scripts/fuzz.sh TARGET           one target (sweep_spec, npy, dataset_readers or edge_bsg)
#   scripts/fuzz.sh TARGET FILE...   run TARGET once on each FILE (reproduce a finding)
#
# BITSWEEP_JOBS sets the build's parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${BITSWEEP_JOBS:-$(nproc)}"
seconds="${BITSWEEP_FUZZ_SECONDS:-30}"
build=build-fuzz
targets=(sweep_spec npy dataset_readers edge_bsg)

# Longest input per target: a sweep spec with a full base job spec fits in
# 8 KB; an .npy header is at most a few hundred bytes plus a small matrix;
# the dataset input must hold a CIFAR-10 record (3073 bytes) and its option byte;
# a .bsg of a tiny generator (the seeds) is 2-7 KB.
max_len_of() {
  case "$1" in
    sweep_spec) echo 8192 ;;
    npy) echo 4096 ;;
    dataset_readers) echo 8192 ;;
    edge_bsg) echo 16384 ;;
  esac
}

# Limits every run shares: an input that takes 10 s or 2 GB is a finding.
limits=(-timeout=10 -rss_limit_mb=2048)

target_of() {
  local name="${1%_fuzz}"
  for t in "${targets[@]}"; do
    if [[ "$t" == "$name" ]]; then
      echo "$t"
      return
    fi
  done
  echo "fuzz.sh: unknown target '$1' (known: ${targets[*]})" >&2
  exit 2
}

if [[ $# -ge 1 ]]; then
  targets=("$(target_of "$1")")
  shift
fi

if [[ ! -f $build/build.ninja ]]; then
  cmake -S fuzz -B $build -G Ninja -DCMAKE_CXX_COMPILER=clang++
fi
cmake --build $build --parallel "$jobs"

# The targets write their input files here: in memory, and removed even
# when a crash leaves no chance to clean up.
scratch_parent=/tmp
[[ -d /dev/shm && -w /dev/shm ]] && scratch_parent=/dev/shm
scratch="$(mktemp -d "$scratch_parent/bitsweep-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

if [[ $# -ge 1 ]]; then  # files to reproduce
  "$build/${targets[0]}_fuzz" "${limits[@]}" -max_len="$(max_len_of "${targets[0]}")" "$@"
  exit
fi

failed=0
for target in "${targets[@]}"; do
  run="$build/runs/$target"
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/findings"
  # A copy: fuzzing adds to the corpus it runs on, and fuzz/corpus holds
  # only the hand-picked seeds.
  cp fuzz/corpus/"$target"/* "$run/corpus/"
  extra=()
  if [[ "$target" == sweep_spec ]]; then
    cp examples/*.json "$run/corpus/"
    extra=(-dict=fuzz/dict/json.dict)
  fi
  if [[ "$target" == edge_bsg ]]; then
    extra=(-dict=fuzz/dict/bsg.dict)
  fi
  duration=(-max_total_time="$seconds")
  [[ "$seconds" == 0 ]] && duration=(-runs=0)  # libFuzzer reads a time of 0 as "no limit"
  status=0
  "$build/${target}_fuzz" "${limits[@]}" -max_len="$(max_len_of "$target")" "${duration[@]}" \
    -print_final_stats=1 -artifact_prefix="$run/findings/" "${extra[@]}" "$run/corpus" >"$run/log" 2>&1 || status=$?
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/log")"
  units="$(ls "$run/corpus" | wc -l)"
  if [[ $status -eq 0 ]]; then
    echo "fuzz: $target: ${seconds} s, ${rate:-?} executions/s, corpus $units inputs, no findings"
    continue
  fi
  failed=1
  echo "fuzz: $target: FAILED (exit $status); the end of $run/log:" >&2
  tail -n 40 "$run/log" >&2
  for finding in "$run/findings"/*; do
    [[ -e "$finding" ]] || continue
    echo "fuzz: $target: input kept in $finding; reproduce with: scripts/fuzz.sh $target $finding" >&2
  done
done
exit $failed
