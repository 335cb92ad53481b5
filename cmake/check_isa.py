#!/usr/bin/env python3
"""Fails the build when an ISA tier's code holds instructions of a higher tier.

Each object's tier comes from its source file's suffix (CMakeLists.txt, "ISA
tiers"): *_avx512.cpp, *_avx512_bf16.cpp, *_avx512_fp16.cpp, *_amx.cpp; every
other object is the avx2 floor. The disassembly of every object is classified
instruction by instruction:

  avx512       any EVEX-encoded instruction (first opcode byte 0x62 in 64-bit mode)
  avx512_bf16   vdpbf16ps, vcvtne(2)ps2bf16; VNNI dot products (vpdpbusd(s), vpdpwssd(s))
  avx512_fp16   EVEX maps 5 and 6, or an EVEX *ph / *sh mnemonic other than vcvtps2ph
  amx          tile loads/stores/products and tile configuration

An object above the floor must also define no weak (COMDAT) functions: the
linker may pick a tier's copy of an inline function for every caller, which
is how AVX-512 code reached baseline paths before.

Usage: check_isa.py [--objdump objdump] [--readelf readelf] [--cache FILE] FILE...   (objects or archives)
       check_isa.py --self-test --cxx c++                    (the check catches each tier)
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

TIERS = ["avx2", "avx512", "avx512_bf16", "avx512_fp16", "amx"]
LEVEL = {t: i for i, t in enumerate(TIERS)}
SUFFIX = re.compile(r"_(avx512|avx512_bf16|avx512_fp16|amx)\.(?:cpp|cc|c)\.o$")
PREFIXES = {0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x3E, 0x26, 0x64, 0x65, 0x36, 0xF0}
BF16_VNNI = {"vdpbf16ps", "vcvtne2ps2bf16", "vcvtneps2bf16", "vpdpbusd", "vpdpbusds", "vpdpwssd", "vpdpwssds"}
FP16_MNEMONIC = re.compile(r"^v\w*(ph|sh)x?$")
AMX = re.compile(r"^(tile\w*|tdp\w*|tcmm\w*|ldtilecfg|sttilecfg)$")


def object_tier(member):
    m = SUFFIX.search(member)
    return m.group(1) if m else "avx2"


def instruction_level(hexbytes, mnemonic):
    """The lowest tier that can run this instruction (0 for the floor)."""
    if AMX.match(mnemonic):
        return LEVEL["amx"]
    if mnemonic in BF16_VNNI:
        return LEVEL["avx512_bf16"]
    i = 0
    while i < len(hexbytes) and hexbytes[i] in PREFIXES:
        i += 1
    if i + 1 < len(hexbytes) and hexbytes[i] == 0x62:
        if hexbytes[i + 1] & 0x07 in (5, 6):
            return LEVEL["avx512_fp16"]
        if FP16_MNEMONIC.match(mnemonic) and mnemonic != "vcvtps2ph":
            return LEVEL["avx512_fp16"]
        return LEVEL["avx512"]
    return 0


# An instruction line of `objdump -d -w`: address, raw bytes, mnemonic. Only
# lines that can be above the floor are looked at: an EVEX prefix (0x62 after
# any legacy prefixes) or one of the named non-EVEX mnemonics.
CANDIDATE = re.compile(
    r"^ *[0-9a-f]+:\t(?:(?:(?:66|67|f2|f3|2e|3e|26|64|65|36|f0) )*62 [0-9a-f]{2} [^\t]*\t.*"
    r"|[^\t]*\t(?:tile|tdp|tcmm|ldtilecfg|sttilecfg|vdpbf16ps|vcvtne2?ps2bf16|vpdpbusd|vpdpwssd).*)$",
    re.M)


def scan_disassembly(text):
    """Yields (member, function, level, line) for every instruction above the floor."""
    for m in CANDIDATE.finditer(text):
        parts = m.group(0).split("\t")
        if len(parts) < 3:
            continue
        try:
            hexbytes = [int(b, 16) for b in parts[1].split()]
        except ValueError:
            continue
        words = parts[2].split()
        mnemonic = words[0] if words else ""
        if mnemonic.startswith("{") and len(words) > 1:  # "{evex} vmovdqu ..." pseudo-prefix
            mnemonic = words[1]
        level = instruction_level(hexbytes, mnemonic)
        if level:
            head = text.rfind(">:\n", 0, m.start())
            function = text[text.rfind("<", 0, head) + 1 : head] if head > 0 else "?"
            fmt = text.rfind(":     file format", 0, m.start())
            member = text[text.rfind("\n", 0, fmt) + 1 : fmt] if fmt >= 0 else "?"
            yield member, function, level, parts[2].strip()


def weak_functions(readelf, path):
    """(member, symbol) for every weak function a file (or archive member)
    defines: code that the linker may pick for callers in any object. Weak
    data (typeinfo names of sanitizer builds, say) cannot carry a tier's
    instructions and is left alone."""
    out = subprocess.run([readelf, "-sW", path], check=True, capture_output=True, text=True).stdout
    member = path
    for line in out.splitlines():
        if line.startswith("File: "):
            name = line[len("File: "):]
            member = name[name.index("(") + 1 : -1] if name.endswith(")") and "(" in name else name
            continue
        f = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(f) >= 8 and f[3] == "FUNC" and f[4] == "WEAK" and f[6] != "UND":
            yield member, f[7]


def check_one(path, objdump, readelf):
    errors = []
    text = subprocess.run([objdump, "-d", "-w", path], check=True, capture_output=True, text=True).stdout
    shown = set()
    for member, function, level, insn in scan_disassembly(text):
        member = os.path.basename(member)
        tier = object_tier(member)
        if level > LEVEL[tier] and (member, function) not in shown:
            shown.add((member, function))
            errors.append(f"{member} (tier {tier}): {function}: '{insn}' needs tier {TIERS[level]}")
    for member, symbol in weak_functions(readelf, path):
        member = os.path.basename(member)
        if object_tier(member) != "avx2":
            errors.append(f"{member} (tier {object_tier(member)}): defines weak function {symbol}; "
                          "give it internal linkage so no other tier can link to this copy")
    return errors


def check(paths, objdump, readelf, cache=None):
    """Checks objects (or archives) in parallel; with a cache file, only those
    changed since they last passed."""
    passed = {}
    if cache and os.path.exists(cache):
        try:
            with open(cache) as f:
                passed = json.load(f)
        except (OSError, ValueError):
            passed = {}

    def stamp(p):
        st = os.stat(p)
        return [st.st_mtime_ns, st.st_size]

    todo = [p for p in paths if passed.get(os.path.abspath(p)) != stamp(p)]
    errors = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for p, errs in zip(todo, pool.map(lambda p: check_one(p, objdump, readelf), todo)):
            errors += errs
            if errs:
                passed.pop(os.path.abspath(p), None)
            else:
                passed[os.path.abspath(p)] = stamp(p)
    if cache:
        with open(cache + ".tmp", "w") as f:
            json.dump(passed, f)
        os.replace(cache + ".tmp", cache)
    return errors


SELF_TESTS = [
    # (file name, flags, code, should it fail)
    ("ok_avx512.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl",
     "#include <immintrin.h>\nvoid f(float* p){_mm512_storeu_ps(p,_mm512_add_ps(_mm512_loadu_ps(p),_mm512_set1_ps(1)));}", False),
    ("base.cpp", "-march=x86-64-v3 -mavx512f",
     "#include <immintrin.h>\nvoid f(float* p){_mm512_storeu_ps(p,_mm512_add_ps(_mm512_loadu_ps(p),_mm512_set1_ps(1)));}", True),
    ("dp_avx512.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16",
     "#include <immintrin.h>\n__m512 f(__m512 a,__m512i x,__m512i y){return _mm512_dpbf16_ps(a,(__m512bh)x,(__m512bh)y);}", True),
    ("dp_avx512_bf16.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni -mavx512bf16",
     "#include <immintrin.h>\n__m512 f(__m512 a,__m512i x,__m512i y){return _mm512_dpbf16_ps(a,(__m512bh)x,(__m512bh)y);}", False),
    ("h_avx512_bf16.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16 -mavx512fp16",
     "#include <immintrin.h>\n__m512h f(__m512h a,__m512h b){return _mm512_add_ph(a,b);}", True),
    ("w_avx512_bf16.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16 -mavx512fp16",
     "#include <immintrin.h>\n__m128i f(short x){return _mm_cvtsi16_si128(x);}", True),  # vmovw
    ("h_avx512_fp16.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16 -mavx512fp16",
     "#include <immintrin.h>\n__m512h f(__m512h a,__m512h b){return _mm512_add_ph(a,b);}", False),
    ("t_avx512_fp16.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16 -mavx512fp16 -mamx-tile",
     "#include <immintrin.h>\nvoid f(){_tile_release();}", True),
    ("t_amx.cpp", "-mavx512f -mamx-tile", "#include <immintrin.h>\nvoid f(){_tile_release();}", False),
    ("weak_avx512.cpp", "-mavx512f -mavx512bw -mavx512dq -mavx512vl",
     "inline __attribute__((noinline)) int g(int x){return x*3+1;}\nint f(int x){return g(x);}", True),
]


def self_test(cxx, objdump, readelf):
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for name, flags, code, should_fail in SELF_TESTS:
            src = os.path.join(d, name)
            with open(src, "w") as f:
                f.write(code + "\n")
            obj = src + ".o"
            subprocess.run([cxx, "-std=c++20", "-O2", "-c", src, "-o", obj] + flags.split(), check=True)
            errors = check([obj], objdump, readelf)
            ok = bool(errors) == should_fail
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {'rejected' if errors else 'accepted'}"
                  f"{' (' + errors[0] + ')' if errors else ''}")
            failures += not ok
    print(f"{len(SELF_TESTS) - failures} passed, {failures} failed")
    return failures == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--readelf", default=None, help="default: beside objdump")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "c++"))
    ap.add_argument("--cache", default=None, help="remember objects that passed; recheck only changed ones")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    tools = os.path.dirname(args.objdump)
    readelf = args.readelf or (os.path.join(tools, "readelf") if tools else "readelf")
    if args.self_test:
        return 0 if self_test(args.cxx, args.objdump, readelf) else 1
    errors = check(args.files, args.objdump, readelf, args.cache)
    for e in errors:
        print("check_isa: " + e, file=sys.stderr)
    if errors:
        print(f"check_isa: {len(errors)} violation(s); see CMakeLists.txt, 'ISA tiers'", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
