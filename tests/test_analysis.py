"""The Chinese analysis: normalisation, units and their stream, word tokens, positions, offsets, pickling, dictionaries."""

from __future__ import annotations

import pickle
import unicodedata

import pytest

from index import dictionary
from index.analysis import WordAnalyzer, unit_groups, units, word_counts, word_terms
from index.normalize import is_cjk, normalize, traditional_to_simplified
from index.schema import build_schema
from index.unitindex import RUN_END, RUN_START, encode_texts


def tokens(analyzer, text: str, mode: str = "") -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in analyzer(text, positions=True, chars=True, mode=mode)]


@pytest.mark.parametrize(("text", "expected"), [
    ("ＡＢＣ１２３", "abc123"),
    ("發展", "发展"),
    ("全院　16个", "全院 16个"),
    ("（石景山区文明办）", "(石景山区文明办)"),
    ("COVID-19", "covid-19"),
    ("哪吒乾隆於是著名", "哪吒乾隆於是著名"),
    ("①㎡…", "1㎡…"),
])
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_length_for_every_character() -> None:
    sample = "".join(chr(code) for code in range(0x20, 0x3000)) + "".join(traditional_to_simplified())
    assert len(normalize(sample)) == len(sample)


def test_simplified_text_survives_unchanged() -> None:
    """Every hanzi of GB 2312 (the simplified standard) is left exactly as it is."""
    changed = []
    for first in range(0xB0, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                char = bytes([first, second]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if is_cjk(char) and normalize(char) != char:
                changed.append(char)
    assert changed == []


def test_traditional_table_only_maps_to_one_simplified_character() -> None:
    table = traditional_to_simplified()
    assert table["發"] == "发" and table["會"] == "会"
    assert all(len(key) == 1 and len(value) == 1 and key != value for key, value in table.items())


def stream(text: str) -> list[tuple[str, int]]:
    """The unit stream of one text: (character, position), ^ marking a run's first character, $ its last."""
    found = encode_texts([normalize(text)])
    return [(chr(symbol & (RUN_START - 1)) + ("^" if symbol & RUN_START else "") + ("$" if symbol & RUN_END else ""),
             position) for symbol, position in zip(found.symbols.tolist(), found.positions.tolist())]


STREAM_CASES = [
    ("创城", [("创", 0), ("城", 1)]),
    ("好。经", [("好", 0), ("经", 2)]),
    ("全院 16 个", [("全", 0), ("院", 1), ("1^", 2), ("6$", 3), ("个", 4)]),
    ("第5期", [("第", 0), ("5^$", 1), ("期", 2)]),
    ("Covid 19", [("c^", 0), ("o", 1), ("v", 2), ("i", 3), ("d$", 4), ("1^", 5), ("9$", 6)]),
    ("發展\n會議", [("发", 0), ("展", 1), ("会", 3), ("议", 4)]),
    ("一江水 万里", [("一", 0), ("江", 1), ("水", 2), ("万", 4), ("里", 5)]),
    ("a_b", [("a^$", 0), ("b^$", 2)]),
    ("𠀀𪜀好", [("𠀀", 0), ("𪜀", 1), ("好", 2)]),
    ("", []),
    ("，。！", []),
]


@pytest.mark.parametrize(("text", "expected"), STREAM_CASES)
def test_unit_stream(text: str, expected: list) -> None:
    assert stream(text) == expected


def test_stream_starts_and_counts_per_text() -> None:
    found = encode_texts(["创城", "", "好。经", "abc"])
    assert found.starts.tolist() == [0, 3, 3, 7, 10]
    assert found.counts.tolist() == [2, 0, 2, 3]


WORD_CASES = [
    ("落实门前三包责任制", [("落实", 0, 0, 2), ("门前三包", 1, 2, 6), ("责任制", 2, 6, 9)]),
    ("街乡吹哨、部门报到", [("街乡吹哨", 0, 0, 4), ("部门报到", 1, 5, 9)]),
    ("第5期", [("第", 0, 0, 1), ("5", 1, 1, 2), ("期", 2, 2, 3)]),
    ("碳中和", [("碳中和", 0, 0, 3)]),
]


@pytest.mark.parametrize(("text", "expected"), WORD_CASES)
def test_word_tokens_in_query_mode(text: str, expected: list) -> None:
    assert tokens(WordAnalyzer(), text, mode="query") == expected


def test_search_mode_sub_words_share_their_words_position() -> None:
    found = tokens(WordAnalyzer(), "开展创建文明城区活动")
    by_text = {text: pos for text, pos, _, _ in found}
    assert by_text["创建文明城区"] == by_text["创建"] == by_text["文明"] == by_text["城区"]
    assert by_text["开展"] < by_text["创建文明城区"] < by_text["活动"]


SENTENCES = [
    "市检一分院抓好“五落实”积极参与石景山区精神文明创建活动。",
    "2019 年共接待群众来访 2215 批次 3155 人次，100%做到了群众来信 7 日内程序回复",
    "發揮新時代文明實踐志願項目引領作用，通過“點單派單”平台發布17個志願服務項目",
    "ＣＯＶＩＤ－１９疫情期間，與社區居民攜手戰疫",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_offsets_slice_back_and_positions_are_consecutive(text: str) -> None:
    found = tokens(WordAnalyzer(), text)
    assert found
    for token, _, start, end in found:
        assert normalize(text[start:end]).replace(" ", "") == token.replace(" ", "")
    positions = sorted({pos for _, pos, _, _ in found})
    assert positions == list(range(len(positions)))


@pytest.mark.parametrize("text", SENTENCES)
def test_every_cjk_character_is_a_unit(text: str) -> None:
    assert [char for char, _ in stream(text) if is_cjk(char)] == [normalize(c) for c in text if is_cjk(c)]


@pytest.mark.parametrize(("query", "expected"), [
    ("好", [("好",)]),
    ("好经", [("好", "经")]),
    ("高质量发展", [("高", "质", "量", "发", "展")]),
    ("發展", [("发", "展")]),
    ("1.2万", [("1",), ("2", "万")]),
    ("全院 16 个", [("全", "院", "16", "个")]),
    ("，", []),
])
def test_unit_groups(query: str, expected: list) -> None:
    assert unit_groups(query) == expected


def test_word_counts_hold_words_and_sub_words() -> None:
    counts, length = word_counts(normalize("开展创建文明城区活动，创建文明城区"))
    assert counts["创建文明城区"] == 2 and counts["创建"] == 2 and counts["开展"] == 1
    assert length == sum(counts.values()) == len(tokens(WordAnalyzer(), "开展创建文明城区活动，创建文明城区"))


def test_word_terms_drop_punctuation() -> None:
    assert word_terms("高质量发展，碳中和") == ["高质量发展", "碳中和"]


def test_units_split_on_punctuation_not_spaces() -> None:
    segments = [u.segment for u in units("全院 16 个，党团")]
    assert segments == [0, 0, 0, 0, 1, 1]


def test_analyzer_pickles() -> None:
    analyzer = WordAnalyzer()
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy == analyzer
    assert tokens(copy, "创城工作") == tokens(analyzer, "创城工作")


def test_schema_pickles_with_analyzers() -> None:
    schema = build_schema()
    copy = pickle.loads(pickle.dumps(schema))
    assert copy.names() == schema.names()
    assert tokens(copy["body_words"].analyzer, "创城") == tokens(schema["body_words"].analyzer, "创城")


@pytest.fixture()
def user_dict(tmp_path, monkeypatch):
    """Point configuration at a user dictionary in tmp_path and reload jieba around the test."""
    path = tmp_path / "user.txt"
    monkeypatch.setenv("BULLETINS_USER_DICT", str(path))
    monkeypatch.setenv("BULLETINS_CACHE_DIR", str(tmp_path / "cache"))
    dictionary.reset()
    yield path
    monkeypatch.undo()
    dictionary.reset()


def test_user_dictionary_changes_segmentation_and_hash(user_dict) -> None:
    user_dict.write_text("", encoding="utf-8")
    empty_hash = dictionary.dictionary_hash()
    assert "吉祥小院" not in word_terms("打造吉祥小院品牌")
    user_dict.write_text("吉祥小院 50000 n\n", encoding="utf-8")
    dictionary.reset()
    assert "吉祥小院" in word_terms("打造吉祥小院品牌")
    assert dictionary.dictionary_hash() != empty_hash


def test_malformed_user_dictionary_names_file_and_line(user_dict) -> None:
    user_dict.write_text("好词 100\n坏词 many\n", encoding="utf-8")
    with pytest.raises(dictionary.DictionaryError, match=r"user\.txt:2"):
        dictionary.dictionary_hash()


def test_domain_dictionary_is_shipped_and_loaded() -> None:
    assert dictionary.DOMAIN_DICT.is_file()
    for word in ("创城", "门前三包", "接诉即办", "街乡吹哨", "双报到", "新时代文明实践所", "石景山区"):
        assert word_terms(word) == [word]


def test_unicode_data_is_what_we_assume() -> None:
    assert unicodedata.normalize("NFKC", "，") == ","


def test_compact_dictionary_segments_exactly_like_jieba(tmp_path, monkeypatch) -> None:
    """Server workers read jieba's dictionary from a mapped trie: the words and counts must not change."""
    monkeypatch.setenv("BULLETINS_CACHE_DIR", str(tmp_path / "cache"))
    texts = [normalize(text) for text in SENTENCES + [
        "海淀区召开创城工作推进会，落实门前三包责任制和接诉即办要求。",
        "首都精神文明建设委员会办公室部署冬季奥林匹克运动会城市运行保障工作。",
    ]]
    dictionary.reset()
    try:
        expected = [word_counts(text) for text in texts]
        dictionary.use_compact_dictionary()
        assert type(dictionary.get_tokenizer().FREQ).__name__ == "CompactFrequencies"
        assert [word_counts(text) for text in texts] == expected
        assert list((tmp_path / "cache").glob("jieba-*.marisa"))
        dictionary.use_compact_dictionary()
        assert [word_counts(text) for text in texts] == expected
    finally:
        monkeypatch.undo()
        dictionary.reset()
