"""What an index holds: article and bulletin counts, date range, per-district and per-year counts, build info.

Counts come from the sortable columns (one value per live document), never from stored documents: a
bulletin is counted once through its first article (ordinal 0).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from whoosh.reading import IndexReader

from index import schema as f
from index.store import IndexLocation, IndexMeta, open_index, read_meta


def index_stats(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Figures about the live index under `root` (IndexMissingError when there is none)."""
    location = IndexLocation(root)
    path = location.current_path()
    meta = read_meta(path)
    ix = open_index(root)
    with ix.reader() as reader:
        return {**reader_figures(reader), **build_figures(path.name, meta)}


def build_figures(generation: str, meta: IndexMeta) -> dict[str, Any]:
    """How the index was built: its generation and what meta.json records."""
    return {
        "generation": generation,
        "built_at": meta.built_at,
        "created_at": meta.created_at,
        "dictionary_hash": meta.dictionary_hash,
        "schema_version": meta.schema_version,
    }


def reader_figures(reader: IndexReader) -> dict[str, Any]:
    """Counts and date range read from the sortable columns of the live documents."""
    docnums = list(reader.all_doc_ids())
    ordinals = reader.column_reader(f.ORDINAL)
    dates = [value for value in _values(reader, f.DATE_NUM, docnums) if value]
    districts = Counter(_values(reader, f.DISTRICT, docnums))
    years = Counter(value for value in _values(reader, f.YEAR, docnums) if value)
    return {
        "articles": len(docnums),
        "bulletins": sum(1 for docnum in docnums if ordinals[docnum] == 0),
        "date_from": _iso(min(dates)) if dates else None,
        "date_to": _iso(max(dates)) if dates else None,
        "districts": dict(sorted(districts.items(), key=lambda item: (-item[1], item[0]))),
        "years": {str(year): count for year, count in sorted(years.items())},
    }


def _values(reader: IndexReader, field: str, docnums: list[int]) -> list[Any]:
    """The column values of `field` for `docnums`."""
    column = reader.column_reader(field)
    return [column[docnum] for docnum in docnums]


def _iso(date_num: int) -> str:
    """yyyymmdd as an ISO date."""
    return f"{date_num // 10000:04d}-{date_num // 100 % 100:02d}-{date_num % 100:02d}"
