"""`index_stats` and `bulletins stats`: figures equal what the parsed files say, deleted articles excluded."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from index.dictionary import dictionary_hash
from index.parser import parse_file
from index.samplegen import generate_corpus
from index.schema import CITY_LEVEL, SCHEMA_VERSION
from index.stats import index_stats
from index.store import IndexLocation, IndexMissingError
from index.writer import build
from webui.cli import main

BULLETINS = 12


def expected_figures(corpus: Path) -> dict[str, Any]:
    """The figures computed from the parsed files themselves."""
    bulletins = [parse_file(path) for path in sorted(corpus.rglob("*.txt"))]
    articles = [article for bulletin in bulletins for article in bulletin.articles]
    dates = sorted(bulletin.date for bulletin in bulletins)
    years = Counter(bulletin.date[:4] for bulletin in bulletins for _ in bulletin.articles)
    return {
        "articles": len(articles),
        "bulletins": len(bulletins),
        "date_from": dates[0],
        "date_to": dates[-1],
        "districts": dict(Counter(article.district or CITY_LEVEL for article in articles)),
        "years": dict(sorted(years.items())),
    }


@pytest.fixture
def corpus_and_index(tmp_path: Path) -> tuple[Path, Path]:
    generate_corpus(tmp_path / "corpus", bulletins=BULLETINS)
    build([tmp_path / "corpus"], tmp_path / "index", progress=False, log=lambda _: None)
    return tmp_path / "corpus", tmp_path / "index"


def assert_figures(figures: dict[str, Any], corpus: Path) -> None:
    expected = expected_figures(corpus)
    for name in ("articles", "bulletins", "date_from", "date_to", "years"):
        assert figures[name] == expected[name], name
    assert figures["districts"] == expected["districts"]
    assert list(figures["districts"].values()) == sorted(figures["districts"].values(), reverse=True)


def test_stats_after_full_build(corpus_and_index: tuple[Path, Path]) -> None:
    corpus, index = corpus_and_index
    figures = index_stats(index)
    assert_figures(figures, corpus)
    assert figures["generation"] == IndexLocation(index).generation()
    assert figures["schema_version"] == SCHEMA_VERSION
    assert figures["dictionary_hash"] == dictionary_hash()


@pytest.mark.parametrize("change", ["delete", "add"])
def test_stats_follow_incremental_builds(corpus_and_index: tuple[Path, Path], change: str) -> None:
    corpus, index = corpus_and_index
    built_at = index_stats(index)["built_at"]
    paths = sorted(corpus.rglob("*.txt"))
    if change == "delete":
        paths[0].unlink()
        paths[-1].unlink()
    else:
        (corpus / "2099").mkdir()
        (corpus / "2099" / "copy.txt").write_bytes(paths[0].read_bytes())
    time.sleep(1.1)
    build([corpus], index, progress=False, log=lambda _: None)
    figures = index_stats(index)
    assert_figures(figures, corpus)
    assert figures["built_at"] > built_at


def test_stats_without_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError):
        index_stats(tmp_path / "nothing")
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "bulletins build" in result.stderr


def test_stats_json(corpus_and_index: tuple[Path, Path]) -> None:
    corpus, index = corpus_and_index
    result = CliRunner().invoke(main, ["stats", "--index", str(index), "--json"])
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.output)
    assert_figures(figures, corpus)
    assert set(figures) >= {"generation", "built_at", "dictionary_hash", "schema_version"}


def test_stats_uses_environment_index(corpus_and_index: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = corpus_and_index
    monkeypatch.setenv("BULLETINS_INDEX", str(index))
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code == 0, result.stderr
    assert f"bulletins: {BULLETINS}" in result.output
