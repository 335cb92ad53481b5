#!/usr/bin/env python3
"""Measures uma's built-in model (models/uma-dict) as bench/RESULTS.md reports it.

    python3 models/uma-dict/make_data.py /tmp/uma-dict-data
    python3 bench/dict_model_eval.py --uma build/bin/uma --data /tmp/uma-dict-data

1. Held-out perplexity per corpus (valid_{wordnet,devil,fortunes}.jsonl, which
   training never saw) with `uma perplexity`, beside a unigram and a bigram
   model of the training conversations' tokens (add-k smoothed, k chosen on
   the held-out set itself, so the baselines get every advantage) scored on
   the same conversations' tokens: once over every token (mlx-lm's measure;
   the model never learned the prompts) and once over the answers only
   (`--mask-prompt`; the n-grams fitted on the training answers), which is
   what the model was trained on.
2. Exact recall: for 100 words sampled (seed 0) from the trained words, the
   share whose greedy answer to "What does 'WORD' mean?" is exactly the
   trained definition.
3. Generation speed: `uma bench` on the model.
"""
import argparse
import collections
import json
import math
import os
import random
import re
import subprocess
import tempfile


def render(messages):
    # The built-in model's chat template (lm/train/train_setup.cpp), checked
    # against `uma template` on the first conversation below.
    out = "<|begin_of_text|>"
    for m in messages:
        out += f"<|start_header_id|>{m['role']}<|end_header_id|>\n\n{m['content'].strip()}<|eot_id|>"
    return out


def tokenize(uma, model, texts):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
    out = subprocess.run([uma, "tokenize", "-m", model, "-f", f.name, "--no-special"], capture_output=True,
                         text=True, check=True).stdout
    os.unlink(f.name)
    return [json.loads(line) for line in out.splitlines()]


def with_answer_start(uma, model, convs):
    """(ids of the whole chat, position of the answer's first token)."""
    full = tokenize(uma, model, [render(m) for m in convs])
    prompts = tokenize(uma, model, [render(m[:-1]) + "<|start_header_id|>assistant<|end_header_id|>\n\n"
                                    for m in convs])
    out = []
    for f, p in zip(full, prompts):
        assert f[:len(p)] == p, "the prompt's tokens are not a prefix of the chat's"
        out.append((f, len(p)))
    return out


def conversations(path):
    return [json.loads(line)["messages"] for line in open(path, encoding="utf-8")]


def ngram_ppl(train_seqs, test_seqs, vocab, order):
    """Each sequence is (ids, first scored position)."""
    counts, context = collections.Counter(), collections.Counter()
    for s, start in train_seqs:
        for i in range(max(order - 1, start), len(s)):
            key = (s[i - 1], s[i]) if order == 2 else (s[i],)
            counts[key] += 1
            context[key[:-1]] += 1
    best = None
    for k in (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0):
        nll, n = 0.0, 0
        for s, start in test_seqs:
            for i in range(max(1, start), len(s)):
                key = (s[i - 1], s[i]) if order == 2 else (s[i],)
                p = (counts[key] + k) / (context[key[:-1]] + k * vocab)
                nll -= math.log(p)
                n += 1
        best = min(best or float("inf"), math.exp(nll / n))
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uma", default="build/bin/uma")
    ap.add_argument("--model", default="models/uma-dict")
    ap.add_argument("--data", required=True, help="make_data.py's output folder")
    ap.add_argument("--words", type=int, default=100)
    args = ap.parse_args()
    uma, model = args.uma, args.model
    vocab = json.load(open(os.path.join(model, "config.json")))["vocab_size"]

    train = conversations(os.path.join(args.data, "train.jsonl"))
    first = train[0]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(first, f)
    rendered = subprocess.run([uma, "template", "-m", model, "--messages", f.name, "--no-generation-prompt"],
                              capture_output=True, text=True, check=True).stdout
    assert rendered == render(first), (rendered, render(first))
    train_seqs = with_answer_start(uma, model, train)
    train_all = [(s, 0) for s, _ in train_seqs]

    print("| held-out corpus | conversations | scored | uma-dict perplexity | unigram | bigram |")
    print("|---|---|---|---|---|---|")
    for name in ("wordnet", "devil", "fortunes"):
        path = os.path.join(args.data, f"valid_{name}.jsonl")
        test_seqs = with_answer_start(uma, model, conversations(path))
        for scored, flags, tr, te in (("all tokens", [], train_all, [(s, 0) for s, _ in test_seqs]),
                                      ("answers", ["--mask-prompt"], train_seqs, test_seqs)):
            r = subprocess.run([uma, "perplexity", "--model", model, "--data-path", path, "--sequence-length", "256",
                                "--num-samples", "-1", "--batch-size", "8"] + flags, capture_output=True, text=True,
                               check=True)
            ppl = re.search(r"Perplexity: ([0-9.]+) ± ([0-9.]+)", r.stdout)
            print(f"| {name} | {len(test_seqs)} | {scored} | {ppl.group(1)} ± {ppl.group(2)} | "
                  f"{ngram_ppl(tr, te, vocab, 1):.1f} | {ngram_ppl(tr, te, vocab, 2):.1f} |")

    words = json.load(open(os.path.join(args.data, "words.json"), encoding="utf-8"))
    sample = random.Random(0).sample(words, args.words)
    exact = 0
    examples = []
    for w in sample:
        r = subprocess.run([uma, "generate", "--model", model, "--prompt", f"What does '{w['word']}' mean?", "-m",
                            "96"], capture_output=True, text=True, check=True)
        got = r.stdout.strip()
        exact += got == w["answer"]
        if len(examples) < 5:
            examples.append((w["answer"], got))
    print(f"\nexact definitions: {exact} / {len(sample)} sampled training words")
    for want, got in examples:
        print(f"  want: {want}\n  got:  {got}")
    r = subprocess.run([uma, "bench", "--model", model, "-p", "128", "-g", "128", "-n", "5"], capture_output=True,
                       text=True, check=True)
    print("\n" + r.stdout)


if __name__ == "__main__":
    main()
