"""wafer-bench: a deterministic CPython workload (see benches/README.md).

Integer arithmetic, string formatting and joining, dict, set and list operations,
sorting, json and re. Prints one checksum line per part. Nothing depends on hash
randomisation (sets are sorted before they are printed or folded). It ends with a flush
and os._exit(0), so `wasmtime run --invoke run` does not append the invoked function's
result to the output.
"""

import json
import os
import re
import sys

MASK = (1 << 64) - 1


def fold(h, value):
    """FNV-1a style fold of an int into a 64-bit checksum."""
    return ((h ^ (value & MASK)) * 0x100000001B3) & MASK


def fold_text(h, text):
    for byte in text.encode():
        h = fold(h, byte)
    return h


def rng(seed):
    """A 64-bit LCG, top 31 bits."""
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        yield x >> 33


def integers(n):
    h = 0xCBF29CE484222325
    primes = []
    for k in range(2, n):
        for p in primes:
            if p * p > k:
                primes.append(k)
                break
            if k % p == 0:
                break
        else:
            primes.append(k)
    for i, p in enumerate(primes):
        h = fold(h, p * (i + 1) ^ (p << 7))
    big = 1
    for i in range(1, 400):
        big = big * (i | 1) + i
    a, b = 0, 1
    for _ in range(2000):
        a, b = b, a + b
    h = fold(h, big % 1_000_000_007)
    h = fold(h, a % 998_244_353)
    h = fold(h, sum(x * x % 7919 for x in range(n * 4)))
    return f"integers: {len(primes)} primes, {len(str(big))} digits, {h:016x}"


def strings(n):
    gen = rng(7)
    words = []
    for i in range(n):
        r = next(gen)
        word = "".join(chr(97 + (r >> s) % 26) for s in range(0, 5 * (3 + r % 6), 5))
        words.append(word)
    lines = []
    for i, w in enumerate(words):
        lines.append(f"{i:06d}|{w:<12}|{len(w) * 3.25:8.2f}|{w.upper()[::-1]}|{i % 17:x}")
    text = "\n".join(lines)
    h = fold_text(0xCBF29CE484222325, text)
    parts = text.replace("|", ",").split("\n")
    joined = ";".join(p.strip().title() for p in parts[::3])
    h = fold_text(h, joined[:: max(1, len(joined) // 5000)])
    vowels = sum(text.count(v) for v in "aeiou")
    return f"strings: {len(text)} chars, {vowels} vowels, {h:016x}"


def containers(n):
    gen = rng(11)
    counts = {}
    seen = set()
    pairs = []
    for i in range(n):
        k = next(gen) % 5000
        counts[k] = counts.get(k, 0) + 1
        seen.add(k * 3 % 4099)
        pairs.append((k % 97, -k, i))
    pairs.sort()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    buckets = {}
    for key, count in counts.items():
        buckets.setdefault(count, []).append(key)
    evens = {k for k in seen if k % 2 == 0}
    odds = seen - evens
    h = 0xCBF29CE484222325
    for k, c in ranked[:200]:
        h = fold(h, k * 31 + c)
    for a, b, c in pairs[:: max(1, n // 2000)]:
        h = fold(h, a * 1_000_003 + b * 7 + c)
    for k in sorted(odds)[::7]:
        h = fold(h, k)
    stack = list(range(n // 4))
    acc = 0
    while stack:
        acc += stack.pop() * (len(stack) & 3)
    h = fold(h, acc)
    return (
        f"containers: {len(counts)} keys, {len(buckets)} buckets, "
        f"{len(evens)}/{len(odds)} even/odd, {h:016x}"
    )


def records(n):
    gen = rng(23)
    items = []
    for i in range(n):
        r = next(gen)
        items.append(
            {
                "id": i,
                "name": f"item-{r % 10007:05d}",
                "price": (r % 100_000) / 100,
                "tags": [f"t{(r >> s) % 13}" for s in (3, 9, 15)],
                "ok": r % 3 == 0,
            }
        )
    blob = json.dumps(items, sort_keys=True)
    back = json.loads(blob)
    total = sum(item["price"] for item in back if item["ok"])
    pattern = re.compile(r'"name": "item-(\d{5})", "ok": (true|false), "price": (\d+)\.(\d+)')
    matched = 0
    h = 0xCBF29CE484222325
    for m in pattern.finditer(blob):
        matched += 1
        h = fold(h, int(m.group(1)) * 1000 + int(m.group(3)) + len(m.group(2)))
    words = re.findall(r"t(\d+)", blob)
    subbed = re.sub(r"item-(\d)(\d+)", r"\2-\1", blob[:20000])
    h = fold_text(h, subbed[::50])
    return (
        f"records: {len(blob)} json bytes, {matched} matches, {len(words)} tags, "
        f"total {total:.2f}, {h:016x}"
    )


def main():
    print(integers(30_000))
    print(strings(40_000))
    print(containers(200_000))
    print(records(15_000))
    sys.stdout.flush()
    os._exit(0)


main()
