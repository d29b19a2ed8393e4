#!/usr/bin/env bash
# Data-parallel training under mpirun: 2 ranks train the same model as 1 process (every
# epoch's losses within 1e-5 relative, the same test metrics within 1e-4) for image jobs and
# text jobs (the sparse table), odd batches, dropout and batch-wise losses included, with the
# ranks' parameters compared every step; an ensemble; resume across rank counts; Ctrl-C, a
# rank killed and bad data on one rank stop every rank with a non-zero exit and leave a state
# that resumes; a batch smaller than the ranks and configs that differ between ranks are
# refused with one clear line.
# usage: mpi_test.sh SIAMCL DATA_DIR
set -u
siamcl=$(realpath "$1")
data=$2
source "$(dirname "$0")/cli_lib.sh"
# root in CI containers; more ranks than cores on small machines
mpirun=(mpirun --allow-run-as-root --oversubscribe)
two=("${mpirun[@]}" -np 2)
# under AddressSanitizer: stacks through Open MPI's unloaded plugins reach its libraries,
# which tests/lsan.supp names
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

train_section() {
  printf '[train]\nbatch_size = 16\nepochs = %s\npatience = 0\nlr = 1e-2\n' "$1"
}
{ image_config "$data"; train_section 3; } >"$tmp/image.ini"
{ text_config "$data" 4096; train_section 3; } >"$tmp/text.ini"
# the text model with a cosine head, for CoSENT
grep -Ev '^(head|head_layers|output|target_min|target_max) =' "$tmp/text.ini" >"$tmp/cosine.ini"

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# close NAME A B TOLERANCE: the numbers of two CSV files (their first 6 columns; for metrics
# rows the numeric fields) agree within TOLERANCE relative (or absolute below 1).
close() {
  if paste -d'|' "$2" "$3" | awk -F'|' -v tol="$4" '
      { n = split($1, a, /[, ]+/); m = split($2, b, /[, ]+/); if (n != m) bad = 1
        for (i = 1; i <= n; i++) {
          if (a[i] == b[i]) continue
          if (a[i] !~ /^-?[0-9.]+(e-?[0-9]+)?$/) { bad = 1; continue }
          d = a[i] - b[i]; if (d < 0) d = -d; s = a[i] < 0 ? -a[i] : a[i]
          if (d > tol * (s > 1 ? s : 1)) bad = 1 } }
      END { exit bad }'; then
    pass "$1"
  else
    fail "$1: they differ beyond $4:"
    paste -d'|' "$2" "$3" | sed 's/^/    /'
  fi
}

# history DIR: the epoch, train loss, val loss, val MSE, val MAE and val quality columns.
history() { cut -d, -f1-6 "$1/history.csv"; }

# one job's 2 ranks against 1 process, with the parameters compared after every step
# (dropout draws the masks of the whole batch's pairs on every rank's share; a batch-wise loss
# gathers the ranks' embeddings)
jobs=(image-16:image:16: image-33:image:33: text-33:text:33:
  image-dropout:image:33:model.dropout=0.2 text-dropout:text:16:model.dropout=0.3
  image-softmax:image:33:train.loss=softmax
  image-triplet:image:16:train.loss=triplet,train.mining=batch_all,model.dropout=0.1
  text-cosent:cosine:33:train.loss=cosent)
for job in "${jobs[@]}"; do
  IFS=: read -r name config batch extra <<<"$job"
  set -- -o train.batch_size="$batch"
  for kv in ${extra//,/ }; do set -- "$@" -o "$kv"; done
  expect "$name-one-process" 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/$config.ini" "$@" -o output.dir="$tmp/one-$name"
  grep '^siamcl ' "$tmp/out" >"$tmp/one.row"
  expect "$name-two-ranks" 0 '^siamcl +[0-9.]+' -- "${two[@]}" "$siamcl" train "$tmp/$config.ini" "$@" -o output.dir="$tmp/two-$name" --check-ranks 1
  grep '^siamcl ' "$tmp/out" >"$tmp/two.row"
  grep -q 'the 2 ranks end with identical parameters' "$tmp/err" && pass "$name-ranks-identical" || fail "$name-ranks-identical"
  [ "$(grep -c 'rank [01] of 2 (pid [0-9]*, POCL_MAX_PTHREAD_COUNT=[0-9]*): device: ' "$tmp/err")" -eq 2 ] && pass "$name-device-lines" || fail "$name-device-lines"
  close "$name-same-epochs" <(history "$tmp/one-$name") <(history "$tmp/two-$name") 1e-5
  close "$name-same-test" "$tmp/one.row" "$tmp/two.row" 1e-4
done

# an ensemble of 2: every rank trains each member, rank 0 tests them together
expect ensemble-one-process 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/image.ini" -o train.ensemble=2 -o output.dir="$tmp/one-ens"
grep '^siamcl' "$tmp/out" >"$tmp/one.row"
expect ensemble-two-ranks 0 '^siamcl +[0-9.]+' -- "${two[@]}" "$siamcl" train "$tmp/image.ini" -o train.ensemble=2 -o output.dir="$tmp/two-ens"
grep '^siamcl' "$tmp/out" >"$tmp/two.row"
close ensemble-same-test "$tmp/one.row" "$tmp/two.row" 1e-4

# resume across rank counts: 2 epochs on 2 ranks then the 3rd on 1, and the other way round,
# end where the uninterrupted run did
expect resume-2-epochs-on-2 0 '^siamcl +[0-9.]+' -- "${two[@]}" "$siamcl" train "$tmp/image.ini" -o train.epochs=2 -o output.dir="$tmp/r21"
expect resume-3rd-on-1 0 '^siamcl +[0-9.]+' -- "$siamcl" train --resume "$tmp/r21" -o train.epochs=3
close resume-2-then-1 <(history "$tmp/one-image-16") <(history "$tmp/r21") 1e-5
expect resume-2-epochs-on-1 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/image.ini" -o train.epochs=2 -o output.dir="$tmp/r12"
expect resume-3rd-on-2 0 '^siamcl +[0-9.]+' -- "${two[@]}" "$siamcl" train --resume "$tmp/r12" -o train.epochs=3
close resume-1-then-2 <(history "$tmp/one-image-16") <(history "$tmp/r12") 1e-5

# a long run in the background: DIR and the pid of mpirun once an epoch is saved
long_run() {
  "${two[@]}" "$siamcl" train "$tmp/image.ini" -o train.epochs=100000 -o output.dir="$tmp/$1" >"$tmp/$1.out" 2>"$tmp/$1.err" &
  pid=$!
  for _ in $(seq 600); do
    [ -s "$tmp/$1/model.safetensors" ] && [ "$(wc -l <"$tmp/$1/history.csv")" -ge 3 ] && break
    sleep 0.1
  done
}
# ended NAME LOG: mpirun ($pid) ends within 60 s with a non-zero status (a hang fails), and
# the ranks that LOG names end with it
ended() {
  local status
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    fail "$1: mpirun still runs 60 s on"
    return 1
  fi
  wait "$pid"
  status=$?
  [ "$status" -ne 0 ] && pass "$1-non-zero" || fail "$1-non-zero: exit $status"
  # and no rank outlives it by more than 10 s (mpirun's SIGKILL follows its SIGTERM)
  local rank alive=
  for rank in $(sed -n 's/^siamcl: rank [01] of 2 (pid \([0-9]*\).*/\1/p' "$2"); do
    for _ in $(seq 100); do kill -0 "$rank" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$rank" 2>/dev/null && alive="$alive $rank"
  done
  [ -z "$alive" ] && pass "$1-ranks-gone" || fail "$1-ranks-gone: pid$alive still runs"
}
# resumes NAME DIR: the run's saved state resumes on 1 process, to an epoch more
resumes() {
  local epochs
  epochs=$(($(wc -l <"$2/history.csv")))
  expect "$1-resumes" 0 '^siamcl +[0-9.]+' -- "$siamcl" train --resume "$2" -o train.epochs="$epochs"
}

# Ctrl-C (mpirun passes it on as SIGTERM): every rank stops after the same step, rank 0 saves
long_run int
kill -INT "$pid"
ended interrupt "$tmp/int.err"
grep -q 'interrupted; the run.s state is saved to' "$tmp/int.err" && pass interrupt-saved || { fail interrupt-saved; sed 's/^/    /' "$tmp/int.err"; }
resumes interrupt "$tmp/int"

# a rank killed: mpirun stops the other and says which died; the last saved state resumes
long_run killed
victim=$(sed -n 's/^siamcl: rank 1 of 2 (pid \([0-9]*\).*/\1/p' "$tmp/killed.err")
kill -9 "$victim"
ended rank-killed "$tmp/killed.err"
grep -q 'exited on signal 9' "$tmp/killed.err" && pass rank-killed-said || { fail rank-killed-said; sed 's/^/    /' "$tmp/killed.err"; }
resumes rank-killed "$tmp/killed"

# bad data on one rank alone (its own working directory holds a damaged copy): rank 0 says
# which rank and what, and every rank exits 2
mkdir -p "$tmp/good" "$tmp/bad"
{ text_config . 4096; train_section 3; } | sed 's|^path = ./|path = |' >"$tmp/good/cfg.ini"
cp "$tmp/good/cfg.ini" "$tmp/bad/cfg.ini"
cp "$data/tiny_text.csv" "$tmp/good/"
sed '5s/,[^,]*$/,high/' "$data/tiny_text.csv" >"$tmp/bad/tiny_text.csv"
expect bad-data-on-rank-1 2 '^siamcl: rank 1 of 2: tiny_text.csv:5: ' -- "${mpirun[@]}" -np 1 -wdir "$tmp/good" "$siamcl" train cfg.ini -o output.dir="$tmp/x" : -np 1 -wdir "$tmp/bad" "$siamcl" train cfg.ini -o output.dir="$tmp/x"
[ "$(grep -c "tiny_text.csv:5: column 'relevance': 'high' is not a number" "$tmp/err")" -eq 1 ] && pass bad-data-said-once || { fail bad-data-said-once; sed 's/^/    /' "$tmp/err"; }

expect batch-below-ranks 2 'batch_size = 1 is smaller than the 2 ranks' -- "${two[@]}" "$siamcl" train "$tmp/image.ini" -o train.batch_size=1 -o output.dir="$tmp/x"
expect check-ranks-bad 2 'train: --check-ranks 0: expected a number of steps above 0' -- "$siamcl" train "$tmp/image.ini" --check-ranks 0
# mpirun's colon gives each rank its own command line: here, another learning rate
expect configs-differ 2 "rank 1's config is not rank 0's: every rank must be given the same one" -- "${mpirun[@]}" -np 1 "$siamcl" train "$tmp/image.ini" -o output.dir="$tmp/x" : -np 1 "$siamcl" train "$tmp/image.ini" -o train.lr=0.02 -o output.dir="$tmp/x"
finish
