"""Staff workflows on the bench sample (conftest): theme tagging equals a substring scan, the district × year
counts equal the facets, and related articles find the articles that share a headline's two rarest words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.analysis import word_terms
from index.normalize import normalize
from search.engine import Engine
from search.related import LIMIT
from search.request import SearchRequest
from search.themes import BUNDLED, Themes

pytestmark = pytest.mark.bench

#: Share of (article, sharer) cases where the sharer is among the first LIMIT related articles (the issue's target).
TARGET = 0.8


@pytest.fixture(scope="module")
def engine(bench_sample: tuple[Path, Path]) -> Iterator[Engine]:
    engine = Engine(bench_sample[1], themes=Themes(BUNDLED))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def articles(engine: Engine) -> list[dict]:
    return engine.collect(SearchRequest(sort="date"), 10**6)[1]


def test_theme_tagging_equals_a_substring_scan_over_every_article(engine: Engine, articles: list[dict]) -> None:
    table = engine.themes.table()
    tagged: dict[str, set[str]] = {article["id"]: set() for article in articles}
    for theme in table.themes:
        for member in engine.collect(SearchRequest(themes=[theme.name]), 10**6)[1]:
            tagged[member["id"]].add(theme.name)
    texts = {article["id"]: (normalize(article["headline"]), normalize(article["body"])) for article in articles}
    expected = {key: {theme.name for theme in table.themes
                      if any(term in headline or term in body for term in theme.terms)}
                for key, (headline, body) in texts.items()}
    disagree = [key for key in expected if tagged[key] != expected[key]]
    counts = Counter(name for names in expected.values() for name in names)
    print(f"\ntheme tagging: {len(articles)} articles x {len(table.themes)} themes, {len(disagree)} disagreements; "
          f"{sum(bool(names) for names in expected.values())} articles have a theme; most common: "
          f"{counts.most_common(5)}")
    assert disagree == []
    facets = {item["value"]: item["count"] for item in engine.search(SearchRequest()).facets["theme"]}
    assert facets == dict(counts)


@pytest.mark.parametrize("q", ["", "志愿服务", "发展", "冬奥 OR 疫情"])
def test_matrix_totals_equal_the_facet_counts(engine: Engine, q: str) -> None:
    results = engine.search(SearchRequest(q=q, matrix=True))
    matrix = results.matrix
    rows = {row: sum(counts) for row, counts in zip(matrix["rows"], matrix["counts"]) if sum(counts)}
    cols = {col: total for col, total in zip(matrix["cols"], map(sum, zip(*matrix["counts"]))) if total}
    assert rows == {item["value"]: item["count"] for item in results.facets["district"]}
    assert cols == {item["value"]: item["count"] for item in results.facets["year"]}


def _fingerprint(article: dict) -> str:
    return "".join(article["headline"].split()) + "\n" + "".join(article["body"].split())


def test_related_finds_articles_sharing_the_two_rarest_headline_words(engine: Engine, articles: list[dict]) -> None:
    """For each article whose headline's two rarest words (document frequency over the sample, words of two
    or more characters) both occur in other headlines, each such other article (not an exact duplicate) is a
    case; a case counts when it is among the first LIMIT related articles. Articles with more than LIMIT such
    others are left out (they cannot all be shown)."""
    words = {article["id"]: set(word_terms(article["headline"])) | set(word_terms(article["body"]))
             for article in articles}
    frequency = Counter(word for found in words.values() for word in found)
    headline_words = {article["id"]: {word for word in word_terms(article["headline"])
                                      if len(word) >= 2 and any(char.isalpha() for char in word)}
                      for article in articles}
    cases = found = crowded = 0
    for article in articles:
        candidates = sorted(headline_words[article["id"]], key=lambda word: (frequency[word], word))
        if len(candidates) < 2:
            continue
        rarest = set(candidates[:2])
        sharers = [other["id"] for other in articles if other["id"] != article["id"]
                   and rarest <= headline_words[other["id"]] and _fingerprint(other) != _fingerprint(article)]
        if not sharers:
            continue
        if len(sharers) > LIMIT:
            crowded += 1
            continue
        related = [item["id"] for item in engine.article(article["id"])["related"]]
        cases += len(sharers)
        found += sum(sharer in related for sharer in sharers)
    share = found / cases
    print(f"\nrelated articles: {found}/{cases} = {share:.1%} of the articles sharing a headline's two rarest words "
          f"are among the first {LIMIT} related ({crowded} articles with more than {LIMIT} such others left out)")
    assert cases >= 50
    assert share >= TARGET
