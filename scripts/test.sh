#!/usr/bin/env bash
# Runs every test of ustack and ends with one line: "N passed, N failed, N skipped".
#   1. normal build (Ninja, 2 jobs) and ctest: unit, sim (if present), interop (skips with a
#      reason where root or TUN is missing)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build running the unit, segment, sim and
#      posix tests
#   3. ThreadSanitizer build of the posix tests (the one multi-threaded layer)
#   4. with clang: libFuzzer build, and fuzz/run.sh for a bounded time if that script exists
# Exit status non-zero when anything failed (a build failure counts as one failed test).
# Environment: USTACK_BUILD_PREFIX (default "build"), USTACK_JOBS (2), USTACK_FUZZ_SECONDS (10,
# per fuzz target).
set -uo pipefail
cd "$(dirname "$0")/.."

prefix=${USTACK_BUILD_PREFIX:-build}
jobs=${USTACK_JOBS:-2}
fuzz_seconds=${USTACK_FUZZ_SECONDS:-10}
passed=0
failed=0
skipped=0
failures=()

start=$SECONDS
bash scripts/setup.sh || { echo "test: setup failed"; echo "0 passed, 1 failed"; exit 1; }

step() { echo; echo "=== $* (at $((SECONDS - start)) s) ==="; }

fail() {
  failed=$((failed + 1))
  failures+=("$1")
  echo "test: FAILED: $1"
}

# Runs ctest in a build dir and adds its per-test results to the totals.
run_ctest() {
  local dir=$1 tag=$2
  shift 2
  local log="$dir/ctest.log"
  timeout 900 ctest --test-dir "$dir" --output-on-failure --timeout 300 -j "$jobs" "$@" 2>&1 |
    tee "$log"
  local rc=${PIPESTATUS[0]}
  local p s f
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' "$log")
  s=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*Skipped' "$log")
  f=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log" | grep -vE ' Passed|Skipped' | wc -l)
  passed=$((passed + p))
  skipped=$((skipped + s))
  if ((f > 0)); then
    failed=$((failed + f))
    failures+=("$tag: $f ctest test(s), see $log")
  elif ((rc != 0)); then
    fail "$tag: ctest exited $rc"
  fi
  if ((p + s + f == 0)); then fail "$tag: ctest ran no test"; fi
}

build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  timeout 900 cmake -S . -B "$dir" -G Ninja "$@" >"$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; return 1; }
  timeout 1200 cmake --build "$dir" -j "$jobs"
}

step "normal build ($prefix)"
if build "$prefix"; then
  step "ctest: unit, sim, interop"
  run_ctest "$prefix" normal
else
  fail "normal build"
fi

step "ASan+UBSan build ($prefix-asan)"
if build "$prefix-asan" -DUSTACK_SANITIZE=ON -DUSTACK_BENCH=OFF; then
  step "ctest under ASan+UBSan: unit, segment, sim, posix"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest "$prefix-asan" asan -L "unit|segment|sim|posix"
else
  fail "ASan+UBSan build"
fi

step "ThreadSanitizer build of the posix tests ($prefix-tsan)"
mkdir -p "$prefix-tsan"
if timeout 900 cmake -S . -B "$prefix-tsan" -G Ninja -DUSTACK_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -g -O1" -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
  >"$prefix-tsan/configure.log" 2>&1 &&
  timeout 1200 cmake --build "$prefix-tsan" -j "$jobs" --target posix_tests; then
  TSAN_OPTIONS=halt_on_error=1 run_ctest "$prefix-tsan" tsan -L posix
else
  fail "ThreadSanitizer build"
fi

if command -v clang++ >/dev/null 2>&1; then
  step "fuzz build ($prefix-fuzz, clang)"
  if CC=clang CXX=clang++ build "$prefix-fuzz" -DUSTACK_FUZZ=ON -DUSTACK_TESTS=OFF \
    -DUSTACK_BENCH=OFF; then
    if [[ -f fuzz/run.sh ]]; then
      step "fuzz/run.sh $prefix-fuzz $fuzz_seconds"
      if timeout 600 bash fuzz/run.sh "$prefix-fuzz" "$fuzz_seconds"; then
        passed=$((passed + 1))
      else
        fail "fuzz/run.sh"
      fi
    else
      echo "test: fuzz/run.sh not present; fuzz targets built only"
    fi
  else
    fail "fuzz build"
  fi
else
  echo "test: clang++ not found; fuzz build skipped"
fi

echo
echo "=== summary ($((SECONDS - start)) s) ==="
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
