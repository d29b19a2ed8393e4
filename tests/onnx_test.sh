#!/usr/bin/env bash
# siamcl export: image, vector and text models (a euclidean head on normalized embeddings, a
# cosine head, an mlp head on a mean bag with overlap features and a range map), each as the
# tower and as the scorer of pairs, pass Debian's onnx checker (full_check: shapes and types
# at opset 17) with the inputs, outputs and metadata the help names; tools/siamcl_features.py
# hashes texts as siamcl does for every feature setting; bad input is refused with one line.
# (The numbers themselves: tools/check_onnx, with onnxruntime.)
# usage: onnx_test.sh SIAMCL FEATURES_DUMP SOURCE_DIR DATA_DIR
set -u
siamcl=$1
dump=$2
src=$3
data=$4
source "$(dirname "$0")/cli_lib.sh"
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
train='[train]
batch_size = 16
epochs = 2
lr = 1e-2'

{ image_config "$data"; echo "$train"; } >"$tmp/image.ini"
{ printf '[data]\nformat = npy\npath = %s\nlabels = %s\nvalidation = 0.2\n\n[model]\nlayers = 16,8\n\n' \
  "$data/vectors/train.npy" "$data/vectors/train_labels.npy"; echo "$train"; } >"$tmp/vector.ini"
{ text_config "$data" 4096; echo "$train"; } >"$tmp/text.ini"
"$siamcl" train "$tmp/image.ini" -o model.head=euclidean -o model.normalize=true -o output.dir="$tmp/image" >/dev/null 2>&1
"$siamcl" train "$tmp/vector.ini" -o output.dir="$tmp/vector" >/dev/null 2>&1
"$siamcl" train "$tmp/text.ini" -o model.bag=mean -o model.pair_features=overlap -o output.dir="$tmp/text" >/dev/null 2>&1

# check NAME FILE INPUTS OUTPUT: the checker passes, and the graph has exactly these inputs
check() {
  if /usr/bin/python3 - "$2" "$3" "$4" >"$tmp/check.out" 2>&1 <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inputs = " ".join(i.name for i in m.graph.input)
outputs = " ".join(o.name for o in m.graph.output)
meta = {p.key: p.value for p in m.metadata_props}
assert inputs == sys.argv[2], f"inputs {inputs}"
assert outputs == sys.argv[3], f"outputs {outputs}"
assert m.opset_import[0].version == 17 and "[model]" in meta["siamcl.config"] and meta["siamcl.inputs"]
PY
  then pass "$1"; else fail "$1"; sed 's/^/    /' "$tmp/check.out"; fi
}
for kind in image vector text; do
  expect "$kind-export" 0 "$kind.onnx written: the tower" -- "$siamcl" export "$tmp/$kind" -o "$tmp/$kind.onnx"
  expect "$kind-export-pairs" 0 "pairs.onnx written: the scorer" -- "$siamcl" export "$tmp/$kind" --pairs -o "$tmp/$kind-pairs.onnx"
done
check image-checked "$tmp/image.onnx" rows embeddings
check image-pairs-checked "$tmp/image-pairs.onnx" "left_rows right_rows" scores
check vector-checked "$tmp/vector.onnx" rows embeddings
check vector-pairs-checked "$tmp/vector-pairs.onnx" "left_rows right_rows" scores
check text-checked "$tmp/text.onnx" "ids weights offsets" embeddings
check text-pairs-checked "$tmp/text-pairs.onnx" "left_ids left_weights left_offsets right_ids right_weights right_offsets pair_features" scores
# the two towers of a scorer share their parameters: it is not twice the tower's size
tower=$(stat -c %s "$tmp/text.onnx" 2>/dev/null || echo 0)
scorer=$(stat -c %s "$tmp/text-pairs.onnx" 2>/dev/null || echo 0)
[ "$tower" -gt 0 ] && [ "$scorer" -gt 0 ] && [ "$scorer" -lt $((tower * 11 / 10)) ] && pass shared-parameters || fail "shared-parameters: $scorer bytes against the tower's $tower"

# the Python featurizer against siamcl's, for each setting
cat >"$tmp/texts.txt" <<'EOT'
Cordless Drill, 18-Volt!
deck   screws 2-1/2 in.

a
ÉLAN café Über-Großes 30x30
!!! ... ---
x1y2z3 WORD word Word
EOT
for features in "trigrams = true" "unigrams = false" "bigrams = true" "trigrams = false
bigrams = true" "weighting = log
bigrams = true" "weighting = binary" "buckets = 16"; do
  { sed '/^\[features\]/,$d' "$tmp/text.ini"; printf '[features]\n%s\n\n' "$features"; sed -n '/^\[model\]/,$p' "$tmp/text.ini"; } >"$tmp/f.ini"
  name="features-$(echo "$features" | tr -d ' \n=' | tr '[:upper:]' '[:lower:]')"
  "$dump" "$tmp/f.ini" <"$tmp/texts.txt" >"$tmp/want" 2>&1
  /usr/bin/python3 "$src/tools/siamcl_features.py" "$tmp/f.ini" <"$tmp/texts.txt" >"$tmp/got" 2>&1
  if [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then pass "$name"; else fail "$name"; diff "$tmp/want" "$tmp/got" | head -5; fi
done

expect export-not-a-checkpoint 2 'tiny_text.csv' -- "$siamcl" export "$data/tiny_text.csv" -o "$tmp/x.onnx"
expect export-no-output 2 'export: expected MODEL -o MODEL.onnx' -- "$siamcl" export "$tmp/text"
[ ! -e "$tmp/x.onnx" ] && pass no-file-after-failure || fail no-file-after-failure
finish
