"""`bulletins themes`: the theme table in effect, how many articles have each theme, and its problems."""

from __future__ import annotations

import json

import click

from index import config
from search.errors import IndexUnavailable
from webui.cli_build import backend_option


@click.command()
@click.option("--index", "index_dir", type=click.Path(), default=None, help="Index folder (default: BULLETINS_INDEX).")
@backend_option("Search this cluster instead of the index folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the table and counts as JSON.")
def themes(index_dir: str | None, as_json: bool, backend: str | None = None) -> None:
    """Show the theme table (BULLETINS_THEMES or the bundled one) with article counts; exit 3 when some
    rows or terms of the table were skipped."""
    from search.engine import Engine

    try:
        engine = Engine(config.index_dir(index_dir), backend=backend)
        try:
            overview = engine.theme_overview()
        finally:
            engine.close()
    except IndexUnavailable as error:
        click.echo(f"error: {error}", err=True)
        raise click.exceptions.Exit(1) from error
    if as_json:
        click.echo(json.dumps(overview, ensure_ascii=False, indent=2))
    else:
        click.echo(f"主题表 / theme table: {overview['file']}  ({len(overview['themes'])} themes)")
        for theme in overview["themes"]:
            terms = "、".join(theme["keywords"] + theme["synonyms"])
            click.echo(f"{theme['articles']:>7}  {theme['name']}: {terms}")
        for problem in overview["problems"]:
            click.echo(f"problem: {problem}", err=True)
    if overview["problems"]:
        raise click.exceptions.Exit(3)
