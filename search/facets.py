"""Facet counts (district, theme, year, month, column) and filters, from per-document columns as numpy arrays.

`FacetColumns` holds each filterable field as one integer code per document and the value of each code.
`count_facets` takes the query's matches (a boolean mask or docnums) and applies the request's filters as
array operations: the non-facet filters (source, series, date range) to everything, and each facet's own
filter to every facet but itself, so a facet shows what selecting another of its values would give. Counts
are one `bincount` per facet over the documents its scope keeps (found once per distinct scope), so
counting every match of a broad query costs about as much as a narrow one.
The theme facet comes from the snapshot's theme membership (`search.themes`): a popcount per theme.

`count_matrix` is the district × year view, a two-dimensional facet: matches per district and year under
every filter except the district, year and month ones, so each cell is what selecting that district and
year gives, and a row (column) summed over the selected years (districts), or over all when none are
selected, equals that district's (year's) facet count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.model import DISTRICTS
from index.schema import CITY_LEVEL
from search.request import SearchRequest
from search.themes import ThemeMembership

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
    """The result of counting: which matches pass every filter, and per-facet counts {value: count}.

    `base` is the matches under the non-facet filters and `selected` each facet filter's mask, so a view
    can count under every filter but some (`scope`)."""

    passing: np.ndarray
    counters: dict[str, dict[Any, int]]
    #: The documents of `passing`, ascending.
    docnums: np.ndarray
    base: np.ndarray | None = None
    selected: dict[str, np.ndarray] | None = None

    def scope(self, *ignored: str) -> np.ndarray:
        """The matches under every filter except the facet filters named in `ignored`."""
        assert self.base is not None and self.selected is not None
        scope = self.base.copy()
        for name, mask in self.selected.items():
            if name not in ignored:
                scope &= mask
        return scope

    @property
    def total(self) -> int:
        return len(self.docnums)


def date_bounds(request: SearchRequest) -> tuple[int, int]:
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


def count_facets(columns: FacetColumns, matches: np.ndarray | Iterable[int], request: SearchRequest,
                 themes: ThemeMembership | None = None) -> FacetCounts:
    """Count facet values over `matches` (the query's matches) under the request's filters.

    The same pass yields the matches that pass every filter, so the hits need no second query. Without
    `themes` there is no theme facet, and a theme filter matches nothing.
    """
    base = as_mask(columns, matches).copy()
    if request.sources:
        base &= columns["source"].isin(request.sources)
    if request.series:
        base &= columns["series"].isin(request.series)
    if request.date_from is not None or request.date_to is not None:
        low, high = date_bounds(request)
        base &= (columns.date_num >= low) & (columns.date_num <= high)
    wanted = {"district": request.districts, "year": request.years, "month": request.months,
              "column": request.columns}
    selected = {name: columns[name].isin(values) for name, values in wanted.items() if values}
    if request.themes:
        selected["theme"] = themes.mask(request.themes) if themes is not None else np.zeros(columns.size, bool)
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
    result = FacetCounts(passing, counters, scopes[everything], base, selected)
    counters["theme"] = themes.counts(result.scope("theme")) if themes is not None else {}
    return result


@dataclass
class Matrix:
    """Matches per district (rows) and year (columns; 0 = undated): the district × year view."""

    rows: list[str]
    cols: list[int]
    counts: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "cols": self.cols, "counts": self.counts}


def count_matrix(columns: FacetColumns, counts: FacetCounts) -> Matrix:
    """The district × year counts of a search (see the module's docstring for which filters apply)."""
    scope = counts.scope("district", "year", "month")
    district, year = columns["district"], columns["year"]
    width = len(year.values)
    cells = np.bincount(district.codes[scope].astype(np.int64) * width + year.codes[scope],
                        minlength=len(district.values) * width)
    return matrix_of({(district.values[code // width], year.values[code % width]): int(cells[code])
                      for code in np.flatnonzero(cells).tolist()})


def matrix_of(cells: dict[tuple[str, int], int]) -> Matrix:
    """The matrix of non-zero (district, year) counts, whichever backend counted them.

    Rows are the 16 districts in their usual order, 市级, then any other district value that has matches;
    columns every year from the earliest to the latest with matches, then 0 when some matches are undated.
    """
    by_row: dict[str, int] = {}
    by_col: dict[int, int] = {}
    for (district, year), count in cells.items():
        by_row[district] = by_row.get(district, 0) + count
        by_col[year] = by_col.get(year, 0) + count
    fixed = [*DISTRICTS, CITY_LEVEL]
    rows = fixed + sorted((value for value in by_row if value not in fixed and by_row[value]),
                          key=lambda value: (-by_row[value], value))
    dated = [value for value in by_col if value and by_col[value]]
    cols = list(range(min(dated), max(dated) + 1)) if dated else []
    if by_col.get(0):
        cols.append(0)
    return Matrix(rows, cols, [[cells.get((row, col), 0) for col in cols] for row in rows])


def _label(name: str, value: Any) -> str:
    if name == "year":
        return f"{value}年" if value else "日期不详"
    if name == "month":
        return f"{value}月" if value else "日期不详"
    return str(value)


def facet_lists(counters: Mapping[str, Mapping[Any, int]], request: SearchRequest
                ) -> dict[str, list[dict[str, Any]]]:
    """The `facets` part of the contract from `counters` ({facet: {value: count}}): lists of {value, label,
    count, selected} per facet.

    Order: count descending then value (themes: then table order); years newest first; months in calendar
    order. Selected values stay listed with count 0 so they can be unselected. The month facet appears only
    when exactly one year is selected.
    """
    selected = {"district": request.districts, "theme": request.themes, "year": request.years,
                "month": request.months, "column": request.columns}
    names = ["district", "theme", "year", "column"] + (["month"] if len(request.years) == 1 else [])
    result = {}
    for name in names:
        counter = dict(counters[name])
        for value in selected[name]:
            counter.setdefault(value, 0)
        if name == "year":
            order = sorted(counter, key=lambda value: -value)
        elif name == "month":
            order = sorted(counter)
        elif name == "theme":
            order = sorted(counter, key=lambda value: -counter[value])
        else:
            order = sorted(counter, key=lambda value: (-counter[value], str(value)))
        result[name] = [{"value": value, "label": _label(name, value), "count": counter[value],
                         "selected": value in selected[name]} for value in order]
    return result
