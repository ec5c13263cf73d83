#!/usr/bin/env bash
# Runs every libFuzzer target in a build directory for a fixed time each and fails if any
# of them finds a crash, a leak or a broken invariant.
#
#   fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR is a tree configured with -DUSTACK_FUZZ=ON (clang). Each target starts from its
# committed seeds in fuzz/corpus/<target>/ (if any), copied to a scratch directory so that the
# committed corpus never changes; crash inputs are kept under BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"

targets=()
for exe in "$build_dir"/fuzz_*; do
    [[ -f "$exe" && -x "$exe" ]] && targets+=("$exe")
done
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "no fuzz_* executables in $build_dir (configure with -DUSTACK_FUZZ=ON)" >&2
    exit 2
fi

failed=()
for exe in "${targets[@]}"; do
    name=$(basename "$exe")
    corpus="$scratch/$name"
    mkdir -p "$corpus"
    if [[ -d "$here/corpus/$name" ]]; then
        cp "$here/corpus/$name"/* "$corpus"/ 2>/dev/null || true
    fi
    log="$scratch/$name.log"
    printf '%-22s %4ss ... ' "$name" "$seconds"
    if "$exe" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name-" "$corpus" >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
        echo "ok (${runs:-?} runs, ${cov:-cov: ?})"
    else
        echo "FAILED"
        grep -E 'ERROR|invariant failed|runtime error|Test unit written' "$log" | head -5 || true
        tail -n 20 "$log" > "$artifacts/$name.log"
        failed+=("$name")
    fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
    echo "crashes in: ${failed[*]} (inputs and logs in $artifacts)" >&2
    exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${seconds}s each without a crash"
