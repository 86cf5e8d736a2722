"""Query assistance on real text: known-item queries rewritten as pinyin, with a homophone typo and in
traditional characters still find their article, and text copied from the articles is never corrected.

A deterministic sample of bench bulletins is indexed. Known items are random articles; the query is two or
three jieba words of the headline (the rarest, as a user remembering an article types its distinctive
words). Each query is rewritten three ways: toneless full pinyin of each word, one character replaced by
another with the same toneless pinyin, and traditional characters (OpenCC). An article counts as found
when it is in the top 3 of the results shown (corrected or not) or of the did-you-mean query. Queries
copied from the text (random substrings, two headline words) must never be corrected and get a
did-you-mean at most 2% of the time. The figures are printed (run with -s to see them).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import opencc
import pytest
from pypinyin import Style, lazy_pinyin

from index.analysis import word_terms
from index.normalize import is_cjk, normalize
from index.parser import parse_file
from index.pinyin import is_hanzi
from index.writer import build
from search.engine import Engine
from search.request import SearchRequest

pytestmark = pytest.mark.bench

SAMPLE_EVERY = 6
SEED = 20261202
KNOWN_ITEMS = 150
COPIED = 300
TOP = 3
TARGETS = {"pinyin": 0.90, "homophone": 0.90, "traditional": 0.98}


def known_item_queries(articles: list[tuple[str, str, str]], count: int, seed: int) -> list[tuple[str, str]]:
    """(article id, query): up to three of the rarest headline words (hanzi, two characters or more)."""
    rng = random.Random(seed)
    frequency: dict[str, int] = {}
    for _, headline, _ in articles:
        for word in set(word_terms(headline)):
            frequency[word] = frequency.get(word, 0) + 1
    found = []
    for article_id, headline, _ in rng.sample(articles, len(articles)):
        words = list(dict.fromkeys(word for word in word_terms(headline) if is_hanzi(word) and len(word) >= 2))
        if len(words) < 2:
            continue
        chosen = sorted(words, key=lambda word: (frequency[word], words.index(word)))[:3]
        found.append((article_id, " ".join(sorted(chosen, key=words.index))))
        if len(found) == count:
            break
    return found


def homophones(chars: set[str]) -> dict[str, list[str]]:
    """Toneless reading → the characters of `chars` that have it (default reading)."""
    table: dict[str, list[str]] = {}
    for char in sorted(chars):
        table.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    return table


def with_typo(query: str, table: dict[str, list[str]], rng: random.Random) -> str | None:
    """`query` with one character replaced by a homophone (None when no character has one)."""
    places = [index for index, char in enumerate(query) if is_cjk(char)]
    rng.shuffle(places)
    for index in places:
        char = query[index]
        others = [other for other in table.get(lazy_pinyin(char, style=Style.NORMAL)[0], []) if other != char]
        if others:
            return query[:index] + rng.choice(others) + query[index + 1:]
    return None


def in_pinyin(query: str) -> str:
    return " ".join("".join(lazy_pinyin(word, style=Style.NORMAL)) for word in query.split())


def found_in_top(engine: Engine, query: str, article_id: str) -> bool:
    """True when the article is in the top 3 shown for `query`, or of its did-you-mean."""
    results = engine.search(SearchRequest(q=query, size=TOP))
    if article_id in [hit.id for hit in results.hits]:
        return True
    if results.did_you_mean:
        again = engine.search(SearchRequest(q=results.did_you_mean["q"], size=TOP, correct=False))
        return article_id in [hit.id for hit in again.hits]
    return False


def copied_queries(articles: list[tuple[str, str, str]], count: int, seed: int) -> list[str]:
    """Half random hanzi substrings (2–8 characters) of headlines and bodies, half two headline words."""
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        _, headline, body = rng.choice(articles)
        if len(found) % 2:
            words = [word for word in dict.fromkeys(word_terms(headline)) if is_hanzi(word)]
            if len(words) >= 2:
                found.append(" ".join(rng.sample(words, 2)))
            continue
        runs = [run for run in "".join(char if is_cjk(char) else " " for char in rng.choice((headline, body))).split()
                if len(run) >= 2]
        if runs:
            run = rng.choice(runs)
            length = rng.randint(2, min(8, len(run)))
            start = rng.randrange(len(run) - length + 1)
            found.append(run[start:start + length])
    return found


def evaluate(engine: Engine, articles: list[tuple[str, str, str]], known: int, copied: int,
             seed: int, report: Callable[[str], None] = print) -> dict[str, float]:
    """The figures of this module on an engine over `articles` (id, normalised headline, normalised body).

    Known items whose query, typed correctly, does not rank the article in the top 3 (another article has
    the same headline words) are left out: they measure ranking, not assistance."""
    rng = random.Random(seed)
    chars = {char for _, headline, _ in articles for char in headline if is_cjk(char)}
    table = homophones(chars)
    converter = opencc.OpenCC("s2t")
    candidates = known_item_queries(articles, known * 2, seed)
    queries = [(article_id, query) for article_id, query in candidates
               if found_in_top(engine, query, article_id)][:known]
    report(f"known items: {len(queries)} whose article is in the top {TOP} as typed")
    rates: dict[str, float] = {}
    ways = {"pinyin": in_pinyin, "homophone": lambda q: with_typo(q, table, rng),
            "traditional": converter.convert}
    for name, rewrite in ways.items():
        hits = tried = 0
        misses = []
        for article_id, query in queries:
            rewritten = rewrite(query)
            if not rewritten:
                continue
            tried += 1
            if found_in_top(engine, rewritten, article_id):
                hits += 1
            else:
                misses.append(f"{query} → {rewritten}")
        rates[name] = hits / max(tried, 1)
        report(f"{name:12s} known item in top {TOP}: {hits}/{tried} = {rates[name]:.1%}"
               + (f"   e.g. missed: {'; '.join(misses[:4])}" if misses else ""))
    offered = corrected = 0
    offers = []
    for query in copied_queries(articles, copied, seed + 1):
        results = engine.search(SearchRequest(q=query, size=1))
        corrected += results.corrected_from is not None
        if results.did_you_mean:
            offered += 1
            offers.append(f"{query} → {results.did_you_mean['q']}")
    rates["copied_did_you_mean"] = offered / copied
    rates["copied_corrected"] = corrected / copied
    report(f"copied from the text: {copied} queries, corrected {corrected}, did-you-mean {offered} "
           f"({offered / copied:.1%})" + (f"   e.g. {'; '.join(offers[:5])}" if offers else ""))
    return rates


@pytest.fixture(scope="module")
def bench(bench_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, list[tuple[str, str, str]]]:
    files = sorted((bench_dir / "bulletins").rglob("*.txt"))[::SAMPLE_EVERY]
    source = tmp_path_factory.mktemp("assist-src")
    for path in files:
        target = source / path.relative_to(bench_dir / "bulletins")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    root = tmp_path_factory.mktemp("assist-index")
    build([source], root, full=True, progress=False, log=lambda message: None)
    engine = Engine(root)
    ids = {}
    articles = []
    for path in sorted(source.rglob("*.txt")):
        for article in parse_file(path).articles:
            articles.append((article.headline, normalize(article.headline), normalize(article.body)))
    for hit in engine.export(SearchRequest()):
        ids[normalize(hit["headline"])] = hit["id"]
    texts = [(ids[headline], headline, body) for _, headline, body in articles if headline in ids]
    yield engine, texts
    engine.close()


def test_known_items_are_found_in_pinyin_with_typos_and_in_traditional(bench) -> None:
    engine, articles = bench
    rates = evaluate(engine, articles, KNOWN_ITEMS, COPIED, SEED)
    for name, target in TARGETS.items():
        assert rates[name] >= target, f"{name}: {rates[name]:.1%} < {target:.0%}"
    assert rates["copied_corrected"] == 0
    assert rates["copied_did_you_mean"] <= 0.02
