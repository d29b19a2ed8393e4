#!/usr/bin/env bash
# The layering of docs/ARCHITECTURE.md, checked: no file of host/ (its module headers in
# host/siamcl/) or include/siamcl/ (the installed API) includes a header of a higher layer, the
# installed headers include nothing but each other, and every file has a layer (a new file is
# placed in the table below, beside its peers).
# usage: layering_test.sh SOURCE_DIR
set -u
cd "$1" || exit 2

# layer number of a file's stem; lower layers never include higher ones
declare -A layer
place() {
  local n=$1
  shift
  for stem in "$@"; do layer[$stem]=$n; done
}
place 0 status error config rng csr csv idx npy safetensors json atomic_file progress metrics pairs \
  features overlap report data_config retrieval
place 1 device runtime
place 2 gemm tune gemm_bench topk elementwise dense similarity loss optim sparse gather inputs
place 3 model model_config evaluate search
place 4 job job_model job_train
place 5 textdata task task_labels task_image task_text task_vectors task_vector_pairs
place 6 train train_ensemble epoch_prep dist checkpoint run_state run_dir
place 7 api siamcl onnx_export
names=(base runtime ops model job data train api cli)

passed=0
failed=0
fail() {
  failed=$((failed + 1))
  echo "FAIL $*"
}

for f in host/*.c host/*.h host/siamcl/*.h include/siamcl/*.h host/cli/*.c host/cli/*.h; do
  stem=$(basename "$f" | sed 's/\.[ch]$//')
  if [[ $f == host/cli/* ]]; then
    mine=8
  elif [ -z "${layer[$stem]+set}" ]; then
    fail "$f: no layer (add it to tests/layering_test.sh)"
    continue
  else
    mine=${layer[$stem]}
  fi
  while read -r inc; do
    dep=$(basename "$inc" .h)
    if [[ $f == include/* && ! -f include/$inc ]]; then
      fail "$f: an installed header includes $inc, which is not installed"
    elif [ -n "${layer[$dep]+set}" ] && [ "${layer[$dep]}" -gt "$mine" ]; then
      fail "$f (${names[$mine]}) includes $inc (${names[${layer[$dep]}]})"
    else
      passed=$((passed + 1))
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
