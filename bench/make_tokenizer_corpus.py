#!/usr/bin/env python3
"""Writes the tokenizer benchmark corpus: Debian's fortunes, The Devil's
Dictionary (dict-devil) and WordNet glosses (wordnet-base), concatenated in a
fixed order and repaired to valid UTF-8. Install the sources with
`apt-get install fortunes dict-devil wordnet-base`.

Usage: bench/make_tokenizer_corpus.py [OUT] (default build/tokenizer_corpus.txt)
"""
import glob
import gzip
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "build/tokenizer_corpus.txt"
parts = []
fortunes = sorted(p for p in glob.glob("/usr/share/games/fortunes/*")
                  if os.path.isfile(p) and not os.path.islink(p) and not p.endswith((".dat", ".u8")))
for p in fortunes:
    parts.append(open(p, "rb").read())
parts.append(gzip.open("/usr/share/dictd/devil.dict.dz").read())
for name in ("data.verb", "data.adv", "data.adj"):
    parts.append(open(os.path.join("/usr/share/wordnet", name), "rb").read())
if len(fortunes) < 10:
    sys.exit("fortunes not found: apt-get install fortunes dict-devil wordnet-base")
text = b"".join(parts).decode("utf-8", errors="replace")
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w", encoding="utf-8", newline="") as f:
    f.write(text)
print(f"{out}: {len(text.encode('utf-8'))} bytes, {len(fortunes)} fortune files")
