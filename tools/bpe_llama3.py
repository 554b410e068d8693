"""Llama-3-style byte-level BPE in plain Python: the Llama 3 split regex written out as a hand scanner
(so no `regex` package is needed), GPT-2 bytes_to_unicode, BPE training (for the tiny fixture vocabulary)
and encode/decode with HF semantics (added special tokens split out first, ignore_merges: a piece that is
itself in the vocabulary is emitted whole, otherwise the lowest-rank adjacent pair is merged repeatedly).
"""
import unicodedata
from collections import Counter

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    """GPT-2 map: printable bytes map to themselves, the other 68 to U+0100.. in byte order.
    Returns (list of the 256 bytes in vocabulary order, dict byte -> char)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, {b: chr(c) for b, c in zip(bs, cs)}


BYTE_ORDER, BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def is_letter(ch):
    return unicodedata.category(ch).startswith("L")


def is_number(ch):
    return unicodedata.category(ch).startswith("N")


def is_space(ch):
    return ch.isspace()


def split_llama3(text):
    """The Llama 3 pre-tokenizer regex, alternative by alternative, leftmost-first like a backtracking engine."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        end = match_at(text, i)
        out.append(text[i:end])
        i = end
    return out


def match_at(t, i):
    n = len(t)
    c = t[i]
    # 1: (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if c == "'" and i + 1 < n:
        for suf in ("s", "t", "re", "ve", "m", "ll", "d"):
            if t[i + 1:i + 1 + len(suf)].lower() == suf:
                return i + 1 + len(suf)
    # 2: [^\r\n\p{L}\p{N}]?\p{L}+
    j = i
    if c not in "\r\n" and not is_letter(c) and not is_number(c) and i + 1 < n and is_letter(t[i + 1]):
        j = i + 1
    if is_letter(t[j]):
        while j < n and is_letter(t[j]):
            j += 1
        return j
    # 3: \p{N}{1,3}
    if is_number(c):
        j = i
        while j < n and j - i < 3 and is_number(t[j]):
            j += 1
        return j
    # 4: ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    j = i + 1 if c == " " else i

    def other(ch):
        return not is_space(ch) and not is_letter(ch) and not is_number(ch)

    if j < n and other(t[j]):
        while j < n and other(t[j]):
            j += 1
        while j < n and t[j] in "\r\n":
            j += 1
        return j
    # 5: \s*[\r\n]+  -> through the last \r or \n of the whitespace run
    j = i
    last_nl = -1
    while j < n and is_space(t[j]):
        if t[j] in "\r\n":
            last_nl = j
        j += 1
    run_end = j
    if last_nl >= 0:
        return last_nl + 1
    # 6: \s+(?!\S)
    if run_end > i:
        if run_end == n:
            return run_end
        if run_end - i >= 2:
            return run_end - 1
        # 7: \s+
        return run_end
    raise AssertionError("no alternative matched at %d" % i)


def to_unicode(s: str):
    return "".join(BYTE_TO_CHAR[b] for b in s.encode("utf-8"))


def train_bpe(text, n_merges):
    """Plain BPE on the split pieces; ties broken by the lexicographically smallest pair for determinism."""
    words = Counter(tuple(to_unicode(p)) for p in split_llama3(text))
    merges = []
    for _ in range(n_merges):
        pairs = Counter()
        for w, f in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        top = max(pairs.values())
        best = min(p for p, f in pairs.items() if f == top)
        merges.append(best)
        new_words = Counter()
        for w, f in words.items():
            out = []
            k = 0
            while k < len(w):
                if k + 1 < len(w) and (w[k], w[k + 1]) == best:
                    out.append(w[k] + w[k + 1])
                    k += 2
                else:
                    out.append(w[k])
                    k += 1
            new_words[tuple(out)] += f
        words = new_words
    return merges


class ByteLevelBPE:
    def __init__(self, vocab: dict, merges: list, specials: dict):
        self.vocab = vocab  # token string -> id
        self.inv = {i: s for s, i in vocab.items()}
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.specials = specials  # content -> id
        self.inv.update({i: s for s, i in specials.items()})

    def bpe_piece(self, u):
        if u in self.vocab:  # ignore_merges
            return [self.vocab[u]]
        parts = list(u)
        while len(parts) > 1:
            best = None
            for k in range(len(parts) - 1):
                r = self.ranks.get((parts[k], parts[k + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, k)
            if best is None:
                break
            k = best[1]
            parts[k:k + 2] = [parts[k] + parts[k + 1]]
        return [self.vocab[p] for p in parts]

    def encode(self, text, add_bos=None):
        """HF-style: special tokens in the text are matched literally first; add_bos = BOS id to prepend or None."""
        ids = [] if add_bos is None else [add_bos]
        i = 0
        start = 0
        while i <= len(text):
            hit = None
            if i < len(text):
                for s in sorted(self.specials, key=len, reverse=True):
                    if text.startswith(s, i):
                        hit = s
                        break
            if hit is not None or i == len(text):
                for p in split_llama3(text[start:i]):
                    ids.extend(self.bpe_piece(to_unicode(p)))
                if hit is None:
                    break
                ids.append(self.specials[hit])
                i += len(hit)
                start = i
            else:
                i += 1
        return ids

    def decode(self, ids, skip_special=False):
        out = bytearray()
        for t in ids:
            s = self.inv[t]
            if s in self.specials:
                if not skip_special:
                    out += s.encode("utf-8")
            else:
                out += bytes(CHAR_TO_BYTE[ch] for ch in s)
        return out.decode("utf-8", "replace")
