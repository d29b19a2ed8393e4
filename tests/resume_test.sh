#!/usr/bin/env bash
# Runs that survive SIGKILL: a training run killed at random moments (its state saved every step
# or two, for text a table of 65536 rows whose state (4 MiB of weights, the moments' touched rows)
# takes a while to write, so that kills land
# in checkpoint writes) and resumed each time ends with the same
# weights, history (but for seconds and pairs/s) and test metrics as an uninterrupted run; after
# every kill each checkpoint in the run directory loads. Then a full disk, a second process on
# one run directory, a finished run, refused changes of config, and a diverged run.
# usage: resume_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
source "$(dirname "$0")/cli_lib.sh"
kills=${SIAMCL_TEST_KILLS:-12}

# The image run is long enough for every kill to land before it ends (12 epochs ran out after
# 7 kills once: each resumed run trains for a random 0-0.3 s before its kill).
{
  image_config "$data"
  cat <<EOT
[train]
batch_size = 4
epochs = 24
patience = 0
lr = 1e-2
checkpoint_every = 1
EOT
} >"$tmp/image.ini"
{
  text_config "$data" 65536
  cat <<EOT
[train]
batch_size = 4
epochs = 12
patience = 0
lr = 1e-2
checkpoint_every = 2
EOT
} >"$tmp/text.ini"

# The tensor bytes of a safetensors file, its header (which holds the config and so the run
# directory's name) left out.
tensor_bytes() {
  local len
  len=$(od -An -t u8 -N8 "$1" | tr -d ' ')
  tail -c +$((9 + len)) "$1" | cksum
}

# same NAME A B: the two run directories agree in weights, history and test metrics.
same() {
  local a=$1 b=$2 name=$3
  if [ "$(tensor_bytes "$a/model.safetensors")" = "$(tensor_bytes "$b/model.safetensors")" ] &&
    cmp -s <(cut -d, -f1-6 "$a/history.csv") <(cut -d, -f1-6 "$b/history.csv") &&
    cmp -s <(sed -n '/"rows"/,$p' "$a/metrics.json") <(sed -n '/"rows"/,$p' "$b/metrics.json"); then
    expect_file "$name" "$b/metrics.json" rows
  else
    expect_file "$name" /nonexistent .
    diff <(cut -d, -f1-6 "$a/history.csv") <(cut -d, -f1-6 "$b/history.csv") | sed 's/^/    /'
  fi
}

# Every checkpoint of a run directory loads; no other file is taken for one.
checkpoints_load() {
  local dir=$1 f
  for f in "$dir"/*.safetensors; do
    [ -e "$f" ] || continue
    "$siamcl" eval "$f" >/dev/null 2>"$tmp/load.err" || {
      echo "    $f does not load: $(cat "$tmp/load.err")"
      return 1
    }
  done
}

# kill_and_resume NAME CONFIG: trains CONFIG into $tmp/NAME-b, SIGKILLing it $kills times at
# random moments after its first save and resuming it each time, then to its end.
kill_and_resume() {
  local name=$1 config=$2 dir=$tmp/$1-b killed=0 midwrite=0 midepoch=0 broken=0 status
  "$siamcl" train "$config" -o output.dir="$dir" >/dev/null 2>"$tmp/resume.err" &
  local pid=$!
  while [ "$killed" -lt "$kills" ]; do
    # past the start (the first save of a fresh run, the resumed position of a resumed one),
    # then a random moment within the next 0.3 s
    for _ in $(seq 1000); do
      [ -s "$dir/last.safetensors" ] && grep -q '^siamcl: training' "$tmp/resume.err" && break
      sleep 0.01
    done
    sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    status=$?
    grep -q 'resuming at epoch [0-9]*, step [1-9]' "$tmp/resume.err" 2>/dev/null && midepoch=$((midepoch + 1))
    if [ "$status" -eq 137 ]; then
      killed=$((killed + 1))
      ls "$dir" | grep -q '\.tmp\.' && midwrite=$((midwrite + 1))
      checkpoints_load "$dir" || broken=$((broken + 1))
    elif [ "$status" -eq 0 ]; then
      break # finished before the kill
    else
      echo "    resume of $name exited $status"
      broken=$((broken + 1))
      break
    fi
    "$siamcl" train --resume "$dir" >/dev/null 2>"$tmp/resume.err" &
    pid=$!
  done
  wait "$pid" 2>/dev/null
  "$siamcl" train --resume "$dir" >"$tmp/$name-b.out" 2>"$tmp/resume.err"
  echo "    $name: $killed kills ($midwrite left a temporary file, a write under way), $midepoch resumed mid-epoch, $broken broken"
  [ "$killed" -eq "$kills" ] && [ "$broken" -eq 0 ] && expect_file "$name-kills" "$tmp/$name-b.out" . || expect_file "$name-kills" /nonexistent .
  "$siamcl" train "$config" -o output.dir="$tmp/$name-a" >"$tmp/$name-a.out" 2>/dev/null
  same "$tmp/$name-a" "$dir" "$name-resumed-is-identical"
}

kill_and_resume image "$tmp/image.ini"
kill_and_resume text "$tmp/text.ini"

# what a kill in the middle of a write leaves: a partial file under a temporary name, which no
# reader takes for a checkpoint and a resume removes
run=$tmp/text-b
head -c 1000 "$run/last.safetensors" >"$run/last.safetensors.tmp.99999"
checkpoints_load "$run" && expect resume-over-partial 0 'finished .*nothing to resume' -- "$siamcl" train --resume "$run"
[ ! -e "$run/last.safetensors.tmp.99999" ] && expect_file partial-removed "$run/last.safetensors" . || expect_file partial-removed /nonexistent .

run=$tmp/image-a
expect resume-finished 0 'finished .*nothing to resume' -- "$siamcl" train --resume "$run"
expect resume-extend 0 '^siamcl +[0-9.]' -- "$siamcl" train --resume "$run" -o train.epochs=25
expect_file resume-extended "$run/history.csv" '^25,'
expect resume-refuses-change 2 'o train.lr=1: a resumed run keeps its config' -- "$siamcl" train --resume "$run" -o train.lr=1
expect resume-empty-dir 2 'train --resume: an empty RUN_DIR' -- "$siamcl" train --resume ""
expect resume-not-a-run 2 'not a run directory \(no config.ini\)' -- "$siamcl" train --resume "$tmp"
expect resume-with-config 2 'expected one CONFIG, or --resume RUN_DIR alone' -- "$siamcl" train "$tmp/image.ini" --resume "$run"
mkdir -p "$tmp/nostate" && cp "$run/config.ini" "$tmp/nostate/"
expect resume-no-state 2 'no last.safetensors' -- "$siamcl" train --resume "$tmp/nostate"
expect resume-model-file 2 'no run state' -- sh -c "cp '$run/model.safetensors' '$tmp/nostate/last.safetensors' && '$siamcl' train --resume '$tmp/nostate'"

# a second process on a run directory is refused while the first trains
"$siamcl" train "$tmp/image.ini" -o train.epochs=200 -o train.checkpoint_every=0 -o output.dir="$tmp/locked" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 500); do
  [ -s "$tmp/locked/history.csv" ] && break
  sleep 0.01
done
expect lock 2 "another siamcl train \\(pid $pid\\) is using this run directory" -- "$siamcl" train "$tmp/image.ini" -o output.dir="$tmp/locked"
kill -9 $pid
wait $pid 2>/dev/null

# a full disk (a file-size limit) during a save: the previous checkpoint stays as it was. The
# text model's state (a table of 65536 x 16: 4 MiB of weights, and its moments' touched rows)
# is larger than what the OpenCL compiler writes, which the limit must let through.
full=$tmp/full
"$siamcl" train "$tmp/text.ini" -o train.epochs=1 -o train.checkpoint_every=0 -o output.dir="$full" >/dev/null 2>&1
cp "$full/last.safetensors" "$tmp/last.before"
# a state written before the table's moments kept only touched rows (every row, no
# state.table_rows) still resumes, to the same end as the file it was made from
rm -rf "$tmp/dense" && cp -r "$full" "$tmp/dense" && rm -f "$tmp/dense/.lock"
/usr/bin/python3 - "$tmp/dense/last.safetensors" <<'PY'
import json, struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    data = f.read()
meta = head.pop("__metadata__")
rows = head.pop("state.table_rows")
b, e = rows["data_offsets"]
marks = struct.unpack("<%df" % ((e - b) // 4), data[b:e])
width = head["tower.0.weight"]["shape"][1]
out, tensors = bytearray(), {"__metadata__": meta}
for name, t in sorted(head.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    b, e = t["data_offsets"]
    blob = data[b:e]
    if name in ("state.table_m", "state.table_v"):
        row, blob, k = 4 * width, bytearray(), 0
        for m in marks:
            blob += data[b + k * row:b + (k + 1) * row] if m else bytes(row)
            k += m == 1.0
        t["shape"] = [len(marks) * width]
    tensors[name] = dict(t, data_offsets=[len(out), len(out) + len(blob)])
    out += blob
text = json.dumps(tensors).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + out)
PY
if grep -qa state.table_rows "$tmp/dense/last.safetensors" ||
  [ "$(stat -c %s "$tmp/dense/last.safetensors")" -le "$(stat -c %s "$full/last.safetensors")" ]; then
  expect_file dense-state-made /nonexistent .
else
  expect_file dense-state-made "$tmp/dense/last.safetensors" state.table_m
fi
expect dense-state-resumes 0 '^siamcl +[0-9.]' -- "$siamcl" train --resume "$tmp/dense" -o train.epochs=2
size=$(stat -c %s "$full/last.safetensors")
expect disk-full 1 "cannot write .*last.safetensors: File too large" -- bash -c "trap '' XFSZ; ulimit -f $((size / 1024 - 64)); exec '$siamcl' train --resume '$full' -o train.epochs=2"
cmp -s "$full/last.safetensors" "$tmp/last.before" && ! ls "$full" | grep -q '\.tmp\.' && expect_file disk-full-intact "$full/last.safetensors" . || expect_file disk-full-intact /nonexistent .
expect disk-full-resumes 0 '^siamcl +[0-9.]' -- "$siamcl" train --resume "$full" -o train.epochs=2
same "$full" "$tmp/dense" dense-state-same-end

# the table's moments keep only the rows a step touched: a row mark other than 0 or 1, or marks
# that count more rows than the file holds, are refused naming the file
mark_row() { # mark_row FILE ROW|first-zero VALUE: rewrites one row's mark in state.table_rows
  /usr/bin/python3 - "$@" <<'PY'
import json, struct, sys
path, row, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    begin, end = json.loads(f.read(n))["state.table_rows"]["data_offsets"]
    f.seek(8 + n + begin)
    marks = struct.unpack("<%df" % ((end - begin) // 4), f.read(end - begin))
    r = marks.index(0.0) if row == "first-zero" else int(row)
    f.seek(8 + n + begin + 4 * r)
    f.write(struct.pack("<f", value))
PY
}
for bad in mark count; do
  rm -rf "$tmp/$bad" && cp -r "$full" "$tmp/$bad" && rm -f "$tmp/$bad/.lock"
done
mark_row "$tmp/mark/last.safetensors" 0 2
mark_row "$tmp/count/last.safetensors" first-zero 1
expect table-rows-mark 2 'mark/last.safetensors: state.table_rows holds 2 for row 0, not 0 or 1' -- "$siamcl" train --resume "$tmp/mark" -o train.epochs=3
expect table-rows-count 2 "count/last.safetensors: state.table_m holds [0-9]+ values, the model's state needs [0-9]+" -- "$siamcl" train --resume "$tmp/count" -o train.epochs=3

# a diverged run stops at once with epoch and step; a useless one ends with a warning
expect diverged 3 'training diverged: the loss is not finite at epoch 1, step [0-9]+; try a lower \[train\] lr' -- "$siamcl" train "$tmp/image.ini" -o model.head=mlp -o train.optimizer=sgd -o train.lr=10 -o train.checkpoint_every=0 -o output.dir="$tmp/nan"
expect constant-warning 0 'warning: the best validation AUC .* no better than a constant' -- "$siamcl" train "$tmp/image.ini" -o train.lr=10 -o model.activation=relu -o model.head=euclidean -o train.epochs=2 -o train.checkpoint_every=0 -o output.dir="$tmp/flat"

finish
