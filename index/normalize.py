"""Text normalisation shared by indexing and querying.

`normalize` maps every character to exactly one character, so offsets found in the normalised text are
offsets in the original text: that is what lets snippets highlight exactly the matched text. It applies
NFKC (full-width letters, digits and punctuation), lower-cases Latin letters and converts traditional
Chinese characters to simplified ones, but only characters that are unambiguously traditional, so text that
is already simplified never changes (乾隆 stays 乾隆, 於 stays 於).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib.resources import files

import numpy as np

#: The CJK ideograph blocks, as a regular-expression character class body.
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U0003134f"
_CJK = re.compile(f"[{CJK_CLASS}]")


def is_cjk(char: str) -> bool:
    """True for a CJK ideograph (each one is a unit of its own)."""
    return _CJK.match(char) is not None


def _opencc_table(name: str) -> dict[str, list[str]]:
    """Read one of OpenCC's character tables: `char<TAB>candidate candidate...`."""
    text = files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, values = line.partition("\t")
        if key and values:
            table[key] = values.split()
    return table


@lru_cache(maxsize=1)
def traditional_to_simplified() -> dict[str, str]:
    """Characters that are traditional-only, each with its single simplified form.

    Left out: a character with several candidates (乾 → 干/乾), one that is itself a simplified character,
    and any character of GB 2312 (the simplified standard: 哪吒 must stay 哪吒). Converting those could
    change correct simplified text.
    """
    to_simplified = _opencc_table("TSCharacters.txt")
    simplified_chars = set(_opencc_table("STCharacters.txt"))
    return {
        char: candidates[0]
        for char, candidates in to_simplified.items()
        if len(candidates) == 1
        and len(char) == 1
        and len(candidates[0]) == 1
        and candidates[0] != char
        and char not in simplified_chars
        and not _in_gb2312(char)
    }


def _in_gb2312(char: str) -> bool:
    """True when `char` belongs to GB 2312, the standard set of simplified characters."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=65536)
def normalize_char(char: str) -> str:
    """The normalised form of one character (always exactly one character)."""
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) != 1:
        folded = char
    lowered = folded.lower()
    if len(lowered) == 1:
        folded = lowered
    return traditional_to_simplified().get(folded, folded)


#: Texts shorter than this are normalised character by character (numpy's set-up costs more).
_SHORT = 64


@lru_cache(maxsize=1)
def _bmp_table() -> np.ndarray:
    """The normalised code point of every Basic Multilingual Plane character, indexed by code point."""
    return np.fromiter((ord(normalize_char(chr(code))) if not 0xD800 <= code < 0xE000 else code
                        for code in range(0x10000)), dtype=np.uint32, count=0x10000)


def normalize(text: str) -> str:
    """Normalise `text` character by character; the result has the same length as the input.

    Long texts go through a lookup table over their code points (numpy), short ones through
    `normalize_char`; both give the same result.
    """
    if len(text) < _SHORT:
        return "".join(map(normalize_char, text))
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    low = codes < 0x10000
    if low.all():
        folded = _bmp_table()[codes]
    else:
        folded = codes.copy()
        folded[low] = _bmp_table()[codes[low]]
        folded[~low] = [ord(normalize_char(chr(code))) for code in codes[~low].tolist()]
    return folded.tobytes().decode("utf-32-le", "surrogatepass")