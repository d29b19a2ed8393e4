#!/usr/bin/env bash
# Builds siamcl twice (release, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# the whole test suite in both. Any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for variant in release sanitize; do
  dir=build
  flags=(-DCMAKE_BUILD_TYPE=Release)
  if [ "$variant" = sanitize ]; then
    dir=build-sanitize
    flags=(-DCMAKE_BUILD_TYPE=Debug -DSIAMCL_SANITIZE=ON)
  fi
  echo "== $variant build in $dir"
  cmake -S . -B "$dir" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "== $variant tests"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs"
done
