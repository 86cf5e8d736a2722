"""Facet counts (district, year, month, column) and filters, from per-document columns held as numpy arrays.

`FacetColumns` holds each filterable field as one integer code per document and the value of each code.
`count_facets` takes the query's matches (a boolean mask or docnums) and applies the request's filters as
array operations: the non-facet filters (source, series, date range) to everything, and each facet's own
filter to every facet but itself, so a facet shows what selecting another of its values would give. Counts
are one `bincount` per facet over the documents its scope keeps (found once per distinct scope), so
counting every match of a broad query costs about as much as a narrow one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.request import SearchRequest

FACETS = ("district", "year", "month", "column")
#: Every column a filter or an order reads.
COLUMNS = ("district", "year", "month", "column", "source", "series", "date_num", "ordinal")


@dataclass
class Column:
    """One field of every document: `codes[doc]` indexes `values`."""

    codes: np.ndarray
    values: list[Any]

    @classmethod
    def encode(cls, values: Sequence[Any]) -> Column:
        """The column of plain per-document values."""
        table: dict[Any, int] = {}
        items = values.tolist() if isinstance(values, np.ndarray) else values
        codes = np.fromiter((table.setdefault(value, len(table)) for value in items), dtype=np.int32,
                            count=len(items))
        return cls(codes, list(table))

    @classmethod
    def of_integers(cls, values: np.ndarray) -> Column:
        """The column of an integer array (values as Python ints, ascending)."""
        distinct, codes = np.unique(values, return_inverse=True)
        return cls(codes.astype(np.int32), distinct.tolist())

    def codes_of(self, wanted: Iterable[Any]) -> np.ndarray:
        """The codes of the `wanted` values that occur (unknown values have none)."""
        index = {value: code for code, value in enumerate(self.values)}
        return np.array([index[value] for value in wanted if value in index], dtype=np.int32)

    def isin(self, wanted: Iterable[Any]) -> np.ndarray:
        """A boolean per document: its value is one of `wanted`."""
        table = np.zeros(len(self.values) + 1, dtype=bool)
        table[self.codes_of(wanted)] = True
        return table[self.codes]


class FacetColumns:
    """The filter and facet columns of every document of an opened index."""

    def __init__(self, **columns: Column | Sequence[Any]) -> None:
        self.columns = {name: value if isinstance(value, Column) else Column.encode(value)
                        for name, value in columns.items()}
        self.date_num = np.asarray(self.raw("date_num"), dtype=np.int64)
        self.ordinal = np.asarray(self.raw("ordinal"), dtype=np.int64)
        self.size = len(self.date_num)

    def __getitem__(self, name: str) -> Column:
        return self.columns[name]

    def raw(self, name: str) -> np.ndarray:
        """The values of an integer column, one per document."""
        column = self.columns[name]
        if not column.values:
            return np.zeros(len(column.codes), dtype=np.int64)
        return np.asarray(column.values, dtype=np.int64)[column.codes]


@dataclass
class FacetCounts:
    """The result of counting: which matches pass every filter, and per-facet counts {value: count}."""

    passing: np.ndarray
    counters: dict[str, dict[Any, int]]
    #: The documents of `passing`, ascending.
    docnums: np.ndarray

    @property
    def total(self) -> int:
        return len(self.docnums)


def _date_bounds(request: SearchRequest) -> tuple[int, int]:
    low = int(request.date_from.strftime("%Y%m%d")) if request.date_from else 0
    high = int(request.date_to.strftime("%Y%m%d")) if request.date_to else 99999999
    return low, high


def as_mask(columns: FacetColumns, matches: np.ndarray | Iterable[int]) -> np.ndarray:
    """A boolean mask over every document from a mask or an iterable of docnums."""
    if isinstance(matches, np.ndarray) and matches.dtype == bool:
        return matches
    mask = np.zeros(columns.size, dtype=bool)
    mask[np.fromiter(matches, dtype=np.int64)] = True
    return mask


def count_facets(columns: FacetColumns, matches: np.ndarray | Iterable[int], request: SearchRequest) -> FacetCounts:
    """Count facet values over `matches` (the query's matches) under the request's filters.

    The same pass yields the matches that pass every filter, so the hits need no second query.
    """
    base = as_mask(columns, matches).copy()
    if request.sources:
        base &= columns["source"].isin(request.sources)
    if request.series:
        base &= columns["series"].isin(request.series)
    if request.date_from is not None or request.date_to is not None:
        low, high = _date_bounds(request)
        base &= (columns.date_num >= low) & (columns.date_num <= high)
    wanted = {"district": request.districts, "year": request.years, "month": request.months,
              "column": request.columns}
    selected = {name: columns[name].isin(values) for name, values in wanted.items() if values}
    passing = base.copy()
    for mask in selected.values():
        passing &= mask
    everything = tuple(selected)
    scopes = {everything: np.flatnonzero(passing)}
    counters = {}
    for name in FACETS:
        others = tuple(other for other in selected if other != name)
        docnums = scopes.get(others)
        if docnums is None:
            scope = base.copy()
            for other in others:
                scope &= selected[other]
            docnums = scopes[others] = np.flatnonzero(scope)
        column = columns[name]
        counts = np.bincount(column.codes[docnums], minlength=len(column.values))
        counters[name] = {column.values[code]: int(counts[code]) for code in np.flatnonzero(counts)}
    return FacetCounts(passing, counters, scopes[everything])


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
        counter = dict(counts.counters[name])
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
