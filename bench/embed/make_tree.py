#!/usr/bin/env python3
"""A deterministic web-asset tree of about SIZE MiB for the embed benchmark.

Usage: make_tree.py DIR [SIZE_MIB=50]

40% of the bytes are text (.js .css .html .json .svg: words from a small
vocabulary, so they compress about as well as real code, 3-5x), 60% binary
(.png .woff2 .jpg: random bytes, incompressible), in nested directories, with
seeded randomness: the same tree every time."""
import os
import random
import sys

d = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 50
rnd = random.Random(6)
words = ("function return const let var if else for while this that value data item list map "
         "render state props style color margin padding width height border display flex grid "
         "export import default async await promise fetch json error result index name id").split()
text_budget, bin_budget = size * 0.4 * (1 << 20), size * 0.6 * (1 << 20)
n = 0
while text_budget > 0 or bin_budget > 0:
    sub = os.path.join(d, "dir%02d" % (n % 20), "sub%d" % (n % 3))
    os.makedirs(sub, exist_ok=True)
    if text_budget > 0:
        ext = rnd.choice(["js", "css", "html", "json", "svg"])
        k = rnd.randint(2 << 10, 40 << 10)
        out, total = [], 0
        while total < k:
            line = " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12))) + ";\n"
            out.append(line)
            total += len(line)
        data = "".join(out).encode()
        text_budget -= len(data)
    else:
        ext = rnd.choice(["png", "woff2", "jpg"])
        k = rnd.randint(20 << 10, 200 << 10)
        data = rnd.randbytes(k)
        bin_budget -= len(data)
    with open(os.path.join(sub, "f%04d.%s" % (n, ext)), "wb") as f:
        f.write(data)
    n += 1
print("%d files in %s" % (n, d))
