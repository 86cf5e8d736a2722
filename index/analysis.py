"""Chinese analysis for the index: tokenizers that Whoosh runs at index time and the search layer reuses.

Two views of the same text, both over `normalize`d text so offsets slice back into the original:

* `WordTokenizer`: jieba words with ordinal positions (phrase queries work) and exact character offsets;
  search-mode sub-words (创建 and 文明 inside 创建文明城区) share the position of their word. Latin words
  and digit runs are kept whole (第5期 does not match 第15期). No stemming and no stop words: dropping
  words would break phrases, and BM25's idf already discounts 的 and 了.
* `ExactTokenizer`: every CJK character (unigram) and every pair of adjacent units (bigram) at the
  character's position, where a unit is a CJK character or a Latin/digit run. Any Chinese query string is
  then a phrase of bigrams (or one unigram) that matches exactly the texts containing it, whether or not
  jieba cuts it as a word. Punctuation, line breaks and spaces between two CJK characters separate
  units; spaces next to Latin or digits do not (全院 16 个).

jieba's own `ChineseAnalyzer` is not used: it stores character offsets as positions, so phrases fail.
Both tokenizers hold no jieba object, so they pickle (Whoosh stores the schema inside the index).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from whoosh.analysis import Token, Tokenizer

from index.dictionary import get_tokenizer
from index.normalize import CJK_CLASS, normalize

#: Characters that neither break nor form units: two units around them are still adjacent.
_JOINERS = frozenset(" \t\u00a0\u3000")
#: A unit: one CJK character (group 1) or a run of other letters and digits (group 2).
_UNIT = re.compile(f"([{CJK_CLASS}])|([^\\W_{CJK_CLASS}]+)")
#: A word is indexed when it holds a letter, digit or CJK character (punctuation and spaces are not).
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


class Unit(NamedTuple):
    """One indexing unit: a CJK character or a Latin/digit run, with offsets and its segment."""

    text: str
    start: int
    end: int
    segment: int


def units(text: str) -> list[Unit]:
    """Split normalised `text` into units; units in the same segment are separated by no punctuation.

    Between two units, any character other than a space starts a new segment, and so does a space
    between two CJK characters (一江水 万里: two phrases); a space next to Latin or digits does not.
    """
    result: list[Unit] = []
    segment = 0
    previous_end = -1
    previous_cjk = False
    for match in _UNIT.finditer(text):
        start, end = match.span()
        cjk = match.group(1) is not None
        if previous_end >= 0 and start > previous_end:
            gap = text[previous_end:start]
            if not all(char in _JOINERS for char in gap) or (previous_cjk and cjk):
                segment += 1
        result.append(Unit(match.group(), start, end, segment))
        previous_end, previous_cjk = end, cjk
    return result


def bigram(first: str, second: str) -> str:
    """The exact-field token for two adjacent units (a space only between two Latin/digit runs)."""
    if first[-1].isascii() and second[0].isascii():
        return f"{first} {second}"
    return first + second


def exact_terms(text: str) -> list[list[str]]:
    """The exact-field query for `text`: one list of consecutive tokens per punctuation-free segment.

    A list of one token is a single term (one unit or one bigram); longer lists are phrases of bigrams.
    Every segment must match for `text` to match.
    """
    groups: dict[int, list[Unit]] = {}
    for unit in units(normalize(text)):
        groups.setdefault(unit.segment, []).append(unit)
    queries = []
    for members in groups.values():
        if len(members) == 1:
            queries.append([members[0].text])
        else:
            queries.append([bigram(a.text, b.text) for a, b in zip(members, members[1:])])
    return queries


def word_terms(text: str) -> list[str]:
    """jieba words of `text` (normalised, no sub-words, no punctuation): the word-field phrase for it."""
    return [word for word, _, _ in _words(normalize(text))]


def _words(normalised: str) -> Iterator[tuple[str, int, int]]:
    """jieba words of normalised text with offsets, punctuation and spaces dropped."""
    start = 0
    for word in get_tokenizer().cut(normalised, HMM=True):
        end = start + len(word)
        if _LETTER_OR_DIGIT.search(word):
            yield word, start, end
        start = end


def _sub_words(word: str, start: int) -> Iterator[tuple[str, int, int]]:
    """jieba's search-mode pieces of a long word: dictionary bigrams and trigrams inside it."""
    frequencies = get_tokenizer().FREQ
    for size in (2, 3):
        if len(word) > size:
            for offset in range(len(word) - size + 1):
                piece = word[offset:offset + size]
                if frequencies.get(piece):
                    yield piece, start + offset, start + offset + size


class _BaseTokenizer(Tokenizer):
    """Shared Whoosh plumbing: one reused Token, honouring positions/chars/mode like Whoosh's own."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def _token(self, positions: bool, chars: bool, removestops: bool, mode: str, **kwargs) -> Token:
        return Token(positions, chars, removestops=removestops, mode=mode, **kwargs)


class WordTokenizer(_BaseTokenizer):
    """jieba words with ordinal positions; search-mode sub-words share their word's position."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs) -> Iterator[Token]:
        token = self._token(positions, chars, removestops, mode, **kwargs)
        position = start_pos
        for word, start, end in _words(normalize(value)):
            pieces = list(_sub_words(word, start)) if mode != "query" and len(word) > 2 else []
            for text, piece_start, piece_end in [*pieces, (word, start, end)]:
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = value[piece_start:piece_end]
                if positions:
                    token.pos = position
                if chars:
                    token.startchar = start_char + piece_start
                    token.endchar = start_char + piece_end
                yield token
            position += 1


class ExactTokenizer(_BaseTokenizer):
    """Unigrams of CJK characters and bigrams of adjacent units, at the first unit's position."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs) -> Iterator[Token]:
        token = self._token(positions, chars, removestops, mode, **kwargs)
        found = units(normalize(value))
        for index, unit in enumerate(found):
            following = found[index + 1] if index + 1 < len(found) else None
            emitted = [(unit.text, unit.end)]
            if following is not None and following.segment == unit.segment:
                emitted.append((bigram(unit.text, following.text), following.end))
            for text, end in emitted:
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = value[unit.start:end]
                if positions:
                    token.pos = start_pos + index
                if chars:
                    token.startchar = start_char + unit.start
                    token.endchar = start_char + end
                yield token


def WordAnalyzer() -> WordTokenizer:  # noqa: N802 - Whoosh's naming for analyzer factories
    """The analyzer of the word fields (`headline_words`, `body_words`)."""
    return WordTokenizer()


def ExactAnalyzer() -> ExactTokenizer:  # noqa: N802 - Whoosh's naming for analyzer factories
    """The analyzer of the exact fields (`headline_exact`, `body_exact`)."""
    return ExactTokenizer()
