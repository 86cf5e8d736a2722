"""Facet counts (district, year, column, month) from per-document values held in memory.

`FacetColumns` loads the sortable columns once per opened reader (lists indexed by docnum). `count_facets`
takes the docnums matching the query and applies the request's filters with those lists: the non-facet
filters (source, series, date range) to everything, and each facet's own filter to every facet but itself,
so a facet shows what selecting another of its values would give. Stored documents are never read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from index import schema as f
from search.request import SearchRequest

FACETS = ("district", "year", "month", "column")


@dataclass
class FacetColumns:
    """Per-document facet and filter values of one reader, indexed by docnum."""

    district: list[str]
    year: list[int]
    month: list[int]
    column: list[str]
    source: list[str]
    series: list[str]
    date_num: list[int]
    ordinal: list[int]

    @classmethod
    def load(cls, reader: Any) -> FacetColumns:
        """Read every sortable column of `reader` into lists (once per opened reader)."""
        def column(name: str) -> list:
            return list(reader.column_reader(name)) if reader.has_column(name) else []

        return cls(column(f.DISTRICT), column(f.YEAR), column(f.MONTH), column(f.COLUMN), column(f.SOURCE),
                   column(f.SERIES), column(f.DATE_NUM), column(f.ORDINAL))


@dataclass
class FacetCounts:
    """The result of counting: the matches passing every filter (in input order) and per-facet counters."""

    docnums: list[int]
    counters: dict[str, Counter]

    @property
    def total(self) -> int:
        return len(self.docnums)


def _date_bounds(request: SearchRequest) -> tuple[int, int]:
    low = int(request.date_from.strftime("%Y%m%d")) if request.date_from else 0
    high = int(request.date_to.strftime("%Y%m%d")) if request.date_to else 99999999
    return low, high


def count_facets(columns: FacetColumns, docnums: Iterable[int], request: SearchRequest) -> FacetCounts:
    """Count facet values over `docnums` (the query's matches) under the request's filters.

    The same pass yields the matches that pass every filter, so the hits need no Whoosh filter query.
    """
    sources, series = set(request.sources), set(request.series)
    low, high = _date_bounds(request)
    dated = request.date_from is not None or request.date_to is not None
    wanted = {"district": set(request.districts), "year": set(request.years),
              "month": set(request.months), "column": set(request.columns)}
    values = {"district": columns.district, "year": columns.year, "month": columns.month,
              "column": columns.column}
    counters = {name: Counter() for name in FACETS}
    passing = []
    for doc in docnums:
        if sources and columns.source[doc] not in sources:
            continue
        if series and columns.series[doc] not in series:
            continue
        if dated and not low <= columns.date_num[doc] <= high:
            continue
        own = {name: values[name][doc] for name in FACETS}
        failed = [name for name in FACETS if wanted[name] and own[name] not in wanted[name]]
        if not failed:
            passing.append(doc)
            for name in FACETS:
                counters[name][own[name]] += 1
        elif len(failed) == 1:
            counters[failed[0]][own[failed[0]]] += 1
    return FacetCounts(passing, counters)


def _label(name: str, value: Any) -> str:
    if name == "year":
        return f"{value}年" if value else "日期不详"
    if name == "month":
        return f"{value}月" if value else "日期不详"
    return str(value)


def facet_lists(counts: FacetCounts, request: SearchRequest) -> dict[str, list[dict[str, Any]]]:
    """The `facets` part of the contract: lists of {value, label, count, selected} per facet.

    Order: count descending then value; years newest first; months in calendar order. Selected values
    stay listed with count 0 so they can be unselected. The month facet appears only when exactly one
    year is selected.
    """
    selected = {"district": request.districts, "year": request.years, "month": request.months,
                "column": request.columns}
    names = ["district", "year", "column"] + (["month"] if len(request.years) == 1 else [])
    result = {}
    for name in names:
        counter = Counter(counts.counters[name])
        for value in selected[name]:
            counter.setdefault(value, 0)
        if name == "year":
            order = sorted(counter, key=lambda value: -value)
        elif name == "month":
            order = sorted(counter)
        else:
            order = sorted(counter, key=lambda value: (-counter[value], str(value)))
        result[name] = [{"value": value, "label": _label(name, value), "count": counter[value],
                         "selected": value in selected[name]} for value in order]
    return result
