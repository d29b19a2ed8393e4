#!/usr/bin/env bash
# siamcl search on real catalogs: queries from a file, standard input or a CSV column; ids from
# a column or a file; csv and jsonl output; a catalog of embeddings. Its best k equal the best
# k of `siamcl score` over every (query, row) pair, by both ways of ranking (one product for a
# cosine or euclidean head, the head itself for an mlp head). Bad input: one line, exit 2.
# usage: search_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
source "$(dirname "$0")/cli_lib.sh"
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
train=$'[train]\nbatch_size = 16\nepochs = 2\nlr = 1e-2'
catalog=$data/tiny_text.csv
{ text_config "$data" 4096; echo "$train"; } >"$tmp/mlp.ini"
grep -Ev '^(head|head_layers|output|target_min|target_max) =' "$tmp/mlp.ini" >"$tmp/cosine.ini"
"$siamcl" train "$tmp/mlp.ini" -o output.dir="$tmp/mlp" >/dev/null 2>&1
"$siamcl" train "$tmp/cosine.ini" -o output.dir="$tmp/cosine" >/dev/null 2>&1
printf 'cordless drill\ndeck screws\n' >"$tmp/queries.txt"

# jsonl_fields: query, text and score of search's jsonl lines, tab-separated
jsonl_fields() {
  sed 's/^{"query": "\([^"]*\)", "rank": [0-9]*, "id": "[^"]*", "text": "\([^"]*\)", "score": \([^,]*\),.*/\1\t\2\t\3/'
}
# same_as_score NAME RUN: search's best 5 of each query (text, score) are score's best 5 of
# the query against every distinct title (within 1e-5: score writes 6 decimals)
same_as_score() {
  "$siamcl" search "$2" "$catalog" --column product_title --queries "$tmp/queries.txt" -k 5 --format jsonl 2>"$tmp/err" | jsonl_fields >"$tmp/got" || { fail "$1"; cat "$tmp/err"; return; }
  # the catalog: its 30 distinct titles, as a search of all of it lists them
  "$siamcl" search "$2" "$catalog" --column product_title -k 128 --format jsonl x 2>/dev/null | jsonl_fields | cut -f2 >"$tmp/titles"
  { echo search_term,product_title; while read -r q; do sed "s/.*/\"$q\",\"&\"/" "$tmp/titles"; done <"$tmp/queries.txt"; } >"$tmp/pairs.csv"
  "$siamcl" score "$2" "$tmp/pairs.csv" -o "$tmp/scores.jsonl" --encoding utf-8 2>"$tmp/err" || { fail "$1"; cat "$tmp/err"; return; }
  # per query: score's 5 highest (ties: as search breaks them, the catalog's earlier row)
  paste -d'\t' <(sed 1d "$tmp/pairs.csv" | sed 's/^"\([^"]*\)","\(.*\)"$/\1\t\2/') <(sed 1d "$tmp/scores.jsonl" | awk -F, '{print $NF}') |
    awk -F'\t' '{print $1 "\t" (NR % 30) "\t" $2 "\t" $3}' | sort -t$'\t' -s -k1,1 -k4,4gr |
    awk -F'\t' '{if (++n[$1] <= 5) print $1 "\t" $3 "\t" $4}' >"$tmp/want"
  if [ "$(wc -l <"$tmp/titles")" -eq 30 ] && [ "$(wc -l <"$tmp/got")" -eq 10 ] && paste "$tmp/got" "$tmp/want" |
    awk -F'\t' '{d = $3 - $6; if (d < 0) d = -d; if ($1 != $4 || $2 != $5 || d > 1e-5) bad = 1} END {exit bad}'; then
    pass "$1"
  else
    fail "$1"; paste "$tmp/got" "$tmp/want" | sed 's/^/    /'
  fi
}
same_as_score cosine-by-product "$tmp/cosine"
same_as_score mlp-through-head "$tmp/mlp"

expect queries-stdin 0 '^drill,1,' -- sh -c "echo drill | '$siamcl' search '$tmp/mlp' '$catalog' --column product_title --queries - -k 1 --format csv"
expect queries-column 0 '^saw led,1,' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --queries "$catalog" --queries-column search_term -k 1 --format csv
expect id-column 0 '"id": "1[0-9][0-9]", "text": ' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --id-column product_uid -k 2 --format jsonl drill
expect table-names-scores 0 '^scores: mlp mapped onto 1..3$' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title drill
expect k-past-catalog 0 '^ 30  ' -- "$siamcl" search "$tmp/cosine" "$catalog" --column product_title -k 1000 drill
# a model of small batches (a batch-wise loss scores 8 pairs at a time) keeps 20 hits a query
"$siamcl" train "$tmp/cosine.ini" -o train.loss=cosent -o train.batch_size=8 -o output.dir="$tmp/small" >/dev/null 2>&1
expect small-batches 0 '^ 20  ' -- "$siamcl" search "$tmp/small" "$catalog" --column product_title -k 20 drill

# vectors: a catalog of embeddings with ids, equal to the catalog of inputs
v=$data/vectors
printf '[data]\nformat = npy\npath = %s/train.npy\nlabels = %s/train_labels.npy\nvalidation = 0.2\n\n[model]\nlayers = 16,8\nhead = euclidean\n\n%s\n' "$v" "$v" "$train" >"$tmp/vec.ini"
"$siamcl" train "$tmp/vec.ini" -o output.dir="$tmp/vec" >/dev/null 2>&1
"$siamcl" embed "$tmp/vec" "$v/test.npy" -o "$tmp/emb.npy" 2>/dev/null
seq 100 129 >"$tmp/ids.txt"
"$siamcl" search "$tmp/vec" "$v/test.npy" -k 3 --format csv "$v/queries.npy" 2>/dev/null | cut -d, -f2,3,5 >"$tmp/inputs.out"
"$siamcl" search "$tmp/vec" "$tmp/emb.npy" --embeddings --ids "$tmp/ids.txt" -k 3 --format csv --queries "$v/queries.npy" 2>/dev/null | cut -d, -f2,3,5 >"$tmp/emb.out"
if [ "$(wc -l <"$tmp/inputs.out")" -eq 7 ] && paste -d, "$tmp/inputs.out" "$tmp/emb.out" | sed 1d |
  awk -F, '{if ($1 != $4 || $2 + 100 != $5 || $3 != $6) bad = 1} END {exit bad}'; then
  pass embeddings-catalog-with-ids
else
  fail embeddings-catalog-with-ids; paste -d'|' "$tmp/inputs.out" "$tmp/emb.out" | sed 's/^/    /'
fi

printf '\xff\n' >"$tmp/bad.txt"
expect queries-bad-utf8 2 'bad.txt:1: invalid UTF-8 .byte 0xFF.' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --queries "$tmp/bad.txt"
expect id-column-missing 2 "no column 'sku'" -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --id-column sku drill
expect k-zero 2 'search: -k 0: expected a count of at least 1' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title -k 0 drill
# a catalog of 130 distinct texts
{ echo product_title; for i in $(seq 130); do echo "item $i"; done; } >"$tmp/big.csv"
expect k-past-max 2 'search: -k 200: at most 128 results a query' -- "$siamcl" search "$tmp/mlp" "$tmp/big.csv" --column product_title -k 200 drill
expect format-unknown 2 'search: --format xml: expected table, csv or jsonl' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --format xml drill
expect queries-twice 2 'search: queries as arguments or --queries FILE, not both' -- "$siamcl" search "$tmp/mlp" "$catalog" --column product_title --queries "$tmp/queries.txt" drill
expect embeddings-wrong-width 2 'f4_2x3.npy: rows of 3 values; the model.s embeddings have 8' -- "$siamcl" search "$tmp/mlp" "$data/npy/f4_2x3.npy" --embeddings drill
expect ids-count 2 'ids.txt: 30 ids for a catalog of 90 rows' -- "$siamcl" search "$tmp/vec" "$v/train.npy" --ids "$tmp/ids.txt" "$v/queries.npy"
finish
