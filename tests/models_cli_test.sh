#!/usr/bin/env bash
# The losses, pair features, dropout and ensembles from the command line: each trains on the
# tiny fixtures and its model serves eval, score and search; each bad setting is one clear line
# naming the file, line and key, and exit status 2.
# usage: models_cli_test.sh SIAMCL DATA_DIR
set -u
siamcl=$1
data=$2
source "$(dirname "$0")/cli_lib.sh"

{
  image_config "$data"
  cat <<EOT
[train]
batch_size = 16
epochs = 2
lr = 1e-2
EOT
} >"$tmp/images.ini"
for loss in triplet online_contrastive cosent; do
  expect "train-$loss" 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/images.ini" -o train.loss=$loss -o output.dir="$tmp/$loss"
done
expect train-batch-all 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/images.ini" -o train.loss=triplet -o train.mining=batch_all -o train.monitor=quality -o output.dir="$tmp/all"
expect_file monitor-quality "$tmp/all/history.csv" '^2,'
expect eval-triplet 0 '^siamcl +[0-9.]+' -- "$siamcl" eval "$tmp/triplet"
expect bench-triplet 0 'train pairs/s' -- "$siamcl" bench "$tmp/images.ini" -o train.loss=triplet -o train.mining=batch_all --batch 8 --seconds 0.05
expect train-dropout 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/images.ini" -o model.dropout=0.3 -o output.dir="$tmp/dropout"

{
  text_config "$data" 1024
  cat <<EOT
pair_features = overlap
dropout = 0.2

[train]
batch_size = 8
epochs = 2
lr = 1e-2
EOT
} >"$tmp/overlap.ini"
orun=$tmp/overlap
expect overlap-train 0 '^constant_mean +0\.[0-9]+ ' -- "$siamcl" train "$tmp/overlap.ini" -o output.dir="$orun"
expect overlap-eval 0 '^siamcl +[0-9.]+' -- "$siamcl" eval "$orun"
expect overlap-score 0 '120 scores written' -- "$siamcl" score "$orun" "$data/tiny_text.csv" -o "$tmp/oscores.csv"
expect overlap-search 0 '^  1 +[0-9.]+  ' -- "$siamcl" search "$orun" "$data/tiny_text.csv" --column product_title -k 3 "cordless drill"
expect overlap-bench 0 'train pairs/s' -- "$siamcl" bench "$tmp/overlap.ini" --batch 8 --seconds 0.05
# a text model's plan is built and timed on the host
expect overlap-bench-plan 0 '"plan_ms_per_step": [0-9]+\.[0-9]{4}' -- "$siamcl" bench "$tmp/overlap.ini" --batch 8 --seconds 0.05 --json
expect overlap-ensemble 0 '^member_2 +[0-9.]+' -- "$siamcl" train "$tmp/overlap.ini" -o train.ensemble=2 -o output.dir="$tmp/oens"
expect ensemble-search 0 '^  1 +[0-9.]+  ' -- "$siamcl" search "$tmp/oens" "$data/tiny_text.csv" --column product_title -k 3 "cordless drill"
ls "$tmp/oens"/member-2/model.search-*.npy >/dev/null 2>&1 && expect_file ensemble-search-caches "$tmp/overlap.ini" . || expect_file ensemble-search-caches /nonexistent .

printf '[data]\nformat = csv\npath = %s/tiny_text.csv\nencoding = latin-1\ngroup = product_uid\nsplit = 60,20,20\n\n[features]\nbuckets = 1024\n\n[model]\nlayers = 16,8\nactivation = tanh\n\n[train]\nloss = cosent\nbatch_size = 8\nepochs = 2\nlr = 1e-2\n' "$data" >"$tmp/text_cosent.ini"
expect cosent-graded 0 '^siamcl +[0-9.]+' -- "$siamcl" train "$tmp/text_cosent.ini" -o output.dir="$tmp/cosent_text"

# ---- an ensemble: members in their folders, scored together ----
erun=$tmp/ensemble
expect ensemble-train 0 '^member_2 +[0-9.]+' -- "$siamcl" train "$tmp/images.ini" -o train.ensemble=2 -o output.dir="$erun"
expect_file ensemble-member "$erun/member-2/config.ini" '^member = 1$'
expect_file ensemble-metrics "$erun/metrics.json" '"name": "member_1"'
expect ensemble-eval 0 'siamcl: the mean of 2 members' -- "$siamcl" eval "$erun"
expect ensemble-score 0 '120 scores written' -- "$siamcl" score "$erun" "$erun/test_pairs.csv" --images "$data/tiny/t10k-images-idx3-ubyte.gz" -o "$tmp/escores.csv"
expect ensemble-member-alone 0 '^siamcl +[0-9.]+' -- "$siamcl" eval "$erun/member-2"
expect ensemble-resume 0 'ensemble member 2 of 2' -- "$siamcl" train --resume "$erun" -o train.epochs=3

# ---- bad settings: the file, the line, the key ----
printf '[data]\nformat = csv\npath = %s/tiny_text.csv\nencoding = latin-1\ngroup = product_uid\nsplit = 60,20,20\n\n[train]\nloss = triplet\n' "$data" >"$tmp/text_triplet.ini"
expect triplet-without-labels 2 'text_triplet.ini:[0-9]+: .train. loss = .triplet.: triplet needs rows with class labels' -- "$siamcl" train "$tmp/text_triplet.ini" -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[model]\nhead = mlp\n\n[train]\nloss = triplet\n' "$data" >"$tmp/triplet_mlp.ini"
expect triplet-mlp-head 2 'triplet_mlp.ini: .train. loss = triplet needs a distance' -- "$siamcl" train "$tmp/triplet_mlp.ini" -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[train]\nloss = triplet\nmining = hardest\n' "$data" >"$tmp/mining.ini"
expect bad-mining 2 'mining.ini:6: .train. mining = .hardest.: expected one of none, batch_hard, batch_all' -- "$siamcl" train "$tmp/mining.ini" -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[model]\ndropout = 1\n' "$data" >"$tmp/dropout.ini"
expect dropout-one 2 'dropout.ini:5: .model. dropout = .1.: must be below 1' -- "$siamcl" train "$tmp/dropout.ini" -o output.dir="$tmp/x"
expect dropout-negative 2 'dropout' -- "$siamcl" train "$tmp/images.ini" -o model.dropout=-0.1 -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[model]\nhead = mlp\npair_features = overlap\n' "$data" >"$tmp/pf_images.ini"
expect pair-features-images 2 'pf_images.ini:6: .model. pair_features = .overlap.: overlap compares the two texts of a pair' -- "$siamcl" train "$tmp/pf_images.ini" -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[model]\npair_features = overlap\n' "$data" >"$tmp/pf_cosine.ini"
expect pair-features-cosine 2 'pf_cosine.ini:5: unknown key .model. pair_features .misspelt, or not used with these settings' -- "$siamcl" train "$tmp/pf_cosine.ini" -o output.dir="$tmp/x"
printf '[data]\npath = %s/tiny\n\n[train]\nensemble = 0\n' "$data" >"$tmp/ensemble0.ini"
expect ensemble-zero 2 'ensemble0.ini:5: .train. ensemble = .0.: expected an integer in 1..10' -- "$siamcl" train "$tmp/ensemble0.ini" -o output.dir="$tmp/x"
expect ensemble-embed 2 'embed takes one model, and this run directory is an ensemble of 2: name a member' -- "$siamcl" embed "$erun" "$data/tiny/t10k-images-idx3-ubyte.gz" -o "$tmp/e.npy"
# retrieval metrics of a text model's test rows; refused for an image model and a bad threshold
expect retrieval-text 0 '^word_overlap +[0-9.]+ +[0-9.]+' -- "$siamcl" eval "$orun" --retrieval --json "$tmp/retrieval.json"
expect_file retrieval-json "$tmp/retrieval.json" '"name": "random", "ndcg10": [0-9.]+, "mrr10"'
expect retrieval-ensemble 0 '^siamcl +[0-9.]+ +[0-9.]+' -- "$siamcl" eval "$tmp/oens" --retrieval --threshold 2.5
expect retrieval-image 2 'eval --retrieval: takes a text model or a vector model with a CSV of pairs .this one reads idx data.' -- "$siamcl" eval "$erun" --retrieval
expect retrieval-bad-threshold 2 'eval: --threshold high: expected a number' -- "$siamcl" eval "$orun" --retrieval --threshold high
expect threshold-alone 2 'eval: --threshold goes with --retrieval' -- "$siamcl" eval "$orun" --threshold 2
finish
