"""Exact recall on real text: every query finds exactly the articles a brute-force scan of the parsed texts finds.

120 bench bulletins (chosen by a fixed stride) are indexed; ~300 random CJK substrings (some spanning a
repaired page break), 50 two-substring AND queries and 50 longer phrases are drawn with a fixed seed from the
parsed, normalised headlines and bodies. Each query goes through the search engine with every part quoted (a
phrase, no synonyms), and the article ids it returns are compared; the oracle is plain substring search in the normalised text, where a space between two CJK characters
breaks a phrase and any other space is ignored, as the exact fields do.
"""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.documents import article_id, bulletin_id
from index.normalize import is_cjk, normalize
from index.parser import parse_file
from index.writer import build
from search.engine import Engine
from search.request import SearchRequest

pytestmark = pytest.mark.bench

SAMPLE_BULLETINS = 120
SEED = 20200804
SUBSTRINGS = 300
PAGE_BREAK_SUBSTRINGS = 40
AND_QUERIES = 50
PHRASES = 50
SPACES = re.compile("[ \t\u00a0\u3000]+")


@dataclass(frozen=True)
class Text:
    """One indexed article as the oracle sees it: its `flat` headline and body."""

    id: str
    headline: str
    body: str

    def contains(self, needle: str) -> bool:
        return needle in self.headline or needle in self.body


def flat(text: str) -> str:
    """Normalised text where a space between two CJK characters breaks (a newline) and other spaces vanish."""
    normalised = normalize(text)

    def replace(match: re.Match[str]) -> str:
        start, end = match.start(), match.end()
        between_cjk = start > 0 and end < len(normalised) and is_cjk(normalised[start - 1]) and is_cjk(normalised[end])
        return "\n" if between_cjk else ""

    return SPACES.sub(replace, normalised)


@pytest.fixture(scope="module")
def sample(bench_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every n-th bench bulletin copied (with its year folder) into a temporary `bulletins` folder."""
    files = sorted((bench_dir / "bulletins").rglob("*.txt"))
    stride = len(files) // SAMPLE_BULLETINS
    target = tmp_path_factory.mktemp("recall") / "bulletins"
    for path in files[::stride][:SAMPLE_BULLETINS]:
        copy = target / path.relative_to(bench_dir / "bulletins")
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
    return target


@pytest.fixture(scope="module")
def index(sample: Path) -> Path:
    root = sample.parent / "index"
    report = build([sample], root, full=True, progress=False, log=lambda _: None)
    assert len(report.added) == SAMPLE_BULLETINS and not report.skipped
    return root


@pytest.fixture(scope="module")
def texts(sample: Path) -> list[Text]:
    result = []
    for path in sorted(sample.rglob("*.txt")):
        key = path.relative_to(sample.parent).as_posix()
        for ordinal, article in enumerate(parse_file(path, key).articles):
            result.append(Text(article_id(bulletin_id(key), ordinal), flat(article.headline), flat(article.body)))
    return result


def cjk_slice(rng: random.Random, texts: list[Text], low: int, high: int) -> str:
    """A random run of `low`..`high` CJK characters from a random headline or body."""
    while True:
        text = rng.choice(texts)
        source = text.headline if rng.random() < 0.15 else text.body
        size = rng.randint(low, high)
        if len(source) <= size:
            continue
        start = rng.randrange(len(source) - size)
        piece = source[start:start + size]
        if all(is_cjk(char) for char in piece):
            return piece


def page_break_slices(rng: random.Random, sample: Path, texts: list[Text], count: int) -> list[str]:
    """Runs of CJK characters spanning a blank line of a file that the parser joined back into one sentence."""
    found = []
    for path in sorted(sample.rglob("*.txt")):
        blocks = [block.strip() for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if block.strip()]
        for before, after in zip(blocks, blocks[1:]):
            piece = flat(before[-rng.randint(1, 3):] + after[:rng.randint(1, 3)])
            if len(piece) >= 2 and all(is_cjk(char) for char in piece) and any(t.contains(piece) for t in texts):
                found.append(piece)
    assert len(found) >= count, "the sample should hold enough repaired page breaks"
    return rng.sample(found, count)


def queries(sample: Path, texts: list[Text]) -> list[tuple[str, ...]]:
    """The query table: single substrings, page-break substrings, AND pairs and long phrases."""
    rng = random.Random(SEED)
    table: list[tuple[str, ...]] = [(cjk_slice(rng, texts, 2, 6),) for _ in range(SUBSTRINGS - PAGE_BREAK_SUBSTRINGS)]
    table += [(piece,) for piece in page_break_slices(rng, sample, texts, PAGE_BREAK_SUBSTRINGS)]
    table += [(cjk_slice(rng, texts, 2, 4), cjk_slice(rng, texts, 2, 4)) for _ in range(AND_QUERIES // 2)]
    for _ in range(AND_QUERIES - AND_QUERIES // 2):
        text = rng.choice(texts).body
        words = [cjk_slice(rng, [Text("", "", text)], 2, 3) for _ in range(2)]
        table.append(tuple(words))
    table += [(cjk_slice(rng, texts, 7, 16),) for _ in range(PHRASES)]
    return table


def test_exact_recall_matches_brute_force(sample: Path, index: Path, texts: list[Text]) -> None:
    table = queries(sample, texts)
    assert len(table) == SUBSTRINGS + AND_QUERIES + PHRASES
    engine = Engine(index)
    try:
        every = {row["id"] for row in engine.export(SearchRequest())}
        assert sorted(every) == sorted(text.id for text in texts)
        mismatches = []
        for parts in table:
            expected = {text.id for text in texts if all(text.contains(flat(part)) for part in parts)}
            request = SearchRequest(q=" ".join(f'"{part}"' for part in parts), synonyms=False)
            found = {row["id"] for row in engine.export(request)}
            if found != expected:
                mismatches.append(f"{' AND '.join(parts)}: index {len(found)}, scan {len(expected)}")
    finally:
        engine.close()
    assert not mismatches, "\n".join(mismatches)
    assert sum(1 for parts in table if len(parts) == 1) == SUBSTRINGS + PHRASES
