"""`bulletins build SRC...` and `bulletins stats`: write the index and show what it holds.

Exit statuses of `build`: 0 every file was indexed, 3 the build completed but skipped files (each named on
stderr with its reason), 1 the build failed (message on stderr, served index untouched), 2 usage error.
Files indexed with a note (undecodable characters replaced, converted by LibreOffice, read by OCR) are named
on stderr too, and the build still exits 0 for them. With `--backend sphinxql://HOST:PORT` (or
$BULLETINS_BACKEND) the built generation is then published to that cluster (`search.sphinxql.publish`); a
node that is down or refuses a write makes it exit 1 with the node named, the cluster still serving what
it served before.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from index import config

if TYPE_CHECKING:
    from index.writer import IndexIncompatibleError

#: `build` exit status when the build completed but some files could not be indexed.
EXIT_SKIPPED = 3
#: `build` exit status when the build failed.
EXIT_FAILED = 1

F = TypeVar("F", bound=Callable[..., Any])

index_option = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
    help="Index folder (default: $BULLETINS_INDEX, else ./var/index).")


def check_backend(backend: str | None) -> str | None:
    """The backend address, None for the index folder; a malformed one is a usage error (exit 2)."""
    from search.sphinxql.connection import parse_address

    if not backend:
        return None
    try:
        parse_address(backend)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--backend / $BULLETINS_BACKEND") from error
    return backend


def backend_option(help_text: str) -> Callable[[F], F]:
    """The `--backend sphinxql://HOST:PORT` option (else $BULLETINS_BACKEND), checked as it is parsed."""
    return click.option("--backend", default=None, envvar="BULLETINS_BACKEND", metavar="sphinxql://HOST:PORT",
                        callback=lambda context, parameter, value: check_backend(value),
                        help=f"{help_text} [env BULLETINS_BACKEND].")


@click.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch into a new generation, then swap it in.")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another running build to finish.")
@click.option("--user-dict", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="Extra jieba dictionary (overrides $BULLETINS_USER_DICT).")
@backend_option("Then publish the built index to this cluster's coordinator (without it only the local index "
                "is built).")
def build(sources: tuple[Path, ...], index_dir: Path | None, full: bool, wait: float, user_dict: Path | None,
          backend: str | None) -> None:
    """Index the bulletin files in SOURCES (files or folders), incrementally unless --full, and with
    --backend publish the result to a SphinxQL cluster.

    Exits 0 when every file was indexed, 3 when some were skipped, 1 when the build or the publish failed.
    """
    from index import dictionary
    from index.store import IndexError_
    from index.writer import BuildError, IndexIncompatibleError, build as build_index

    if user_dict is not None:
        os.environ["BULLETINS_USER_DICT"] = str(user_dict)
        dictionary.reset()
    root = config.index_dir(index_dir)
    try:
        try:
            report = build_index(list(sources), root, full=full, lock_wait=wait, log=_err)
        except IndexIncompatibleError as error:
            if not _confirm_full_rebuild(error):
                raise
            report = build_index(list(sources), root, full=True, lock_wait=wait, log=_err)
    except (BuildError, IndexError_, OSError) as error:
        _err(f"error: build failed: {error}")
        raise click.exceptions.Exit(EXIT_FAILED) from error
    click.echo(report.summary())
    for item in report.notes:
        _err(f"note: {item.file}: {item.note}")
    for item in report.skipped:
        _err(f"skipped: {item.file}: {item.reason}")
    if backend is not None:
        _publish(root, backend)
    if report.skipped:
        raise click.exceptions.Exit(EXIT_SKIPPED)


def _publish(root: Path, backend: str) -> None:
    """Publish the live generation under `root` to `backend` and print the report (exit 1 on failure)."""
    from search.errors import IndexUnavailable
    from search.sphinxql.connection import ClusterError
    from search.sphinxql.publish import publish
    from search.themes import Themes

    try:
        report = publish(root, backend, Themes(),
                         progress=lambda copy: _err(f"published shard {copy.shard} {copy.role} {copy.node}"))
    except (ClusterError, IndexUnavailable) as error:
        _err(f"error: publish to {backend} failed (the cluster still serves its previous generation; run the "
             f"build again to retry): {error}")
        raise click.exceptions.Exit(EXIT_FAILED) from error
    click.echo(report.summary())


@click.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as a JSON object.")
@click.option("--queries", is_flag=True,
              help="Also list the queries of the query log that found nothing (to add synonyms or dictionary words).")
@backend_option("Show what this cluster serves (its published generation) instead.")
def stats(index_dir: Path | None, as_json: bool, queries: bool, backend: str | None = None) -> None:
    """Show what the index holds: articles, bulletins, dates, districts, years, its query vocabulary, how it
    was built, and whether its files are sound (exit status 1 when they are not). With --backend, what the
    cluster serves: the figures of its published generation."""
    from index.stats import index_stats
    from index.store import IndexError_
    from search.errors import IndexUnavailable

    try:
        if backend:
            figures = _cluster_stats(config.index_dir(index_dir), backend)
        else:
            figures = index_stats(config.index_dir(index_dir))
    except (IndexError_, IndexUnavailable) as error:
        raise click.ClickException(str(error)) from error
    if queries:
        figures["zero_result_queries"] = _zero_result_queries(config.index_dir(index_dir))
    click.echo(json.dumps(figures, ensure_ascii=False, indent=2) if as_json else format_stats(figures))
    if figures.get("problems"):
        raise click.exceptions.Exit(EXIT_FAILED)


def _cluster_stats(root: Path, backend: str | None) -> dict[str, Any]:
    """The figures the cluster's published state carries, with its backend and vocabulary."""
    from search.engine import Engine

    engine = Engine(root, backend=backend)
    try:
        return engine.stats()
    finally:
        engine.close()


def _zero_result_queries(root: Path) -> list[dict[str, Any]] | None:
    """Zero-result queries of the query log (None when the log is switched off)."""
    from search.querylog import query_log

    log = query_log(root)
    return log.zero_results() if log is not None else None


def format_stats(figures: dict[str, Any]) -> str:
    """A readable table of `index_stats` output."""
    lines = [f"{name}: {figures[name]}" for name in
             ("generation", "articles", "bulletins", "date_from", "date_to", "built_at", "dictionary_hash",
              "schema_version", "segments") if name in figures]
    if "districts" in figures:
        lines.append("districts:")
        lines += [f"  {name}: {count}" for name, count in figures["districts"].items()]
        lines.append("years:")
        lines += [f"  {year}: {count}" for year, count in figures["years"].items()]
    vocabulary = figures.get("vocabulary")
    if vocabulary:
        lines.append(f"vocabulary: {vocabulary['entries']} entries ({vocabulary['words']} words, "
                     f"{vocabulary['phrases']} headline phrases), {vocabulary['pinyin_keys']} pinyin keys")
    elif "vocabulary" in figures:
        lines.append("vocabulary: none (query assistance is off until the next full build)")
    if "zero_result_queries" in figures:
        zero = figures["zero_result_queries"]
        if zero is None:
            lines.append("queries without results: the query log is off (BULLETINS_QUERY_LOG=off)")
        else:
            lines.append(f"queries without results (没有结果的检索), most frequent first: {len(zero)}")
            lines += [f"  {item['count']:>5}×  {item['q']}   (last {item['last']})" for item in zero]
    problems = figures.get("problems") or []
    lines.append("check: ok" if not problems else "check: DAMAGED, rebuild with `bulletins build SRC --full`")
    lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)


def _confirm_full_rebuild(error: IndexIncompatibleError) -> bool:
    """On a terminal, offer the full rebuild an incompatible index needs; elsewhere (cron) decline."""
    if not sys.stdin.isatty():
        return False
    _err(f"warning: {error}")
    return click.confirm("Rebuild the whole index now (the current one is served until it is done)?",
                         default=True, err=True)


def _err(message: str) -> None:
    click.echo(message, err=True)
