#!/usr/bin/env python3
"""Namespaces follow folders (docs/architecture.md): every source file under
src/uma/<folder> opens its folder's namespace, and never the namespace of a
layer that is not below it (a forward declaration of a lower layer's type,
`namespace uma::io::gguf { class File; }`, is fine).

    check_namespaces.py SRC_ROOT      # exits 1 and lists the files that break it
"""
import pathlib
import re
import sys

# Folder (relative to src/uma) -> its namespace; the longest prefix wins.
OWN = {
    "text/tokenizer": "uma::text::tokenizer",
    "text/jinja": "uma::text::jinja",
    "text": "uma::text",
    "nn": "uma::nn",
    "optim": "uma::optim",
    "lm": "uma::lm",
    "hub": "uma::hub",
    "serve": "uma::serve",
    "cli": "uma::cli",
}
# Namespaces of the layers each folder may not open.
LAYER_NS = {"uma::text", "uma::nn", "uma::optim", "uma::lm", "uma::hub", "uma::serve", "uma::cli", "uma::cpu"}
BELOW = {
    "text": {"uma::text"},
    "nn": {"uma::nn"},
    "optim": {"uma::nn", "uma::optim"},
    "lm": {"uma::nn", "uma::optim", "uma::text", "uma::lm"},
    "hub": {"uma::hub"},
    "serve": {"uma::nn", "uma::optim", "uma::text", "uma::lm", "uma::serve"},
    "cli": {"uma::nn", "uma::optim", "uma::text", "uma::lm", "uma::hub", "uma::serve", "uma::cli"},
}

OPEN = re.compile(r"^namespace\s+(uma(?:::\w+)*)\s*\{", re.M)


def layer_of(ns):
    for l in LAYER_NS:
        if ns == l or ns.startswith(l + "::"):
            return l
    return None


def check(root):
    bad = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        rel = path.relative_to(root).as_posix()
        folder = next((f for f in sorted(OWN, key=len, reverse=True) if rel.startswith(f + "/")), None)
        if folder is None:
            continue  # core and backend: uma and its sub-namespaces
        opened = OPEN.findall(path.read_text(errors="replace"))
        own = OWN[folder]
        allowed = BELOW[folder.split("/")[0]]
        if opened and not any(ns == own or ns.startswith(own + "::") for ns in opened):
            bad.append(f"{rel}: opens {', '.join(opened)}, not {own}")
        for ns in opened:
            l = layer_of(ns)
            if l and l not in allowed:
                bad.append(f"{rel}: opens {ns}, a layer {folder} may not define into")
    return bad


def main():
    root = pathlib.Path(sys.argv[1]) / "uma" if len(sys.argv) > 1 else pathlib.Path("src/uma")
    bad = check(root)
    for b in bad:
        print(b)
    print(f"check_namespaces: {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
