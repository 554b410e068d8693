"""Token ids of the real Llama 3 tokenizer (shared/models/llama3-tokenizer/tokenizer.model, read at run time)
for a set of strings, as a fixture for the Java Llama 3 tokenizer.

Algorithm (tiktoken / HF with ignore_merges): split the text with the Llama 3 regex (bpe_llama3.split_llama3,
checked against the `regex` package), then per piece: if its UTF-8 bytes are a token, emit that rank; otherwise
start from single bytes and repeatedly merge the adjacent pair whose concatenation has the lowest rank.
Special tokens are not parsed from the text (tiktoken encode(..., allowed_special=()) / plain text).

Usage: /usr/bin/python3 tools/ref_llama3_tokenizer.py [--shared /work/shared]
Writes finlora-core/src/test/resources/fixtures/llama3-tokenizer-cases.json
"""
import argparse
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe_llama3 as bpe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "finlora-core", "src", "test", "resources", "fixtures")

CASES = [
    "Hello world",
    "Once upon a time, there was a little dog named Pip.",
    "Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\n"
    "Input: Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007.\nAnswer: ",
    "I'LL we'Re don't 'x '' 1234567 a1b2",
    "  two  spaces\n\nnew lines\tand a tab  \r\n",
    "naïve café — ünïcödé 😀 日本語のテキスト",
    "def f(x):\n    return x**2  # square\n",
    "$1,234.56 (+7.8%) vs. 2023-12-31",
    "",
]


def load_ranks(path):
    ranks = {}
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def encode_piece(piece: bytes, ranks):
    if piece in ranks:
        return [ranks[piece]]
    parts = [bytes([b]) for b in piece]
    while len(parts) > 1:
        best = None
        for k in range(len(parts) - 1):
            r = ranks.get(parts[k] + parts[k + 1])
            if r is not None and (best is None or r < best[0]):
                best = (r, k)
        if best is None:
            break
        k = best[1]
        parts[k:k + 2] = [parts[k] + parts[k + 1]]
    return [ranks[p] for p in parts]


def encode(text, ranks):
    ids = []
    for p in bpe.split_llama3(text):
        ids.extend(encode_piece(p.encode("utf-8"), ranks))
    return ids


def main():
    ap = argparse.ArgumentParser()
    default_shared = os.path.join(os.path.dirname(ROOT), "shared")
    if not os.path.isdir(default_shared):
        default_shared = "/work/shared"
    ap.add_argument("--shared", default=default_shared)
    args = ap.parse_args()
    ranks = load_ranks(os.path.join(args.shared, "models", "llama3-tokenizer", "tokenizer.model"))
    assert len(ranks) == 128000
    inv = {r: t for t, r in ranks.items()}
    ids = encode("Hello world", ranks)
    assert ids == [9906, 1917], ids  # well-known Llama 3 ids
    cases = []
    for s in CASES:
        ids = encode(s, ranks)
        assert b"".join(inv[i] for i in ids) == s.encode("utf-8")
        cases.append({"text": s, "ids": ids, "ids_with_bos": [128000] + ids})
        print(repr(s)[:60], ids[:16], "..." if len(ids) > 16 else "")
    out = {"tokenizer": "shared/models/llama3-tokenizer/tokenizer.model",
           "note": "ids = plain-text encoding (no special-token parsing); ids_with_bos prepends <|begin_of_text|>=128000",
           "cases": cases}
    path = os.path.join(FIX, "llama3-tokenizer-cases.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
