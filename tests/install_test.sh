#!/usr/bin/env bash
# The installed library as another project sees it: `cmake --install` into a temporary prefix
# gives the program, libsiamcl.so (its SONAME from the version, exporting the stable API
# alone) and libsiamcl.a, the two installed headers, the kernels, siamcl.pc and the CMake
# package; docs/examples/top_matches.c builds against it once through pkg-config and once
# through find_package(siamcl), runs on a tiny trained text model from wherever the prefix
# lies, and agrees with `siamcl score` and `siamcl embed` to 1e-6.
# usage: install_test.sh BUILD_DIR SOURCE_DIR DATA_DIR [CFLAGS]
# (CFLAGS: the sanitizers' flags of a sanitized build, which its users' programs need too)
set -u
build=$1
src=$2
data=$3
read -r -a sanitize <<<"${4:-}"
source "$(dirname "$0")/cli_lib.sh"
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }

version=$(sed -n 's/^project(siamcl VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
soname=libsiamcl.so.${version%.*}
cmake --install "$build" --prefix "$tmp/first" >"$tmp/install.log" 2>&1 || { fail install; cat "$tmp/install.log"; finish; exit; }
# a prefix moved after the install still finds its kernels and its package files
mv "$tmp/first" "$tmp/prefix"
p=$tmp/prefix
lib=$(dirname "$(find "$p" -name "$soname" | head -1)")
check installed-files test -x "$p/bin/siamcl" -a -f "$lib/libsiamcl.a" -a -L "$lib/libsiamcl.so" \
  -a -f "$p/include/siamcl/siamcl.h" -a -f "$p/include/siamcl/status.h" \
  -a -f "$p/share/siamcl/cl/elementwise.cl" -a -f "$lib/pkgconfig/siamcl.pc" \
  -a -f "$lib/cmake/siamcl/siamclConfig.cmake"
check soname [ "$(objdump -p "$lib/$soname" | awk '$1 == "SONAME" {print $2}')" = "$soname" ]
# every symbol libsiamcl.so exports is a function that siamcl.h declares
exported=$(nm -D --defined-only "$lib/$soname" | awk '$2 == "T" {print $3}' | sort)
undeclared=$(for f in $exported; do grep -q "[ *]$f(" "$p/include/siamcl/siamcl.h" || echo "$f"; done)
check exports-the-api-alone [ -n "$exported" ] && [ -z "$undeclared" ]
[ -z "$undeclared" ] || echo "    exported, not in siamcl.h: $undeclared"
# users' builds get an include path and the library, none of the build's own definitions
export PKG_CONFIG_PATH=$lib/pkgconfig
cflags=$(pkg-config --cflags siamcl | xargs)
if [ "${cflags#-I}" != "$cflags" ] && [ "$(realpath -m "${cflags#-I}")" = "$p/include" ]; then
  pass pkg-config-cflags
else
  fail "pkg-config-cflags: $cflags"
fi

# a tiny text model, and the texts of its catalog (ASCII lines of the product titles)
{ text_config "$data" 4096; printf '[train]\nbatch_size = 16\nepochs = 2\nlr = 1e-2\n'; } >"$tmp/text.ini"
"$p/bin/siamcl" train "$tmp/text.ini" -o output.dir="$tmp/run" >/dev/null 2>"$tmp/train.err" || { fail train; cat "$tmp/train.err"; }
cut -d, -f3 "$data/tiny_text.csv" | sed 1d | tr -d '"' | LC_ALL=C grep -v '[^ -~]' | sort -u >"$tmp/catalog.txt"
query="cordless drill"
{ echo search_term,product_title; sed "s/.*/\"$query\",\"&\"/" "$tmp/catalog.txt"; } >"$tmp/pairs.csv"
"$p/bin/siamcl" score "$tmp/run" "$tmp/pairs.csv" -o "$tmp/scores.csv" 2>/dev/null
printf 'search_term\n"%s"\n' "$query" >"$tmp/query.csv"
"$p/bin/siamcl" embed "$tmp/run" "$tmp/query.csv" --column search_term -o "$tmp/query.npy" 2>/dev/null
# siamcl's own figures: the best 5 scores (score, text), and the query's embedding
sed 1d "$tmp/scores.csv" | awk -F, '{print $NF "\t" $2}' | sort -g -r | head -5 >"$tmp/want.top"
header=$((10 + $(od -A n -t u2 -j 8 -N 2 "$tmp/query.npy")))
od -A n -t f4 -v -j "$header" "$tmp/query.npy" | tr -s ' \n' '\n\n' | sed '/^$/d' >"$tmp/want.emb"

# agree NAME PROGRAM: its embedding and its best 5 (score, text) match siamcl's within 1e-6
agree() {
  "$2" --embedding "$tmp/run" "$tmp/catalog.txt" "$query" 5 >"$tmp/got" 2>"$tmp/got.err" || { fail "$1-runs"; cat "$tmp/got.err"; return; }
  sed -n 's/^embedding\t//p' "$tmp/got" | tr ' ' '\n' >"$tmp/got.emb"
  grep -v '^embedding' "$tmp/got" | cut -f2,3 >"$tmp/got.top"
  if [ "$(wc -l <"$tmp/got.emb")" -eq "$(wc -l <"$tmp/want.emb")" ] &&
    paste "$tmp/got.emb" "$tmp/want.emb" | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6) bad = 1} END {exit bad}'; then
    pass "$1-embedding"
  else
    fail "$1-embedding"; paste "$tmp/got.emb" "$tmp/want.emb" | sed 's/^/    /'
  fi
  if [ "$(wc -l <"$tmp/got.top")" -eq 5 ] && paste "$tmp/got.top" "$tmp/want.top" |
    awk -F'\t' '{d = $1 - $3; if (d < 0) d = -d; if (d > 1e-6 || $2 != $4) bad = 1} END {exit bad}'; then
    pass "$1-top-matches"
  else
    fail "$1-top-matches"; paste "$tmp/got.top" "$tmp/want.top" | sed 's/^/    /'
  fi
}

# pkg-config: a strict C11 build, run through the library's path
if cc -std=c11 -Wall -Wextra -Werror -pedantic "${sanitize[@]}" "$src/docs/examples/top_matches.c" $(pkg-config --cflags --libs siamcl) -o "$tmp/tm-pc" 2>"$tmp/cc.err"; then
  pass pkg-config-build
  LD_LIBRARY_PATH=$lib agree pkg-config "$tmp/tm-pc"
else
  fail pkg-config-build; cat "$tmp/cc.err"
fi
# find_package(siamcl): the imported target siamcl::siamcl
if cmake -S "$src/docs/examples" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_FLAGS="${sanitize[*]}" >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/ex" >>"$tmp/cmake.log" 2>&1; then
  pass find-package-build
  agree find-package "$tmp/ex/top_matches"
else
  fail find-package-build; cat "$tmp/cmake.log"
fi
finish
