"""The structures beside Whoosh: array files, the unit index against the `units` definition, the postings reader
against Whoosh's own matchers, segment merging and the checks `bulletins stats` runs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher

from index.analysis import unit_groups, units
from index.arrayfile import ArrayFile, ArrayFileError, write_array_file
from index.generation import Generation
from index.normalize import normalize
from index.parser import parse_file
from index.samplegen import generate_corpus
from index.segment import ARRAYS_EXT
from index.store import IndexLocation
from index.unitindex import UnitIndex, build_postings, encode_texts, field_counts, intersect_sorted, query_symbols
from index.writer import MAX_SEGMENTS, build
from search.engine import Engine
from search.matching import Matcher
from search.postings import PostingsFile
from search.query import parse_query
from search.request import SearchRequest
from search.snapshot import Snapshot
from search.synonyms import Synonyms
from webui.cli import main

# Array files


def test_array_file_round_trip_and_checksums(tmp_path: Path) -> None:
    path = tmp_path / "x.arrays"
    arrays = {"a": np.arange(10, dtype=np.int32), "empty": np.empty(0, np.int64), "b": np.array([b"ab", b"c"])}
    write_array_file(path, arrays, {"note": "文明"})
    opened = ArrayFile(path)
    assert opened.meta == {"note": "文明"}
    assert opened.array("a").tolist() == list(range(10)) and opened.array("b").tolist() == [b"ab", b"c"]
    assert opened.array("empty").size == 0 and opened.verify() == []
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    assert ArrayFile(path).verify() == ["b"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "truncated"),
    (b"NOTOURS!" + b"\0" * 40, "not an index array file"),
])
def test_array_file_refuses_what_is_not_one(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.arrays"
    path.write_bytes(content)
    with pytest.raises(ArrayFileError, match=message):
        ArrayFile(path)


def test_truncated_array_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.arrays"
    write_array_file(path, {"a": np.arange(1000, dtype=np.int64)}, {})
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ArrayFileError, match="truncated"):
        ArrayFile(path)


# The unit index against the definition of units


ALPHABET = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种"
                "面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把")
ALPHABET += list("abcXYZ0123456789 　，。,.!\n-_")


def _contains(text: str, group: tuple[str, ...]) -> bool:
    """The definition: `group` is a run of adjacent units of one segment of `text`."""
    found = units(text)
    for start in range(len(found) - len(group) + 1):
        window = found[start:start + len(group)]
        if [unit.text for unit in window] == list(group) and window[0].segment == window[-1].segment:
            return True
    return False


@pytest.mark.parametrize("seed", range(4))
def test_unit_index_finds_exactly_what_units_define(seed: int) -> None:
    rng = random.Random(seed)
    texts = [normalize("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))) for _ in range(200)]
    stream = encode_texts(texts)
    index = UnitIndex(**build_postings(stream.symbols, stream.positions))
    for _ in range(500):
        source = rng.choice(texts) or "的"
        start = rng.randrange(len(source))
        query = source[start:start + rng.randint(1, 6)] if rng.random() < 0.8 else \
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4)))
        for group in unit_groups(query):
            found = index.occurrences(query_symbols(group))
            docs = set((np.searchsorted(stream.starts, found, side="right") - 1).tolist())
            assert docs == {number for number, text in enumerate(texts) if _contains(text, group)}, (query, group)



# Sizes that take each path of the two list operations: binary searches one way, the other way, a merge.
LIST_SIZES = [(0, 0), (0, 50), (3, 0), (1, 1), (5, 2000), (2000, 5), (300, 400), (1000, 1000), (40, 640), (641, 40)]


@pytest.mark.parametrize(("small", "large"), LIST_SIZES)
def test_intersect_sorted_equals_a_set_intersection(small: int, large: int) -> None:
    rng = np.random.default_rng(small * 7919 + large)
    left = np.unique(rng.integers(0, 3 * max(small, large, 1), small)).astype(np.int32)
    right = np.unique(rng.integers(0, 3 * max(small, large, 1), large)).astype(np.int32)
    found = intersect_sorted(left, right)
    assert found.tolist() == sorted(set(left.tolist()) & set(right.tolist()))


@pytest.mark.parametrize(("positions", "fields"), LIST_SIZES)
def test_field_counts_equal_counting_one_by_one(positions: int, fields: int) -> None:
    rng = np.random.default_rng(positions * 104729 + fields)
    starts = np.unique(np.concatenate(([0], rng.integers(0, 4 * fields + 1, fields)))).astype(np.int32)
    end = int(starts[-1]) + 3
    bounds = np.append(starts, end).astype(np.int32)
    found = np.unique(rng.integers(0, end, positions)).astype(np.int32)
    expected = [int(((found >= low) & (found < high)).sum()) for low, high in zip(bounds[:-1], bounds[1:])]
    assert field_counts(found, bounds).tolist() == expected


# The postings reader against Whoosh


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("structures")
    generate_corpus(base / "corpus", bulletins=60, seed=7)
    build([base / "corpus"], base / "index", full=True, progress=False, log=lambda _: None)
    return base / "corpus", base / "index"


def test_postings_reader_agrees_with_whoosh_on_every_term(corpus_index: tuple[Path, Path]) -> None:
    _, root = corpus_index
    path = IndexLocation(root).current_path()
    reader = whoosh_index.open_dir(str(path)).reader()
    checked = blocks = 0
    for leaf, _ in reader.leaf_readers():
        postings = PostingsFile(path / leaf._segment.make_filename(".pst"))
        for field, term in leaf.all_terms():
            terminfo = leaf.term_info(field, term)
            ids, weights = postings.decode(terminfo)
            matcher = leaf.postings(field, term)
            blocks += isinstance(matcher, W3LeafMatcher)
            expected_ids, expected_weights = [], []
            while matcher.is_active():
                expected_ids.append(matcher.id())
                expected_weights.append(matcher.weight())
                matcher.next()
            assert ids.tolist() == expected_ids, (field, term)
            assert weights.tolist() == pytest.approx(expected_weights), (field, term)
            if len(expected_ids) > 2:
                wanted = np.array(sorted(random.Random(len(expected_ids)).sample(expected_ids, 2)))
                some, some_weights = postings.decode(terminfo, wanted)
                assert set(wanted.tolist()) <= set(some.tolist()) <= set(expected_ids)
                assert dict(zip(some.tolist(), some_weights.tolist())) == pytest.approx(
                    {doc: weight for doc, weight in zip(expected_ids, expected_weights) if doc in set(some.tolist())})
            checked += 1
    reader.close()
    assert checked > 1000 and blocks > 10


# Scoring in two phases, and the posting cache


QUERIES = ["文明", "志愿服务", "社区 街道", "的", "创城", "海淀区 OR 朝阳区", "工作 -会议", "标题:文明"]


@pytest.mark.parametrize("query", QUERIES)
def test_word_scores_of_candidates_equal_scores_of_everything(corpus_index: tuple[Path, Path], query: str) -> None:
    """The engine adds word scores only for the documents that pass the filters; they must be the scores a
    full evaluation gives, and the page must hold the best of all matches."""
    _, root = corpus_index
    snapshot = Snapshot(IndexLocation(root))
    full = Matcher(snapshot, Synonyms()).evaluate(parse_query(query))
    Matcher(snapshot, Synonyms()).add_word_scores(full, np.flatnonzero(full.mask))
    rng = random.Random(query)
    matched = np.flatnonzero(full.mask)
    subset = np.array(sorted(rng.sample(matched.tolist(), min(5, len(matched)))), dtype=np.int64)
    partial = Matcher(snapshot, Synonyms()).evaluate(parse_query(query))
    Matcher(snapshot, Synonyms()).add_word_scores(partial, subset)
    assert partial.score[subset].tolist() == pytest.approx(full.score[subset].tolist())
    engine = Engine(root)
    page = [hit.score for hit in engine.search(SearchRequest(q=query, size=5)).hits]
    assert page == pytest.approx(sorted(full.score[matched].tolist(), reverse=True)[:5], abs=1e-4)
    engine.close()
    snapshot.close()


def test_posting_cache_holds_whole_postings(corpus_index: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, root = corpus_index
    snapshot = Snapshot(IndexLocation(root))
    uncached = snapshot.word_postings("body_words", "的")
    monkeypatch.setattr("search.snapshot.CACHE_MIN_POSTINGS", 1)
    wanted = uncached[0][:1].astype(np.int64)
    for _ in range(2):
        ids, weights, frequency = snapshot.word_postings("body_words", "的", wanted)
        assert ids.tolist() == uncached[0].tolist() and weights.tolist() == uncached[1].tolist()
        assert frequency == uncached[2] == len(ids)
    assert snapshot._cache.size == ids.nbytes + weights.nbytes
    snapshot.close()


# Merging and checks


def test_many_incremental_builds_merge_small_segments(corpus_index: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, built = corpus_index
    root = tmp_path / "index"
    shutil.copytree(built, root)
    source = tmp_path / "corpus"
    shutil.copytree(corpus, source)
    files = sorted(source.rglob("*.txt"))
    engine = Engine(root)
    before = {query: engine.count(SearchRequest(q=query)) for query in ("文明", "志愿服务", "社区")}
    for number in range(MAX_SEGMENTS + 3):
        copy = files[number].with_name(f"copy-{number}.txt")
        shutil.copy(files[number], copy)
        build([source], root, progress=False, log=lambda _: None)
        assert len(Generation(IndexLocation(root).current_path()).segments) <= MAX_SEGMENTS
    after = {query: engine.count(SearchRequest(q=query)) for query in before}
    assert engine.search(SearchRequest()).total == sum(len(parse_file(path).articles) for path in source.rglob("*.txt"))
    copied = [parse_file(path) for path in source.rglob("copy-*.txt")]
    for query in before:
        extra = sum(query in normalize(article.headline + "\n" + article.body)
                    for bulletin in copied for article in bulletin.articles)
        assert after[query] == before[query] + extra
    engine.close()


def test_stats_reports_a_damaged_array_file(corpus_index: tuple[Path, Path], tmp_path: Path) -> None:
    corpus, built = corpus_index
    root = tmp_path / "index"
    shutil.copytree(built, root)
    ok = CliRunner().invoke(main, ["stats", "--index", str(root)])
    assert ok.exit_code == 0 and "check: ok" in ok.output
    target = next(IndexLocation(root).current_path().glob(f"*{ARRAYS_EXT}"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    damaged = CliRunner().invoke(main, ["stats", "--index", str(root)])
    assert damaged.exit_code == 1
    assert "DAMAGED" in damaged.output and target.name in damaged.output
    assert CliRunner().invoke(main, ["build", str(corpus), "--index", str(root), "--full"]).exit_code == 0
    repaired = CliRunner().invoke(main, ["stats", "--index", str(root)])
    assert repaired.exit_code == 0 and "check: ok" in repaired.output
