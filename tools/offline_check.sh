#!/usr/bin/env bash
# Builds siamcl, runs its test suite and `siamcl bench` on a machine where nothing can be
# installed (a GPU machine with a driver but no package manager access), from Debian packages
# fetched beforehand on a machine with apt. See `tools/offline_check.sh --help`.
set -uo pipefail

me=offline_check
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<'EOF'
usage: tools/offline_check.sh fetch DIR [--no-data] [--also PKG]...
       tools/offline_check.sh run DIR [options]
       tools/offline_check.sh --help

Two steps for a machine that has an OpenCL driver but where nothing can be installed.

fetch DIR   on a Debian 12 machine with apt (no root needed; run `apt-get update` first if its
            package lists are old): `apt-get download`s into DIR the .deb files siamcl builds
            against, and writes DIR/MANIFEST (package, version, architecture, where fetched):
              libclblast1 libclblast-dev            CLBlast (dense layers)
              libinih1 libinih-dev libinireader0    inih (INI configs; -dev depends on all three)
              libjansson4 libjansson-dev            jansson (safetensors headers, metrics.json)
              ocl-icd-libopencl1 ocl-icd-opencl-dev the OpenCL ICD loader and libOpenCL.so
              opencl-c-headers opencl-clhpp-headers the OpenCL headers (Debian's opencl-headers
                                                    is an empty package depending on these two)
              zlib1g zlib1g-dev                     zlib
              pkgconf-bin libpkgconf3               pkg-config, which CMake's FindPkgConfig needs
              dataset-fashion-mnist                 the default job's data, for bench (~31 MB)
            and any other -dev package tools/setup.sh lists, with the libraries it depends on.
            --no-data   leave out dataset-fashion-mnist
            --also PKG  fetch another package as well (repeatable)
            The packages are for the fetching machine's architecture (dpkg --print-architecture)
            and need glibc >= 2.34 and libstdc++ from GCC >= 11 on the target. Copy DIR and the
            repository (git clone, or a tarball of the work tree) to the target.

run DIR     on the target, in the repository: unpacks every DIR/*.deb into a prefix (dpkg-deb -x,
            or ar + tar where dpkg is missing), points the .pc files' prefix=/usr at it, and
            builds there with CMake against the prefix only (no sudo; it writes only in the
            build folder and temporary files):
              PKG_CONFIG=<prefix>/usr/bin/pkgconf (the system's pkg-config if that one cannot run)
              PKG_CONFIG_LIBDIR=<prefix>'s pkgconfig folders (no system .pc file is read)
              CMAKE_PREFIX_PATH, CMAKE_LIBRARY_PATH (the multiarch folder), OpenCL_* and ZLIB_*
              LD_LIBRARY_PATH and the build RPATH: <prefix>/usr/lib/<multiarch> and
                <prefix>/lib/<multiarch> (where Debian 12's zlib1g puts libz.so.1)
            and checks that CMake and the dynamic linker took CLBlast, inih, libOpenCL and zlib
            from the prefix. Then it finds the vendor's OpenCL driver: OCL_ICD_VENDORS if set (a
            folder of .icd files, one .icd file, or the driver library itself), else the .icd
            files in /etc/OpenCL/vendors, else a driver library it knows (NVIDIA's
            libnvidia-opencl.so.1, AMD's libamdocl64.so, Intel's libigdrcl.so) in the linker's
            cache or the usual folders, for which it writes an .icd file in the build folder and
            sets OCL_ICD_VENDORS to that folder. It prints what it found, or says clearly that
            there is none (the build still runs; the device steps are skipped, exit status 3).
            Then it runs, each step's full output under BUILD/offline_check/:
              BUILD/siamcl devices
              ctest (the whole suite), printing its result line
              BUILD/siamcl bench configs/fashion_mnist.ini --batch 32,256,1024
                (the data from /usr/share/datasets/fashion-mnist, else from the prefix, else
                 -o model.input=784: bench needs only the input width, its data are random)
              BUILD/siamcl bench configs/home_depot.ini --batch 32,256,1024
                (runs without data/home-depot/train.csv: its input width is [features] buckets)
            and a summary. Exit status 0 when every step passed, 1 when one failed, 2 for bad
            usage or a missing tool, 3 when no OpenCL driver was found.
  options:
    --build DIR     build folder (default: build-offline in the repository; a fresh folder, so
                    that a build against the system's packages is never reused)
    --prefix DIR    where the packages are unpacked (default: BUILD/prefix); emptied first, so
                    it must be missing, empty, or made by this script
    --jobs N        parallel build and test jobs (default: nproc)
    --unpack HOW    dpkg or ar (default: dpkg-deb when present, else ar + tar)
    --device SPEC   exported as SIAMCL_DEVICE for every step (default: siamcl's auto, the GPU)
    --seconds S     bench: time each measurement for at least S seconds (default 2)
    --no-werror     configure with -DSIAMCL_WERROR=OFF (a newer compiler's new warnings)
    --no-tests      skip ctest
    --no-bench      skip the benches
    --cmake PATH    the cmake program to use (ctest beside it); default: cmake on PATH

  Assumed present on the target: bash, coreutils, a C compiler (cc, gcc or clang, or $CC),
  make or ninja, cmake >= 3.18 with its ctest, ldd, and dpkg-deb or binutils' ar with tar
  (xz). Debian's cmake is not fetched: its dependency closure is about 60 packages (curl, TLS,
  Kerberos, ICU, Perl through dpkg) that would shadow the target's own libraries on
  LD_LIBRARY_PATH. Where cmake is missing, bring a self-contained one (Kitware's release
  tarball, or the `cmake` wheel from `pip download cmake`, unpacked) and pass --cmake PATH.

  The suite's cli test reads /usr/share/datasets/fashion-mnist directly and asks for
  `--device cpu` once; on a machine without that folder or without a CPU OpenCL device (PoCL)
  expect those checks of cli to fail; run says so before ctest.
EOF
}

say() { printf '%s: %s\n' "$me" "$*"; }
warn() { printf '%s: warning: %s\n' "$me" "$*" >&2; }
die() { printf '%s: %s\n' "$me" "$*" >&2; exit "${2:-2}"; }

# ---------------------------------------------------------------------------------------------
# fetch

fetch() {
  local dir="" data=1 extra=()
  while [ $# -gt 0 ]; do
    case $1 in
      --no-data) data=0 ;;
      --also) [ $# -ge 2 ] || die "--also needs a package name"; extra+=("$2"); shift ;;
      -h|--help) usage; exit 0 ;;
      -*) die "fetch: unknown option $1 (see --help)" ;;
      *) [ -z "$dir" ] || die "fetch: one DIR only (see --help)"; dir=$1 ;;
    esac
    shift
  done
  [ -n "$dir" ] || die "fetch: DIR missing (see --help)"
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    die "fetch needs apt-get and dpkg-deb: run it on a Debian machine with apt"

  local pkgs=(
    libclblast1 libclblast-dev
    libinih1 libinih-dev libinireader0
    ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers
    libjansson4 libjansson-dev
    zlib1g zlib1g-dev
    pkgconf-bin libpkgconf3
  )
  # A -dev package that tools/setup.sh lists and the list above lacks (a dependency added
  # since) comes along, with the libraries it depends on directly.
  local p q added=()
  for p in $(sed -n '/^packages=(/,/^)/p' "$repo/tools/setup.sh" | tr -s ' ()' '\n' | grep -- '-dev$'); do
    [[ " ${pkgs[*]} " == *" $p "* ]] && continue
    added+=("$p")
    for q in $(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
                 --no-replaces --no-enhances "$p" 2>/dev/null | sed -n 's/^ *Depends: \(lib[^<>]*\)$/\1/p'); do
      case $q in libc6|libc6-dev|libc-dev|libgcc-s1|libstdc++6|*-dev) ;; *) added+=("$q") ;; esac
    done
  done
  [ ${#added[@]} -eq 0 ] || { say "also from tools/setup.sh: ${added[*]}"; pkgs+=("${added[@]}"); }
  [ "$data" = 1 ] && pkgs+=(dataset-fashion-mnist)
  pkgs+=("${extra[@]}")

  mkdir -p "$dir" || die "fetch: cannot create $dir"
  dir=$(cd "$dir" && pwd)
  say "fetching ${#pkgs[@]} packages into $dir: ${pkgs[*]}"
  # apt-get download writes into the current folder; as root it warns that the sandbox user
  # _apt cannot write there, which is harmless: the download then runs as root.
  if ! (cd "$dir" && apt-get download -q "${pkgs[@]}"); then
    die "fetch: apt-get download failed; if a package is 'not found' or a download 404s, the package lists are old: run 'sudo apt-get update' and fetch again" 1
  fi

  local arch
  arch=$(dpkg --print-architecture 2>/dev/null || echo '?')
  {
    echo "# fetched by tools/offline_check.sh fetch"
    echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# on: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), $(uname -m), dpkg architecture $arch, $(ldd --version 2>/dev/null | head -1)"
    echo "# package version architecture file"
    local f
    for f in "$dir"/*.deb; do
      printf '%s %s %s %s\n' "$(dpkg-deb -f "$f" Package)" "$(dpkg-deb -f "$f" Version)" \
        "$(dpkg-deb -f "$f" Architecture)" "$(basename "$f")"
    done
  } >"$dir/MANIFEST"
  say "wrote $dir/MANIFEST:"
  grep -v '^#' "$dir/MANIFEST" | column -t 2>/dev/null || grep -v '^#' "$dir/MANIFEST"
  say "$(ls "$dir"/*.deb | wc -l) files, $(du -sh "$dir" | cut -f1) in all"
  say "next: copy $dir and the repository to the target, then there: tools/offline_check.sh run DIR"
}

# ---------------------------------------------------------------------------------------------
# run

steps=()    # "name|status|detail" for the summary
add_step() { steps+=("$1|$2|$3"); }

summary() {
  echo
  say "summary"
  local s name status detail
  for s in "${steps[@]}"; do
    IFS='|' read -r name status detail <<<"$s"
    printf '  %-20s %-5s %s\n' "$name" "$status" "$detail"
  done
}

# unpack_deb DEB PREFIX HOW: the data part of one .deb into PREFIX
unpack_deb() {
  local deb=$1 prefix=$2 how=$3
  if [ "$how" = dpkg ]; then
    dpkg-deb -x "$deb" "$prefix"
    return
  fi
  local tmp member
  tmp=$(mktemp -d) || return 1
  member=$(cd "$tmp" && ar t "$deb" | grep '^data\.tar') || { rm -rf "$tmp"; return 1; }
  (cd "$tmp" && ar x "$deb" "$member") || { rm -rf "$tmp"; return 1; }
  case $member in
    *.zst) command -v zstd >/dev/null || { rm -rf "$tmp"; echo "$deb: $member needs zstd" >&2; return 1; }
           zstd -dc "$tmp/$member" | tar -x -C "$prefix" -f - ;;
    *) tar -x -C "$prefix" -f "$tmp/$member" ;;  # GNU tar detects xz, gzip, bzip2 itself
  esac
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

# under_prefix PATH: true when PATH (resolved) lies in the prefix
under_prefix() {
  local p
  p=$(readlink -f "$1" 2>/dev/null) || return 1
  case $p in "$prefix"/*) return 0 ;; *) return 1 ;; esac
}

cache_value() { sed -n "s|^$1:[A-Z]*=||p" "$build/CMakeCache.txt" | head -1; }

find_driver() {
  # Sets icd_source, icd_detail; exports OCL_ICD_VENDORS when it makes one.
  icd_source=""; icd_detail=""
  local f lib
  if [ -n "${OCL_ICD_VENDORS:-}" ]; then
    if [ -d "$OCL_ICD_VENDORS" ]; then
      local n=0
      for f in "$OCL_ICD_VENDORS"/*.icd; do
        [ -e "$f" ] || continue
        n=$((n + 1)); say "  ICD $f -> $(head -1 "$f")"
      done
      [ $n -gt 0 ] || { say "OCL_ICD_VENDORS=$OCL_ICD_VENDORS is a folder without .icd files"; return 1; }
      icd_source="OCL_ICD_VENDORS folder $OCL_ICD_VENDORS"; icd_detail="$n .icd file(s)"
    elif [ "${OCL_ICD_VENDORS%.icd}" != "$OCL_ICD_VENDORS" ]; then
      icd_source="OCL_ICD_VENDORS file $OCL_ICD_VENDORS"
      icd_detail="-> $(head -1 "$OCL_ICD_VENDORS" 2>/dev/null || echo '(unreadable)')"
    else
      icd_source="OCL_ICD_VENDORS library $OCL_ICD_VENDORS"; icd_detail="loaded directly"
      [ -e "$OCL_ICD_VENDORS" ] || case $OCL_ICD_VENDORS in */*) warn "$OCL_ICD_VENDORS does not exist" ;; esac
    fi
    say "OpenCL driver: $icd_source ($icd_detail)"
    return 0
  fi
  local vendors=${OPENCL_VENDOR_PATH:-/etc/OpenCL/vendors} n=0 names=()
  for f in "$vendors"/*.icd; do
    [ -e "$f" ] || continue
    lib=$(head -1 "$f")
    n=$((n + 1)); names+=("$(basename "$f")")
    say "  ICD $f -> $lib"
  done
  if [ $n -gt 0 ]; then
    icd_source="$vendors"; icd_detail="${names[*]}"
    say "OpenCL driver: the .icd files in $vendors (${names[*]})"
    return 0
  fi
  # No .icd file (common in containers that mount the NVIDIA driver): look for a library.
  local known=(libnvidia-opencl.so.1 libamdocl64.so libamdocl-orca64.so libigdrcl.so libintelocl.so)
  local dirs=(/usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64
              /usr/local/nvidia/lib /usr/lib/wsl/lib /opt/rocm/lib /opt/amdgpu/lib64
              /usr/lib/aarch64-linux-gnu /usr/lib/x86_64-linux-gnu/nvidia/current)
  local name d found=""
  for name in "${known[@]}"; do
    found=$( { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | awk -v n="$name" '$1 == n { print $NF; exit }')
    if [ -z "$found" ]; then
      for d in "${dirs[@]}" /usr/lib/nvidia*; do
        [ -e "$d/$name" ] && { found="$d/$name"; break; }
      done
    fi
    [ -n "$found" ] && break
  done
  if [ -n "$found" ]; then
    rm -rf "$build/offline_check/vendors" && mkdir -p "$build/offline_check/vendors"
    echo "$found" >"$build/offline_check/vendors/$(basename "$found" | sed 's/\.so.*//').icd"
    export OCL_ICD_VENDORS="$build/offline_check/vendors"
    icd_source="driver library $found"; icd_detail="no .icd file in $vendors; OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
    say "OpenCL driver: no .icd file in $vendors; found $found, wrote an .icd for it, OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
    return 0
  fi
  say "no OpenCL driver found: no .icd file in $vendors, OCL_ICD_VENDORS unset, and none of"
  say "  ${known[*]} in the linker cache or ${dirs[*]}."
  say "  Point OCL_ICD_VENDORS at the driver library (e.g. OCL_ICD_VENDORS=/path/to/libnvidia-opencl.so.1)"
  say "  or at a folder of .icd files, each holding the library's path, and run again."
  return 1
}

run() {
  local dir="" how="" jobs="" seconds=2 werror=ON do_tests=1 do_bench=1 cmake_bin=""
  build=""; prefix=""
  while [ $# -gt 0 ]; do
    case $1 in
      --build) [ $# -ge 2 ] || die "--build needs a folder"; build=$2; shift ;;
      --prefix) [ $# -ge 2 ] || die "--prefix needs a folder"; prefix=$2; shift ;;
      --jobs) [ $# -ge 2 ] || die "--jobs needs a number"; jobs=$2; shift ;;
      --unpack) [ $# -ge 2 ] || die "--unpack needs dpkg or ar"; how=$2; shift ;;
      --device) [ $# -ge 2 ] || die "--device needs a SPEC"; export SIAMCL_DEVICE=$2; shift ;;
      --seconds) [ $# -ge 2 ] || die "--seconds needs a number"; seconds=$2; shift ;;
      --cmake) [ $# -ge 2 ] || die "--cmake needs a path"; cmake_bin=$2; shift ;;
      --no-werror) werror=OFF ;;
      --no-tests) do_tests=0 ;;
      --no-bench) do_bench=0 ;;
      -h|--help) usage; exit 0 ;;
      -*) die "run: unknown option $1 (see --help)" ;;
      *) [ -z "$dir" ] || die "run: one DIR only (see --help)"; dir=$1 ;;
    esac
    shift
  done
  [ -n "$dir" ] || die "run: DIR missing (see --help)"
  [ -d "$dir" ] || die "run: $dir is not a folder"
  dir=$(cd "$dir" && pwd)
  compgen -G "$dir/*.deb" >/dev/null || die "run: no .deb file in $dir (tools/offline_check.sh fetch DIR makes them)"
  [ -n "$jobs" ] || jobs=$(nproc 2>/dev/null || echo 2)
  case $jobs in ''|*[!0-9]*) die "--jobs: expected a number, got '$jobs'" ;; esac

  # ---- tools
  local cmake ctest cc
  if [ -n "$cmake_bin" ]; then
    cmake=$(readlink -f "$cmake_bin") || die "--cmake $cmake_bin: not found"
    ctest="$(dirname "$cmake")/ctest"
  else
    cmake=$(command -v cmake) || die "cmake is not on PATH: bring a self-contained one and pass --cmake PATH (see --help)"
    ctest=$(command -v ctest) || ctest="$(dirname "$cmake")/ctest"
  fi
  [ -x "$cmake" ] || die "$cmake is not executable"
  [ -x "$ctest" ] || die "ctest not found beside $cmake"
  cc=${CC:-}
  [ -n "$cc" ] || cc=$(command -v cc || command -v gcc || command -v clang) || die "no C compiler (cc, gcc or clang; or set CC)"
  if [ -z "$how" ]; then
    if command -v dpkg-deb >/dev/null; then how="dpkg"; else how="ar"; fi
  fi
  case $how in
    dpkg) command -v dpkg-deb >/dev/null || die "--unpack dpkg: dpkg-deb is missing" ;;
    ar) command -v ar >/dev/null && command -v tar >/dev/null || die "--unpack ar: needs ar (binutils) and tar" ;;
    *) die "--unpack: expected dpkg or ar, got '$how'" ;;
  esac

  [ -n "$build" ] || build="$repo/build-offline"
  mkdir -p "$build" || die "cannot create $build"
  build=$(cd "$build" && pwd)
  # A folder CMake configured against the system's packages keeps their paths in its cache.
  if [ -e "$build/CMakeCache.txt" ] && [ ! -e "$build/offline_check/.made" ]; then
    die "--build $build holds a CMake build this script did not configure: choose a fresh folder"
  fi
  [ -n "$prefix" ] || prefix="$build/prefix"
  if [ -e "$prefix" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ] && [ ! -e "$prefix/.offline_check_prefix" ]; then
    die "--prefix $prefix is not empty and was not made by this script: choose another"
  fi
  rm -rf "$prefix" && mkdir -p "$prefix" && prefix=$(cd "$prefix" && pwd) || die "cannot create $prefix"
  : >"$prefix/.offline_check_prefix"
  local logs="$build/offline_check"
  mkdir -p "$logs" && : >"$logs/.made"

  say "repository: $repo ($(git -C "$repo" describe --always --dirty 2>/dev/null || echo 'not a git checkout'))"
  say "packages:   $dir"
  [ -f "$dir/MANIFEST" ] && sed -n 's/^# \(on: .*\)/packages fetched \1/p' "$dir/MANIFEST" | sed "s/^/$me: /"
  say "prefix:     $prefix"
  say "build:      $build"
  say "tools:      $("$cmake" --version | head -1) ($cmake), ctest $ctest, C compiler $cc ($("$cc" --version 2>/dev/null | head -1)), unpack with $how"
  say "machine:    $(uname -srm), $(ldd --version 2>/dev/null | head -1)"

  # ---- unpack
  local deb n=0 failed=0
  for deb in "$dir"/*.deb; do
    if unpack_deb "$deb" "$prefix" "$how"; then n=$((n + 1)); else warn "could not unpack $deb"; failed=1; fi
  done
  [ $failed = 0 ] || die "unpacking failed" 1
  # Absolute symbolic links (/usr/...) would point at the system: point them into the prefix.
  local link target
  while IFS= read -r link; do
    target=$(readlink "$link")
    case $target in /*) [ -e "$prefix$target" ] && ln -sfn "$prefix$target" "$link" ;; esac
  done < <(find "$prefix" -type l)
  say "unpacked $n packages into $prefix"
  add_step unpack ok "$n packages with $how into $prefix"

  # ---- multiarch folder, .pc files, environment
  local lib
  lib=$(dirname "$(find "$prefix/usr/lib" -name 'libclblast.so.1' -print -quit 2>/dev/null)")
  [ -n "$lib" ] && [ "$lib" != . ] || die "no libclblast.so.1 under $prefix/usr/lib: fetch libclblast1 into $dir" 1
  local multiarch=${lib#"$prefix"/usr/lib/} libpath
  [ "$multiarch" = "$lib" ] && multiarch=""
  say "library folder: $lib (multiarch ${multiarch:-none})"
  case "$multiarch" in
    x86_64-*) [ "$(uname -m)" = x86_64 ] || warn "the packages are for $multiarch but this machine is $(uname -m)" ;;
    aarch64-*) [ "$(uname -m)" = aarch64 ] || warn "the packages are for $multiarch but this machine is $(uname -m)" ;;
  esac
  local pcdirs=() pc
  for d in "$lib/pkgconfig" "$prefix/usr/lib/pkgconfig" "$prefix/usr/share/pkgconfig"; do
    [ -d "$d" ] && pcdirs+=("$d")
  done
  local npc=0
  while IFS= read -r pc; do
    # Debian's .pc files say prefix=/usr (and a few libdir=/usr/...): every such variable
    # becomes the prefix's.
    sed -E -i "s#^([A-Za-z_][A-Za-z0-9_]*)=/usr(/|\$)#\1=$prefix/usr\2#" "$pc"
    npc=$((npc + 1))
  done < <(find "${pcdirs[@]}" -name '*.pc' 2>/dev/null)
  say "fixed up the prefix of $npc .pc files in ${pcdirs[*]}"

  # Debian 12's zlib1g still ships its library in /lib/<multiarch>, not /usr/lib/<multiarch>.
  libpath="$lib"
  [ -n "$multiarch" ] && [ -d "$prefix/lib/$multiarch" ] && libpath="$libpath:$prefix/lib/$multiarch"
  export LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local libdirs
  IFS=: read -r -a libdirs <<<"$libpath"
  export PKG_CONFIG_LIBDIR
  PKG_CONFIG_LIBDIR=$(IFS=:; echo "${pcdirs[*]}")
  unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
  local pkgconfig=""
  if [ -x "$prefix/usr/bin/pkgconf" ] && "$prefix/usr/bin/pkgconf" --version >/dev/null 2>&1; then
    pkgconfig="$prefix/usr/bin/pkgconf"
  else
    [ -x "$prefix/usr/bin/pkgconf" ] && warn "the fetched pkgconf does not run here; trying the system's pkg-config"
    pkgconfig=$(command -v pkg-config || command -v pkgconf) ||
      die "no pkg-config: fetch pkgconf-bin and libpkgconf3 into $dir" 2
  fi
  export PKG_CONFIG="$pkgconfig"
  say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  say "PKG_CONFIG=$PKG_CONFIG ($("$PKG_CONFIG" --version))"
  say "PKG_CONFIG_LIBDIR=$PKG_CONFIG_LIBDIR"
  local m
  for m in $(find "${pcdirs[@]}" -name '*.pc' -printf '%f\n' 2>/dev/null | sed 's/\.pc$//' | sort); do
    say "  pkg-config $m: $("$PKG_CONFIG" --modversion "$m" 2>&1) $("$PKG_CONFIG" --libs "$m" 2>&1)"
  done

  # The unpacked libraries must load here (glibc, libstdc++ versions).
  local so bad=0 out
  while IFS= read -r so; do
    out=$(ldd "$so" 2>&1)
    if grep -q 'not found' <<<"$out"; then
      warn "$(basename "$so") cannot load here:"; grep 'not found' <<<"$out" >&2; bad=1
    fi
  done < <(find "${libdirs[@]}" -maxdepth 1 -type f -name '*.so.*' 2>/dev/null)
  if [ $bad = 1 ]; then
    die "the fetched libraries need a newer glibc/libstdc++ than this machine has (or a missing one); fetch from an older Debian release" 1
  fi

  # ---- OpenCL driver
  local have_driver=1
  find_driver || have_driver=0
  [ $have_driver = 1 ] && add_step driver ok "$icd_source ($icd_detail)" || add_step driver FAIL "none found"

  # ---- configure and build
  local inc="$prefix/usr/include" zlib_lib="" ocl_lib=""
  [ -e "$lib/libOpenCL.so" ] && ocl_lib="$lib/libOpenCL.so"
  [ -e "$lib/libz.so" ] && zlib_lib="$lib/libz.so"
  local cfg=(-S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIAMCL_WERROR="$werror"
             -DCMAKE_C_COMPILER="$cc"
             -DCMAKE_PREFIX_PATH="$prefix/usr" -DCMAKE_LIBRARY_PATH="$lib" -DCMAKE_INCLUDE_PATH="$inc"
             -DPKG_CONFIG_EXECUTABLE="$PKG_CONFIG" -DCMAKE_BUILD_RPATH="$libpath"
             -DOpenCL_INCLUDE_DIR="$inc")
  [ -n "$ocl_lib" ] && cfg+=(-DOpenCL_LIBRARY="$ocl_lib")
  [ -n "$zlib_lib" ] && [ -e "$inc/zlib.h" ] && cfg+=(-DZLIB_INCLUDE_DIR="$inc" -DZLIB_LIBRARY="$zlib_lib")
  say "cmake ${cfg[*]}"
  if ! "$cmake" "${cfg[@]}" >"$logs/configure.log" 2>&1; then
    tail -n 30 "$logs/configure.log"
    add_step configure FAIL "see $logs/configure.log"; summary; exit 1
  fi
  # Which files CMake took: each must lie in the prefix.
  local var val foreign=0
  say "CMake found:"
  # pkg_check_modules leaves pkgcfg_lib_<PREFIX>_<lib> (the library file) and <PREFIX>_INCLUDEDIR
  # in the cache, for every module CMakeLists.txt asks for.
  local pcvars
  pcvars=$(sed -n 's/^\(pkgcfg_lib_[A-Za-z0-9_]*\):FILEPATH=.*/\1/p' "$build/CMakeCache.txt")
  for var in $pcvars $(sed -n 's/^pkgcfg_lib_\([A-Za-z0-9]*\)_.*/\1_INCLUDEDIR/p' <<<"$pcvars" | sort -u) \
             OpenCL_LIBRARY OpenCL_INCLUDE_DIR ZLIB_LIBRARY_RELEASE ZLIB_LIBRARY ZLIB_INCLUDE_DIR PKG_CONFIG_EXECUTABLE; do
    val=$(cache_value "$var")
    [ -n "$val" ] || continue
    if under_prefix "$val"; then
      printf '  %-24s %s\n' "$var" "$val"
    else
      printf '  %-24s %s   <- NOT in the prefix\n' "$var" "$val"; foreign=1
    fi
  done
  [ $foreign = 0 ] && add_step configure ok "every library, header and pkg-config from the prefix" ||
    add_step configure WARN "something found outside the prefix (above)"

  say "building (cmake --build, $jobs jobs)"
  if ! "$cmake" --build "$build" -j "$jobs" >"$logs/build.log" 2>&1; then
    grep -E 'error|Error' "$logs/build.log" | head -20
    tail -n 20 "$logs/build.log"
    [ $werror = ON ] && say "if the errors are warnings of a newer compiler, try again with --no-werror"
    add_step build FAIL "see $logs/build.log"; summary; exit 1
  fi
  add_step build ok "$build/siamcl"
  say "built $build/siamcl; it loads:"
  # Every library siamcl needs that the prefix holds must come from the prefix.
  local soname path d inprefix
  while read -r soname path; do
    inprefix=0
    for d in "${libdirs[@]}"; do [ -e "$d/$soname" ] && inprefix=1; done
    [ $inprefix = 1 ] || continue
    if [ -n "$path" ] && under_prefix "$path"; then printf '  %-20s %s\n' "$soname" "$path"
    else printf '  %-20s %s   <- NOT in the prefix\n' "$soname" "${path:-not found}"; foreign=1; fi
  done < <(ldd "$build/siamcl" | awk '$2 == "=>" { print $1, ($3 == "not" ? "" : $3) }')
  [ $foreign = 0 ] || add_step linking WARN "a library loads from outside the prefix (above)"
  say "RUNPATH of siamcl: $(readelf -d "$build/siamcl" 2>/dev/null | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p' | head -1)"

  if [ $have_driver = 0 ]; then
    add_step devices skip "no OpenCL driver"
    summary
    exit 3
  fi

  # ---- devices
  local status=0
  say "$build/siamcl devices"
  "$build/siamcl" devices 2>&1 | tee "$logs/devices.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then
    add_step devices ok "$(grep -m1 '^\* ' "$logs/devices.log" | sed 's/^\* *//' | tr -s ' ')"
  else
    add_step devices FAIL "see $logs/devices.log"; status=1
  fi

  # ---- suite
  if [ $do_tests = 1 ]; then
    [ -d /usr/share/datasets/fashion-mnist ] ||
      say "note: /usr/share/datasets/fashion-mnist is absent here: the cli test reads it directly (embed-wrong-width) and test_idx skips its real-data check"
    say "ctest -j $jobs (full output: $logs/ctest.log)"
    (cd "$build" && "$ctest" -j "$jobs" --output-on-failure) >"$logs/ctest.log" 2>&1
    local trc=$?
    grep -E '^ *[0-9]+/[0-9]+ Test' "$logs/ctest.log" | grep -v ' Passed ' || true
    grep -E '^FAIL ' "$logs/ctest.log" | head -20 | sed 's/^/  check: /' || true
    local line
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$logs/ctest.log" | tail -1)
    [ -n "$line" ] || line="(no result line; ctest exit $trc)"
    echo "$line"
    sed -n '/^Total Test time/p;/^The following tests FAILED/,$p' "$logs/ctest.log"
    if [ $trc = 0 ]; then add_step ctest ok "$line"; else add_step ctest FAIL "$line"; status=1; fi
  fi

  # ---- benches
  if [ $do_bench = 1 ]; then
    local fm=() fmnote
    if [ -d /usr/share/datasets/fashion-mnist ]; then
      fmnote="data /usr/share/datasets/fashion-mnist"
    elif [ -d "$prefix/usr/share/datasets/fashion-mnist" ]; then
      fm=(-o "data.path=$prefix/usr/share/datasets/fashion-mnist"); fmnote="data from the prefix"
    else
      fm=(-o model.input=784); fmnote="no data: -o model.input=784"
    fi
    local cfgname
    for cfgname in fashion_mnist home_depot; do
      local extra=()
      [ $cfgname = fashion_mnist ] && extra=("${fm[@]}")
      say "$build/siamcl bench configs/$cfgname.ini --batch 32,256,1024 --seconds $seconds ${extra[*]}"
      (cd "$repo" && "$build/siamcl" bench "configs/$cfgname.ini" --batch 32,256,1024 \
         --seconds "$seconds" "${extra[@]}") 2>&1 | tee "$logs/bench_$cfgname.log"
      if [ "${PIPESTATUS[0]}" = 0 ]; then
        local best
        best=$(awk '$1 ~ /^[0-9]+$/ { if ($3 > b) { b = $3; r = $1 } } END { if (b) printf "best train %d pairs/s at batch %d", b, r }' "$logs/bench_$cfgname.log")
        [ $cfgname = fashion_mnist ] && best="$best ($fmnote)"
        [ $cfgname = home_depot ] && [ ! -e "$repo/data/home-depot/train.csv" ] && best="$best (no data: random texts)"
        add_step "bench $cfgname" ok "$best"
      else
        add_step "bench $cfgname" FAIL "see $logs/bench_$cfgname.log"; status=1
      fi
    done
  fi

  summary
  say "full logs in $logs"
  exit $status
}

case ${1:-} in
  fetch) shift; fetch "$@" ;;
  run) shift; run "$@" ;;
  -h|--help|help) usage ;;
  "") usage >&2; exit 2 ;;
  *) die "unknown command '$1' (fetch, run or --help)" ;;
esac
