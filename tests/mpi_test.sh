#!/usr/bin/env bash
# Data-parallel training under mpirun: 2 ranks train the same model as 1 process (the same
# loss every epoch, the same test metrics), an odd batch included; what it cannot train yet
# and a batch smaller than the ranks are refused with one clear line and exit status 2.
# usage: mpi_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
source "$(dirname "$0")/cli_lib.sh"
# root in CI containers; more ranks than cores on small machines
mpirun=(mpirun --allow-run-as-root --oversubscribe -np 2)
# under AddressSanitizer: stacks through Open MPI's unloaded plugins reach its libraries,
# which tests/lsan.supp names
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"

{
  image_config "$data"
  cat <<EOT
[train]
batch_size = 16
epochs = 3
patience = 0
lr = 1e-2
EOT
} >"$tmp/image.ini"

# The epoch rows (epoch, train loss, val loss, val MSE, val MAE, val AUC) of two runs agree.
same_history() {
  if cmp -s <(cut -d, -f1-6 "$2/history.csv") <(cut -d, -f1-6 "$3/history.csv"); then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: the epochs differ:"
    paste -d'|' "$2/history.csv" "$3/history.csv" | sed 's/^/    /'
  fi
}

for batch in 16 33; do
  expect "one-process-$batch" 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/image.ini" -o train.batch_size=$batch -o output.dir="$tmp/one-$batch"
  expect "two-ranks-$batch" 0 '^siamcl +[0-9.]+' -- "${mpirun[@]}" "$siamcl" train "$tmp/image.ini" -o train.batch_size=$batch -o output.dir="$tmp/two-$batch"
  same_history "same-epochs-$batch" "$tmp/one-$batch" "$tmp/two-$batch"
  grep '^siamcl ' "$tmp/out" >"$tmp/two.row"
  "$siamcl" eval "$tmp/one-$batch" 2>/dev/null | grep '^siamcl ' >"$tmp/one.row"
  cmp -s "$tmp/one.row" "$tmp/two.row" && expect_file "same-test-$batch" "$tmp/two.row" . || expect_file "same-test-$batch" /nonexistent .
done
expect batch-below-ranks 2 'batch_size = 1 is smaller than the 2 ranks' -- "${mpirun[@]}" "$siamcl" train "$tmp/image.ini" -o train.batch_size=1 -o output.dir="$tmp/x"
expect softmax-not-yet 2 'data-parallel training \(2 ranks\) takes dense inputs, a loss of each pair' -- "${mpirun[@]}" "$siamcl" train "$tmp/image.ini" -o train.loss=softmax -o output.dir="$tmp/x"
# mpirun's colon gives each rank its own command line: here, another learning rate
expect configs-differ 2 "rank 1's config is not rank 0's: every rank must be given the same one" -- mpirun --allow-run-as-root --oversubscribe -np 1 "$siamcl" train "$tmp/image.ini" -o output.dir="$tmp/x" : -np 1 "$siamcl" train "$tmp/image.ini" -o train.lr=0.02 -o output.dir="$tmp/x"
finish
