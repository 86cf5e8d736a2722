"""Highlighting from the character offsets stored in the exact fields (no re-analysis of bodies).

`find_spans` reads the postings of a document's exact tokens (for synonyms, of its jieba words in the
word fields): a single token's occurrences are spans as they are; a phrase of bigrams is an occurrence of its first token at position p with each following token
at p+1, p+2, ..., joined into one span from the first start to the last end. Overlapping or adjacent spans
merge. `mark_html` escapes everything and wraps exactly the spans in <mark>; `snippet_html` picks up to two
~80-character fragments around the best matches, cut at clause boundaries where possible, … where cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from whoosh.reading import TermNotFound

from index import schema as f
from search.query import HighlightTerm

BOUNDARIES = "。！？；，!?;,\n"
SNIPPET_WIDTH = 80
SNIPPET_FRAGMENTS = 2
_LEAD = 24
#: The word field holding the jieba words of each exact field (synonyms are marked from it).
_WORD_FIELDS = {f.HEADLINE_EXACT: f.HEADLINE_WORDS, f.BODY_EXACT: f.BODY_WORDS}


@dataclass
class Span:
    """A highlighted range [start, end) of a text and the indexes of the terms found there."""

    start: int
    end: int
    terms: set[int] = field(default_factory=set)


def _leaf_of(reader: Any, docnum: int) -> tuple[Any, int]:
    """The segment reader holding `docnum` and the document's number inside it."""
    for leaf, offset in reader.leaf_readers():
        if offset <= docnum < offset + leaf.doc_count_all():
            return leaf, docnum - offset
    raise KeyError(docnum)


def _occurrences(reader: Any, docnum: int, fieldname: str, token: str) -> dict[int, tuple[int, int]]:
    """position → (startchar, endchar) of `token` in one document's field."""
    try:
        matcher = reader.postings(fieldname, token)
    except TermNotFound:
        return {}
    matcher.skip_to(docnum)
    if not matcher.is_active() or matcher.id() != docnum:
        return {}
    return {position: (start, end) for position, start, end in matcher.value_as("characters")}


def find_spans(reader: Any, docnum: int, fieldname: str, terms: list[HighlightTerm],
               headline: bool = False) -> list[Span]:
    """Merged spans of every term's occurrences in field `fieldname` of document `docnum`."""
    leaf, local = _leaf_of(reader, docnum)
    found: list[Span] = []
    for index, term in enumerate(terms):
        if term.title and not headline:
            continue
        field = _WORD_FIELDS[fieldname] if term.words else fieldname
        for group in term.groups:
            tables = [_occurrences(leaf, local, field, token) for token in group]
            for position, (start, end) in tables[0].items():
                last = tables[-1].get(position + len(group) - 1)
                if last and all(position + offset in table for offset, table in enumerate(tables)):
                    found.append(Span(start, last[1], {index}))
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


def _window(text: str, spans: list[Span], anchor: Span, width: int) -> tuple[int, int]:
    """A fragment [start, end) around `anchor`: starts after a clause boundary, ends at one if possible."""
    low = max(0, anchor.start - _LEAD)
    cut = max(text.rfind(char, low, anchor.start) for char in BOUNDARIES)
    start = cut + 1 if cut >= 0 else low
    while start < anchor.start and text[start].isspace():
        start += 1
    limit = min(len(text), start + width)
    ends = [text.rfind(char, max(anchor.end, start + width // 2), min(len(text), limit + width // 4))
            for char in BOUNDARIES]
    best = max(ends)
    end = best + 1 if best >= 0 else max(limit, anchor.end)
    for span in spans:
        if span.start < start < span.end:
            start = span.start
        if span.start < end < span.end:
            end = span.end
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
    if not spans:
        return _join(text, [], [(0, _window(text, [], Span(0, 0), width)[1])])
    windows = []
    for anchor in spans:
        start, end = _window(text, spans, anchor, width)
        covered = [span for span in spans if start <= span.start and span.end <= end]
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
