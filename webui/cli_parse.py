"""`bulletins parse FILE...`: show how bulletin files are parsed (readable, or JSON with --json)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from index.model import Bulletin
from index.parser import parse_file
from index.readers import ReadError

HEADER_FIELDS = ("series", "issue_label", "total", "office", "date", "editor", "reviewer", "phone", "fax", "email")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per file.")
def parse(files: tuple[Path, ...], as_json: bool) -> None:
    """Parse bulletin FILES and print their header, columns and articles.

    Unreadable files are reported on stderr and the others still print; the exit status is 1 then. What
    reading a file took (undecodable characters replaced, a LibreOffice conversion, OCR) is printed as a
    note on stderr, and with --json also in each object (replaced, notes), beside the structure found.
    """
    bulletins: list[Bulletin] = []
    failed = False
    for path in files:
        try:
            bulletin = parse_file(path, str(path))
        except ReadError as error:
            click.echo(f"error: {path}: {error.reason}", err=True)
            failed = True
            continue
        bulletins.append(bulletin)
        for note in bulletin.notes:
            click.echo(f"note: {path}: {note}", err=True)
        if not as_json:
            click.echo(format_bulletin(bulletin))
    if as_json:
        click.echo(json.dumps([b.to_dict() for b in bulletins], ensure_ascii=False, indent=2))
    if failed:
        raise click.exceptions.Exit(1)


def format_bulletin(bulletin: Bulletin) -> str:
    """A readable outline of one parsed bulletin: header fields, then each article in short."""
    lines = [f"== {bulletin.file}"]
    lines += [f"  {name}: {getattr(bulletin, name)}" for name in HEADER_FIELDS if getattr(bulletin, name) is not None]
    lines += [f"  {key}: {value}" for key, value in bulletin.distribution.items()]
    if bulletin.replaced:
        lines.append(f"  replaced characters: {bulletin.replaced}")
    lines.append(f"  structure: {bulletin.structure}")
    if bulletin.contents:
        lines.append(f"  contents: {len(bulletin.contents)} lines")
    lines.append(f"  articles: {len(bulletin.articles)}")
    for number, article in enumerate(bulletin.articles, 1):
        lines.append(f"  {number}. [{article.column or '-'}] {article.headline}")
        lines.append(f"     source: {article.source or '-'}  district: {article.district or '-'}  chars: {len(article.body)}")
    return "\n".join(lines)
