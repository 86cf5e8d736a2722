"""On a deterministic sample of the bench corpus: totals equal brute-force counts, and headline words rank."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.analysis import word_terms
from index.normalize import normalize
from index.parser import parse_file
from search.engine import Engine
from search.request import SearchRequest

from conftest import cjk_runs

pytestmark = pytest.mark.bench

SEED = 20240611


@pytest.fixture(scope="module")
def bench(bench_sample: tuple[Path, Path]) -> tuple[Engine, list[tuple[str, str]]]:
    """An engine over the bench sample (conftest), and the normalised (headline, body) of each article."""
    source, root = bench_sample
    texts = [(normalize(article.headline), normalize(article.body))
             for path in sorted(source.rglob("*.txt")) for article in parse_file(path).articles]
    engine = Engine(root)
    yield engine, texts
    engine.close()



def _substrings(texts: list[tuple[str, str]], count: int, low: int, high: int, seed: int) -> list[str]:
    """Random CJK-only substrings of headlines and bodies (lengths low..high)."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        runs = [run for run in cjk_runs(rng.choice(texts)[rng.randrange(2)]) if len(run) >= low]
        if runs:
            run = rng.choice(runs)
            size = rng.randint(low, min(high, len(run)))
            start = rng.randrange(len(run) - size + 1)
            found.append(run[start:start + size])
    return found


def _brute(texts: list[tuple[str, str]], *terms: str) -> int:
    return sum(all(term in headline or term in body for term in terms) for headline, body in texts)


def test_sample_size(bench: tuple[Engine, list]) -> None:
    engine, texts = bench
    assert 100 <= engine.stats()["bulletins"] <= 150
    assert engine.stats()["articles"] == len(texts)


def test_random_substrings_match_exactly(bench: tuple[Engine, list]) -> None:
    engine, texts = bench
    wrong = [(term, engine.count(SearchRequest(q=term, synonyms=False)), _brute(texts, term))
             for term in _substrings(texts, 200, 1, 6, SEED)]
    assert [case for case in wrong if case[1] != case[2]] == []


def test_two_term_queries_match_exactly(bench: tuple[Engine, list]) -> None:
    engine, texts = bench
    terms = _substrings(texts, 100, 2, 4, SEED + 1)
    pairs = list(zip(terms[::2], terms[1::2]))
    wrong = [(pair, engine.count(SearchRequest(q=" ".join(pair), synonyms=False)), _brute(texts, *pair))
             for pair in pairs]
    assert [case for case in wrong if case[1] != case[2]] == []


def test_phrases_match_exactly(bench: tuple[Engine, list]) -> None:
    engine, texts = bench
    wrong = [(phrase, engine.count(SearchRequest(q=f'"{phrase}"')), _brute(texts, phrase))
             for phrase in _substrings(texts, 50, 3, 10, SEED + 2)]
    assert [case for case in wrong if case[1] != case[2]] == []


def test_search_total_agrees_with_count_and_facets(bench: tuple[Engine, list]) -> None:
    engine, texts = bench
    for term in _substrings(texts, 10, 2, 3, SEED + 3):
        results = engine.search(SearchRequest(q=term, synonyms=False))
        assert results.total == engine.count(SearchRequest(q=term, synonyms=False)) == _brute(texts, term)
        assert sum(item["count"] for item in results.facets["year"]) == results.total


def test_headline_words_rank_their_article_in_the_top_three(bench: tuple[Engine, list]) -> None:
    """Two words of a headline put its article in the top 3: for 90% of queries, and for every query whose
    two words occur together in at most three headlines (the others cannot single one article out)."""
    engine, _ = bench
    rng = random.Random(SEED + 4)
    articles = [hit for hit in engine.export(SearchRequest(sort="date"))]
    headlines = [normalize(article["headline"]) for article in articles]
    tried = hits = clear = clear_hits = 0
    while tried < 300:
        article = rng.choice(articles)
        words = sorted({word for word in word_terms(article["headline"]) if len(word) >= 2})
        if len(words) < 2:
            continue
        tried += 1
        pair = rng.sample(words, 2)
        top = engine.search(SearchRequest(q=" ".join(pair), size=3)).hits
        found = article["id"] in [hit.id for hit in top]
        hits += found
        if sum(all(normalize(word) in headline for word in pair) for headline in headlines) <= 3:
            clear += 1
            clear_hits += found
    print(f"\nheadline two-word queries with their article in the top 3: {hits}/{tried}; "
          f"unambiguous ones: {clear_hits}/{clear}")
    assert hits / tried >= 0.9
    assert clear_hits == clear
