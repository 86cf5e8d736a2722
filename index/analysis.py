"""Chinese analysis for the index: jieba words for ranking, units for exact matching.

Two views of the same text, both over `normalize`d text so offsets slice back into the original:

* words: jieba words (`word_tokens`), with search-mode sub-words (创建 and 文明 inside 创建文明城区) at
  their word's position. Latin words and digit runs are kept whole. No stemming and no stop words:
  dropping words would break phrases, and BM25's idf already discounts 的 and 了. The index stores each
  word's frequency per field (`word_counts`); `WordTokenizer` is the same analysis as a Whoosh tokenizer.
* units (`units`, `unit_groups`): every CJK character, and every run of other letters and digits, grouped
  into segments that punctuation, line breaks and a space between two CJK characters separate. Any Chinese
  query string is then a sequence of adjacent units that occurs exactly where the text contains it, whether
  or not jieba cuts it as a word (`index.unitindex` indexes them). Spaces next to Latin or digits do not
  separate units (全院 16 个).

jieba's own `ChineseAnalyzer` is not used: it stores character offsets as positions, so phrases fail.
The tokenizer holds no jieba object, so it pickles (Whoosh stores the schema inside the index).
"""

from __future__ import annotations

import re
from collections import Counter
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


def unit_groups(text: str) -> list[tuple[str, ...]]:
    """The units of `text` (normalised), one tuple of adjacent units per punctuation-free segment.

    `text` occurs in a document where every group occurs as adjacent units (each its own sequence).
    """
    groups: dict[int, list[str]] = {}
    for unit in units(normalize(text)):
        groups.setdefault(unit.segment, []).append(unit.text)
    return [tuple(members) for members in groups.values()]


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


def word_tokens(normalised: str, sub_words: bool = True) -> Iterator[tuple[str, int, int, int]]:
    """(word, start, end, position) of normalised text: jieba words at ordinal positions, each preceded by
    its search-mode sub-words at the same position when `sub_words` (index time)."""
    for position, (word, start, end) in enumerate(_words(normalised)):
        if sub_words and len(word) > 2:
            for piece, piece_start, piece_end in _sub_words(word, start):
                yield piece, piece_start, piece_end, position
        yield word, start, end, position


def word_counts(normalised: str) -> tuple[Counter[str], int]:
    """How often each word (and sub-word) occurs in normalised text, and how many tokens there are in all."""
    counts: Counter[str] = Counter()
    for word, start, _ in _words(normalised):
        counts[word] += 1
        if len(word) > 2:
            counts.update(piece for piece, _, _ in _sub_words(word, start))
    return counts, sum(counts.values())


#: jieba segments each run of these characters on its own (jieba.re_han_default), so a run can be
#: segmented alone with the same result as within its text.
_JIEBA_BLOCK = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+")


def word_sequence_spans(normalised: str, words: list[str] | tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans of normalised text where jieba finds `words` as consecutive words (a sub-word counts as its
    word's position), e.g. where a synonym occurs as words rather than across two words."""
    target = "".join(words)
    if not target:
        return []
    spans: list[tuple[int, int]] = []
    seen_blocks: set[int] = set()
    start = normalised.find(target)
    while start >= 0:
        block = _block_around(normalised, start)
        if block is not None and block[0] not in seen_blocks:
            seen_blocks.add(block[0])
            spans += _sequences(normalised[block[0]:block[1]], block[0], list(words))
        start = normalised.find(target, start + 1)
    return sorted(set(spans))


def _block_around(text: str, offset: int) -> tuple[int, int] | None:
    """The jieba block (run of `_JIEBA_BLOCK` characters) containing `offset`."""
    start = offset
    while start > 0 and _JIEBA_BLOCK.match(text, start - 1, start):
        start -= 1
    match = _JIEBA_BLOCK.match(text, start)
    if match is None or match.end() <= offset:
        return None
    return start, match.end()


def _sequences(block: str, offset: int, words: list[str]) -> list[tuple[int, int]]:
    """Spans (offset added) of `words` at consecutive word positions in `block`."""
    at: dict[int, list[tuple[str, int, int]]] = {}
    for text, start, end, position in word_tokens(block):
        at.setdefault(position, []).append((text, start, end))
    found = []
    for position, tokens in at.items():
        for text, start, end in tokens:
            if text != words[0]:
                continue
            last = end
            for step, word in enumerate(words[1:], 1):
                following = [token for token in at.get(position + step, ()) if token[0] == word]
                if not following:
                    break
                last = following[0][2]
            else:
                found.append((offset + start, offset + last))
    return found


class WordTokenizer(Tokenizer):
    """jieba words with ordinal positions as a Whoosh tokenizer (the word fields' analyzer).

    The index is written from `word_counts`; this tokenizer gives Whoosh's own query parser and tools the
    same analysis.
    """

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __call__(self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
                 removestops: bool = True, start_pos: int = 0, start_char: int = 0, tokenize: bool = True,
                 mode: str = "", **kwargs) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for text, start, end, position in word_tokens(normalize(value), sub_words=mode != "query"):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


def WordAnalyzer() -> WordTokenizer:  # noqa: N802 - Whoosh's naming for analyzer factories
    """The analyzer of the word fields (`headline_words`, `body_words`)."""
    return WordTokenizer()
