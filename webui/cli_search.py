"""`bulletins search QUERY`: search the index from the terminal (readable list, or the JSON contract)."""

from __future__ import annotations

import html
import json
import re
import sys

import click

from index import config
from search.errors import IndexUnavailable, QueryError
from search.request import SearchRequest
from search.results import SearchResults
from webui.cli_build import backend_option

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


@click.command()
@click.argument("query", nargs=-1)
@click.option("--index", "index_dir", type=click.Path(), default=None, help="Index folder (default: BULLETINS_INDEX).")
@backend_option("Search this cluster instead of the index folder.")
@click.option("--district", multiple=True, help="Only this district (repeatable; 市级 for city level).")
@click.option("--year", multiple=True, help="Only this year (repeatable).")
@click.option("--from", "date_from", default="", help="Earliest date, e.g. 2021-01-01.")
@click.option("--to", "date_to", default="", help="Latest date, e.g. 2021-12-31.")
@click.option("--column", multiple=True, help="Only this column (repeatable).")
@click.option("--theme", multiple=True, help="Only articles of this theme (repeatable; see `bulletins themes`).")
@click.option("--within", multiple=True, help="Search these words within the results of QUERY (repeatable).")
@click.option("--sort", type=click.Choice(["relevance", "date", "date-asc"]), default="relevance")
@click.option("--page", default="1", help="Page number (from 1).")
@click.option("--size", default="20", help="Results per page (1-100).")
@click.option("--no-synonyms", is_flag=True, help="Do not expand abbreviations to their full forms.")
@click.option("--no-correct", is_flag=True, help="Search exactly as typed, never a pinyin reading or correction.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract of the web API.")
def search(query: tuple[str, ...], index_dir: str | None, district: tuple[str, ...], year: tuple[str, ...],
           date_from: str, date_to: str, column: tuple[str, ...], theme: tuple[str, ...], within: tuple[str, ...],
           sort: str, page: str, size: str, no_synonyms: bool, no_correct: bool, as_json: bool,
           backend: str | None = None) -> None:
    """Search bulletins for QUERY (terms are ANDed; "phrase", -exclude, OR, (groups), 标题:term)."""
    from index.dictionary import use_compact_dictionary
    from search.engine import Engine

    use_compact_dictionary()
    params = {"q": " ".join(query), "district": list(district), "year": list(year), "from": date_from,
              "to": date_to, "column": list(column), "theme": list(theme), "within": list(within), "sort": sort,
              "page": page, "size": size, "synonyms": "off" if no_synonyms else "on",
              "correct": "off" if no_correct else "on"}
    try:
        request = SearchRequest.from_params(params)
        engine = Engine(config.index_dir(index_dir), backend=backend)
        try:
            results = engine.search(request)
        finally:
            engine.close()
    except QueryError as error:
        click.echo(f"error: {error}", err=True)
        raise click.exceptions.Exit(2) from error
    except IndexUnavailable as error:
        click.echo(f"error: {error}", err=True)
        raise click.exceptions.Exit(1) from error
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_results(results, color=sys.stdout.isatty()))


def terminal_text(fragment: str, color: bool) -> str:
    """An HTML fragment with marks as bold colour (terminal) or 【brackets】 (plain), entities decoded."""
    pieces = []
    for index, part in enumerate(_MARK.split(fragment)):
        text = html.unescape(part)
        if index % 2:
            text = click.style(text, fg="red", bold=True) if color else f"【{text}】"
        pieces.append(text)
    return "".join(pieces)


def format_results(results: SearchResults, color: bool = False) -> str:
    """A readable page of results: total and time, then each hit with its metadata and snippet."""
    first = (results.page - 1) * results.size + 1
    lines = [f"共 {results.total} 条 ({results.took_ms:.0f} ms)" +
             (f"，第 {first}-{first + len(results.hits) - 1} 条" if results.hits else "")]
    if results.partial:
        lines.append(f"部分结果 / partial: shard {', '.join(map(str, results.missing_shards))} did not answer")
    if results.corrected_from is not None:
        lines.append(f"以下是“{results.query['q']}”的结果 · 仍然搜索：{results.corrected_from} (--no-correct)")
    elif results.did_you_mean:
        lines.append(f"您是不是要找：{results.did_you_mean['q']} ({results.did_you_mean['total']})")
    for number, hit in enumerate(results.hits, first):
        meta = "  ".join(value for value in (hit.date, hit.district, hit.column, hit.source,
                                             f"{hit.series} 第{hit.issue}期" if hit.issue else hit.series) if value)
        lines += ["", f"{number}. {terminal_text(hit.headline_html, color)}", f"   {meta}  [{hit.id}]",
                  f"   {terminal_text(hit.snippet, color)}"]
    if results.suggestions:
        lines += ["", "没有结果，可以试试 / no results, try:"]
        lines += [f"  {s.label}: {s.q} ({s.total})" for s in results.suggestions]
    return "\n".join(lines)
