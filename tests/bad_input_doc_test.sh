#!/usr/bin/env bash
# docs/RELIABILITY.md's table of bad input is the one tools/bad_input_table makes from the
# command-line tests: a case added to a test script needs its row in the document, and a row
# needs its case.
# usage: bad_input_doc_test.sh SOURCE_DIR
set -u
cd "$1" || exit 2
passed=0
failed=0
while IFS= read -r row; do
  if grep -qxF -- "$row" docs/RELIABILITY.md; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL not in docs/RELIABILITY.md: $row (run tools/bad_input_table)"
  fi
done < <(tools/bad_input_table .)
# and no row of a case that the tests no longer check
while IFS= read -r row; do
  if tools/bad_input_table . | grep -qxF -- "$row"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL in docs/RELIABILITY.md but no test checks it: $row"
  fi
done < <(grep -E '^\| [a-z_]+_test\.sh \|' docs/RELIABILITY.md)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
