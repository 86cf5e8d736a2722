"""The query vocabulary: built with each generation from the index itself, updated by incremental builds
exactly as a full build would write it, checked by `bulletins stats`, and the string table it stands on."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from index.pinyin import initials, syllables, variants
from index.samplegen import generate_corpus
from index.stats import index_stats
from index.store import IndexLocation
from index.strings import StringTable, pack, unpack
from index.vocabulary import (ARRAYS_NAME, DISTRICT, FULL, HEADLINE, INITIALS, WORD, Vocabulary,
                              headline_phrases)
from index.writer import build
from webui.cli import main

BULLETIN = """首都精神文明建设情况简报
第{issue}期（总第{total}期）
首都精神文明建设委员会办公室          2021年3月{day}日

【工作动态】

{headline}

{body}（{district}文明办）
"""


def write_bulletin(folder: Path, name: str, issue: int, headline: str, body: str, district: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(BULLETIN.format(issue=issue, total=1000 + issue, day=issue % 28 + 1,
                                               headline=headline, body=body, district=district), encoding="utf-8")


def entries(path: Path) -> dict[str, tuple[int, int]]:
    vocabulary = Vocabulary(path)
    return {vocabulary.entries[i]: (int(vocabulary.counts[i]), int(vocabulary.kinds[i]))
            for i in range(len(vocabulary.entries))}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    source = tmp_path / "src" / "bulletins"
    write_bulletin(source, "a.txt", 1, "海淀区推进垃圾分类工作", "海淀区全面推进垃圾分类，银行行长参加。", "海淀区")
    write_bulletin(source, "b.txt", 2, "朝阳区开展志愿服务", "朝阳区组织志愿服务，推进垃圾分类。", "朝阳区")
    return source


def test_vocabulary_holds_words_phrases_columns_and_pinyin(corpus: Path, tmp_path: Path) -> None:
    build([corpus], tmp_path / "index", progress=False, log=lambda _: None)
    path = IndexLocation(tmp_path / "index").current_path()
    found = entries(path)
    assert found["垃圾分类"] == (2, WORD)                 # in both articles: document frequency 2
    assert found["志愿服务"][0] == 1
    assert found["海淀区推进垃圾分类工作"] == (1, HEADLINE)  # a headline phrase
    assert found["海淀区"][1] & DISTRICT and found["海淀区"][1] & WORD
    vocabulary = Vocabulary(path)
    assert [vocabulary.text(entry) for entry in vocabulary.spelled(FULL + "lajifenlei")] == ["垃圾分类"]
    assert "垃圾分类" in [vocabulary.text(entry) for entry in vocabulary.spelled(INITIALS + "ljfl")]
    # polyphones read by the phrase dictionary: 银行 yinhang, 行长 hangzhang
    assert vocabulary.spelled(FULL + "hangzhang") or vocabulary.spelled(FULL + "yinhanghangzhang")
    assert [text for text, _, _ in vocabulary.completions("垃圾", 10)] == ["垃圾分类"]
    assert vocabulary.verify() == []


def test_incremental_builds_write_the_vocabulary_a_full_build_would(corpus: Path, tmp_path: Path) -> None:
    build([corpus], tmp_path / "index", progress=False, log=lambda _: None)
    write_bulletin(corpus, "c.txt", 3, "东城区推广绿色出行", "东城区倡导绿色出行，推进垃圾分类，组织志愿服务活动。", "东城区")
    (corpus / "a.txt").unlink()
    build([corpus], tmp_path / "index", progress=False, log=lambda _: None)
    incremental = entries(IndexLocation(tmp_path / "index").current_path())
    assert "东城区推广绿色出行" in incremental and "海淀区推进垃圾分类工作" not in incremental
    build([corpus], tmp_path / "full", full=True, progress=False, log=lambda _: None)
    full = entries(IndexLocation(tmp_path / "full").current_path())
    # word document frequencies count deleted articles until a merge (as Whoosh's do); all else is equal
    assert {text: kinds for text, (_, kinds) in incremental.items() if kinds != WORD} == \
        {text: kinds for text, (_, kinds) in full.items() if kinds != WORD}
    assert set(full) <= set(incremental)
    assert incremental["东城区推广绿色出行"] == full["东城区推广绿色出行"]
    assert incremental["倡导"] == full["倡导"] == (1, WORD)


def test_stats_reports_the_vocabulary_and_finds_it_damaged(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build([corpus], index, progress=False, log=lambda _: None)
    figures = index_stats(index)
    assert figures["vocabulary"]["entries"] > 10 and figures["problems"] == []
    output = CliRunner().invoke(main, ["stats", "--index", str(index)]).output
    assert "vocabulary:" in output and "check: ok" in output
    path = IndexLocation(index).current_path() / ARRAYS_NAME
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert any(ARRAYS_NAME in problem for problem in index_stats(index)["problems"])
    result = CliRunner().invoke(main, ["stats", "--index", str(index)])
    assert "DAMAGED" in result.output


def test_a_sample_corpus_builds_its_vocabulary(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "corpus", bulletins=6)
    build([tmp_path / "corpus"], tmp_path / "index", progress=False, log=lambda _: None)
    assert index_stats(tmp_path / "index")["vocabulary"]["pinyin_keys"] > 100


@pytest.mark.parametrize("strings", [[], ["a"], ["", "b"], ["垃圾", "垃圾分类", "垃圾桶", "abc", "abd", "中"]])
def test_string_tables_round_trip_and_find_prefixes(strings: list[str]) -> None:
    ordered = sorted(strings)
    blob, offsets = pack(ordered)
    assert unpack(blob, offsets) == ordered
    table = StringTable(blob, offsets)
    for index, text in enumerate(ordered):
        assert table[index] == text and table.find(text) == index
    assert table.find("不在") == -1
    low, high = table.prefix_range("垃圾")
    assert [table[i] for i in range(low, high)] == [text for text in ordered if text.startswith("垃圾")]


@pytest.mark.parametrize(("word", "spelled", "short"), [
    ("垃圾分类", ["la", "ji", "fen", "lei"], "ljfl"),
    ("银行行长", ["yin", "hang", "hang", "zhang"], "yhhz"),
    ("绿色", ["lv", "se"], "ls"),
    ("重庆", ["chong", "qing"], "cq"),
])
def test_pinyin_of_words(word: str, spelled: list[str], short: str) -> None:
    assert syllables(word) == spelled and initials(spelled) == short


@pytest.mark.parametrize(("syllable", "near"), [
    ("zhi", {"zi"}), ("zi", {"zhi"}), ("lei", {"nei"}), ("chang", {"cang", "chan"}), ("xing", {"xin"}),
    ("fen", {"hen", "feng"}),
])
def test_near_homophones(syllable: str, near: set[str]) -> None:
    assert set(variants(syllable)) == near


def test_phrases_are_headline_clauses() -> None:
    assert headline_phrases("朝阳区：垃圾分类进小区，居民参与热情高") == ["朝阳区", "垃圾分类进小区", "居民参与热情高"]


@pytest.mark.parametrize("word", ["银行行长", "重庆", "重新", "长大", "成长", "音乐", "快乐", "行为", "了解", "朝阳区",
                                  "朝气", "会计", "一个", "不要", "绿色", "女性", "还是", "还款", "调查", "空调"])
def test_pinyin_reads_polyphones_as_pypinyin_does(word: str) -> None:
    from pypinyin import Style, lazy_pinyin

    assert syllables(word) == lazy_pinyin(word, style=Style.NORMAL, v_to_u=False, neutral_tone_with_five=False)


def test_an_index_from_before_vocabularies_still_searches_and_gets_one_with_the_next_build(
        corpus: Path, tmp_path: Path) -> None:
    from index.arrayfile import ArrayFile, write_array_file
    from index.generation import MANIFEST
    from index.vocabulary import TRIE_NAME
    from search.engine import Engine
    from search.request import SearchRequest

    index = tmp_path / "index"
    build([corpus], index, progress=False, log=lambda _: None)
    path = IndexLocation(index).current_path()
    for arrays in path.glob("*.arrays"):                  # as an older version wrote them
        if arrays.name == ARRAYS_NAME:
            continue
        old = ArrayFile(arrays)
        kept = {name: old.array(name).copy() for name in old.names() if not name.startswith("vocab.")}
        write_array_file(arrays, kept, old.meta)
    (path / ARRAYS_NAME).unlink()
    (path / TRIE_NAME).unlink()
    (path / MANIFEST).unlink()                              # older versions wrote no manifest either
    figures = index_stats(index)
    assert figures["vocabulary"] is None and figures["problems"] == []
    assert "vocabulary: none" in CliRunner().invoke(main, ["stats", "--index", str(index)]).output
    engine = Engine(index)
    try:
        result = engine.search(SearchRequest(q="lajifenlei"))
        assert result.total == 0 and result.corrected_from is None and result.did_you_mean is None
        assert engine.search(SearchRequest(q="垃圾分类")).total == 2
        assert engine.suggest("垃圾") == []
    finally:
        engine.close()
    write_bulletin(corpus, "c.txt", 3, "东城区推广绿色出行", "东城区倡导绿色出行，推进垃圾分类，组织志愿服务活动。", "东城区")
    build([corpus], index, progress=False, log=lambda _: None)
    found = entries(IndexLocation(index).current_path())
    assert found["垃圾分类"] == (3, WORD) and "海淀区推进垃圾分类工作" in found   # old segments read from Whoosh


def test_word_frequencies_are_whooshs_own(corpus: Path, tmp_path: Path) -> None:
    """The raw reading of the term table gives the document frequency Whoosh's API gives, for every word."""
    from whoosh import index as whoosh_index

    from index import schema as f
    from index.generation import Generation
    from index.vocabulary import _segment_words

    build([corpus], tmp_path / "index", progress=False, log=lambda _: None)
    path = IndexLocation(tmp_path / "index").current_path()
    generation = Generation(path)
    with whoosh_index.open_dir(str(path), indexname="MAIN").reader() as reader:
        expected = {}
        for name in f.WORD_FIELDS:
            for term in reader.lexicon(name):
                word = term.decode("utf-8")
                expected[word] = max(expected.get(word, 0), reader.doc_frequency(name, term))
    found: dict[str, int] = {}
    for part in generation.segments:
        words, frequencies = _segment_words(path, part)
        for word, frequency in zip(words, frequencies):
            found[word] = found.get(word, 0) + frequency
    assert found == expected and len(found) > 20
