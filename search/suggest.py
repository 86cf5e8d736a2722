"""Search-as-you-type: completions of what is being typed, from the vocabulary and the query log.

A hanzi (or other) prefix completes to vocabulary entries that start with it (words, headline phrases,
districts, columns); a prefix in Latin letters that is not the start of a word of the text completes to
entries whose full pinyin or initials start with it (laji → 垃圾分类, ljfl → 垃圾分类); hanzi followed by
letters (垃圾fen) to entries that start with the hanzi and continue with that pinyin. Entries are ranked by
document frequency; queries from the log that start with the prefix and found something come first, by
how often they were searched.
"""

from __future__ import annotations

import re
from typing import Any

from index.normalize import normalize
from index.pinyin import normalise_latin
from index.vocabulary import FULL, HEADLINE, INITIALS, Vocabulary

MAX_SUGGESTIONS = 10
#: Longest prefix completed (longer input is a query, not something being typed).
MAX_PREFIX_CHARS = 40
#: Shortest prefix completed through pinyin (one letter spells thousands of words).
MIN_PINYIN_PREFIX = 2
#: Log queries put before the vocabulary's completions at most.
MAX_HISTORY = 3
_MIXED = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff]*)([a-zü' ]*)")


def suggestions(vocabulary: Vocabulary | None, q: str, history: list[dict[str, Any]] | None = None,
                limit: int = MAX_SUGGESTIONS) -> list[dict[str, Any]]:
    """Up to `limit` completions of `q`: [{text, kind (word|headline|pinyin|history), count}]."""
    prefix = normalize(q).strip()
    if not prefix or len(prefix) > MAX_PREFIX_CHARS:
        return []
    found: list[dict[str, Any]] = []
    seen = {prefix}
    for item in (history or [])[:MAX_HISTORY]:
        if normalize(item["q"]).strip() not in seen:
            seen.add(normalize(item["q"]).strip())
            found.append({"text": item["q"], "kind": "history", "count": int(item["count"])})
    if vocabulary is not None:
        for text, count, kind in _completions(vocabulary, prefix, limit):
            if text not in seen:
                seen.add(text)
                found.append({"text": text, "kind": kind, "count": count})
    return found[:limit]


def _completions(vocabulary: Vocabulary, prefix: str, limit: int) -> list[tuple[str, int, str]]:
    direct = [(text, count, "headline" if kinds == HEADLINE else "word")
              for text, count, kinds in vocabulary.completions(prefix, limit)]
    mixed = _MIXED.fullmatch(prefix)
    if mixed is None or not mixed.group(2).strip() or len(direct) >= limit:
        return direct
    hanzi, letters = mixed.group(1), normalise_latin(mixed.group(2))
    if not letters.isalpha() or len(hanzi) + len(letters) < MIN_PINYIN_PREFIX:
        return direct
    members = [member for spelled in (vocabulary.spellings(hanzi) if hanzi else [""])
               for member in vocabulary.spelled_completions(FULL, spelled + letters, 4 * limit)]
    if not hanzi and len(letters) >= 2:
        members += vocabulary.spelled_completions(INITIALS, letters, 2 * limit)
    ranked = sorted(dict.fromkeys(members), key=lambda entry: -int(vocabulary.counts[entry]))
    pinyin = [(vocabulary.text(entry), int(vocabulary.counts[entry]), "pinyin") for entry in ranked
              if vocabulary.text(entry).startswith(hanzi)]
    return direct + pinyin[:limit]
