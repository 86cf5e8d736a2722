"""The HTML pages: home, search with facets, timeline and district × year matrix, advanced search, article,
bulletin, and the exports of a search: CSV, the Atom feed and the 汇编 Word document."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from urllib.parse import parse_qs, quote, urlencode

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request,
                   stream_with_context, url_for)

from search.errors import QueryError
from search.request import SearchRequest
from webui import assistance, compilation, feed, matrix, timeline
from webui.engine import get_engine

bp = Blueprint("views", __name__)

Params = dict[str, Any]
#: Characters left unescaped in query strings, as Werkzeug's own URL building leaves them.
URL_SAFE = "!$'()*,/:;?@"

#: Facet sidebar sections in display order: parameter name and Chinese heading.
FACETS = (("district", "区"), ("theme", "主题"), ("year", "年份"), ("column", "栏目"))
#: Sort choices: parameter value and label; an empty query sorts newest first under "relevance".
SORTS = (("relevance", "相关度"), ("date", "最新"), ("date-asc", "最早"))
#: CSV columns of /export.csv.
#: The most results one CSV export holds (more is refused with a message: narrow the search); app setting
#: CSV_EXPORT_LIMIT. The Word 汇编 has its own, smaller limit (EXPORT_LIMIT).
CSV_EXPORT_LIMIT = 20_000
CSV_COLUMNS = ("id", "date", "district", "column", "source", "headline", "series", "issue", "total_issue", "url")
#: Filter parameters shown as removable chips, with their label prefix.
CHIP_LABELS = {"within": "在结果中", "theme": "主题", "district": "区", "year": "年份", "month": "月份", "column": "栏目",
               "source": "来源", "series": "刊物", "from": "起", "to": "止", "scope": "范围"}


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


def _items(params: Params) -> list[tuple[str, str]]:
    """(name, value) pairs of parameters, a list value giving one pair per item."""
    return [(key, str(item)) for key, value in params.items() if value not in ("", [], None)
            for item in (value if isinstance(value, (list, tuple)) else [value])]


def search_url(params: Params, endpoint: str = "views.search") -> str:
    """URL of `endpoint` with these parameters (lists become repeated parameters).

    The same URL `url_for` builds, with the endpoint's path looked up once per request: a results page
    links every facet value, year and page, and `url_for` per link was a third of the page's time.
    """
    paths = g.setdefault("endpoint_paths", {})
    path = paths.get(endpoint)
    if path is None:
        path = paths[endpoint] = url_for(endpoint)
    items = _items(params)
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
    """The active filters as removable chips: label and the URL without that filter.

    With 在结果中检索 the query text is a chip too; removing it makes the first `within` text the query.
    """
    found = []
    within = params.get("within") or []
    if within and params.get("q"):
        promoted = dict(without(params, "within", within[0]), q=within[0])
        found.append({"label": f"检索：{params['q']}", "href": search_url(promoted)})
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


def describe(search_request: SearchRequest) -> list[str]:
    """The conditions of a search in words, one line each (for a feed's subtitle and a 汇编's title page)."""
    lines = [f"检索词：{search_request.q}" if search_request.q else "检索词：（无，全部文章）"]
    lines += [f"在结果中检索：{text}" for text in search_request.within]
    for label, values in (("主题", search_request.themes), ("区", search_request.districts),
                          ("年份", search_request.years), ("月份", search_request.months),
                          ("栏目", search_request.columns), ("来源", search_request.sources),
                          ("刊物", search_request.series)):
        if values:
            lines.append(f"{label}：{'、'.join(str(value) for value in values)}")
    if search_request.date_from or search_request.date_to:
        lines.append(f"日期：{search_request.date_from or '不限'} 至 {search_request.date_to or '不限'}")
    if search_request.scope == "title":
        lines.append("范围：仅标题")
    if not search_request.synonyms:
        lines.append("不使用同义词")
    return lines


def search_title(search_request: SearchRequest) -> str:
    """A short name of a search: its query words, else its first filter, else 全部文章."""
    words = " ".join([search_request.q, *search_request.within]).strip()
    if words:
        return words
    for values in (search_request.themes, search_request.districts, search_request.columns,
                   [f"{year}年" for year in search_request.years]):
        if values:
            return "、".join(str(value) for value in values)
    return "全部文章"


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


#: Parameters that may repeat (kept as lists when read back from a query string).
LIST_PARAMS = ("theme", "district", "year", "month", "column", "source", "series")


def refined_params(args: Mapping[str, Any]) -> Params | None:
    """The parameters a 在结果中检索 submission means, or None when the box is a plain new search.

    The results page's search form carries the current search in `base` (a query string); ticked
    (`refine`), the typed words become one more `within` text of that search, else they start a new one.
    """
    if "base" not in args:
        return None
    typed = (args.get("q") or "").strip()
    if not args.get("refine"):
        return {"q": typed} if typed else {}
    base: Params = {key: values if key in ("within", *LIST_PARAMS) else values[-1]
                    for key, values in parse_qs(args.get("base") or "").items()}
    base.pop("page", None)
    if typed and typed != base.get("q") and typed not in base.get("within", []):
        if base.get("q"):
            base["within"] = [*base.get("within", []), typed]
        else:
            base["q"] = typed
    return base


@bp.get("/search")
def search() -> Any:
    """Results with highlights, facets, chips, timeline, matrix, sort and pagination; empty q browses newest
    first. A 在结果中检索 submission redirects to the search it means."""
    refined = refined_params(request.args)
    if refined is not None:
        return redirect(search_url(refined))
    search_request = parse_request()
    results = get_engine().search(search_request).to_dict()
    assistance.record(search_request, results, "ui")
    params = search_request.to_params()
    pages = max(1, math.ceil(results["total"] / search_request.size))
    listed = with_params(params, page=None, size=None, matrix=None)
    return render_template(
        "search.html", results=results, q=results["query"]["q"], params=params,
        as_typed_href=search_url(with_params(params, correct="off", page=None)),
        did_you_mean_href=search_url(with_params(params, q=results["did_you_mean"]["q"], page=None))
        if results["did_you_mean"] else None,
        related=assistance.related_searches(search_request.q),
        facet_sections=facet_sections(results["facets"], params), chips=chips(params),
        base_query=urlencode(_items(with_params(params, page=None)), safe=URL_SAFE),
        matrix=matrix.render(results.get("matrix"), params, search_url),
        matrix_href=search_url(with_params(params, matrix=None if search_request.matrix else "1", page=None)),
        feed_href=search_url(with_params(listed, sort=None), "views.feed_atom"),
        docx_href=search_url(listed, "views.export_docx"), docx_limit=current_app.config["EXPORT_LIMIT"],
        export_fields=_items(listed),
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
    """The advanced search form (words, scope, district, theme, column, dates, order); submitted (it GETs
    itself) it composes q and redirects to /search."""
    if request.args.get("go"):
        return redirect(search_url(advanced_params(request.args)))
    facets = get_engine().search(SearchRequest(size=1)).to_dict()["facets"]
    return render_template(
        "advanced.html", districts=[item["value"] for item in facets.get("district") or []],
        themes=[item["value"] for item in facets.get("theme") or []],
        columns=[item["value"] for item in facets.get("column") or []], form=request.args)


def advanced_params(form: Mapping[str, str]) -> Params:
    """/search parameters from the advanced form: the word boxes compose q, the rest pass through."""
    params: Params = {"q": compose_query(form.get("all", ""), form.get("any", ""), form.get("none", ""),
                                         form.get("phrase", ""))}
    for name in ("district", "theme", "column"):
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
    limit = current_app.config.get("CSV_EXPORT_LIMIT", CSV_EXPORT_LIMIT)
    total = get_engine().search(replace(search_request, size=1)).total
    if total > limit:
        raise QueryError(f"导出条数过多 / too many results to export: {total:,}, at most {limit:,}; "
                         "narrow the search with filters")
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


#: Entries of a search's Atom feed.
FEED_SIZE = 50


@bp.get("/feed.atom")
def feed_atom() -> Response:
    """The newest FEED_SIZE matches of a search as an Atom 1.0 feed (any search parameters; sort and page
    are ignored: a feed is always newest first)."""
    search_request = replace(parse_request(), sort="date", page=1, size=FEED_SIZE, matrix=False)
    engine = get_engine()
    total, articles = engine.collect(search_request, FEED_SIZE)
    params = with_params(search_request.to_params(), sort=None, size=None)
    site = current_app.config["SITE_NAME"]
    info = feed.FeedInfo(
        title=f"{site}：{search_title(search_request)}",
        subtitle="；".join(describe(search_request)) + f"。共 {total} 条，本订阅为最新 {len(articles)} 条。",
        key=urlencode(sorted(_items(params))),
        self_url=request.host_url.rstrip("/") + search_url(params, "views.feed_atom"),
        html_url=request.host_url.rstrip("/") + search_url(dict(params, sort="date")),
        fallback_updated=engine.built_at(), generator=site)
    document = feed.atom(info, articles, lambda article_id: url_for("views.article", article_id=article_id,
                                                                    _external=True))
    return Response(document, mimetype="application/atom+xml", content_type="application/atom+xml; charset=utf-8")


@bp.get("/export.docx")
def export_docx() -> Response:
    """The 汇编 of a search as a Word document: the ticked articles (`id`, repeatable, in the order given),
    or else every result in the search's order, up to the app's EXPORT_LIMIT (500)."""
    search_request = replace(parse_request(), page=1, matrix=False)
    engine = get_engine()
    ticked = [value.strip() for value in request.args.getlist("id") if value.strip()]
    if ticked:
        articles = engine.articles(ticked)
        if not articles:
            abort(404, "勾选的文章都已不在索引中。")
        summary = f"收录勾选的 {len(articles)} 篇文章"
        if len(articles) < len(dict.fromkeys(ticked)):
            summary += f"（另有 {len(dict.fromkeys(ticked)) - len(articles)} 篇已不在索引中）"
    else:
        limit = int(current_app.config["EXPORT_LIMIT"])
        total, articles = engine.collect(search_request, limit)
        summary = (f"检索结果共 {total} 篇，全部收录" if total <= limit
                   else f"检索结果共 {total} 篇，收录排在前面的 {limit} 篇")
    today = datetime.now().astimezone().date()
    document = compilation.compile_docx(
        articles, title=f"材料汇编：{search_title(search_request)}", conditions=describe(search_request),
        summary=summary + "，按检索结果的顺序排列。", generated=today, author=current_app.config["SITE_NAME"])
    response = Response(document, mimetype=compilation.MIME)
    name = f"材料汇编-{today.isoformat()}.docx"
    response.headers["Content-Disposition"] = (f"attachment; filename=compilation-{today.isoformat()}.docx; "
                                               f"filename*=UTF-8''{quote(name)}")
    return response


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers can add this site as a search engine."""
    xml = render_template("opensearch.xml", base=request.url_root, name=current_app.config["SITE_NAME"])
    return Response(xml, mimetype="application/opensearchdescription+xml")
