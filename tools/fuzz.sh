#!/usr/bin/env bash
# Builds every libFuzzer harness tests/fuzz/fuzz_<target>.c and runs each for SECONDS over a
# temporary copy of its seed corpus tests/fuzz/<target>/ (so that a run never grows the
# committed corpus), one line per target; exits 1 when any target crashed, leaked, hung or
# failed a sanitizer check, and 2 when a harness does not build.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 60); 0 runs without a time limit (give -runs in FUZZ_ARGS)
#   TARGET   e.g. csv npy (default: every tests/fuzz/fuzz_*.c)
#   FUZZ_ARGS=...   more libFuzzer flags, e.g. FUZZ_ARGS=-runs=10000000 tools/fuzz.sh 0 csv
#
# Each harness names its build in its opening comment: the command from its first "clang -"
# (continued over lines ending in '\', ending "-o build-fuzz/fuzz_<target>") is run as it stands
# from the repository root, so that the command written there is the one tested. Binaries, the
# last run's log of each target and crashing inputs go to build-fuzz/ (logs/, artifacts/<target>/);
# reproduce a crash with build-fuzz/fuzz_<target> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]]; then
  echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is missing (tools/setup.sh installs it)" >&2
  exit 2
fi

out=build-fuzz
mkdir -p "$out/logs"
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do
    t=${f#tests/fuzz/fuzz_}
    targets+=("${t%.c}")
  done
fi

# The build command in a harness's opening comment: from the first "clang -" on, continued
# over lines that end in '\'.
build_command() {
  local src=$1
  local cmd
  cmd=$(awk 'NR == 1, /\*\// {
      if (!on && match($0, /clang -/)) { on = 1; $0 = substr($0, RSTART) }
      else if (on) sub(/^ \*[ \t]*/, "")
      if (on) { more = sub(/[ \t]*\\[ \t]*$/, ""); cmd = cmd $0 " "; if (!more) { print cmd; exit } }
    }' "$src")
  if [ -z "$cmd" ]; then
    echo "fuzz: $src has no build command (a line \" * clang -...\" in its opening comment)" >&2
    return 1
  fi
  echo "$cmd"
}

# Rebuilds when the command changed or a source it names, or any header, is newer.
build() {
  local t=$1 src=tests/fuzz/fuzz_$1.c bin=$out/fuzz_$1
  local cmd
  cmd=$(build_command "$src") || return 1
  if [ -x "$bin" ] && [ -f "$bin.cmd" ] && [ "$(cat "$bin.cmd")" = "$cmd" ]; then
    local deps newer
    deps=$(echo "$cmd" | tr ' ' '\n' | grep '\.c$' || true)
    # shellcheck disable=SC2086
    newer=$(find $deps tests/fuzz/*.h include/siamcl/*.h host/siamcl/*.h host/*.h -newer "$bin" 2>/dev/null | head -1)
    [ -z "$newer" ] && return 0
  fi
  rm -f "$bin.cmd"
  if ! eval "$cmd" >"$out/logs/build_$t.log" 2>&1; then
    echo "fuzz $t: build failed ($out/logs/build_$t.log):" >&2
    cat "$out/logs/build_$t.log" >&2
    return 1
  fi
  echo "$cmd" >"$bin.cmd"
}

pids=()
for t in "${targets[@]}"; do
  if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
    echo "fuzz: no harness tests/fuzz/fuzz_$t.c" >&2
    exit 2
  fi
  build "$t" &
  pids+=($!)
done
built=0
for p in "${pids[@]}"; do wait "$p" || built=1; done
[ "$built" -eq 0 ] || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
limit=()
[ "$seconds" -gt 0 ] && limit=(-max_total_time="$seconds")
for t in "${targets[@]}"; do
  corpus=$tmp/$t
  mkdir -p "$corpus" "$out/artifacts/$t"
  [ -d "tests/fuzz/$t" ] && cp -R "tests/fuzz/$t/." "$corpus/"
  log=$tmp/$t.log # kept apart until the run ends: other runs of this script may be going
  start=$(date +%s)
  rc=0
  # shellcheck disable=SC2086
  "$out/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" ${FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
  took=$(($(date +%s) - start))
  cp "$log" "$out/logs/$t.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="FAILED (exit $rc${artifact:+, input $artifact}; log $out/logs/$t.log)"
  fi
  printf 'fuzz %-12s %10s execs %7s exec/s  cov %5s  ft %6s  %4ss  %s\n' "$t" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$took" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E -A40 '^==[0-9]+==|runtime error|property failed|ERROR: libFuzzer' "$log" | head -60 >&2 || true
  fi
done
exit "$failed"
