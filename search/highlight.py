"""Highlighting: find in a stored text exactly what the query matched, and mark it.

Highlights are found again in the text at display time (as Lucene's plain highlighter does), so the index
stores no character offsets. A term the user typed is marked wherever its groups of adjacent units occur:
each group becomes a regular expression over the normalised text (normalisation keeps offsets) that joins
CJK characters directly, allows the spaces the unit index ignores next to Latin and digit runs, and requires
a run to be whole, exactly as `index.unitindex` matches; overlapping occurrences are all found. A synonym
is marked where jieba finds its words (`index.analysis.word_sequence_spans`). Overlapping or adjacent spans
merge. `mark_html` escapes everything and wraps exactly the spans in <mark>; `snippet_html` picks up to two
~80-character fragments around the best matches, cut at clause boundaries where possible, … where cut.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

from index.analysis import word_sequence_spans
from index.normalize import CJK_CLASS, is_cjk, normalize
from search.query import HighlightTerm

BOUNDARIES = "。！？；，!?;,\n"
SNIPPET_WIDTH = 80
SNIPPET_FRAGMENTS = 2
_LEAD = 24
#: A character that continues a Latin/digit run (a unit other than a CJK character).
_RUN_CHAR = f"[^\\W_{CJK_CLASS}]"
_JOINERS = "[ \t\u00a0\u3000]*"
_BOUNDARY = re.compile(f"[{re.escape(BOUNDARIES)}]")


@dataclass
class Span:
    """A highlighted range [start, end) of a text and the indexes of the terms found there."""

    start: int
    end: int
    terms: set[int] = field(default_factory=set)


@lru_cache(maxsize=4096)
def unit_pattern(group: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern finding every (overlapping) occurrence of a group of adjacent units in normalised text."""
    parts = []
    for index, unit in enumerate(group):
        cjk = len(unit) == 1 and is_cjk(unit)
        if index and not (cjk and len(group[index - 1]) == 1 and is_cjk(group[index - 1])):
            parts.append(_JOINERS)
        parts.append(re.escape(unit) if cjk else f"(?<!{_RUN_CHAR}){re.escape(unit)}(?!{_RUN_CHAR})")
    return re.compile(f"(?=({''.join(parts)}))")


def find_spans(text: str, terms: list[HighlightTerm], headline: bool = False) -> list[Span]:
    """Merged spans of every term's occurrences in `text` (a headline when `headline`)."""
    normalised = normalize(text)
    found: list[Span] = []
    for index, term in enumerate(terms):
        if term.title and not headline:
            continue
        if term.words:
            found += [Span(start, end, {index}) for group in term.groups
                      for start, end in word_sequence_spans(normalised, group)]
            continue
        for group in term.groups:
            found += [Span(match.start(1), match.end(1), {index})
                      for match in unit_pattern(tuple(group)).finditer(normalised)]
    return merge_spans(found)


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sort spans and merge the overlapping or adjacent ones."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda item: (item.start, item.end)):
        if merged and span.start <= merged[-1].end:
            merged[-1].end = max(merged[-1].end, span.end)
            merged[-1].terms |= span.terms
        else:
            merged.append(Span(span.start, span.end, set(span.terms)))
    return merged


def mark_html(text: str, spans: list[Span]) -> str:
    """`text` HTML-escaped with each span wrapped in <mark> (spans must be merged and inside the text)."""
    parts = []
    cursor = 0
    for span in spans:
        parts.append(escape(text[cursor:span.start], quote=False))
        parts.append(f"<mark>{escape(text[span.start:span.end], quote=False)}</mark>")
        cursor = span.end
    parts.append(escape(text[cursor:], quote=False))
    return "".join(parts)


def paragraphs_html(text: str, spans: list[Span]) -> str:
    """The whole text as <p> paragraphs (one per line), escaped, spans marked."""
    paragraphs = []
    offset = 0
    for line in text.split("\n"):
        end = offset + len(line)
        inside = [Span(max(s.start, offset) - offset, min(s.end, end) - offset) for s in spans
                  if s.start < end and s.end > offset]
        if line.strip():
            paragraphs.append(f"<p>{mark_html(line, inside)}</p>")
        offset = end + 1
    return "\n".join(paragraphs)


class _Layout:
    """Where a text's clause boundaries and (merged, sorted) spans are, for binary searches."""

    def __init__(self, text: str, spans: list[Span]) -> None:
        self.text = text
        self.spans = spans
        self.boundaries = [match.start() for match in _BOUNDARY.finditer(text)]
        self.starts = [span.start for span in spans]
        self.ends = [span.end for span in spans]

    def last_boundary(self, low: int, high: int) -> int:
        """The last boundary position in [low, high), or -1."""
        index = bisect_left(self.boundaries, high) - 1
        return self.boundaries[index] if index >= 0 and self.boundaries[index] >= low else -1

    def inside(self, position: int) -> Span | None:
        """The span that `position` falls strictly inside, if any."""
        index = bisect_left(self.starts, position) - 1
        return self.spans[index] if index >= 0 and self.ends[index] > position else None

    def covered(self, start: int, end: int) -> list[Span]:
        """The spans lying wholly within [start, end)."""
        return self.spans[bisect_left(self.starts, start):bisect_right(self.ends, end)]


def _window(layout: _Layout, anchor: Span, width: int) -> tuple[int, int]:
    """A fragment [start, end) around `anchor`: starts after a clause boundary, ends at one if possible."""
    text = layout.text
    low = max(0, anchor.start - _LEAD)
    cut = layout.last_boundary(low, anchor.start)
    start = cut + 1 if cut >= 0 else low
    while start < anchor.start and text[start].isspace():
        start += 1
    limit = min(len(text), start + width)
    best = layout.last_boundary(max(anchor.end, start + width // 2), min(len(text), limit + width // 4))
    end = best + 1 if best >= 0 else max(limit, anchor.end)
    around_start, around_end = layout.inside(start), layout.inside(end)
    if around_start is not None:
        start = around_start.start
    if around_end is not None:
        end = around_end.end
    return start, end


def _fragment_html(text: str, spans: list[Span], start: int, end: int) -> str:
    inside = [Span(span.start - start, span.end - start) for span in spans if start <= span.start and span.end <= end]
    return mark_html(text[start:end].replace("\n", " "), inside).strip()


def _join(text: str, spans: list[Span], windows: list[tuple[int, int]]) -> str:
    """Fragments in text order: … where a fragment starts or ends mid-clause, … between separated ones."""
    parts = []
    for index, (start, end) in enumerate(windows):
        if index == 0 and start > 0 and text[start - 1] not in BOUNDARIES:
            parts.append("…")
        elif index > 0:
            parts.append(" … " if start > windows[index - 1][1] else "")
        parts.append(_fragment_html(text, spans, start, end))
    last = windows[-1][1]
    if last < len(text) and text[last - 1] not in BOUNDARIES:
        parts.append("…")
    return "".join(parts)


def snippet_html(text: str, spans: list[Span], width: int = SNIPPET_WIDTH,
                 fragments: int = SNIPPET_FRAGMENTS) -> str:
    """Up to `fragments` fragments of about `width` characters around the best spans (or the text's start)."""
    layout = _Layout(text, spans)
    if not spans:
        return _join(text, [], [(0, _window(layout, Span(0, 0), width)[1])])
    windows = []
    for anchor in spans:
        start, end = _window(layout, anchor, width)
        covered = layout.covered(start, end)
        terms = set().union(*(span.terms for span in covered))
        windows.append(((len(terms), len(covered), -start), start, end))
    windows.sort(key=lambda item: item[0], reverse=True)
    chosen = [windows[0]]
    for candidate in windows[1:]:
        if len(chosen) >= fragments:
            break
        if all(candidate[2] <= other[1] or candidate[1] >= other[2] for other in chosen):
            chosen.append(candidate)
    return _join(text, spans, sorted((start, end) for _, start, end in chosen))
