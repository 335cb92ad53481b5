#!/usr/bin/env python3
"""`uma serve` under concurrent load: aggregate tokens/s and per-request
latency for 1, 4 and 8 requests at once, sequential (--max-concurrency 1,
one sequence at a time as before continuous batching) against batched
(--max-concurrency 8). Python's standard library only.

    python3 bench/serve_batch.py --uma build/bin/uma --model /tmp/m4 \\
        [--concurrency 1 4 8] [--max-tokens 64] [--reps 3]

Each request is a streamed /v1/completions of a distinct prompt (so the
shared prompt cache has nothing to reuse), max_tokens tokens with the
model's EOS banned (logit_bias), so every request makes the same count.
Time to first token comes from the first streamed chunk with text. Both
servers run side by side and their bursts alternate (the machine's load
then falls on both alike); prints a Markdown row per (concurrency, mode)
with medians over the reps, and JSON lines of every run with --json.
"""
import argparse
import json
import statistics
import threading
import time
import urllib.request

from serve_util import sse_events, start_uma_serve

WORDS = ("river stone garden window candle harbor meadow lantern orchard valley thunder "
         "silver copper willow compass feather glacier ember canyon marble").split()


def prompt(i):
    # Distinct from the first word on: no two prompts share a prefix.
    w = WORDS[i % len(WORDS):] + WORDS[:i % len(WORDS)]
    return f"{w[0].capitalize()} {i}: " + " ".join(w) + ". Tell me a long story about the " + w[1] + "."


def start(uma, model, concurrency):
    return start_uma_serve([uma, "serve", "--model", model, "--port", "0", "--max-concurrency", str(concurrency),
                            "--max-queue", "64"])


def one(port, i, max_tokens, eos, out):
    body = {"prompt": prompt(i), "max_tokens": max_tokens, "stream": True,
            "stream_options": {"include_usage": True}, "logit_bias": {str(e): -100 for e in eos}}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    first = None
    tokens = 0
    with urllib.request.urlopen(req, timeout=3600) as r:
        for j in sse_events(r):
            if j.get("usage"):
                tokens = j["usage"]["completion_tokens"]
            elif first is None and j["choices"] and j["choices"][0].get("text"):
                first = time.perf_counter() - t0
    out[i] = {"latency": time.perf_counter() - t0, "ttft": first, "tokens": tokens}


def burst(port, n, max_tokens, eos):
    out = [None] * n
    threads = [threading.Thread(target=one, args=(port, i, max_tokens, eos, out)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    tokens = sum(o["tokens"] for o in out)
    return {"wall": wall, "tokens": tokens, "tps": tokens / wall,
            "latency": statistics.median(o["latency"] for o in out),
            "ttft": statistics.median(o["ttft"] for o in out if o["ttft"] is not None)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uma", default="build/bin/uma")
    ap.add_argument("--model", required=True)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--modes", nargs="+", default=["sequential", "batched"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    cfg = json.load(open(a.model + "/config.json"))
    eos = cfg.get("eos_token_id", [])
    eos = eos if isinstance(eos, list) else [eos]
    # Both servers up at once and their bursts interleaved, so that the load
    # of a shared machine falls on both modes alike.
    servers = {m: start(a.uma, a.model, 1 if m == "sequential" else 8) for m in a.modes}
    runs = {(m, n): [] for m in a.modes for n in a.concurrency}
    try:
        for m in a.modes:
            burst(servers[m][1], 1, 4, eos)  # warm-up
        for rep in range(a.reps):
            for n in a.concurrency:
                for m in a.modes:
                    r = burst(servers[m][1], n, a.max_tokens, eos)
                    runs[(m, n)].append(r)
                    if a.json:
                        print(json.dumps({"mode": m, "concurrency": n, "rep": rep, **r}), flush=True)
                    print(f"rep {rep} {m:10s} n={n}: {r['tps']:.2f} tok/s, median latency {r['latency']:.2f} s",
                          flush=True)
    finally:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    rows = []
    for n in a.concurrency:
        for m in a.modes:
            rs = runs[(m, n)]
            med = {k: statistics.median(r[k] for r in rs) for k in ("tps", "latency", "ttft", "wall")}
            rows.append((m, n, med, [round(r["tps"], 2) for r in rs]))
    print("\n| requests at once | mode | aggregate tok/s | median latency s | median TTFT s | runs tok/s |")
    print("|---|---|---|---|---|---|")
    for mode, n, med, runs in rows:
        print(f"| {n} | {mode} | {med['tps']:.2f} | {med['latency']:.2f} | {med['ttft']:.2f} | {runs} |")


if __name__ == "__main__":
    main()
