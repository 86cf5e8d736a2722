"""The district × year table as server-rendered HTML: cells shaded by count, each linked to its district and year.

Built as a string, like the timeline's SVG: a table of a few hundred linked cells costs a fraction of a
millisecond this way, several in a template. A cell's link is the search's own URL with the district and
year put in their place (the undated column has none: a year filter cannot select undated articles).
Totals link to the district or the year alone, keeping the other's selection.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote_plus

from markupsafe import Markup, escape

#: Shading levels of the cells (CSS classes level-1 … level-N), by the square root of count / largest count.
LEVELS = 5


def level(count: int, peak: int) -> int:
    """The shade of a cell: 0 for none, else 1 … LEVELS."""
    return math.ceil(LEVELS * math.sqrt(count / peak)) if count and peak else 0


def render(matrix: Mapping[str, Any] | None, params: Mapping[str, Any], url: Callable[[dict[str, Any]], str]) -> Markup:
    """The table (empty markup without a matrix) for search `params`; `url(params)` is a results-page URL."""
    if not matrix:
        return Markup("")
    rows, cols, counts = matrix["rows"], matrix["cols"], matrix["counts"]
    base = {key: value for key, value in params.items() if key not in ("page", "month", "district", "year")}
    districts, years = list(params.get("district", [])), [str(year) for year in params.get("year", [])]
    prefix = url(base)
    prefix += "&" if "?" in prefix else "?"
    peak = max((count for row in counts for count in row), default=0)
    col_totals = [sum(row[index] for row in counts) for index in range(len(cols))]
    parts = ['<table class="matrix">', '<thead><tr><th scope="col">区 \\ 年份</th>']
    for year in cols:
        css = ' class="selected"' if str(year) in years else ""
        parts.append(f'<th scope="col"{css}>{year if year else "日期不详"}</th>')
    parts.append('<th scope="col">合计</th></tr></thead><tbody>')
    for district, row in zip(rows, counts):
        label = escape(district)
        chosen = district in districts
        cell_prefix = escape(f"{prefix}district={quote_plus(district)}&year=")
        parts.append('<tr class="selected">' if chosen else "<tr>")
        parts.append(f'<th scope="row">{label}</th>')
        for year, count in zip(cols, row):
            css = f"level-{level(count, peak)}" + (" selected" if chosen and str(year) in years else "")
            if count and year:
                parts.append(f'<td class="{css}"><a href="{cell_prefix}{year}" title="{label} {year}年：{count} 条">'
                             f"{count}</a></td>")
            else:
                parts.append(f'<td class="{css}">{count or ""}</td>')
        total = sum(row)
        href = escape(url(dict(base, district=[district], year=years))) if total else None
        parts.append(f'<td class="total"><a href="{href}">{total}</a></td>' if href else f'<td class="total">{total}</td>')
        parts.append("</tr>")
    parts.append('</tbody><tfoot><tr><th scope="row">合计</th>')
    for year, total in zip(cols, col_totals):
        if total and year:
            href = escape(url(dict(base, district=districts, year=[str(year)])))
            parts.append(f'<td class="total"><a href="{href}">{total}</a></td>')
        else:
            parts.append(f'<td class="total">{total}</td>')
    parts.append(f'<td class="total">{sum(col_totals)}</td></tr></tfoot></table>')
    return Markup("".join(parts))
