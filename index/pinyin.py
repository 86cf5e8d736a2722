"""Pinyin of words and query text: toneless syllables (pypinyin with its phrase dictionary), initials,
near-homophone variants.

ü is written v (lv, nv), as on a keyboard; a query may also write it u or ü. Only hanzi get pinyin: a word
with any other character has none. pypinyin (56 MB of tables in memory) is imported only by the functions
that need it, which builds call: searches read pinyin from the vocabulary (`index.vocabulary`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: Letters a pinyin query may hold (after lower-casing): a-z, ü, and the syllable separator '.
PINYIN_TEXT = re.compile(r"[a-zü']+")
#: Initials that are confused in many dialects and on phone keyboards, both ways.
_INITIAL_PAIRS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("z", "zh"), ("c", "ch"), ("s", "sh"), ("n", "l"),
                  ("l", "n"), ("f", "h"), ("h", "f"))
#: Finals confused in the same way.
_FINAL_PAIRS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def is_hanzi(text: str) -> bool:
    """True when every character of `text` is a CJK ideograph (and there is at least one)."""
    return bool(text) and _HANZI.fullmatch(text) is not None


def syllables(word: str) -> list[str] | None:
    """Toneless syllables of an all-hanzi word, polyphones read by pypinyin's phrase dictionary; else None.

    The same result as pypinyin's `lazy_pinyin` (checked on every word of the bench corpus) in a fifth of
    its time: a word whose characters have one toneless reading each is read character by character; any
    other is cut into the phrases of pypinyin's phrase dictionary (its own mmseg), each read as the
    dictionary says, the rest by each character's first reading, as `lazy_pinyin` does without its
    per-call style conversions."""
    if not is_hanzi(word):
        return None
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    from pypinyin.seg.mmseg import seg as phrases

    parts = []
    for char in word:
        found = char_readings(char)
        if len(found) != 1:
            break
        parts.append(found[0])
    else:
        return parts
    parts = []
    for token in phrases.cut(word):
        phrase = PHRASES_DICT.get(token)
        if phrase is not None and len(phrase) == len(token):
            parts += [_toneless(options[0]) for options in phrase]
        else:
            parts += [_toneless(PINYIN_DICT[ord(char)].split(",")[0]) if ord(char) in PINYIN_DICT else char
                      for char in token]
    return parts


@lru_cache(maxsize=1024)
def _toneless(reading: str) -> str:
    """A tone-marked reading without its tone (ü kept, written v)."""
    kept = [char for char in unicodedata.normalize("NFD", reading)
            if not unicodedata.combining(char) or char == "\u0308"]
    return "".join(kept).replace("u\u0308", "v")


@lru_cache(maxsize=65536)
def char_readings(char: str) -> tuple[str, ...]:
    """The distinct toneless readings of one character, the most common first (empty when it has none)."""
    from pypinyin.constants import PINYIN_DICT

    value = PINYIN_DICT.get(ord(char))
    return tuple(dict.fromkeys(_toneless(reading) for reading in value.split(","))) if value else ()


def all_char_readings() -> dict[str, tuple[str, ...]]:
    """Every hanzi pypinyin knows with its toneless readings (the vocabulary keeps them for searches)."""
    from pypinyin.constants import PINYIN_DICT

    return {chr(code): char_readings(chr(code)) for code in sorted(PINYIN_DICT) if is_hanzi(chr(code))}


def initials(parts: list[str]) -> str:
    """The first letter of each syllable (zh, ch, sh count as z, c, s, as users type them)."""
    return "".join(part[0] for part in parts if part)


def normalise_latin(text: str) -> str:
    """A query token as pinyin letters: lower case, ü (or u:) as v, separators ' and spaces dropped."""
    text = text.lower().replace("u:", "v").replace("ü", "v")
    return text.replace("'", "").replace(" ", "")


@lru_cache(maxsize=4096)
def variants(syllable: str) -> tuple[str, ...]:
    """Near-homophones of one syllable: z/zh, c/ch, s/sh, n/l, f/h, an/ang, en/eng, in/ing (not itself)."""
    found: list[str] = []
    for initial, other in _INITIAL_PAIRS:
        if syllable.startswith(initial) and not (initial in "zcs" and syllable[1:2] == "h"):
            found.append(other + syllable[len(initial):])
    for final, other in _FINAL_PAIRS + tuple((b, a) for a, b in _FINAL_PAIRS):
        if syllable.endswith(final) and not (final in ("an", "en", "in") and syllable.endswith(final + "g")):
            found.append(syllable[:-len(final)] + other)
    return tuple(item for item in dict.fromkeys(found) if item != syllable)
