#!/usr/bin/env bash
# Builds siamcl twice (release, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# the whole test suite in both. Any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# GCC 12's LeakSanitizer can take a dynamic TLS block for a pre-2.25 glibc header and crash
# in its tracer at exit ("Tracer caught signal 11", google/sanitizers#1322; siamcl eval of a
# vector-pairs model hits it every time): it stops reading __tls_get_addr's blocks, and
# still checks every heap block for leaks.
export ASAN_OPTIONS="intercept_tls_get_addr=0"
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
