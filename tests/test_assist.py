"""Query assistance over a small real index: pinyin queries, typo correction, did-you-mean, full forms, and
the text that must never be converted or corrected (tables of cases)."""

from __future__ import annotations


import pytest

from index.model import Article, Bulletin
from index.writer import write_bulletins
from search.engine import Engine
from search.request import SearchRequest

ARTICLES = [
    ("海淀区召开垃圾分类推进会", "海淀区全面推进生活垃圾分类，开展垃圾分类宣传进社区活动。"),
    ("朝阳区垃圾分类取得新成效", "朝阳区各街道持续推进垃圾分类，居民参与率明显提高。"),
    ("西城区开展志愿服务活动", "西城区组织志愿者开展志愿服务，走进王府井街道服务群众。"),
    ("东城区志愿服务队成立", "东城区成立志愿服务队，志愿服务覆盖全区。"),
    ("丰台区推动绿色发展", "丰台区坚持绿色发展，GDP 增长 5.2%，详见 www.bjwmb.gov.cn 或来信 wmb@bjwmb.gov.cn。"),
    ("石景山区创建文明城区", "石景山区推进创建文明城区工作，创城氛围浓厚。Beijing Daxing 机场线开通。"),
    ("通州区文明实践中心揭牌", "通州区新时代文明实践中心揭牌，2021 年共开展活动 120 场。"),
    ("顺义区文明城区建设", "顺义区扎实推进创建文明城区，全面提升城市文明程度。"),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Engine:
    root = tmp_path_factory.mktemp("assist-index")
    bulletins = {
        f"b{number}.txt": Bulletin(file=f"b{number}.txt", series="首都精神文明建设情况简报", issue=number + 1,
                                   date=f"2021-0{number % 9 + 1}-15",
                                   articles=[Article("工作动态", headline, body, None, headline[:3])])
        for number, (headline, body) in enumerate(ARTICLES)}
    write_bulletins(root, bulletins)
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


def search(engine: Engine, q: str, **options) -> dict:
    return engine.search(SearchRequest(q=q, **options)).to_dict()


@pytest.mark.parametrize(("typed", "shown"), [
    ("lajifenlei", "垃圾分类"),          # full pinyin without spaces
    ("LaJiFenLei", "垃圾分类"),          # any case
    ("laji fenlei", "垃圾 分类"),        # with spaces: one term per word typed
    ("la'ji fen'lei", "垃圾 分类"),      # syllable separators
    ("ljfl", "垃圾分类"),                # initials
    ("垃圾fenlei", "垃圾分类"),           # mixed with hanzi
    ("zhiyuan fuwu", "志愿 服务"),
    ("lüse fazhan", "绿色 发展"),        # ü
    ("lvse fazhan", "绿色 发展"),        # ü as v
    ("luse fazhan", "绿色 发展"),        # ü as u
    ("wenming chengqu", "文明 城区"),
    ("wenmingchengqu", "文明城区"),
])
def test_pinyin_is_read_as_the_words_it_spells(engine: Engine, typed: str, shown: str) -> None:
    result = search(engine, typed)
    assert result["corrected_from"] == typed
    assert result["query"]["q"] == shown
    assert result["total"] > 0 and result["did_you_mean"] is None


@pytest.mark.parametrize(("typed", "shown"), [
    ("垃圾分累", "垃圾分类"),      # homophone (lei)
    ("志原服务", "志愿服务"),      # homophone (yuan)
    ("自愿服务", "志愿服务"),      # near-homophone z/zh
    ("文明城驱", "文明城区"),      # homophone of the last character
    ("垃圾粉类 海淀区", "垃圾分类 海淀区"),  # one term of several
])
def test_typos_are_corrected_when_nothing_matches(engine: Engine, typed: str, shown: str) -> None:
    result = search(engine, typed)
    assert result["corrected_from"] == typed
    assert result["query"]["q"] == shown
    assert result["total"] > 0


@pytest.mark.parametrize("typed", [
    "垃圾分类", "志愿服务", "开展", "类宣传",   # words and a substring across words occur as typed
    "gdp", "GDP",                              # a Latin word of the text is never pinyin
    "beijing", "Daxing",                       # pinyin-like names that occur in the text
    "2021", "5.2%",                            # numbers
    "www.bjwmb.gov.cn", "wmb@bjwmb.gov.cn",    # a URL and an e-mail address
    "垃圾分類",                                 # traditional characters find the simplified text directly
])
def test_text_that_occurs_is_never_corrected(engine: Engine, typed: str) -> None:
    result = search(engine, typed)
    assert result["total"] > 0, typed
    assert result["corrected_from"] is None and result["did_you_mean"] is None


@pytest.mark.parametrize("typed", [
    "www.example.org", "nobody@example.org", "12345", "qwrtz",
    "lajifenlei " * 12,                                    # too many terms to be questioned
    "垃圾分累" * 10, "la" * 100, "ǚǘ",
])
def test_what_spells_nothing_is_left_alone(engine: Engine, typed: str) -> None:
    result = search(engine, typed)
    assert result["total"] == 0 and result["corrected_from"] is None and result["did_you_mean"] is None


@pytest.mark.parametrize(("typed", "corrected"), [
    ('"lajifenlei', '"垃圾分类"'), ("(ljfl OR", "垃圾分类"), ("标题:lajifenlei", "标题:垃圾分类"),
    ("-lajifenlei", None), ("标题:", None), ("\u0000", None), ("垃圾分类 -lajifenlei", None),
    ("lajifenlei -海淀区", "垃圾分类 -海淀区"),
])
def test_query_syntax_is_kept_around_a_correction(engine: Engine, typed: str, corrected: str | None) -> None:
    result = search(engine, typed)
    if corrected is None:
        assert result["corrected_from"] is None and result["total"] > 0
    else:
        assert result["corrected_from"] == typed and result["query"]["q"] == corrected and result["total"] > 0


def test_search_as_typed_keeps_the_query_and_offers_the_correction(engine: Engine) -> None:
    result = search(engine, "lajifenlei", correct=False)
    assert result["total"] == 0 and result["corrected_from"] is None
    assert result["did_you_mean"] == {"q": "垃圾分类", "total": 2}
    assert result["query"]["params"]["correct"] == "off"


def test_filters_that_exclude_the_typed_text_do_not_make_it_a_typo(engine: Engine) -> None:
    result = search(engine, "志愿服务", districts=["海淀区"])
    assert result["total"] == 0 and result["corrected_from"] is None


def test_a_short_form_gets_its_full_form_proposed_without_replacing_it(engine: Engine) -> None:
    result = search(engine, "创城")
    assert result["corrected_from"] is None and result["query"]["q"] == "创城"
    assert result["total"] >= 1
    assert result["did_you_mean"] == {"q": "创建文明城区", "total": 2}


def test_searching_never_loads_pypinyin(engine: Engine) -> None:
    """Searches read pinyin from the vocabulary: pypinyin's 56 MB of tables stay out of server processes."""
    import subprocess
    import sys

    code = ("import sys\nfrom search.engine import Engine\nfrom search.request import SearchRequest\n"
            f"engine = Engine({str(engine.location.root)!r})\n"
            "assert engine.search(SearchRequest(q='垃圾分累')).corrected_from == '垃圾分累'\n"
            "assert engine.search(SearchRequest(q='lajifenlei')).corrected_from == 'lajifenlei'\n"
            "assert engine.suggest('垃圾fen')\n"
            "print(sorted(name for name in sys.modules if name.startswith('pypinyin')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
