#!/usr/bin/env bash
# Runs a kernel test under Oclgrind, which checks every memory access of every kernel (and with
# --data-races, races between work-items): fails when the test fails or when Oclgrind reports
# anything (it leaves the program's exit status alone, so its log is read).
# usage: oclgrind_test.sh [OCLGRIND_OPTION...] -- TEST [CASE...]
set -u
opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  opts+=("$1")
  shift
done
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
oclgrind --data-races "${opts[@]}" --log "$log" "$@"
status=$?
if [ -s "$log" ]; then
  echo "FAIL Oclgrind reported:"
  cat "$log"
  status=1
fi
exit $status
