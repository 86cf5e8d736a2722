"""The Whoosh schema: one document per article, with its bulletin's fields copied onto it.

Headline and body are stored for display and analysed twice: into word fields (jieba words, for ranking)
and exact fields (character unigrams and bigrams, for exact recall). Facet fields are sortable columns so
the search layer can hold per-document facet values in memory instead of reading stored documents.
"""

from __future__ import annotations

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from index.analysis import ExactAnalyzer, WordAnalyzer

#: Bump whenever fields or analysis change; an index with another version must be rebuilt.
SCHEMA_VERSION = 1

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
HEADLINE_EXACT = "headline_exact"
BODY_EXACT = "body_exact"
BULLETIN_META = "bulletin_meta"

#: Headline matches weigh this much more than body matches (BM25F field boost).
HEADLINE_BOOST = 3.0
#: Word-field matches weigh this much more than matches found only by the exact fields.
WORD_BOOST = 2.0


def build_schema() -> Schema:
    """A fresh schema instance (Whoosh pickles it into the index)."""
    return Schema(**{
        ID_: ID(stored=True, unique=True),
        BULLETIN_ID: ID(stored=True),
        FILE: ID(stored=True),
        FILE_HASH: STORED(),
        ORDINAL: NUMERIC(int, stored=True, sortable=True),
        SERIES: ID(stored=True, sortable=True),
        ISSUE: NUMERIC(int, stored=True),
        ISSUE_LABEL: STORED(),
        TOTAL: NUMERIC(int, stored=True),
        OFFICE: ID(stored=True, sortable=True),
        DATE: ID(stored=True),
        DATE_NUM: NUMERIC(int, stored=True, sortable=True),
        YEAR: NUMERIC(int, stored=True, sortable=True),
        MONTH: NUMERIC(int, stored=True, sortable=True),
        DISTRICT: ID(stored=True, sortable=True),
        COLUMN: ID(stored=True, sortable=True),
        SOURCE: ID(stored=True, sortable=True),
        HEADLINE: STORED(),
        BODY: STORED(),
        BULLETIN_META: STORED(),
        HEADLINE_WORDS: TEXT(analyzer=WordAnalyzer(), phrase=True, chars=True, field_boost=HEADLINE_BOOST * WORD_BOOST),
        BODY_WORDS: TEXT(analyzer=WordAnalyzer(), phrase=True, chars=True, field_boost=WORD_BOOST),
        HEADLINE_EXACT: TEXT(analyzer=ExactAnalyzer(), phrase=True, chars=True, field_boost=HEADLINE_BOOST),
        BODY_EXACT: TEXT(analyzer=ExactAnalyzer(), phrase=True, chars=True),
    })
