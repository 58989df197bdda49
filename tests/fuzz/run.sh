#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and fuzzes each one for FUZZ_SECONDS seconds
# (default 60) on a copy of its checked-in corpus, so the corpus in tests/fuzz/corpus/ is never
# rewritten. Prints one summary line per target and exits non-zero when any target found a crash,
# a sanitizer report, a timeout, a leak or an out-of-memory; the input that did it is kept under
# <build dir>/fuzz-runs/<target>/artifacts/ (reproduce: <build dir>/tests/fuzz/<target>_fuzz FILE).
#
#   tests/fuzz/run.sh                          # every target, 60 s each (about 6 minutes in all)
#   FUZZ_SECONDS=600 tests/fuzz/run.sh config  # one target, longer
#
# FUZZ_BUILD_DIR (default build-fuzz) and FUZZ_JOBS (default 2) change where and how it builds.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
all_targets=(payload http_request config journal)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [ ! -d "tests/fuzz/corpus/$t" ]; then
    echo "unknown fuzz target '$t' (${all_targets[*]})" >&2
    exit 2
  fi
done

EXTRA_PACKAGES="clang libclang-rt-14-dev" bash deploy/install-deps.sh

# CMake keeps the compiler a build directory was first configured with: start over if not clang.
if [ -f "$build_dir/CMakeCache.txt" ] &&
   ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang' "$build_dir/CMakeCache.txt"; then
  echo "$build_dir was configured without clang; configuring it again"
  rm -rf "$build_dir"
fi
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBRIDGE_FUZZ=ON -DBUILD_TESTING=OFF -DBRIDGE_TOOLS=OFF >/dev/null
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]/%/_fuzz}"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
root=$PWD
failed=0
summaries=()
for t in "${targets[@]}"; do
  run="$root/$build_dir/fuzz-runs/$t"
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  cp -R "tests/fuzz/corpus/$t/." "$run/corpus/"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$run/artifacts/")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="$root/tests/fuzz/$t.dict")

  echo "== ${t}_fuzz: ${seconds}s"
  status=0
  # Run from the run directory: config_fuzz resolves relative *_file paths against it. The
  # watchdog is there because libFuzzer's -timeout handler can deadlock when it fires inside the
  # allocator (an input that loops allocating), and then the run would never end.
  (cd "$run" && timeout --kill-after=10 $((seconds + 120)) \
     "$root/$build_dir/tests/fuzz/${t}_fuzz" "${args[@]}" corpus "$root/tests/fuzz/corpus/$t") \
    >"$run/fuzz.log" 2>&1 || status=$?

  stat() { sed -n "s/^stat::$1: *//p" "$run/fuzz.log" | tail -1; }
  progress=$(grep -E '^#[0-9]+[[:space:]]+(INITED|NEW|REDUCE|pulse|DONE)' "$run/fuzz.log" |
    tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$progress")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$progress")
  units=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$progress")
  line=$(printf '%-18s %-6s %10s execs (%s/s)  cov %s  ft %s  corpus %s units  peak rss %s MB' \
    "${t}_fuzz" "$([ $status -eq 0 ] && echo ok || echo FAILED)" \
    "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" "${cov:-?}" "${ft:-?}" \
    "${units:-?}" "$(stat peak_rss_mb)")
  if [ $status -ne 0 ]; then
    failed=1
    what=$(grep -m1 '^SUMMARY: ' "$run/fuzz.log" || grep -m1 'ERROR: ' "$run/fuzz.log" ||
           echo "exit status $status")
    if [ $status -eq 124 ] || [ $status -eq 137 ]; then
      what="hung, killed by the watchdog: $(grep -m1 '^ALARM: ' "$run/fuzz.log" || echo "$what")"
    fi
    input=$(sed -n 's/.*Test unit written to //p' "$run/fuzz.log" | tail -1)
    line+=$'\n'"    ${what}"$'\n'"    input: ${input:-none written}"$'\n'"    log: $run/fuzz.log"
    # The report without libFuzzer's own frames: the error, our frames, the summary.
    echo "---- ${t}_fuzz found a problem:"
    ours="^ +#[0-9]+ .* $root/[^ ]*\.[ch]pp:[0-9]"
    { grep -E "ERROR: |runtime error: |^SUMMARY: |^ALARM: |$ours" "$run/fuzz.log" ||
        tail -30 "$run/fuzz.log"; } | head -30 || true
  fi
  summaries+=("$line")
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summaries[@]}"
exit $failed
