"""Parser accuracy on the bench corpus (1,423 bulletins, 16,610 articles) against truth.jsonl."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from index.parser import parse_file
from test_parser import assert_no_text_dropped, key

pytestmark = pytest.mark.bench

HEADER_FIELDS = ("series", "issue", "total", "office", "date", "editor", "reviewer")
ARTICLE_FIELDS = ("column", "headline", "source", "district", "body")
ARTICLE_TARGET = 0.995


def score_bench(bench_dir: Path) -> dict[str, Any]:
    """Parse every bench file; count header-field misses, per-field article misses and whole-article hits."""
    rows = [json.loads(line) for line in (bench_dir / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    header_misses: Counter[str] = Counter()
    article_misses: Counter[str] = Counter()
    articles = exact = 0
    for row in rows:
        bulletin = parse_file(bench_dir / row["file"])
        header_misses.update(name for name in HEADER_FIELDS if getattr(bulletin, name) != row[name])
        parsed = bulletin.articles + [None] * (len(row["articles"]) - len(bulletin.articles))
        for article, truth in zip(parsed, row["articles"], strict=False):
            articles += 1
            got = {} if article is None else {
                "column": article.column, "headline": key(article.headline), "source": article.source,
                "district": article.district, "body": key(article.body)}
            want = {"column": truth["column"], "headline": key(truth["headline"]), "source": truth["source"],
                    "district": truth["district"], "body": truth["body_key"]}
            wrong = [name for name in ARTICLE_FIELDS if got.get(name, object()) != want[name]]
            article_misses.update(wrong)
            exact += not wrong
        article_misses["extra articles"] += max(0, len(bulletin.articles) - len(row["articles"]))
    return {"bulletins": len(rows), "articles": articles, "exact": exact,
            "header_misses": header_misses, "article_misses": article_misses}


@pytest.fixture(scope="module")
def bench_score(bench_dir: Path) -> dict[str, Any]:
    return score_bench(bench_dir)


def test_bench_accuracy(bench_score: dict[str, Any]) -> None:
    """All header fields right in every bulletin and ≥ 99.5% of articles exactly right."""
    assert bench_score["articles"] == 16610
    assert sum(bench_score["header_misses"].values()) == 0, bench_score["header_misses"]
    rate = bench_score["exact"] / bench_score["articles"]
    assert rate >= ARTICLE_TARGET, (rate, bench_score["article_misses"])


@pytest.mark.parametrize("field", HEADER_FIELDS + ARTICLE_FIELDS + ("extra articles",))
def test_bench_field(bench_score: dict[str, Any], field: str) -> None:
    """Per-field report: how many bulletins or articles get this field wrong (target: none)."""
    misses = bench_score["header_misses"][field] + bench_score["article_misses"][field]
    assert misses == 0, f"{field}: {misses} wrong"


def test_bench_keeps_all_body_text(bench_dir: Path) -> None:
    """On a sample of bench files no Chinese character of the input goes missing."""
    for path in sorted((bench_dir / "bulletins").glob("*/*.txt"))[::50]:
        assert_no_text_dropped(path.read_text(encoding="utf-8"), parse_file(path))
