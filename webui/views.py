"""The HTML pages: home, search with facets and timeline, advanced search, article, bulletin, CSV, OpenSearch."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from urllib.parse import urlencode

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request,
                   stream_with_context, url_for)

from search.request import SearchRequest
from webui import assistance, timeline
from webui.engine import get_engine

bp = Blueprint("views", __name__)

Params = dict[str, Any]
#: Characters left unescaped in query strings, as Werkzeug's own URL building leaves them.
URL_SAFE = "!$'()*,/:;?@"

#: Facet sidebar sections in display order: parameter name and Chinese heading.
FACETS = (("district", "区"), ("year", "年份"), ("column", "栏目"))
#: Sort choices: parameter value and label; an empty query sorts newest first under "relevance".
SORTS = (("relevance", "相关度"), ("date", "最新"), ("date-asc", "最早"))
#: CSV columns of /export.csv.
CSV_COLUMNS = ("id", "date", "district", "column", "source", "headline", "series", "issue", "total_issue", "url")
#: Filter parameters shown as removable chips, with their label prefix.
CHIP_LABELS = {"district": "区", "year": "年份", "month": "月份", "column": "栏目", "source": "来源", "series": "刊物",
               "from": "起", "to": "止", "scope": "范围"}


@bp.app_template_global("search_url")
def search_url_global(params: Params) -> str:
    """Templates' link to /search with these parameters."""
    return search_url(params)


@bp.app_template_filter("localtime")
def localtime(stamp: str | None) -> str:
    """An ISO timestamp shown as local 'YYYY-MM-DD HH:MM' (the text unchanged when it is not ISO)."""
    if not stamp:
        return ""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def parse_request(args: Mapping[str, Any] | None = None) -> SearchRequest:
    """The SearchRequest of this request's query string (QueryError on bad parameters)."""
    source = request.args if args is None else args
    return SearchRequest.from_params(source.to_dict(flat=False) if hasattr(source, "to_dict") else source)


def search_url(params: Params, endpoint: str = "views.search") -> str:
    """URL of `endpoint` with these parameters (lists become repeated parameters).

    The same URL `url_for` builds, with the endpoint's path looked up once per request: a results page
    links every facet value, year and page, and `url_for` per link was a third of the page's time.
    """
    paths = g.setdefault("endpoint_paths", {})
    path = paths.get(endpoint)
    if path is None:
        path = paths[endpoint] = url_for(endpoint)
    items = [(key, item) for key, value in params.items() if value not in ("", [], None)
             for item in (value if isinstance(value, (list, tuple)) else [value])]
    return f"{path}?{urlencode(items, safe=URL_SAFE)}" if items else path


def toggled(params: Params, name: str, value: str) -> Params:
    """Parameters with `value` added to or removed from filter `name`, back on page one."""
    changed = {key: (list(val) if isinstance(val, list) else val) for key, val in params.items() if key != "page"}
    values = changed.get(name, [])
    values = [values] if isinstance(values, str) else values
    changed[name] = [v for v in values if v != value] if value in values else values + [value]
    if name == "year":
        changed.pop("month", None)
    return changed


def without(params: Params, name: str, value: str | None = None) -> Params:
    """Parameters without filter `name` (or only its `value`), back on page one."""
    if value is not None and isinstance(params.get(name), list):
        return toggled(params, name, value)
    changed = {key: val for key, val in params.items() if key not in (name, "page")}
    if name == "year":
        changed.pop("month", None)
    return changed


def with_params(params: Params, **values: Any) -> Params:
    """Parameters with single values replaced (None removes)."""
    changed = dict(params)
    for key, value in values.items():
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = value
    return changed


def chips(params: Params) -> list[dict[str, str]]:
    """The active filters as removable chips: label and the URL without that filter."""
    found = []
    for name, prefix in CHIP_LABELS.items():
        value = params.get(name)
        for item in (value if isinstance(value, list) else [value] if value else []):
            label = f"{item}月" if name == "month" else ("仅标题" if name == "scope" and item == "title" else item)
            found.append({"label": f"{prefix}：{label}", "href": search_url(without(params, name, item))})
    return found


def facet_sections(facets: Mapping[str, list[dict[str, Any]]], params: Params) -> list[dict[str, Any]]:
    """Sidebar sections: each facet value with its toggle link; months nest under one selected year."""
    sections = []
    for name, title in FACETS:
        values = facets.get(name) or []
        items = [dict(item, href=search_url(toggled(params, name, str(item["value"])))) for item in values]
        section: dict[str, Any] = {"name": name, "title": title, "entries": items, "months": []}
        if name == "year" and len(params.get("year", [])) == 1:
            section["months"] = [dict(item, href=search_url(toggled(params, "month", str(item["value"]))))
                                 for item in facets.get("month") or []]
        sections.append(section)
    return sections


def timeline_chart(facets: Mapping[str, list[dict[str, Any]]], params: Params) -> Any:
    """Matches per year (per month inside one selected year) as an SVG chart whose bars filter to that period."""
    years = params.get("year", [])
    if len(years) == 1:
        counts = _period_counts(facets.get("month"))
        chosen = {int(month) for month in params.get("month", [])}
        base = {key: val for key, val in params.items() if key not in ("page", "month")}
        bars = [timeline.Bar(f"{month}月", counts.get(month, 0),
                             search_url(dict(base, month=[str(month)]) if month not in chosen else base),
                             f"{years[0]}年{month}月：{counts.get(month, 0)} 条", month in chosen)
                for month in range(1, 13)]
        return timeline.render(bars, f"{years[0]}年各月命中条数")
    counts = _period_counts(facets.get("year"))
    if not counts:
        return timeline.render([], "")
    base = {key: val for key, val in params.items() if key not in ("page", "month", "year")}
    bars = [timeline.Bar(str(year), counts.get(year, 0), search_url(dict(base, year=[str(year)])),
                         f"{year}年：{counts.get(year, 0)} 条", str(year) in years)
            for year in range(min(counts), max(counts) + 1)]
    return timeline.render(bars, "各年命中条数")


def _period_counts(items: list[dict[str, Any]] | None) -> dict[int, int]:
    """Counts per year or month from a facet list, leaving out undated articles (value 0)."""
    return {int(item["value"]): int(item["count"]) for item in items or [] if int(item["value"] or 0) > 0}


def page_links(page: int, pages: int, params: Params) -> list[dict[str, Any]]:
    """Pagination entries: numbers around the current page, the first and last, and gaps."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[dict[str, Any]] = []
    previous = 0
    for number in shown:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "href": search_url(with_params(params, page=str(number) if number > 1 else None)),
                      "current": number == page})
        previous = number
    return links


def sort_links(params: Params, q: str) -> list[dict[str, Any]]:
    """The sort switch; without a query "relevance" means newest first, so only 最新/最早 are offered."""
    current = params.get("sort", "relevance")
    choices = SORTS if q else SORTS[1:]
    if not q and current == "relevance":
        current = "date"
    return [{"label": label, "current": value == current,
             "href": search_url(with_params(params, sort=None if value == "relevance" else value, page=None))}
            for value, label in choices]


@bp.get("/")
def home() -> str:
    """Search box, index status and the latest bulletins."""
    engine = get_engine()
    return render_template("home.html", stats=engine.stats(), latest=engine.latest_bulletins(10),
                           hot=assistance.hot_searches())


@bp.get("/search")
def search() -> str:
    """Results with highlights, facets, chips, timeline, sort and pagination; empty q browses newest first."""
    search_request = parse_request()
    results = get_engine().search(search_request).to_dict()
    assistance.record(search_request, results, "ui")
    params = search_request.to_params()
    pages = max(1, math.ceil(results["total"] / search_request.size))
    return render_template(
        "search.html", results=results, q=results["query"]["q"], params=params,
        as_typed_href=search_url(with_params(params, correct="off", page=None)),
        did_you_mean_href=search_url(with_params(params, q=results["did_you_mean"]["q"], page=None))
        if results["did_you_mean"] else None,
        related=assistance.related_searches(search_request.q),
        facet_sections=facet_sections(results["facets"], params), chips=chips(params),
        chart=timeline_chart(results["facets"], params), sorts=sort_links(params, search_request.q),
        pages=pages, page_links=page_links(search_request.page, pages, params) if pages > 1 else [],
        prev_href=search_url(with_params(params, page=str(search_request.page - 1) if search_request.page > 2 else None))
        if search_request.page > 1 else None,
        next_href=search_url(with_params(params, page=str(search_request.page + 1))) if search_request.page < pages else None,
        export_href=search_url(with_params(params, page=None, size=None), "views.export_csv"),
        api_href=search_url(params, "api.search"),
        clear_href=search_url({"q": search_request.q} if search_request.q else {}),
    )


@bp.get("/advanced")
def advanced() -> Any:
    """The advanced search form; submitted (it GETs itself) it composes q and redirects to /search."""
    if request.args.get("go"):
        return redirect(search_url(advanced_params(request.args)))
    facets = get_engine().search(SearchRequest(size=1)).to_dict()["facets"]
    return render_template(
        "advanced.html", districts=[item["value"] for item in facets.get("district") or []],
        columns=[item["value"] for item in facets.get("column") or []], form=request.args)


def advanced_params(form: Mapping[str, str]) -> Params:
    """/search parameters from the advanced form: the word boxes compose q, the rest pass through."""
    params: Params = {"q": compose_query(form.get("all", ""), form.get("any", ""), form.get("none", ""),
                                         form.get("phrase", ""))}
    for name in ("district", "column"):
        values = [value for value in form.getlist(name) if value] if hasattr(form, "getlist") else []
        if values:
            params[name] = values
    for name in ("from", "to", "sort"):
        if form.get(name):
            params[name] = form[name]
    if form.get("scope") == "title":
        params["scope"] = "title"
    return params


def compose_query(all_words: str, any_words: str, none_words: str, phrase: str) -> str:
    """A query in the engine's language: all words required, (a OR b), -excluded, "exact phrase"."""
    parts = [_term(word) for word in all_words.split()]
    alternatives = [_term(word) for word in any_words.split()]
    if len(alternatives) == 1:
        parts.append(alternatives[0])
    elif alternatives:
        parts.append("(" + " OR ".join(alternatives) + ")")
    if phrase.strip():
        parts.append(_quoted(phrase))
    parts += ["-" + _term(word) for word in none_words.split()]
    return " ".join(parts)


def _quoted(text: str) -> str:
    cleaned = " ".join(text.replace('"', " ").replace("“", " ").replace("”", " ").split())
    return f'"{cleaned}"' if cleaned else ""


def _term(word: str) -> str:
    """One word, quoted when it holds query syntax (quotes, brackets, |, a leading -, a field colon, OR/AND/NOT)."""
    if word.upper() in ("OR", "AND", "NOT") or any(mark in word for mark in '"“”()|:：') or word.startswith("-"):
        return _quoted(word)
    return word


@bp.get("/article/<article_id>")
def article(article_id: str) -> str:
    """One whole article with the query highlighted, its bulletin and the other articles of that issue."""
    q = request.args.get("q", "")
    found = get_engine().article(article_id, q=q)
    if found is None:
        abort(404, "没有这篇文章。")
    return render_template("article.html", article=found, q=q)


@bp.get("/bulletin/<bulletin_id>")
def bulletin(bulletin_id: str) -> str:
    """A whole bulletin: header, columns, all articles, footer."""
    found = get_engine().bulletin(bulletin_id)
    if found is None:
        abort(404, "没有这期简报。")
    return render_template("bulletin.html", bulletin=found)


@bp.get("/export.csv")
def export_csv() -> Response:
    """Every match as CSV (UTF-8 with BOM so Excel reads it), streamed row by row."""
    search_request = replace(parse_request(), page=1)
    rows = iter(get_engine().export(search_request))
    first = next(rows, None)

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(CSV_COLUMNS)
        pending = [first] if first is not None else []
        for row in _chain(pending, rows):
            link = url_for("views.article", article_id=row["id"], _external=True)
            writer.writerow([link if name == "url" else _cell(row.get(name)) for name in CSV_COLUMNS])
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = "attachment; filename=bulletins.csv"
    return response


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def _cell(value: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers can add this site as a search engine."""
    xml = render_template("opensearch.xml", base=request.url_root, name=current_app.config["SITE_NAME"])
    return Response(xml, mimetype="application/opensearchdescription+xml")
