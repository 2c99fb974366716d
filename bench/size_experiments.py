#!/usr/bin/env python3
# size_experiments.py: what would make bakefs images smaller? Re-packs a tree's file data the
# way mkimage does (breadth-first order with files that share a name written together, full
# blocks, tails packed into fragment blocks, blocks and tails deduplicated) and compares
# variants: plain breadth-first order, tails sorted by kind, a shared zstd dictionary, other
# fragment block sizes; and measures how well an image's metadata compresses.
# Uses libzstd through ctypes; nothing is written but the report. It models the 1.0 layout
# (one fragment stream, no x86 filter, zstd's own parameters): bakefs-size-levers measures
# format 1.1's levers with mkimage itself.
# SPDX-License-Identifier: BSD-2-Clause
"""usage: size_experiments.py TREE [--block 128K] [--level 15] [--image IMAGE.bakefs]"""

import argparse
import ctypes
import hashlib
import os
import stat
import struct
import sys
from collections import deque

zstd = ctypes.CDLL("libzstd.so.1")
zstd.ZSTD_compressBound.restype = ctypes.c_size_t
zstd.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
zstd.ZSTD_compress.restype = ctypes.c_size_t
zstd.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                               ctypes.c_int]
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
zstd.ZSTD_createCCtx.restype = ctypes.c_void_p
zstd.ZSTD_compress_usingDict.restype = ctypes.c_size_t
zstd.ZSTD_compress_usingDict.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                         ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                         ctypes.c_size_t, ctypes.c_int]
zstd.ZDICT_trainFromBuffer.restype = ctypes.c_size_t
zstd.ZDICT_trainFromBuffer.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                       ctypes.POINTER(ctypes.c_size_t), ctypes.c_uint]
zstd.ZDICT_isError.argtypes = [ctypes.c_size_t]

CCTX = zstd.ZSTD_createCCtx()


def stored_size(data, level, dictionary=None):
    """Bytes mkimage would store for one block: the zstd frame, or the raw bytes when
    compression saves less than 1/64."""
    cap = zstd.ZSTD_compressBound(len(data))
    out = ctypes.create_string_buffer(cap)
    if dictionary:
        n = zstd.ZSTD_compress_usingDict(CCTX, out, cap, data, len(data), dictionary,
                                         len(dictionary), level)
    else:
        n = zstd.ZSTD_compress(out, cap, data, len(data), level)
    if zstd.ZSTD_isError(n):
        raise RuntimeError("zstd failed")
    return n if n < len(data) - len(data) // 64 else len(data)


def train(samples, size):
    joined = b"".join(samples)
    sizes = (ctypes.c_size_t * len(samples))(*[len(s) for s in samples])
    out = ctypes.create_string_buffer(size)
    n = zstd.ZDICT_trainFromBuffer(out, size, joined, sizes, len(samples))
    if zstd.ZDICT_isError(n):
        return None
    return out.raw[:n]


def scan(root):
    """Regular files in mkimage's order: breadth first, names in byte order, each inode once."""
    files, seen = [], set()
    queue = deque([root])
    while queue:
        d = queue.popleft()
        for name in sorted(os.listdir(d), key=os.fsencode):
            p = os.path.join(d, name)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                queue.append(p)
            elif stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                files.append(p)
    return files


def by_name(files):
    """mkimage's data order: files sharing a base name go together, where the name is first
    seen in breadth-first order."""
    groups = {}
    for p in files:
        groups.setdefault(os.path.basename(p), []).append(p)
    return [p for group in groups.values() for p in group]


def kind(path):
    """A sort key that brings similar files together: extension, then base name."""
    base = os.path.basename(path)
    ext = base.rsplit(".", 1)[1] if "." in base[1:] else ""
    return (ext, base, path)


def split(files, block):
    """Full blocks and tails, both deduplicated, in file order; zero blocks are holes."""
    blocks, tails, seen = [], [], set()
    for p in files:
        with open(p, "rb") as f:
            data = f.read()
        full = len(data) // block
        for i in range(full):
            b = data[i * block:(i + 1) * block]
            h = hashlib.blake2b(b).digest()
            if b.count(0) == len(b) or h in seen:
                continue
            seen.add(h)
            blocks.append(b)
        tail = data[full * block:]
        h = hashlib.blake2b(b"t" + tail).digest()
        if tail and tail.count(0) != len(tail) and h not in seen:
            seen.add(h)
            tails.append((p, tail))
    return blocks, tails


def pack(tails, block):
    frags, cur = [], b""
    for _, t in tails:
        if len(cur) + len(t) > block:
            frags.append(cur)
            cur = b""
        cur += t
    if cur:
        frags.append(cur)
    return frags


def total(chunks, level, dictionary=None):
    return sum(stored_size(c, level, dictionary) for c in chunks)


def parse_size(text):
    mult = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:].upper(), 1)
    return int(text.rstrip("KkMm")) * mult


def metadata(image, level):
    with open(image, "rb") as f:
        sb = f.read(256)
        meta_off, meta_size = struct.unpack_from("<QQ", sb, 72)
        f.seek(meta_off)
        meta = f.read(meta_size)
    print(f"metadata of {image}: {meta_size / 2**20:.3f} MiB stored uncompressed")
    for unit in (4096, 16384, 65536, 1 << 20):
        chunks = [meta[i:i + unit] for i in range(0, len(meta), unit)]
        print(f"  compressed in {unit // 1024:5d} KiB units: {total(chunks, level) / 2**20:.3f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("tree")
    ap.add_argument("--block", default="128K")
    ap.add_argument("--level", type=int, default=15)
    ap.add_argument("--image", help="a bakefs image whose metadata to compress")
    args = ap.parse_args()
    block = parse_size(args.block)
    bfs = scan(args.tree)
    files = by_name(bfs)
    blocks, tails = split(files, block)
    mib = 2**20
    print(f"{args.tree}: {len(files)} files; {len(blocks)} full blocks, {len(tails)} tails, "
          f"{args.block} blocks, zstd level {args.level}")
    full = total(blocks, args.level)
    frags = pack(tails, block)
    base = full + total(frags, args.level)
    print(f"  as mkimage packs it:            {base / mib:8.3f} MiB "
          f"(full blocks {full / mib:.3f}, {len(frags)} fragment blocks)")
    v = full + total(pack(split(bfs, block)[1], block), args.level)
    print(f"  breadth-first order only:       {v / mib:8.3f} MiB ({v / base:.3f})")
    sorted_frags = pack(sorted(tails, key=lambda t: kind(t[0])), block)
    v = full + total(sorted_frags, args.level)
    print(f"  tails sorted by extension:      {v / mib:8.3f} MiB ({v / base:.3f})")
    for size in (32 << 10, 64 << 10, 1 << 20):
        if size != block:
            v = full + total(pack(tails, size), args.level)
            print(f"  fragment blocks of {size // 1024:4d} KiB:   {v / mib:8.3f} MiB ({v / base:.3f})")
    samples = [c[:4096] for c in frags + blocks][:4000]
    for size in (64 << 10, 112 << 10):
        d = train(samples, size) if samples else None
        if d:
            v = total(blocks, args.level, d) + total(frags, args.level, d) + len(d)
            print(f"  shared {size // 1024} KiB dictionary:      {v / mib:8.3f} MiB ({v / base:.3f})")
            v2 = total(blocks, args.level, d) + total(sorted_frags, args.level, d) + len(d)
            print(f"    and tails sorted:             {v2 / mib:8.3f} MiB ({v2 / base:.3f})")
    if args.image:
        metadata(args.image, args.level)


if __name__ == "__main__":
    sys.exit(main())
