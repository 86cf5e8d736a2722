"""Pinyin of words and query text: toneless syllables (pypinyin with its phrase dictionary), initials,
near-homophone variants.

ü is written v (lv, nv), as on a keyboard; a query may also write it u or ü. Only hanzi get pinyin: a word
with any other character has none.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

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
    """Toneless syllables of an all-hanzi word, polyphones read by pypinyin's phrase dictionary; else None."""
    if not is_hanzi(word):
        return None
    return lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, neutral_tone_with_five=False)


def initials(parts: list[str]) -> str:
    """The first letter of each syllable (zh, ch, sh count as z, c, s, as users type them)."""
    return "".join(part[0] for part in parts if part)


@lru_cache(maxsize=65536)
def readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one hanzi (the most common first); the character itself when it has none."""
    found = pinyin(char, style=Style.NORMAL, heteronym=True, v_to_u=False)
    values = tuple(dict.fromkeys(found[0])) if found and found[0] else ()
    return tuple(value for value in values if value.isascii() and value.isalpha()) or (char,)


def normalise_latin(text: str) -> str:
    """A query token as pinyin letters: lower case, ü (or u:) as v, separators ' and spaces dropped."""
    text = text.lower().replace("u:", "v").replace("ü", "v")
    return text.replace("'", "").replace(" ", "")


def variants(syllable: str) -> list[str]:
    """Near-homophones of one syllable: z/zh, c/ch, s/sh, n/l, f/h, an/ang, en/eng, in/ing (not itself)."""
    found: list[str] = []
    for initial, other in _INITIAL_PAIRS:
        if syllable.startswith(initial) and not (initial in "zcs" and syllable[1:2] == "h"):
            found.append(other + syllable[len(initial):])
    for final, other in _FINAL_PAIRS + tuple((b, a) for a, b in _FINAL_PAIRS):
        if syllable.endswith(final) and not (final in ("an", "en", "in") and syllable.endswith(final + "g")):
            found.append(syllable[:-len(final)] + other)
    return [item for item in dict.fromkeys(found) if item != syllable]
