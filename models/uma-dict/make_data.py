#!/usr/bin/env python3
"""Builds the training conversations of uma's built-in model from Debian corpora.

    python3 models/uma-dict/make_data.py OUT_DIR

Reads (apt install wordnet-base dict-devil fortunes):
  /usr/share/wordnet/{index,data}.{noun,verb,adj,adv}   WordNet 3.0 glosses and examples
  /usr/share/dictd/devil.{index,dict.dz}                 Ambrose Bierce, The Devil's Dictionary
  /usr/share/games/fortunes/*                            fortune cookies
Writes OUT_DIR/train.jsonl and OUT_DIR/valid_{wordnet,devil,fortunes}.jsonl
(chat conversations, one JSON object per line) and OUT_DIR/words.json (the
words whose definitions are trained, for the exact-recall measurement). The
output depends only on the corpora and SEED: rerunning gives the same bytes.
"""
import base64
import gzip
import json
import os
import random
import re
import sys

SEED = 20261207
WORDNET = "/usr/share/wordnet"
DEVIL = "/usr/share/dictd/devil"
FORTUNES = "/usr/share/games/fortunes"
POS_NAME = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}
VALID_SHARE = 0.03

ASK_DEFINITION = ["What does '{w}' mean?", "Define {w}.", "What is the meaning of the word '{w}'?",
                  "What does the word {w} mean?", "Please define '{w}'."]
ASK_EXAMPLE = ["Use '{w}' in a sentence.", "Give me an example with the word '{w}'."]
ASK_DEVIL = ["Define {w} in the Devil's Dictionary style.", "What does the Devil's Dictionary say about {w}?",
             "How would Ambrose Bierce define {w}?"]
ASK_FORTUNE = ["Give me a fortune.", "Tell me a fortune.", "Share a fortune cookie.", "Say something wise."]


def chat(user, assistant):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def wordnet_entries():
    """One entry per single word: its most frequent sense (by tagged-sense count)."""
    best = {}
    for pos in POS_NAME:
        data_path = os.path.join(WORDNET, "data." + pos)
        with open(data_path, "rb") as f:
            data = f.read()
        with open(os.path.join(WORDNET, "index." + pos), encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                parts = line.split()
                lemma, synset_cnt, p_cnt = parts[0], int(parts[2]), int(parts[3])
                tagsense_cnt = int(parts[5 + p_cnt])
                offset = int(parts[6 + p_cnt])
                if not re.fullmatch(r"[a-z]{3,}", lemma) or tagsense_cnt < 1:
                    continue
                end = data.index(b"\n", offset)
                gloss = data[offset:end].decode("utf-8").split(" | ", 1)[1].strip()
                definition, *examples = [g.strip() for g in gloss.split(";")]
                examples = [e.strip('"') for e in examples if e.startswith('"') and lemma in e]
                if not definition or definition.startswith('"'):
                    continue
                key = (tagsense_cnt, synset_cnt)
                if lemma not in best or key > best[lemma][0]:
                    best[lemma] = (key, POS_NAME[pos], definition, examples[:1])
    return {w: v[1:] for w, v in sorted(best.items())}


def devil_entries():
    with open(DEVIL + ".index", encoding="utf-8") as f:
        index = [line.rstrip("\n").split("\t") for line in f]
    with gzip.open(DEVIL + ".dict.dz", "rb") as f:
        text = f.read()

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def decode(s):
        n = 0
        for c in s:
            n = n * 64 + alphabet.index(c)
        return n

    entries = {}
    for word, off, size in index:
        if word.startswith("00database") or not re.fullmatch(r"[a-z][a-z '-]*", word):
            continue
        body = text[decode(off):decode(off) + decode(size)].decode("utf-8", "replace").strip()
        body = re.sub(r"[ \t]*\n[ \t]*", " ", body)  # the dictionary's wrapped lines
        body = re.sub(r" {2,}", " ", body).strip()
        body = re.sub(r"(\w)- (\w)", r"\1-\2", body)  # words hyphenated across lines
        if 20 <= len(body) <= 1200:
            entries[word] = body
    return entries


def fortunes():
    out = []
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        if "." in name or not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for block in f.read().split("\n%\n"):
                block = block.strip("%\n").strip()
                # Short ones, and no ASCII art (whose layout is its content).
                if 10 <= len(block) <= 320 and "    " not in block and "\t" not in block:
                    out.append(block)
    return sorted(set(out))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(SEED)
    train, valid = [], {"wordnet": [], "devil": [], "fortunes": []}

    words = wordnet_entries()
    trained_words = []
    for w, (pos, definition, examples) in words.items():
        answer = f"{w} ({pos}): {definition}."
        held_out = rng.random() < VALID_SHARE
        target = valid["wordnet"] if held_out else train
        target.append(chat(rng.choice(ASK_DEFINITION).format(w=w), answer))
        if examples:
            target.append(chat(rng.choice(ASK_EXAMPLE).format(w=w), examples[0][0].upper() + examples[0][1:] + "."))
        if not held_out:
            trained_words.append({"word": w, "answer": answer})

    for w, body in devil_entries().items():
        target = valid["devil"] if rng.random() < VALID_SHARE * 3 else train
        target.append(chat(rng.choice(ASK_DEVIL).format(w=w), body))

    for text in fortunes():
        target = valid["fortunes"] if rng.random() < VALID_SHARE else train
        target.append(chat(rng.choice(ASK_FORTUNE), text))

    rng.shuffle(train)
    with open(os.path.join(out_dir, "train.jsonl"), "w", encoding="utf-8") as f:
        for ex in train:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    for name, exs in valid.items():
        with open(os.path.join(out_dir, f"valid_{name}.jsonl"), "w", encoding="utf-8") as f:
            for ex in exs:
                f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, "words.json"), "w", encoding="utf-8") as f:
        json.dump(trained_words, f, ensure_ascii=False, indent=0)
    print(f"train {len(train)} conversations; valid " + ", ".join(f"{k} {len(v)}" for k, v in valid.items()) +
          f"; {len(trained_words)} trained words")


if __name__ == "__main__":
    main()
