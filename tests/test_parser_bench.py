"""Parser accuracy on the bench corpus (1,423 bulletins, 16,610 articles) against truth.jsonl.

The corpus's truth keeps the `&nbsp;` that 590 files carry as text in the article bodies, so exactness is
scored with entities kept (`parse_text(..., entities=False)`); a separate test checks that decoding them,
as the product does, changes nothing else.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from index.parser import parse_file, parse_text
from test_parser import assert_no_text_dropped, key

pytestmark = pytest.mark.bench

HEADER_FIELDS = ("series", "issue", "total", "office", "date", "editor", "reviewer")
ARTICLE_FIELDS = ("column", "headline", "source", "district", "body")
ARTICLE_TARGET = 0.995
#: Bench files run together on one line (every 25th file, 654 articles): articles exactly right.
FLATTENED_TARGET = 0.95
#: An HTML entity as the parser's punctuation unification leaves it (; may become ；), also one cut to `nbsp;`.
ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+)[;；]|(?<![a-z])nbsp[;；]", re.I)


def parse_as_written(path: Path, flatten: bool = False) -> Any:
    """Parse a bench file keeping HTML entities as text, as the corpus's truth was made (optionally on one line)."""
    text = path.read_text(encoding="utf-8")
    return parse_text(text.replace("\n", " ") if flatten else text, path.name, entities=False)


def article_misses(parsed: list[Any], truth: list[dict[str, Any]]) -> list[list[str]]:
    """For each truth article, the fields the parsed article at its place gets wrong."""
    result = []
    for article, want in zip(parsed + [None] * len(truth), truth, strict=False):
        got = {} if article is None else {
            "column": article.column, "headline": key(article.headline), "source": article.source,
            "district": article.district, "body": key(article.body)}
        expected = {"column": want["column"], "headline": key(want["headline"]), "source": want["source"],
                    "district": want["district"], "body": want["body_key"]}
        result.append([name for name in ARTICLE_FIELDS if got.get(name, object()) != expected[name]])
    return result


def score_bench(bench_dir: Path) -> dict[str, Any]:
    """Parse every bench file; count header-field misses, per-field article misses and whole-article hits."""
    rows = [json.loads(line) for line in (bench_dir / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    header_misses: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    articles = exact = 0
    for row in rows:
        bulletin = parse_as_written(bench_dir / row["file"])
        header_misses.update(name for name in HEADER_FIELDS if getattr(bulletin, name) != row[name])
        for wrong in article_misses(bulletin.articles, row["articles"]):
            articles += 1
            misses.update(wrong)
            exact += not wrong
        misses["extra articles"] += max(0, len(bulletin.articles) - len(row["articles"]))
    return {"bulletins": len(rows), "articles": articles, "exact": exact,
            "header_misses": header_misses, "article_misses": misses}


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


def test_bench_entities_decoded_and_nothing_else(bench_dir: Path) -> None:
    """Decoding the entities (as the product does) changes the bodies by the entities only: same articles,
    same headlines, sources and columns, and each body equal to the one with entities once they are removed."""
    files = [path for path in sorted((bench_dir / "bulletins").glob("*/*.txt"))
             if ENTITY_RE.search(path.read_text(encoding="utf-8"))]
    assert len(files) >= 500
    for path in files:
        decoded, kept = parse_file(path), parse_as_written(path)
        assert len(decoded.articles) == len(kept.articles), path
        for new, old in zip(decoded.articles, kept.articles, strict=True):
            assert (new.column, new.headline, new.source, new.district) == (old.column, old.headline, old.source,
                                                                            old.district), path
            assert key(new.body) == key(ENTITY_RE.sub("", old.body)), path
            assert not ENTITY_RE.search(new.body), path


def test_bench_flattened_onto_one_line(bench_dir: Path) -> None:
    """Every 25th bench file run together on one line (as some converters deliver it): articles exactly right."""
    rows = [json.loads(line) for line in (bench_dir / "truth.jsonl").read_text(encoding="utf-8").splitlines()][::25]
    exact = total = 0
    for row in rows:
        for wrong in article_misses(parse_as_written(bench_dir / row["file"], flatten=True).articles, row["articles"]):
            total += 1
            exact += not wrong
    print(f"\nflattened bench files: {exact}/{total} articles exactly right ({exact / total:.1%}) in {len(rows)} files")
    assert total == 654
    assert exact / total >= FLATTENED_TARGET
