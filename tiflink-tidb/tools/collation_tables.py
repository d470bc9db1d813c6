#!/usr/bin/env python3
"""Regenerates the collation weight tables under src/main/resources/io/tiflink/tidb/collation.

The weights are facts of the Unicode Collation Algorithm (allkeys-4.0.0 for utf8mb4_unicode_ci,
allkeys-9.0.0 for utf8mb4_0900_ai_ci) and of MySQL's utf8mb4_general_ci case-folding planes, in
the per-code-point form TiDB and TiKV use. The inputs are TiKV's tables of those facts
(components/tidb_query_datatype/src/codec/collation/collator/{utf8mb4_uca/data_0400.rs,
utf8mb4_uca/data_0900.rs, utf8mb4_general_ci.rs}); only their numbers are read.

  python3 collation_tables.py data_0400.rs data_0900.rs utf8mb4_general_ci.rs OUT_DIR

Output format (gzip, big-endian): UCA tables are int n, n longs (up to four 16-bit weights per
code point, first weight in the low bits; 0xFFFD marks a code point with more weights), int m, m x
(int code point, long low, long high). general_ci is 65536 unsigned shorts.
"""
import gzip
import re
import struct
import sys


def array_body(src, name):
    start = src.index('static ' + name)
    open_ = src.index('[', src.index('=', start))
    close = src.index('];', open_)
    return src[open_ + 1:close]


def numbers(body):
    body = re.sub(r'/\*.*?\*/|//[^\n]*', '', body)
    return [int(t, 16) if t.startswith('0x') else int(t) for t in re.findall(r'0x[0-9A-Fa-f]+|\d+', body)]


def uca(path, out):
    src = open(path).read()
    table = numbers(array_body(src, 'UNICODE_CI_TABLE'))
    fn = src[src.index('fn map_long_rune'):]
    fn = fn[:fn.index('_ =>')]
    longs = [(int(a, 16), int(b, 16)) for a, b in re.findall(r'0x([0-9A-F]+) => 0x([0-9A-F]+)', fn)]
    with gzip.open(out, 'wb') as f:
        f.write(struct.pack('>i', len(table)))
        f.write(struct.pack('>%dQ' % len(table), *table))
        f.write(struct.pack('>i', len(longs)))
        for cp, w in longs:
            f.write(struct.pack('>iQQ', cp, w & (2**64 - 1), w >> 64))


def general_ci(path, out):
    src = open(path).read()
    planes = {}
    for m in re.finditer(r'static GENERAL_CI_PLANE_([0-9A-F]{2}): \[u16; 256\]', src):
        planes[int(m.group(1), 16)] = numbers(array_body(src, 'GENERAL_CI_PLANE_' + m.group(1) + ':'))
    weights = []
    for p in range(256):
        weights.extend(planes.get(p, [(p << 8) | i for i in range(256)]))
    with gzip.open(out, 'wb') as f:
        f.write(struct.pack('>65536H', *weights))


if __name__ == '__main__':
    d0400, d0900, gci, out = sys.argv[1:5]
    uca(d0400, out + '/uca0400.bin.gz')
    uca(d0900, out + '/uca0900.bin.gz')
    general_ci(gci, out + '/general_ci.bin.gz')
