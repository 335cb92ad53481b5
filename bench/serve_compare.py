#!/usr/bin/env python3
"""`uma serve` against llama.cpp's llama-server on the same GGUF file:
streaming chat clients at once, each conversation starting with one long
system prompt they all share. Python's standard library only.

    python3 bench/serve_compare.py --uma build/bin/uma \\
        --llama-server /path/to/llama-server --model /tmp/l1b-q4_0.gguf \\
        [--clients 1 4 16] [--turns 2] [--max-tokens 64] [--system-tokens 1000] [--reps 2]

Each burst runs C clients at once; a client sends `--turns` streamed
/v1/chat/completions requests one after the other (the system prompt, then
its own question; max_tokens tokens each with EOS banned, so every answer
has the same length). Every burst has a system prompt of its own (seeded by
the burst's number, the same text for both servers), so the first requests
of a burst find nothing cached and the later ones may reuse it: the
prefix-cache effect shows as the gap between first-turn and later time to
first token. Both servers run side by side on the same threads and their
bursts alternate. Prints a Markdown row per (clients, server): aggregate
completion tokens/s over the burst's wall time, time to first token p50/p99
over all requests and p50 of first turns, medians over the reps; JSON lines
of every burst with --json.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import threading
import time
import urllib.request

from serve_util import sse_events, start_uma_serve

WORDS = ("river stone garden window candle harbor meadow lantern orchard valley thunder silver copper "
         "willow compass feather glacier ember canyon marble quiet bright ancient northern gentle hollow "
         "distant golden iron velvet amber crimson narrow steep rapid frozen").split()


def system_prompt(seed, tokens):
    # About one token a word for these common words (checked with the
    # servers' usage counts: --json prints prompt_tokens).
    r = random.Random(seed)
    words = [r.choice(WORDS) for _ in range(tokens)]
    return f"Burst {seed}. You are a helpful assistant. Context: " + " ".join(words) + "."


def question(client, turn):
    w = WORDS[(7 * client + turn) % len(WORDS)]
    return f"Client {client}, turn {turn}: tell me a long story about the {w}."


def start_uma(a):
    cmd = [a.uma, "serve", "--model", a.uma_model or a.model, "--port", "0", "--max-concurrency",
           str(max(a.clients)), "--max-queue", str(4 * max(a.clients)), "--max-tokens", str(a.max_tokens)]
    return start_uma_serve(cmd, dict(os.environ, UMA_NUM_THREADS=str(a.threads)))


def start_llama(a):
    port = a.llama_port
    slots = max(a.clients)
    ctx = slots * (a.system_tokens + 64 * a.turns + a.max_tokens * a.turns + 256)
    cmd = [a.llama_server, "-m", a.model, "--port", str(port), "--host", "127.0.0.1", "-t", str(a.threads),
           "-np", str(slots), "-c", str(ctx), "--log-disable"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return p, port
        except Exception:
            pass
        time.sleep(0.5)
    p.kill()
    raise SystemExit("llama-server did not come up")


def request(server, port, messages, max_tokens, eos):
    body = {"messages": messages, "max_tokens": max_tokens, "stream": True, "temperature": 0,
            "stream_options": {"include_usage": True}}
    if server == "uma":
        body["logit_bias"] = {str(e): -100 for e in eos}
    else:
        body["ignore_eos"] = True
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    first, text, chunks, usage = None, "", 0, None
    with urllib.request.urlopen(req, timeout=3600) as r:
        for j in sse_events(r):
            if j.get("usage"):
                usage = j["usage"]
            for c in j.get("choices", []):
                piece = c.get("delta", {}).get("content")
                if piece:
                    chunks += 1
                    text += piece
                    if first is None:
                        first = time.perf_counter() - t0
    tokens = usage["completion_tokens"] if usage else chunks
    return {"latency": time.perf_counter() - t0, "ttft": first, "tokens": tokens, "text": text,
            "prompt_tokens": usage["prompt_tokens"] if usage else None}


def client(server, port, seed, c, a, eos, out):
    messages = [{"role": "system", "content": system_prompt(seed, a.system_tokens)}]
    for turn in range(a.turns):
        messages.append({"role": "user", "content": question(c, turn)})
        r = request(server, port, messages, a.max_tokens, eos)
        r["turn"] = turn
        out.append(r)
        messages.append({"role": "assistant", "content": r["text"]})


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def burst(server, port, seed, n, a, eos):
    outs = [[] for _ in range(n)]
    threads = [threading.Thread(target=client, args=(server, port, seed, c, a, eos, outs[c])) for c in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    rs = [r for o in outs for r in o]
    if len(rs) != n * a.turns:
        raise SystemExit(f"{server}: {n * a.turns - len(rs)} requests failed")
    ttft = [r["ttft"] for r in rs if r["ttft"] is not None]
    return {"wall": wall, "tokens": sum(r["tokens"] for r in rs), "tps": sum(r["tokens"] for r in rs) / wall,
            "ttft_p50": pct(ttft, 0.5), "ttft_p99": pct(ttft, 0.99),
            "ttft_first_p50": pct([r["ttft"] for r in rs if r["turn"] == 0], 0.5),
            "prompt_tokens": max((r["prompt_tokens"] or 0) for r in rs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uma", default="build/bin/uma")
    ap.add_argument("--llama-server", required=True)
    ap.add_argument("--model", required=True, help="the GGUF file both servers load")
    ap.add_argument("--uma-model", help="another model for uma (default: --model)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--turns", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--system-tokens", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--llama-port", type=int, default=18080)
    ap.add_argument("--eos", type=int, nargs="+", default=[128001, 128008, 128009],
                    help="EOS ids uma bans by logit_bias (llama-server: ignore_eos)")
    ap.add_argument("--servers", nargs="+", default=["uma", "llama"])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    servers = {}
    try:
        for s in a.servers:
            servers[s] = start_uma(a) if s == "uma" else start_llama(a)
        seed = 0
        for s in a.servers:
            burst(s, servers[s][1], 10**6, 1, argparse.Namespace(**{**vars(a), "turns": 1, "max_tokens": 4}), a.eos)
        runs = {(s, n): [] for s in a.servers for n in a.clients}
        for rep in range(a.reps):
            for n in a.clients:
                seed += 1
                for s in a.servers:
                    r = burst(s, servers[s][1], seed, n, a, a.eos)
                    runs[(s, n)].append(r)
                    if a.json:
                        print(json.dumps({"server": s, "clients": n, "rep": rep, **r}), flush=True)
                    print(f"rep {rep} {s:5s} clients={n}: {r['tps']:.2f} tok/s, TTFT p50 {r['ttft_p50']:.2f} "
                          f"p99 {r['ttft_p99']:.2f} s, first turns p50 {r['ttft_first_p50']:.2f} s", flush=True)
    finally:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    print("\n| clients | server | aggregate tok/s | TTFT p50 s | TTFT p99 s | first-turn TTFT p50 s | runs tok/s |")
    print("|---|---|---|---|---|---|---|")
    for n in a.clients:
        for s in a.servers:
            rs = runs[(s, n)]
            med = {k: statistics.median(r[k] for r in rs) for k in ("tps", "ttft_p50", "ttft_p99", "ttft_first_p50")}
            print(f"| {n} | {s} | {med['tps']:.2f} | {med['ttft_p50']:.2f} | {med['ttft_p99']:.2f} | "
                  f"{med['ttft_first_p50']:.2f} | {[round(r['tps'], 2) for r in rs]} |")


if __name__ == "__main__":
    main()
