#!/usr/bin/env bash
# Every kernel of cl/*.cl was launched by the tests that wrote LOG (SIAMCL_TEST_KERNEL_LOG: the
# names, one a line); removes LOG after.
# usage: kernel_coverage_test.sh CL_DIR LOG
set -u
passed=0
failed=0
for k in $(sed -n 's/^kernel void \([A-Za-z_0-9]*\).*/\1/p' "$1"/*.cl); do
  if grep -qx "$k" "$2" 2>/dev/null; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $k: no test launched it"
  fi
done
rm -f "$2"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
