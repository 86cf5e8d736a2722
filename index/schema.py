"""The Whoosh schema: one document per article, with its bulletin's fields copied onto it.

Whoosh holds the stored documents, the facet fields (indexed and as sortable columns) and the inverted
index of jieba words, with term frequencies only (Lucene's DOCS_AND_FREQS): ranking needs how often a word
occurs, no query needs its positions. Exact text is matched by the segment's unit index
(`index.unitindex`), which the writer builds beside each Whoosh segment, so no field indexes characters.
Numeric fields index one term per value (no trie levels: ranges are filtered from the columns in memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Format, tokens

from index.analysis import WordAnalyzer

#: Bump whenever fields or analysis change; an index with another version must be rebuilt.
SCHEMA_VERSION = 2

#: The facet value of articles whose source is city level (no district).
CITY_LEVEL = "市级"
#: The facet value of articles outside any column.
NO_COLUMN = "未分栏目"

ID_ = "id"
BULLETIN_ID = "bulletin_id"
FILE = "file"
FILE_HASH = "file_hash"
ORDINAL = "ordinal"
SERIES = "series"
ISSUE = "issue"
ISSUE_LABEL = "issue_label"
TOTAL = "total"
OFFICE = "office"
DATE = "date"
DATE_NUM = "date_num"
YEAR = "year"
MONTH = "month"
DISTRICT = "district"
COLUMN = "column"
SOURCE = "source"
HEADLINE = "headline"
BODY = "body"
HEADLINE_WORDS = "headline_words"
BODY_WORDS = "body_words"
BULLETIN_META = "bulletin_meta"

#: The fields holding jieba words, and the stored text each is analysed from.
WORD_FIELDS = {HEADLINE_WORDS: HEADLINE, BODY_WORDS: BODY}


class WordFrequency(Format):
    """Each posting is a document and how often the word occurs there, as the posting's weight (Lucene's
    DOCS_AND_FREQS). Whoosh's `Frequency` also writes the count as a 4-byte value next to the weight; this
    format writes no value, which takes a fifth off the word postings."""

    posting_size = 0

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[tuple[str, int, float, bytes]]:
        counts: dict[str, int] = {}
        for token in tokens(value, analyzer, kwargs):
            counts[token.text] = counts.get(token.text, 0) + 1
        return ((word, count, count * self.field_boost, b"") for word, count in counts.items())


def _words_field() -> TEXT:
    """A jieba-word field with frequencies only (no positions, no character offsets)."""
    field = TEXT(analyzer=WordAnalyzer(), phrase=False)
    field.format = WordFrequency()
    return field


def _number(stored: bool = True, sortable: bool = False) -> NUMERIC:
    return NUMERIC(int, stored=stored, sortable=sortable, shift_step=0)


def build_schema() -> Schema:
    """A fresh schema instance (Whoosh pickles it into the index)."""
    return Schema(**{
        ID_: ID(stored=True, unique=True),
        BULLETIN_ID: ID(stored=True),
        FILE: ID(stored=True),
        FILE_HASH: STORED(),
        ORDINAL: _number(sortable=True),
        SERIES: ID(stored=True, sortable=True),
        ISSUE: STORED(),
        ISSUE_LABEL: STORED(),
        TOTAL: STORED(),
        OFFICE: ID(stored=True, sortable=True),
        DATE: ID(stored=True),
        DATE_NUM: _number(sortable=True),
        YEAR: _number(sortable=True),
        MONTH: _number(sortable=True),
        DISTRICT: ID(stored=True, sortable=True),
        COLUMN: ID(stored=True, sortable=True),
        SOURCE: ID(stored=True, sortable=True),
        HEADLINE: STORED(),
        BODY: STORED(),
        BULLETIN_META: STORED(),
        HEADLINE_WORDS: _words_field(),
        BODY_WORDS: _words_field(),
    })
