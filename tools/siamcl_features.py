#!/usr/bin/python3
"""siamcl's text features in Python: the hashing of host/siamcl/features.h, so that any program
can feed an exported text model (siamcl export) the ids, weights and offsets it takes. Standard
library only.

    from siamcl_features import settings, featurize
    s = settings(config_text)   # the [features] of a model's config, e.g. the ONNX metadata
                                # "siamcl.config" or a run directory's config.ini
    ids, weights, offsets = featurize(["cordless drill", "deck screws"], s)
    f = overlap("cordless drill", "drill, cordless")  # a pair's pair_features

Run as a program, it prints each text's row (bucket:weight ...), one line per text of stdin:
    tools/siamcl_features.py CONFIG.ini < texts.txt"""
import collections
import configparser
import math
import re
import sys

FNV_BASIS, FNV_PRIME = 2166136261, 16777619
TRUE = {"true": True, "yes": True, "on": True, "1": True,
        "false": False, "no": False, "off": False, "0": False}


def settings(config_text):
    """The [features] settings of a siamcl config (its text), with siamcl's defaults."""
    ini = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    ini.read_string(config_text)
    f = ini["features"] if ini.has_section("features") else {}
    return {"trigrams": TRUE[f.get("trigrams", "true").lower()],
            "unigrams": TRUE[f.get("unigrams", "true").lower()],
            "bigrams": TRUE[f.get("bigrams", "false").lower()],
            "buckets": int(f.get("buckets", str(2**18))),
            "weighting": f.get("weighting", "count").lower()}


def fnv1a32(data):
    h = FNV_BASIS
    for x in data:
        h = ((h ^ x) * FNV_PRIME) & 0xFFFFFFFF
    return h


def row(text, s):
    """One text's row: [(bucket, weight)] in ascending buckets. text: str (as UTF-8) or bytes."""
    b = text.encode("utf-8") if isinstance(text, str) else text
    words = re.findall(rb"[a-z0-9\x80-\xff]+", b.lower())  # bytes.lower() maps only A-Z
    feats = []
    if s["trigrams"]:
        feats += [b"t" + (b"#" + w + b"#")[i:i + 3] for w in words for i in range(len(w))]
    if s["unigrams"]:
        feats += [b"u" + w for w in words]
    if s["bigrams"]:
        feats += [b"b" + x + b" " + y for x, y in zip(words, words[1:])]
    hits = collections.Counter(fnv1a32(f) & (s["buckets"] - 1) for f in feats)
    weigh = {"count": float, "log": lambda n: 1.0 + math.log(n), "binary": lambda n: 1.0}
    return [(k, weigh[s["weighting"]](hits[k])) for k in sorted(hits)]


def overlap(left, right):
    """A pair's overlap features (host/siamcl/overlap.h), which a head with pair_features =
    overlap reads: the shares of the left text's words and trigrams the right one has, and of
    the right one's words the left one has."""
    def words(t):
        b = t.encode("utf-8") if isinstance(t, str) else t
        return set(re.findall(rb"[a-z0-9\x80-\xff]+", b.lower()))

    def tri(t):
        return {(b"#" + w + b"#")[i:i + 3] for w in words(t) for i in range(len(w))}

    def share(a, b):
        return len(a & b) / len(a) if a else 0.0
    return [share(words(left), words(right)), share(tri(left), tri(right)),
            share(words(right), words(left))]


def featurize(texts, s):
    """(ids, weights, offsets) of the texts, as an exported text model's inputs take them."""
    ids, weights, offsets = [], [], []
    for t in texts:
        offsets.append(len(ids))
        for k, w in row(t, s):
            ids.append(k)
            weights.append(w)
    return ids, weights, offsets


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: siamcl_features.py CONFIG.ini < texts.txt")
    with open(sys.argv[1], encoding="utf-8") as f:
        s = settings(f.read())
    for line in sys.stdin.buffer:
        print(" ".join(f"{k}:{w:.6g}" for k, w in row(line.rstrip(b"\r\n"), s)))


if __name__ == "__main__":
    main()
