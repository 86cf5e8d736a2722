"""`SearchRequest`: what the user asked for, parsed from web/CLI parameters and turned back into them.

Decisions: `page` must be a whole number ≥ 1 (else QueryError); `size` outside 1..100 is clamped (0 → 1,
1000 → 100) because a too-large page size is harmless to correct, but a non-number is an error. A query
longer than MAX_QUERY_CHARS and a page beyond the first MAX_OFFSET results are errors that say so (like
Elasticsearch's max_result_window: nobody reads page 2,000, and filters find it faster). Repeated
parameters and comma-separated values both give lists (except `within`, whose values are query text and
may hold commas). Unknown `sort`/`scope` values are errors. `within` (在结果中检索) narrows `q`: the
articles matching `q` and every `within` text, exactly as if they were one query `q within…`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from search.errors import QueryError
from search.query import MAX_QUERY_CHARS

SORTS = ("relevance", "date", "date-asc")
SCOPES = ("all", "title")
DEFAULT_SIZE = 20
MAX_SIZE = 100
#: Results beyond this rank are not paged to.
MAX_OFFSET = 10_000

Params = Mapping[str, "str | list[str]"]


@dataclass
class SearchRequest:
    """One search: query text, filters, order, page and options."""

    q: str = ""
    districts: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    months: list[int] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    columns: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    size: int = DEFAULT_SIZE
    synonyms: bool = True
    scope: str = "all"
    #: 在结果中检索: more query texts the matches must also satisfy (ANDed with `q`).
    within: list[str] = field(default_factory=list)
    #: Campaign themes (`search.themes`); several = OR, like districts.
    themes: list[str] = field(default_factory=list)
    #: Also count matches per district and year (the district × year matrix).
    matrix: bool = False
    #: False for 仍然搜索: search exactly what was typed, never a correction of it.
    correct: bool = True

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise QueryError(f"排序方式无效 / invalid sort {self.sort!r}: use one of {', '.join(SORTS)}")
        if self.scope not in SCOPES:
            raise QueryError(f"检索范围无效 / invalid scope {self.scope!r}: use all or title")
        if self.page < 1:
            raise QueryError(f"页码必须是正整数 / page must be a whole number ≥ 1, got {self.page}")
        self.size = min(max(self.size, 1), MAX_SIZE)
        if len(self.q) > MAX_QUERY_CHARS:
            raise QueryError(f"查询过长 / query too long: {len(self.q):,} characters, at most {MAX_QUERY_CHARS:,}")
        if (self.page - 1) * self.size >= MAX_OFFSET:
            raise QueryError(f"页码过大 / page too deep: only the first {MAX_OFFSET:,} results are paged; "
                             "narrow the search with filters or another order")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QueryError(f"起始日期晚于截止日期 / from ({self.date_from}) is after to ({self.date_to})")

    @classmethod
    def from_params(cls, params: Params) -> SearchRequest:
        """Parse query-string style parameters (values may be strings or lists of strings)."""
        return cls(
            q=_last(params, "q"),
            within=_texts(params, "within"),
            themes=_strings(params, "theme"),
            districts=_strings(params, "district"),
            years=[_int(value, "year", "年份", 1, 9999) for value in _strings(params, "year")],
            months=[_int(value, "month", "月份", 1, 12) for value in _strings(params, "month")],
            date_from=_date(_last(params, "from"), "from", "起始日期"),
            date_to=_date(_last(params, "to"), "to", "截止日期"),
            columns=_strings(params, "column"),
            sources=_strings(params, "source"),
            series=_strings(params, "series"),
            sort=_last(params, "sort") or "relevance",
            page=_int(_last(params, "page") or "1", "page", "页码", 1, None),
            size=_int(_last(params, "size") or str(DEFAULT_SIZE), "size", "每页条数", None, None),
            synonyms=_switch(_last(params, "synonyms"), True),
            scope=_last(params, "scope") or "all",
            matrix=_switch(_last(params, "matrix"), False, "matrix"),
            correct=_switch(_last(params, "correct"), True, "correct"),
        )

    def to_params(self) -> dict[str, str | list[str]]:
        """The query-string parameters for this request (defaults left out), for URLs and toggle links."""
        params: dict[str, str | list[str]] = {}
        if self.q:
            params["q"] = self.q
        if self.within:
            params["within"] = list(self.within)
        for name, values in (("theme", self.themes), ("district", self.districts), ("year", self.years),
                             ("month", self.months), ("column", self.columns), ("source", self.sources),
                             ("series", self.series)):
            if values:
                params[name] = [str(value) for value in values]
        if self.date_from:
            params["from"] = self.date_from.isoformat()
        if self.date_to:
            params["to"] = self.date_to.isoformat()
        if self.sort != "relevance":
            params["sort"] = self.sort
        if self.page != 1:
            params["page"] = str(self.page)
        if self.size != DEFAULT_SIZE:
            params["size"] = str(self.size)
        if not self.synonyms:
            params["synonyms"] = "off"
        if self.scope != "all":
            params["scope"] = self.scope
        if self.matrix:
            params["matrix"] = "1"
        if not self.correct:
            params["correct"] = "off"
        return params

    def has_filters(self) -> bool:
        """True when any filter (not the query text) narrows the search."""
        return bool(self.themes or self.districts or self.years or self.months or self.date_from or self.date_to
                    or self.columns or self.sources or self.series)

    def without_filters(self) -> SearchRequest:
        """The same query with every filter removed (first page)."""
        return replace(self, themes=[], districts=[], years=[], months=[], date_from=None, date_to=None,
                       columns=[], sources=[], series=[], page=1)


def _values(params: Params, name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _last(params: Params, name: str) -> str:
    values = _values(params, name)
    return values[-1].strip() if values else ""


def _strings(params: Params, name: str) -> list[str]:
    """Every non-empty value of a repeatable parameter; commas also separate values; order kept, no repeats."""
    found: list[str] = []
    for value in _values(params, name):
        for part in value.replace("，", ",").split(","):
            part = part.strip()
            if part and part not in found:
                found.append(part)
    return found


def _texts(params: Params, name: str) -> list[str]:
    """Every non-empty value of a repeatable text parameter (commas kept), stripped, order kept, no repeats."""
    return list(dict.fromkeys(value.strip() for value in _values(params, name) if value.strip()))


def _int(text: str, name: str, label: str, low: int | None, high: int | None) -> int:
    try:
        number = int(text.strip())
    except ValueError:
        raise QueryError(f"{label}必须是整数 / {name} must be a whole number, got {text!r}") from None
    if low is not None and number < low:
        raise QueryError(f"{label}不能小于{low} / {name} must be at least {low}, got {number}")
    if high is not None and number > high:
        raise QueryError(f"{label}不能大于{high} / {name} must be at most {high}, got {number}")
    return number


def _date(text: str, name: str, label: str) -> date | None:
    if not text:
        return None
    try:
        year, month, day = (int(part) for part in text.replace("/", "-").replace(".", "-").split("-"))
        return date(year, month, day)
    except ValueError:
        raise QueryError(f"{label}无效 / {name} must be a date like 2021-03-31, got {text!r}") from None


def _switch(text: str, default: bool, name: str = "synonyms") -> bool:
    lowered = text.lower()
    if not lowered:
        return default
    if lowered in ("on", "1", "true", "yes"):
        return True
    if lowered in ("off", "0", "false", "no"):
        return False
    raise QueryError(f"开关参数无效 / {name} must be on or off, got {text!r}")
