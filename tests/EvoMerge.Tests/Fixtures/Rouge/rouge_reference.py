#!/usr/bin/python3
"""ROUGE-L F1 x100 written independently of EvoMerge: a full LCS table by hand, and two tokenisations.

char:  NFC text; whitespace, control, punctuation (P*) and symbol (S*) characters separate and are dropped; each
       CJK character (its Unicode name says CJK, HIRAGANA, KATAKANA or HANGUL) is a token; other runs form
       lower-cased word tokens.
mecab: Debian's `mecab -Owakati`, one process per text; tokens made only of punctuation/symbols dropped, lower-cased.

usage: rouge_reference.py char|mecab PAIRS.json OUT.json   (PAIRS: [[prediction, reference], ...]; OUT: [score, ...])
"""
import json
import subprocess
import sys
import unicodedata


def separator(ch):
    return ch.isspace() or unicodedata.category(ch)[0] in "PSC"


def cjk(ch):
    name = unicodedata.name(ch, "")
    return any(word in name for word in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"))


def char_tokens(text):
    out, word = [], ""
    for ch in text:
        if separator(ch):
            if word:
                out.append(word.lower())
            word = ""
        elif cjk(ch):
            if word:
                out.append(word.lower())
            word = ""
            out.append(ch)
        else:
            word += ch
    if word:
        out.append(word.lower())
    return out


def mecab_tokens(text):
    line = " ".join(text.split())
    res = subprocess.run(["mecab", "-Owakati"], input=line + "\n", capture_output=True, text=True, check=True)
    return [t.lower() for t in res.stdout.split() if not all(separator(c) for c in t)]


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a)):
        for j in range(len(b)):
            table[i + 1][j + 1] = table[i][j] + 1 if a[i] == b[j] else max(table[i][j + 1], table[i + 1][j])
    return table[len(a)][len(b)]


def rouge_l(pred, ref):
    if not pred or not ref:
        return 0.0
    n = lcs(pred, ref)
    if n == 0:
        return 0.0
    p, r = n / len(pred), n / len(ref)
    return 100 * 2 * p * r / (p + r)


if __name__ == "__main__":
    tok = char_tokens if sys.argv[1] == "char" else mecab_tokens
    with open(sys.argv[2], encoding="utf-8") as f:
        pairs = json.load(f)
    with open(sys.argv[3], "w") as f:
        json.dump([rouge_l(tok(p), tok(r)) for p, r in pairs], f)
