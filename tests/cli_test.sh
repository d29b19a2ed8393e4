#!/usr/bin/env bash
# The command line's answers to bad input: one clear line and exit status 2.
# usage: cli_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
source "$(dirname "$0")/cli_lib.sh"

printf '[device]\nselect = auto\n' >"$tmp/ok.ini"

expect help 0 'commands:' -- "$siamcl" --help
expect help-tuning-dir 0 'SIAMCL_TUNING_DIR' -- "$siamcl" --help
expect devices-help 0 'usage: siamcl devices' -- "$siamcl" devices --help
expect help-command 0 'usage: siamcl devices' -- "$siamcl" help devices
expect no-command 2 'usage:' -- "$siamcl"
expect unknown-command 2 "unknown command 'frobnicate'" -- "$siamcl" frobnicate
expect unknown-option 2 'unknown option --bogus' -- "$siamcl" devices --bogus
expect devices 0 '^\* ' -- "$siamcl" devices
# The config's device.select counts only without SIAMCL_DEVICE (which the rusticl pass sets).
expect devices-config 0 "chosen by 'auto'" -- env -u SIAMCL_DEVICE "$siamcl" devices "$tmp/ok.ini"
expect missing-config 2 'config /nonexistent.ini: No such file' -- "$siamcl" devices /nonexistent.ini
expect unreadable-config 2 "config $tmp: is a directory" -- "$siamcl" devices "$tmp"
expect bad-override 2 'expected section.key=value' -- "$siamcl" devices -o nodot
expect device-index 2 'device index 99 out of range' -- "$siamcl" devices --device 99
expect device-name 2 "device 'no-such-gpu' matches no device" -- "$siamcl" devices --device no-such-gpu
expect device-env 2 "device 'no-such-gpu' matches" -- env SIAMCL_DEVICE=no-such-gpu "$siamcl" devices
expect device-cli-over-env 0 "chosen by '0'" -- env SIAMCL_DEVICE=no-such-gpu "$siamcl" devices --device 0
expect device-config 2 "device 'nothing-like-this'" -- env -u SIAMCL_DEVICE "$siamcl" devices -o device.select=nothing-like-this
mkdir -p "$tmp/no-icds"
expect no-platform 2 'no OpenCL platform found: .*pocl-opencl-icd' -- env OCL_ICD_VENDORS="$tmp/no-icds" "$siamcl" devices

# ---- training, evaluation and inference on the tiny fixtures ----
{
  image_config "$data"
  cat <<EOT
[train]
batch_size = 16
epochs = 4
patience = 2
lr = 1e-2
EOT
} >"$tmp/tiny.ini"
run=$tmp/run
expect train 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/tiny.ini" -o output.dir="$run"
expect_file train-history "$run/history.csv" '^1,[0-9.]+,[0-9.]+'
expect_file train-metrics "$run/metrics.json" '"name": "raw_cosine"'
expect_file train-first-step "$run/metrics.json" '"first_step_seconds": [0-9]+\.[0-9]{3},'
expect_file train-config "$run/config.ini" '^input = 64$'
expect_file train-test-pairs "$run/test_pairs.csv" '^left,right,target$'
expect eval 0 '^constant_mean +0.2500' -- "$siamcl" eval "$run" --json "$tmp/eval.json"
expect_file eval-json "$tmp/eval.json" '"knn_accuracy"'
expect embed 0 '60 embeddings of 8 values' -- "$siamcl" embed "$run/model.safetensors" "$data/tiny/t10k-images-idx3-ubyte.gz" -o "$tmp/emb.npy"
expect_file embed-npy "$tmp/emb.npy" "'shape': \(60, 8\)"
expect score 0 '120 scores written' -- "$siamcl" score "$run" "$run/test_pairs.csv" --images "$data/tiny/t10k-images-idx3-ubyte.gz" -o "$tmp/scores.csv"
expect_file score-csv "$tmp/scores.csv" '^left,right,target,score$'
expect bench 0 'train pairs/s' -- "$siamcl" bench "$tmp/tiny.ini" --batch 4,16 --seconds 0.05
expect bench-json 0 '"train_pairs_per_s"' -- "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05 --json
# the host's time per step is measured; a dense first layer has no plan to build
expect_file bench-json-host "$tmp/out" '"host_ms_per_step": [0-9]+\.[0-9]{4}, "plan_ms_per_step": -1\.0000'
cp "$tmp/out" "$tmp/bench.json"
expect bench-products 0 '^ +8  16 x 16 x 8, B transposed +[0-9.]+ +[0-9.]+$' -- "$siamcl" bench "$tmp/tiny.ini" --batch 8 --products
expect bench-products-json 0 '"m": 16, "n": 16, "k": 8, "ta": 0, "tb": 1, "ms": [0-9.]+, "gflops"' -- "$siamcl" bench "$tmp/tiny.ini" --batch 8 --products --json

# ---- bad input: one message, exit 2, and the good checkpoint untouched ----
cp "$run/model.safetensors" "$tmp/good.safetensors"
printf '[train]\nbach_size = 16\n' >"$tmp/typo.ini"
expect unknown-key 2 "typo.ini:2: unknown key \\[train\\] bach_size" -- "$siamcl" train "$tmp/typo.ini" -o output.dir="$run"
printf '[model]\nlayers = 256,,x\n' >"$tmp/layers.ini"
expect bad-layers 2 "layers.ini:2: .model. layers = '256,,x': expected a comma-separated list" -- "$siamcl" train "$tmp/layers.ini"
expect bad-layers-override 2 'o model.layers=64,-3: expected a comma-separated list' -- "$siamcl" train "$tmp/tiny.ini" -o model.layers=64,-3 -o output.dir="$run"
expect bad-head 2 'expected one of cosine, euclidean, mlp' -- "$siamcl" train "$tmp/tiny.ini" -o model.head=siamese -o output.dir="$run"
expect bad-combination 2 'needs .model. head = cosine' -- "$siamcl" train "$tmp/tiny.ini" -o train.loss=softmax -o model.head=mlp -o output.dir="$run"
expect missing-data 2 'no-such-dir: no such folder' -- "$siamcl" train "$tmp/tiny.ini" -o data.path="$tmp/no-such-dir" -o output.dir="$run"
cmp -s "$run/model.safetensors" "$tmp/good.safetensors" && expect_file checkpoint-untouched "$tmp/tiny.ini" . || expect_file checkpoint-untouched /nonexistent .
expect missing-run-dir 2 'no-such-run.*No such file' -- "$siamcl" eval "$tmp/no-such-run"
head -c 500 "$tmp/good.safetensors" >"$tmp/truncated.safetensors"
expect truncated-checkpoint 2 'truncated' -- "$siamcl" eval "$tmp/truncated.safetensors"
printf 'PK\003\004 this is a zip file, not a checkpoint' >"$tmp/foreign.safetensors"
expect foreign-checkpoint 2 'foreign.safetensors: not a safetensors file' -- "$siamcl" eval "$tmp/foreign.safetensors"
expect embed-wrong-width 2 'images of 784 values, but the model takes 64' -- "$siamcl" embed "$run" /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz -o "$tmp/e.npy"
printf 'left,right\n0,999\n' >"$tmp/badpairs.csv"
expect score-bad-index 2 'badpairs.csv:2: right = 999 is not an image index' -- "$siamcl" score "$run" "$tmp/badpairs.csv" --images "$data/tiny/t10k-images-idx3-ubyte.gz" -o "$tmp/s.csv"
expect bench-bad-batch 2 'expected sizes like' -- "$siamcl" bench "$tmp/tiny.ini" --batch 8,x

# ---- text pairs: CSV, hashed features, sparse first layer, search ----
{
  text_config "$data" 1024
  cat <<EOT
[train]
batch_size = 8
epochs = 3
lr = 1e-2
EOT
} >"$tmp/text.ini"
trun=$tmp/textrun
expect text-train 0 '^constant_mean +0\.[0-9]+ ' -- "$siamcl" train "$tmp/text.ini" -o output.dir="$trun"
expect_file text-split "$trun/split.csv" '^[0-9]+,[0-9]+,(train|validation|test)$'
expect_file text-history "$trun/history.csv" 'val_spearman'
expect text-eval 0 '^siamcl +[0-9.]+ +[0-9.]+' -- "$siamcl" eval "$trun"
expect text-eval-file 0 'test: 120 rows' -- "$siamcl" eval "$trun" --data "$data/tiny_text.csv"
expect text-embed 0 '120 embeddings of 8 values' -- "$siamcl" embed "$trun" "$data/tiny_text.csv" --column product_title -o "$tmp/temb.npy"
expect text-score 0 '120 scores written' -- "$siamcl" score "$trun" "$data/tiny_text.csv" -o "$tmp/tscores.csv"
expect_file text-score-csv "$tmp/tscores.csv" '^"?id"?,"?product_uid"?,.*,score$'
expect text-embed-column 2 "no column 'name'" -- "$siamcl" embed "$trun" "$data/tiny_text.csv" --column name -o "$tmp/x.npy"
expect text-search 0 '^  1 +[0-9.]+  ' -- "$siamcl" search "$trun" "$data/tiny_text.csv" --column product_title -k 3 "cordless drill"
ls "$trun"/model.search-*.npy >/dev/null 2>&1 && expect_file text-search-cache "$tmp/text.ini" . || expect_file text-search-cache /nonexistent .
expect text-search-column 2 "no column 'title'.*product_title" -- "$siamcl" search "$trun" "$data/tiny_text.csv" --column title "drill"
expect text-search-images 2 'search needs a text model' -- "$siamcl" search "$run" "$data/tiny_text.csv" --column product_title "drill"
printf '"id","search_term","relevance"\n1,"a",2\n' >"$tmp/nocol.csv"
expect csv-missing-column 2 "nocol.csv: no column 'product_title'" -- "$siamcl" train "$tmp/text.ini" -o data.path="$tmp/nocol.csv" -o output.dir="$trun"
printf '"search_term","product_title","relevance","product_uid"\n"a","b",2,1\n"a","b,2,1\n' >"$tmp/quote.csv"
expect csv-unterminated-quote 2 'quote.csv:3: quoted field never closed' -- "$siamcl" train "$tmp/text.ini" -o data.path="$tmp/quote.csv" -o output.dir="$trun"
printf '"search_term","product_title","relevance","product_uid"\n"a","b",high,1\n' >"$tmp/target.csv"
expect csv-bad-target 2 "target.csv:2: column 'relevance': 'high' is not a number" -- "$siamcl" train "$tmp/text.ini" -o data.path="$tmp/target.csv" -o output.dir="$trun"
: >"$tmp/empty.csv"
expect csv-empty 2 'empty.csv: empty file' -- "$siamcl" train "$tmp/text.ini" -o data.path="$tmp/empty.csv" -o output.dir="$trun"
expect csv-bad-utf8 2 'tiny_text.csv:[0-9]+: invalid UTF-8' -- "$siamcl" train "$tmp/text.ini" -o data.encoding=utf-8 -o output.dir="$trun"
expect buckets-zero 2 'buckets' -- "$siamcl" train "$tmp/text.ini" -o features.buckets=0 -o output.dir="$trun"
expect buckets-not-power 2 'power of two' -- "$siamcl" train "$tmp/text.ini" -o features.buckets=1000 -o output.dir="$trun"
expect bad-split 2 'split' -- "$siamcl" train "$tmp/text.ini" -o data.split=50,10,10 -o output.dir="$trun"

# ---- errors are said once, by the command; a probe that finds nothing says nothing ----
"$siamcl" train "$tmp/typo.ini" -o output.dir="$run" >/dev/null 2>"$tmp/once.err"
[ "$(grep -c 'unknown key' "$tmp/once.err")" -eq 1 ] && expect_file error-once "$tmp/once.err" 'unknown key' || expect_file error-once /nonexistent .
sed '1s/"id"/"ident"/' "$data/tiny_text.csv" >"$tmp/noid.csv"
expect text-train-no-id 0 '^constant_mean' -- "$siamcl" train "$tmp/text.ini" -o data.path="$tmp/noid.csv" -o output.dir="$tmp/noid"
grep -q 'no column' "$tmp/err" && expect_file probe-silent /nonexistent . || expect_file probe-silent "$tmp/noid/split.csv" '^0,0,'

# ---- GEMM tuning: a stored file is applied at start; a bad one is refused by name ----
tune=$tmp/tuning
mkdir -p "$tune"
# siamcl's built-in set is for PoCL's CPU device; elsewhere CLBlast's own parameters run.
if "$siamcl" devices 2>/dev/null | grep -Eq '^\* +[0-9]+ +CPU .*Portable Computing Language \('; then
  expect tune-hint 0 "siamcl tune $tmp/tiny.ini. searches GEMM parameters for this very device" -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05
  expect tune-builtin 0 "GEMM parameters: siamcl's set for PoCL CPU devices" -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05
  # 16-row products pad to CLBlast's 64-row tiles: helper kernels in training and inference
  expect_file bench-helpers "$tmp/bench.json" '"helpers_per_step": [1-9][0-9]*\.[0-9]{2}, "infer_helpers_per_step": [1-9]'
else
  expect tune-hint 0 "CLBlast's default GEMM parameters; .siamcl tune $tmp/tiny.ini. searches faster ones" -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05
  grep -q "siamcl's set" "$tmp/err" && expect_file tune-builtin /nonexistent . || expect_file tune-builtin "$tmp/err" "^siamcl: device: "
  # CLBlast's own parameters: siamcl does not know its tiles, so it counts no helpers
  expect_file bench-helpers "$tmp/bench.json" '"helpers_per_step": -1\.00, "infer_helpers_per_step": -1\.00'
fi
expect tune-runs 0 'current parameters' -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" tune "$tmp/tiny.ini" --seconds 0.001
cat >"$tmp/params.ini" <<EOT
[Xgemm]
GEMMK = 0
KREG = 1
KWG = 16
KWI = 2
MDIMA = 8
MDIMC = 8
MWG = 32
NDIMB = 8
NDIMC = 8
NWG = 32
SA = 0
SB = 0
STRM = 0
STRN = 0
VWM = 4
VWN = 4

[XgemmDirect]
KWID = 2
MDIMAD = 8
MDIMCD = 8
NDIMBD = 8
NDIMCD = 8
PADA = 1
PADB = 1
VWMD = 2
VWND = 2
WGD = 16

[GemmRoutine]
XGEMM_MIN_INDIRECT_SIZE = 64
EOT
for f in "$tune"/*.ini; do rm -f "$f"; done
name=$(env SIAMCL_TUNING_DIR="$tune" "$siamcl" tune "$tmp/tiny.ini" --seconds 0.001 2>&1 | sed -n 's/.* on //p')
file="$tune/$(printf '%s' "$name" | tr -c 'A-Za-z0-9.\n-' '_').ini"
cp "$tmp/params.ini" "$file"
expect tune-applied 0 'GEMM parameters from .*tuning' -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05
# a set no device can run (XgemmDirect's tiles of 4096 x 4096 floats) is skipped with a line
sed 's/^WGD = 16$/WGD = 4096/' "$tmp/params.ini" >"$file"
expect tune-skipped 0 'skipped .*tuning/.*\.ini: GEMM parameters do not fit .*XgemmDirect: [0-9]+ bytes of local memory' -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05
cp "$tmp/params.ini" "$file"
sed -i 's/^KWG = 16$/KWG = sixteen/' "$file"
expect tune-bad-file 2 'tuning/.*\.ini:4: \[Xgemm\] KWG' -- env SIAMCL_TUNING_DIR="$tune" "$siamcl" bench "$tmp/tiny.ini" --batch 8 --seconds 0.05

# ---- Ctrl-C: finish the step, save, say where, exit 130 ----
"$siamcl" train "$tmp/tiny.ini" -o train.epochs=100000 -o train.patience=0 -o output.dir="$tmp/int" >"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 600); do
  [ -s "$tmp/int/model.safetensors" ] && break
  sleep 0.1
done
kill -INT $pid
wait $pid
status=$?
if [ "$status" -eq 130 ] && grep -q 'interrupted; the run.s state is saved to .*last.safetensors' "$tmp/int.err" && [ -s "$tmp/int/last.safetensors" ]; then
  passed=$((passed + 1))
  echo "ok   interrupt"
else
  failed=$((failed + 1))
  echo "FAIL interrupt: exit $status"
  sed 's/^/    /' "$tmp/int.err"
fi

finish
