#!/usr/bin/env bash
# Builds siamcl twice (release, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# the test suite on three OpenCL implementations (docs/RELIABILITY.md, "OpenCL
# implementations"): all of it on PoCL in both builds, the kernel tests on Oclgrind (ctest
# label oclgrind), and all of it again on Mesa's rusticl (its llvmpipe CPU device: no doubles,
# 1024-item work-groups). Any failure fails the script; the closing line gives its time.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash tools/setup.sh
jobs=$(nproc)
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# GCC 12's LeakSanitizer can take a dynamic TLS block for a pre-2.25 glibc header and crash
# in its tracer at exit ("Tracer caught signal 11", google/sanitizers#1322; siamcl eval of a
# vector-pairs model hits it every time): it stops reading __tls_get_addr's blocks, and
# still checks every heap block for leaks.
export ASAN_OPTIONS="intercept_tls_get_addr=0"
# The sanitizer pass runs on PoCL alone (OCL_ICD_VENDORS names its .icd file): the ICD loader
# otherwise loads every installed driver into every process, and mesa-opencl-icd's two leak in
# all of them. Clover (libMesaOpenCL) opens Gallium's pipe_swrast.so and closes it again, and
# LeakSanitizer then finds 128 bytes that module still held, in a module it cannot name; rusticl
# leaves 72 bytes at load and more per program built. Neither is siamcl's memory, and no
# suppression names siamcl's code; the release passes load every driver.
pocl_icd=/etc/OpenCL/vendors/pocl.icd
[ -f "$pocl_icd" ] || { echo "check.sh: no $pocl_icd (tools/setup.sh installs pocl-opencl-icd)"; exit 1; }
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
  echo "== $variant tests on PoCL ($((SECONDS - start)) s so far)"
  if [ "$variant" = sanitize ]; then
    OCL_ICD_VENDORS=$pocl_icd ctest --test-dir "$dir" --output-on-failure -j"$jobs"
  else
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -LE oclgrind
    echo "== kernel tests on Oclgrind --data-races ($((SECONDS - start)) s so far)"
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -L oclgrind
  fi
done
echo "== release tests on rusticl's llvmpipe ($((SECONDS - start)) s so far)"
SIAMCL_DEVICE=llvmpipe RUSTICL_ENABLE=llvmpipe ctest --test-dir build --output-on-failure \
  -j"$jobs" -LE oclgrind
bash tools/fuzz.sh 20 # each libFuzzer harness of tests/fuzz/ for 20 s
echo "check.sh: every pass passed in $((SECONDS - start)) s"
