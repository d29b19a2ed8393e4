#!/usr/bin/env bash
# The command line's answers to bad input: one clear line and exit status 2.
# usage: cli_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME STATUS PATTERN -- COMMAND...: the command exits with STATUS and its stderr (or
# stdout for status 0) matches the extended regular expression PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ] && grep -Eq -- "$pattern" "$tmp/out" "$tmp/err"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got (want $want), output:"
    sed 's/^/    /' "$tmp/out" "$tmp/err"
  fi
}

printf '[device]\nselect = auto\n' >"$tmp/ok.ini"

expect help 0 'commands:' -- "$siamcl" --help
expect devices-help 0 'usage: siamcl devices' -- "$siamcl" devices --help
expect help-command 0 'usage: siamcl devices' -- "$siamcl" help devices
expect no-command 2 'usage:' -- "$siamcl"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$siamcl" frobnicate
expect unknown-option 2 'unknown option --bogus' -- "$siamcl" devices --bogus
expect devices 0 '^\* ' -- "$siamcl" devices
expect devices-config 0 "chosen by 'auto'" -- "$siamcl" devices "$tmp/ok.ini"
expect missing-config 2 'config /nonexistent.ini: No such file' -- "$siamcl" devices /nonexistent.ini
expect unreadable-config 2 "config $tmp: is a directory" -- "$siamcl" devices "$tmp"
expect bad-override 2 'expected section.key=value' -- "$siamcl" devices -o nodot
expect device-index 2 'device index 99 out of range' -- "$siamcl" devices --device 99
expect device-name 2 "device 'no-such-gpu' matches no device" -- "$siamcl" devices --device no-such-gpu
expect device-env 2 "device 'no-such-gpu' matches" -- env SIAMCL_DEVICE=no-such-gpu "$siamcl" devices
expect device-cli-over-env 0 "chosen by 'cpu'" -- env SIAMCL_DEVICE=no-such-gpu "$siamcl" devices --device cpu
expect device-config 2 "device 'nothing-like-this'" -- "$siamcl" devices -o device.select=nothing-like-this
mkdir -p "$tmp/no-icds"
expect no-platform 2 'no OpenCL platform found: .*pocl-opencl-icd' -- env OCL_ICD_VENDORS="$tmp/no-icds" "$siamcl" devices

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
