"""The exact-text index: a positional index of units, so any string that occurs in a text is found exactly.

A *unit* is what `index.analysis.units` defines: one CJK character, or one run of other letters and digits.
Every headline and body of a segment is turned into one stream of units, each at a position; punctuation,
line breaks, a space between two CJK characters and the gap between two fields leave one empty position, so
units on either side are not adjacent. A unit's symbol is its code point, and a run's characters are
symbols too, the first flagged `RUN_START` and the last `RUN_END`, so a run matches only as a whole
(第5期 does not match 第15期) while a run is still a sequence of ordinary positions.

Stored per segment (in its array file): the sorted distinct symbols, an offsets array and every position
grouped by symbol (CSR), plus where each field starts. A query string is a sequence of symbols; its
occurrences are the positions p of its rarest symbol (shifted by that symbol's place) where every other
symbol i sits at p + i, checked with binary searches. The same design as Zoekt's n-gram index with
verification, at n = 1 and with positions instead of a second pass over the text: a single character costs
one slice, a long phrase a few binary searches over its rarest character. Building is a handful of numpy
passes over the text (no per-character Python), so it keeps up with jieba.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.normalize import is_cjk

RUN_START = 1 << 21
RUN_END = 1 << 22
_OTHER, _JOINER, _CJK, _WORD = 0, 1, 2, 3
_JOINERS = " \t\u00a0\u3000"


def _char_class(char: str) -> int:
    """The class of one character, exactly as `index.analysis.units` sees it."""
    if is_cjk(char):
        return _CJK
    if char.isalnum():
        return _WORD
    if char in _JOINERS:
        return _JOINER
    return _OTHER


@lru_cache(maxsize=1)
def _bmp_classes() -> np.ndarray:
    """Character classes of the Basic Multilingual Plane, indexed by code point."""
    return np.fromiter((_char_class(chr(code)) for code in range(0x10000)), dtype=np.int8, count=0x10000)


def classify(codes: np.ndarray) -> np.ndarray:
    """The class of every code point in `codes` (int8: other, joiner, CJK, word)."""
    table = _bmp_classes()
    classes = np.empty(len(codes), dtype=np.int8)
    low = codes < 0x10000
    classes[low] = table[codes[low]]
    if not low.all():
        astral = codes[~low]
        distinct, inverse = np.unique(astral, return_inverse=True)
        found = np.array([_char_class(chr(int(code))) if code < 0x110000 else _OTHER for code in distinct],
                         dtype=np.int8)
        classes[~low] = found[inverse]
    return classes


@dataclass
class UnitStream:
    """The units of a list of texts: a symbol and a position per unit, and where each text starts.

    `starts[i]` is the position of text i's first unit (where it would be when it has none) and
    `starts[len(texts)]` the position after the last unit; `counts[i]` is the number of units of text i.
    """

    symbols: np.ndarray
    positions: np.ndarray
    starts: np.ndarray
    counts: np.ndarray

    @property
    def length(self) -> int:
        """Positions used, including the gap after the last text."""
        return int(self.starts[-1]) + 1


def encode_texts(texts: Sequence[str]) -> UnitStream:
    """The unit stream of normalised `texts`, one after the other with a gap between any two."""
    joined = "\n".join(texts) + "\n"
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = classify(codes)
    kept = np.flatnonzero(classes >= _CJK)
    lengths = np.fromiter((len(text) + 1 for text in texts), dtype=np.int64, count=len(texts))
    text_starts = np.concatenate(([0], np.cumsum(lengths)))
    first_unit = np.searchsorted(kept, text_starts)
    if not kept.size:
        starts = np.zeros(len(texts) + 1, dtype=np.int32)
        return UnitStream(np.empty(0, np.int32), np.empty(0, np.int32), starts, np.zeros(len(texts), np.int32))
    kept_classes = classes[kept]
    previous, current = kept[:-1], kept[1:]
    touching = current == previous + 1
    others = np.concatenate(([0], np.cumsum(classes == _OTHER, dtype=np.int64)))
    broken = (others[current] - others[previous + 1]) > 0
    both_cjk = (kept_classes[:-1] == _CJK) & (kept_classes[1:] == _CJK)
    boundary = ~touching & (broken | both_cjk)
    positions = np.arange(len(kept), dtype=np.int64)
    positions[1:] += np.cumsum(boundary)
    run = kept_classes == _WORD
    continues = touching & run[:-1] & run[1:]
    first = run.copy()
    first[1:] &= ~continues
    last = run.copy()
    last[:-1] &= ~continues
    symbols = codes[kept].astype(np.int64) | np.where(first, RUN_START, 0) | np.where(last, RUN_END, 0)
    extended = np.append(positions, positions[-1] + 1)
    return UnitStream(symbols.astype(np.int32), positions.astype(np.int32), extended[first_unit].astype(np.int32),
                      np.diff(first_unit).astype(np.int32))


#: Below this size ratio two sorted lists are merged rather than binary-searched one into the other.
MERGE_RATIO = 16


def query_symbols(units: Sequence[str]) -> list[int]:
    """The symbols of one group of adjacent units (as `index.analysis.unit_groups` returns them)."""
    symbols: list[int] = []
    for unit in units:
        if len(unit) == 1 and is_cjk(unit):
            symbols.append(ord(unit))
            continue
        codes = [ord(char) for char in unit]
        codes[0] |= RUN_START
        codes[-1] |= RUN_END
        symbols.extend(codes)
    return symbols


def build_postings(symbols: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    """CSR arrays of a stream: distinct `keys`, `offsets` into `positions`, positions sorted per key."""
    combined = (symbols.astype(np.int64) << 32) | positions.astype(np.int64)
    combined.sort()
    keys = (combined >> 32).astype(np.int32)
    ordered = (combined & 0xFFFFFFFF).astype(np.int32)
    if not len(keys):
        return {"keys": np.empty(0, np.int32), "offsets": np.zeros(1, np.int64), "positions": ordered}
    breaks = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts = np.concatenate(([0], breaks))
    return {"keys": keys[starts], "offsets": np.append(starts, len(keys)).astype(np.int64), "positions": ordered}


class UnitIndex:
    """The positional unit index of one segment (arrays as `build_postings` makes them)."""

    def __init__(self, keys: np.ndarray, offsets: np.ndarray, positions: np.ndarray) -> None:
        self.keys = keys
        self.offsets = offsets
        self.positions = positions

    def postings(self, symbol: int) -> np.ndarray:
        """Every position of `symbol`, ascending (empty when it does not occur)."""
        index = int(np.searchsorted(self.keys, symbol))
        if index == len(self.keys) or int(self.keys[index]) != symbol:
            return self.positions[:0]
        return self.positions[int(self.offsets[index]):int(self.offsets[index + 1])]

    def work(self, symbols: Sequence[int]) -> int:
        """How many positions finding the symbol sequence reads (its symbols' postings, summed)."""
        total = 0
        for symbol in set(symbols):
            index = int(np.searchsorted(self.keys, symbol))
            if index < len(self.keys) and int(self.keys[index]) == symbol:
                total += int(self.offsets[index + 1] - self.offsets[index])
        return total

    def occurrences(self, symbols: Sequence[int]) -> np.ndarray:
        """Start positions (int32, ascending) of every occurrence of the symbol sequence.

        The rarest symbol's positions, shifted by its place, are the candidates; each other symbol keeps
        those at which it sits at the right distance (`intersect_sorted`)."""
        if not symbols:
            return np.empty(0, np.int32)
        lists = [self.postings(symbol) for symbol in symbols]
        order = sorted(range(len(lists)), key=lambda index: len(lists[index]))
        anchor = order[0]
        found = lists[anchor] - np.int32(anchor)
        for index in order[1:]:
            if not found.size:
                break
            found = intersect_sorted(found, lists[index] - np.int32(index))
        return found


def intersect_sorted(small: np.ndarray, large: np.ndarray) -> np.ndarray:
    """The values of `small` that are also in `large` (both ascending, without repeats, same dtype).

    Far smaller: one binary search per value. Otherwise a merge: the two sorted runs concatenated and sorted
    stably (timsort finds the two runs and merges them in one linear, galloping pass), where a value present
    in both ends up next to itself. The merge is about twice as fast as binary searches for lists of
    similar length, because it reads memory in order."""
    if len(small) * MERGE_RATIO < len(large):
        slots = np.minimum(np.searchsorted(large, small), len(large) - 1)
        return small[large[slots] == small]
    merged = np.concatenate((small, large))
    merged.sort(kind="stable")
    tail = merged[1:]
    return tail[tail == merged[:-1]]


def field_counts(found: np.ndarray, field_starts: np.ndarray) -> np.ndarray:
    """How many of the positions `found` (ascending) fall in each field (`field_starts`: ascending starts
    of every field, then the end; same dtype as `found`).

    Few positions: each position's field is looked up (a binary search per position); many: each field's
    range among them (one per field); a similar number: both merged in one stable sort, a field start sorting
    before a position equal to it. All three give the same counts."""
    if len(found) * MERGE_RATIO < len(field_starts):
        fields = np.searchsorted(field_starts, found, side="right") - 1
        return np.bincount(fields, minlength=len(field_starts) - 1)
    if len(field_starts) * MERGE_RATIO < len(found):
        return np.diff(np.searchsorted(found, field_starts))
    keys = np.concatenate((field_starts.astype(np.int64) << 1, (found.astype(np.int64) << 1) | 1))
    keys.sort(kind="stable")
    starts_at = np.flatnonzero((keys & 1) == 0)
    return np.diff(starts_at - np.arange(len(starts_at)))
