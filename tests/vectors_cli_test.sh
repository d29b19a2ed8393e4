#!/usr/bin/env bash
# Vector data ([data] format = npy) through train, eval, embed, score and search, pairs from
# class labels and from a CSV of pairs; and the answers to bad input: one clear line naming the
# file, and exit status 2.
# usage: vectors_cli_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
v=$2/vectors
source "$(dirname "$0")/cli_lib.sh"

# npy FILE DESCR FORTRAN SHAPE BYTES: a version 1.0 .npy header (padded so that the data
# starts at a multiple of 64, as NumPy writes), then BYTES zero bytes of data.
npy() {
  local dict="{'descr': '$2', 'fortran_order': $3, 'shape': $4, }"
  local len=$(((10 + ${#dict} + 1 + 63) / 64 * 64 - 10))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
    printf '%-*s\n' $((len - 1)) "$dict"
    head -c "$5" /dev/zero
  } >"$1"
}

model='[model]
layers = 16,8
activation = tanh

[train]
batch_size = 16
epochs = 3
patience = 2
lr = 1e-2'

# ---- pairs from class labels, with a test set of its own ----
cat >"$tmp/labels.ini" <<EOT
[data]
format = npy
path = $v/train.npy
labels = $v/train_labels.npy
test = $v/test.npy
test_labels = $v/test_labels.npy
validation = 0.2

$model
EOT
run=$tmp/labels
expect labels-train 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/labels.ini" -o output.dir="$run"
expect_file labels-history "$run/history.csv" '^epoch,.*,val_auc,'
expect_file labels-metrics "$run/metrics.json" '"name": "raw_cosine"'
expect_file labels-config "$run/config.ini" '^input = 8$'
expect_file labels-test-pairs "$run/test_pairs.csv" '^left,right,target$'
expect_file labels-split "$run/split.csv" '^[0-9]+,validation$'
expect labels-eval 0 '^constant_mean +0.2500' -- "$siamcl" eval "$run" --json "$tmp/eval.json"
expect_file labels-eval-json "$tmp/eval.json" '"knn_accuracy"'
expect labels-eval-data 0 '^raw_cosine ' -- "$siamcl" eval "$run" --data "$v/train.npy"
expect labels-embed 0 '30 embeddings of 8 values' -- "$siamcl" embed "$run" "$v/test.npy" -o "$tmp/emb.npy"
expect_file labels-embed-npy "$tmp/emb.npy" "'shape': \(30, 8\)"
expect labels-score 0 '60 scores written' -- "$siamcl" score "$run" "$run/test_pairs.csv" --vectors "$v/test.npy" -o "$tmp/scores.csv"
expect_file labels-score-csv "$tmp/scores.csv" '^left,right,target,score$'
expect labels-search 0 "^query: .*queries.npy:1$" -- "$siamcl" search "$run" "$v/test.npy" -k 3 "$v/queries.npy"
expect labels-triplet 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/labels.ini" -o train.loss=triplet -o train.mining=batch_all -o output.dir="$tmp/labels_triplet"
expect labels-search-rows 0 '^  3 +-?[0-9.]+  [0-9]+$' -- "$siamcl" search "$run" "$v/test.npy" -k 3 "$v/queries.npy"
ls "$run"/model.search-*.npy >/dev/null 2>&1 && expect_file labels-search-cache "$tmp/labels.ini" . || expect_file labels-search-cache /nonexistent .

# ---- pairs from class labels, the test set a share of the rows ----
sed -e '/^test/d' -e 's/^validation = 0.2$/validation = 0.2\ntest_fraction = 0.25/' "$tmp/labels.ini" >"$tmp/split.ini"
srun=$tmp/split
expect split-train 0 'test: 46 pairs' -- "$siamcl" train "$tmp/split.ini" -o output.dir="$srun"
expect_file split-split "$srun/split.csv" '^[0-9]+,test$'
[ "$(grep -c ',test$' "$srun/split.csv")" -eq 23 ] && expect_file split-test-rows "$srun/split.csv" . || expect_file split-test-rows /nonexistent .

# ---- graded pairs from a CSV, split by group ----
cat >"$tmp/pairs.ini" <<EOT
[data]
format = npy
path = $v/train.npy
pairs = $v/pairs.csv
group = group
split = 60,20,20

$model
EOT
prun=$tmp/pairs
expect pairs-train 0 '^raw_cosine +[0-9.]+ ' -- "$siamcl" train "$tmp/pairs.ini" -o output.dir="$prun"
expect_file pairs-history "$prun/history.csv" 'val_spearman'
expect_file pairs-split "$prun/split.csv" '^[0-9]+,(train|validation|test)$'
expect_file pairs-metrics "$prun/metrics.json" '"spearman"'
expect pairs-eval 0 '^constant_mean +[0-9.]+ ' -- "$siamcl" eval "$prun"
expect pairs-embed 0 '90 embeddings of 8 values' -- "$siamcl" embed "$prun" "$v/train.npy" -o "$tmp/pemb.npy"
expect pairs-score 0 '150 scores written' -- "$siamcl" score "$prun" "$v/pairs.csv" --vectors "$v/train.npy" -o "$tmp/pscores.csv"
expect pairs-retrieval 0 'queries .the distinct left vectors.' -- "$siamcl" eval "$prun" --retrieval
expect_file pairs-score-csv "$tmp/pscores.csv" '^left,right,target,group,score$'
expect pairs-search 0 '^  1 +-?[0-9.]+  [0-9]+$' -- "$siamcl" search "$prun" "$v/train.npy" -k 2 "$v/queries.npy"

# ---- 0/1 pairs whose right sides are another set of vectors ----
cat >"$tmp/right.ini" <<EOT
[data]
format = npy
path = $v/train.npy
pairs = $v/pairs_right.csv
right_vectors = $v/right.npy

$model
EOT
rrun=$tmp/right
expect right-train 0 '^siamcl +[0-9.]+ ' -- "$siamcl" train "$tmp/right.ini" -o output.dir="$rrun"
expect_file right-history "$rrun/history.csv" 'val_auc'
expect right-eval 0 '^raw_cosine +[0-9.]+ ' -- "$siamcl" eval "$rrun"

# ---- bad input: one message naming the file, exit 2 ----
npy "$tmp/int.npy" '<i4' False '(90, 8)' 2880
expect npy-dtype 2 "int.npy: dtype '<i4' is not supported" -- "$siamcl" train "$tmp/labels.ini" -o data.path="$tmp/int.npy" -o output.dir="$tmp/x"
npy "$tmp/fortran.npy" '<f4' True '(90, 8)' 2880
expect npy-fortran 2 'fortran.npy: Fortran-order arrays are not supported' -- "$siamcl" train "$tmp/labels.ini" -o data.path="$tmp/fortran.npy" -o output.dir="$tmp/x"
npy "$tmp/cube.npy" '<f4' False '(90, 2, 4)' 2880
expect npy-3d 2 'cube.npy: expected a 2-D array \(rows x columns\), found shape \(90, 2, 4\)' -- "$siamcl" train "$tmp/labels.ini" -o data.path="$tmp/cube.npy" -o output.dir="$tmp/x"
npy "$tmp/liar.npy" '<f4' False '(90, 8)' 16
expect npy-lying-header 2 'liar.npy: truncated: shape needs 2880 bytes of data, file holds 16' -- "$siamcl" train "$tmp/labels.ini" -o data.path="$tmp/liar.npy" -o output.dir="$tmp/x"
expect npy-missing 2 'no-such.npy' -- "$siamcl" train "$tmp/labels.ini" -o data.path="$tmp/no-such.npy" -o output.dir="$tmp/x"
expect labels-count 2 'test_labels.npy: 30 labels, but .*train.npy holds 90 vectors' -- "$siamcl" train "$tmp/labels.ini" -o data.labels="$v/test_labels.npy" -o output.dir="$tmp/x"
expect labels-float 2 "train.npy: dtype '<f4' is not an integer type" -- "$siamcl" train "$tmp/labels.ini" -o data.labels="$v/train.npy" -o output.dir="$tmp/x"
npy "$tmp/wide.npy" '<f4' False '(30, 5)' 600
expect test-width 2 'wide.npy: vectors of 5 values, but .*train.npy holds vectors of 8' -- "$siamcl" train "$tmp/labels.ini" -o data.test="$tmp/wide.npy" -o output.dir="$tmp/x"
expect right-width 2 'wide.npy: vectors of 5 values, but .*train.npy holds vectors of 8' -- "$siamcl" train "$tmp/right.ini" -o data.right_vectors="$tmp/wide.npy" -o output.dir="$tmp/x"
printf 'left,right,target\n0,1,1\n0,999,0\n' >"$tmp/range.csv"
expect pairs-triplet 2 'loss=triplet: triplet needs rows with class labels' -- "$siamcl" train "$tmp/pairs.ini" -o train.loss=triplet -o output.dir="$tmp/x"
expect pairs-out-of-range 2 'range.csv:3: right = 999 is not a row index of .*train.npy \(0..89\)' -- "$siamcl" train "$tmp/pairs.ini" -o data.pairs="$tmp/range.csv" -o output.dir="$tmp/x"
printf 'left,right,target\n-1,1,1\n' >"$tmp/negative.csv"
expect pairs-negative 2 'negative.csv:2: left = -1 is not a row index' -- "$siamcl" train "$tmp/pairs.ini" -o data.pairs="$tmp/negative.csv" -o output.dir="$tmp/x"
printf 'left,right,target\n1.5,1,1\n' >"$tmp/fraction.csv"
expect pairs-fraction 2 'fraction.csv:2: left = 1.5 is not a row index' -- "$siamcl" train "$tmp/pairs.ini" -o data.pairs="$tmp/fraction.csv" -o output.dir="$tmp/x"
printf 'left,right,target\n1,two,1\n' >"$tmp/word.csv"
expect pairs-not-a-number 2 "word.csv:2: column 'right': 'two' is not a number" -- "$siamcl" train "$tmp/pairs.ini" -o data.pairs="$tmp/word.csv" -o output.dir="$tmp/x"
printf 'left,right\n1,2\n' >"$tmp/notarget.csv"
expect pairs-no-target 2 "notarget.csv: no column 'target'" -- "$siamcl" train "$tmp/pairs.ini" -o data.pairs="$tmp/notarget.csv" -o output.dir="$tmp/x"
printf 'left,right,target\n0,44,1\n0,60,1\n' >"$tmp/right.csv"
expect right-out-of-range 2 'right.csv:3: right = 60 is not a row index of .*right.npy \(0..44\)' -- "$siamcl" train "$tmp/right.ini" -o data.pairs="$tmp/right.csv" -o output.dir="$tmp/x"

# ---- the keys ----
printf '[data]\nformat = npy\npath = %s\n' "$v/train.npy" >"$tmp/neither.ini"
expect neither-key 2 'format = npy needs \[data\] labels = FILE.npy .* or \[data\] pairs = FILE.csv' -- "$siamcl" train "$tmp/neither.ini"
expect both-keys 2 'pairs=.*: \[data\] labels and pairs are two ways to pair the vectors' -- "$siamcl" train "$tmp/labels.ini" -o data.pairs="$v/pairs.csv"
printf '[data]\nformat = npy\nlabels = %s\n' "$v/train_labels.npy" >"$tmp/nopath.ini"
expect no-path 2 '\[data\] path: format = npy needs the .npy file of vectors' -- "$siamcl" train "$tmp/nopath.ini"
grep -v '^test_labels' "$tmp/labels.ini" >"$tmp/nolabels.ini"
expect test-without-labels 2 'nolabels.ini:5: \[data\] test = .*needs \[data\] test_labels' -- "$siamcl" train "$tmp/nolabels.ini"
grep -v '^test =' "$tmp/labels.ini" >"$tmp/notest.ini"
expect labels-without-test 2 'notest.ini:5: \[data\] test_labels = .*needs \[data\] test' -- "$siamcl" train "$tmp/notest.ini"
# with_key NAME INI LINE: INI with LINE added to [data] (line 3), as NAME.ini
with_key() { sed "2a $3" "$2" >"$tmp/$1.ini"; }
with_key fraction "$tmp/labels.ini" 'test_fraction = 0.3'
expect fraction-with-test 2 'fraction.ini:3: unknown key \[data\] test_fraction' -- "$siamcl" train "$tmp/fraction.ini"
with_key group "$tmp/labels.ini" 'group = g'
expect group-with-labels 2 'group.ini:3: unknown key \[data\] group' -- "$siamcl" train "$tmp/group.ini"
with_key splitkey "$tmp/labels.ini" 'split = 70,10,20'
expect split-with-labels 2 'splitkey.ini:3: unknown key \[data\] split' -- "$siamcl" train "$tmp/splitkey.ini"
with_key validation "$tmp/pairs.ini" 'validation = 0.2'
expect validation-with-pairs 2 'validation.ini:3: unknown key \[data\] validation' -- "$siamcl" train "$tmp/validation.ini"
with_key testkey "$tmp/pairs.ini" "test = $v/test.npy"
expect test-with-pairs 2 'testkey.ini:3: unknown key \[data\] test' -- "$siamcl" train "$tmp/testkey.ini"
expect bad-split 2 'split.*adding up to 100' -- "$siamcl" train "$tmp/pairs.ini" -o data.split=50,10,10

# ---- the commands' own files ----
expect embed-width 2 'wide.npy: vectors of 5 values, but the model takes 8' -- "$siamcl" embed "$run" "$tmp/wide.npy" -o "$tmp/e.npy"
expect embed-column 2 '--column and --encoding are for text models' -- "$siamcl" embed "$run" "$v/test.npy" --column x -o "$tmp/e.npy"
expect embed-not-npy 2 'pairs.csv: not a .npy file' -- "$siamcl" embed "$run" "$v/pairs.csv" -o "$tmp/e.npy"
expect score-no-vectors 2 'score: a vector model needs --vectors FILE.npy' -- "$siamcl" score "$run" "$run/test_pairs.csv" -o "$tmp/s.csv"
printf 'left,right\n0,30\n' >"$tmp/badpairs.csv"
expect score-bad-index 2 'badpairs.csv:2: right = 30 is not a row index \(0..29\)' -- "$siamcl" score "$run" "$tmp/badpairs.csv" --vectors "$v/test.npy" -o "$tmp/s.csv"
expect search-query-width 2 'wide.npy: vectors of 5 values, but the model takes 8' -- "$siamcl" search "$run" "$v/test.npy" "$tmp/wide.npy"
expect search-column 2 '--column and --encoding are for text models' -- "$siamcl" search "$run" "$v/test.npy" --column x "$v/queries.npy"

finish
