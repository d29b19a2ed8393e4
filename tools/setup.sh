#!/usr/bin/env bash
# Install, from Debian packages, everything siamcl needs to build, test and run its default job.
# Idempotent: packages already present are skipped; apt-get update runs at most once.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clinfo clang libclang-rt-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd mesa-opencl-icd oclgrind
  libclblast-dev libinih-dev libjansson-dev zlib1g-dev libopenmpi-dev openmpi-bin
  libonnx-dev protobuf-c-compiler libprotobuf-c-dev python3-onnx
  dataset-fashion-mnist gnuplot-nox python3-numpy python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
