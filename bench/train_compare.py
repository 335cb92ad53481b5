#!/usr/bin/env python3
"""Training throughput: `uma train` against the same model in PyTorch (CPU).

    /usr/bin/python3 bench/train_compare.py --uma build/bin/uma --threads 2 --steps 30

Both train the built-in model's shape (models/uma-dict/train.yaml: Llama,
hidden 256, 6 layers, 4 heads, SwiGLU 768, tied embeddings, vocabulary 4096)
on the same text (Debian `fortunes`), tokenized by the same tokenizer (uma
trains it, `uma tokenize` gives PyTorch the ids), with the same batch (16 x
256), AdamW settings, warm-up and cosine schedule, gradient clipping and
thread count, from normal(0, 0.02) weights. uma reads the documents in its
own shuffled order and PyTorch in file order, so the losses agree in level,
not digit for digit. Prints tokens/s (median over the steps after the first)
and the mean training loss of the last 10 steps for each, and their ratio.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn.functional as F

HIDDEN, LAYERS, HEADS, FFN, VOCAB = 256, 6, 4, 768, 4096


def corpus(path, max_docs, root):
    docs = []
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name)
        if "." in name or not os.path.isfile(p):
            continue
        for block in open(p, encoding="utf-8", errors="replace").read().split("\n%\n"):
            block = block.strip("%\n").strip()
            if block:
                docs.append(block)
    docs = docs[:max_docs]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n\n".join(d.replace("\n\n", "\n") for d in docs) + "\n")
    return docs


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (torch.nn.Linear(HIDDEN, HIDDEN, bias=False) for _ in range(4))
        self.gate, self.up = torch.nn.Linear(HIDDEN, FFN, bias=False), torch.nn.Linear(HIDDEN, FFN, bias=False)
        self.down = torch.nn.Linear(FFN, HIDDEN, bias=False)
        self.n1, self.n2 = torch.nn.Parameter(torch.ones(HIDDEN)), torch.nn.Parameter(torch.ones(HIDDEN))

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        h = self.rms(x, self.n1)
        q, k, v = (p(h).view(B, T, HEADS, -1).transpose(1, 2) for p in (self.q, self.k, self.v))

        def rope(t):  # Llama's rotate-half layout
            a, b = t.chunk(2, -1)
            return t * cos + torch.cat((-b, a), -1) * sin

        q, k = rope(q), rope(k)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, HIDDEN))
        h = self.rms(x, self.n2)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, HIDDEN)
        self.layers = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = torch.nn.Parameter(torch.ones(HIDDEN))
        for name, p in self.named_parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, 0.0, 0.02)

    def forward(self, ids):
        T = ids.shape[1]
        d = HIDDEN // HEADS
        inv = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
        f = torch.outer(torch.arange(T).float(), inv)
        cos, sin = torch.cat((f, f), -1).cos(), torch.cat((f, f), -1).sin()
        x = self.emb(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return Block.rms(x, self.norm) @ self.emb.weight.T


def lr_at(step, steps, warmup, lr, min_lr):
    if step < warmup:
        return lr * step / warmup
    t = min(step - warmup, steps - warmup) / max(steps - warmup, 1)
    return min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uma", default="build/bin/uma")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--fortunes", default="/usr/share/games/fortunes", help="Debian fortunes folder (the text)")
    args = ap.parse_args()
    B, T, LR, MIN_LR, WARM = 16, 256, 2e-3, 1e-4, 5

    work = tempfile.mkdtemp(prefix="uma_train_compare_")
    corpus(os.path.join(work, "corpus.txt"), args.docs, args.fortunes)
    with open(os.path.join(work, "run.yaml"), "w") as f:
        f.write(f"""model:
  model_type: llama
  hidden_size: {HIDDEN}
  num_hidden_layers: {LAYERS}
  intermediate_size: {FFN}
  num_attention_heads: {HEADS}
  num_key_value_heads: {HEADS}
  rms_norm_eps: 1.0e-5
  rope_theta: 10000.0
  tie_word_embeddings: true
tokenizer_vocab_size: {VOCAB}
train: corpus.txt
valid_fraction: 0.01
seq_len: {T}
batch_size: {B}
steps: {args.steps}
learning_rate: {LR}
min_learning_rate: {MIN_LR}
warmup_steps: {WARM}
weight_decay: 0.1
beta1: 0.9
beta2: 0.95
grad_clip: 1.0
log_every: 1
eval_every: {args.steps}
save_every: {args.steps}
output: out
""")
    env = dict(os.environ, UMA_NUM_THREADS=str(args.threads))
    run = subprocess.run([args.uma, "train", "-c", os.path.join(work, "run.yaml")], env=env, capture_output=True,
                         text=True, check=True)
    uma_tps, uma_loss = [], []
    for line in run.stderr.splitlines():
        m = re.match(r"step (\d+)/\d+ \| loss ([0-9.]+) \| lr \S+ \| (\d+) tok/s", line)
        if m:
            uma_loss.append(float(m.group(2)))
            if int(m.group(1)) > 1:
                uma_tps.append(float(m.group(3)))

    # The same tokens for PyTorch: the documents uma trained on, in file order.
    docs = open(os.path.join(work, "corpus.txt"), encoding="utf-8").read().split("\n\n")
    with open(os.path.join(work, "docs.jsonl"), "w") as f:
        for d in docs:
            f.write(json.dumps(d.strip("\n")) + "\n")
    out = subprocess.run([args.uma, "tokenize", "-m", os.path.join(work, "out"), "-f",
                          os.path.join(work, "docs.jsonl")], capture_output=True, text=True, check=True).stdout
    stream = []
    for line in out.splitlines():
        stream += json.loads(line) + [1]  # <|end_of_text|> after each document, as uma packs text
    data = torch.tensor(stream, dtype=torch.long)

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    model = Llama()
    decay = [p for p in model.parameters() if p.dim() > 1]
    rest = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay}, {"params": rest}], lr=LR, betas=(0.9, 0.95), eps=1e-8,
                            weight_decay=0.1)
    torch_tps, torch_loss = [], []
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, WARM, LR, MIN_LR)
        t0 = time.perf_counter()
        start = step * B * T
        rows = torch.stack([data[start + r * T: start + r * T + T + 1] for r in range(B)])
        logits = model(rows[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), rows[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        torch_loss.append(loss.item())
        if step > 0:
            torch_tps.append(B * T / dt)

    u, t = statistics.median(uma_tps), statistics.median(torch_tps)
    print(f"threads {args.threads}, {args.steps} steps of {B}x{T} tokens, torch {torch.__version__}")
    print(f"| trainer | tokens/s (median) | mean loss, last 10 steps |")
    print(f"|---|---|---|")
    print(f"| uma train | {u:.0f} | {statistics.mean(uma_loss[-10:]):.3f} |")
    print(f"| PyTorch (eager, float32) | {t:.0f} | {statistics.mean(torch_loss[-10:]):.3f} |")
    print(f"uma / PyTorch: {u / t:.2f}x")


if __name__ == "__main__":
    main()
