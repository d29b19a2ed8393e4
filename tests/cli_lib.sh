# The command-line tests' helpers (sourced): a temporary folder, counts, expect and
# expect_file, and the closing line. A script sets `set -u` and sources this file.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME STATUS PATTERN -- COMMAND...: the command exits with STATUS and its stderr (or
# stdout for status 0) matches the extended regular expression PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ] && grep -Eq -- "$pattern" "$tmp/out" "$tmp/err"; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got (want $want), output:"
    sed 's/^/    /' "$tmp/out" "$tmp/err"
  fi
}

# expect_file NAME FILE PATTERN: FILE exists and matches PATTERN.
expect_file() {
  if [ -f "$2" ] && grep -Eq -- "$3" "$2"; then
    passed=$((passed + 1))
    echo "ok   $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: $2 missing or without /$3/"
  fi
}

# The closing line, and the script's status.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# image_config DATA_DIR: the [data] and [model] sections of an image config on DATA_DIR/tiny,
# then a blank line; a script appends its own [train] section.
image_config() {
  cat <<EOT
[data]
path = $1/tiny
validation = 0.2

[model]
layers = 16,8
activation = tanh

EOT
}

# text_config DATA_DIR BUCKETS: the [data], [features] and [model] sections of a text config
# on DATA_DIR/tiny_text.csv hashed into BUCKETS features, then a blank line; a script appends
# its own [train] section.
text_config() {
  cat <<EOT
[data]
format = csv
path = $1/tiny_text.csv
encoding = latin-1
group = product_uid
split = 60,20,20

[features]
buckets = $2

[model]
layers = 16,8
activation = tanh
head = mlp
head_layers = 8
output = range
target_min = 1
target_max = 3

EOT
}
