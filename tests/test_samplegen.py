"""The sample-corpus generator: deterministic, in the seed bulletin's layout, consistent with its truth.jsonl."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from index.model import DISTRICTS
from index.samplegen import MAX_BULLETINS, generate_corpus, load_phrases

SMALL = 60
SEED_FILE = "2020-08-04_第38期.txt"

HEADER_RE = re.compile(
    r"\n\n# 首都精神文明建设情况简报\n\n第 (?P<issue>\d+) 期\n\n\(总第 (?P<total>\d+) 期\)\n\n首都精神文明办\n\n"
    r"(?P<year>\d{4}) 年 (?P<month>\d{1,2}) 月 (?P<day>\d{1,2}) 日\n\n")
FOOTER_RE = re.compile(
    r"\n\n责编:(?P<editor>\S+)\n\n核稿:(?P<reviewer>\S+)\n\n电话:\d{8}\n\n传真:\d{8}\n\n邮箱:\S+@\S+\n\n---\n\n"
    r"报:中央文明办,\S+\n\n送:首都文明委委员,\S+\n\n发:各区委书记\S+\n\n---$")
COLUMN_RE = re.compile(r"(## )?【([^】]+)】")
SOURCE_RE = re.compile(r"\(([^()（）]+)\)|（([^()（）]+)）")
NUMBER_GAP_RE = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[0-9])|(?<=[0-9]) (?=[\u4e00-\u9fff])")
SLOT_RE = re.compile(r"\{(#?)([^{}]+)\}")
CONTEXT_SLOTS = {"主体", "区", "街", "街类", "社区", "村", "主题", "年", "月", "部门", "学校"}


def key(text: str) -> str:
    return hashlib.sha1(re.sub(r"[\W_]+", "", text).encode()).hexdigest()


def read_truth(dest: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (dest / "truth.jsonl").read_text(encoding="utf-8").splitlines()]


def corpus_bytes(dest: Path) -> dict[str, bytes]:
    return {str(p.relative_to(dest)): p.read_bytes() for p in sorted(dest.rglob("*")) if p.is_file()}


def body_blocks(text: str) -> list[str]:
    """The blank-line-separated paragraphs between header and footer (both must match the seed layout)."""
    header, footer = HEADER_RE.match(text), FOOTER_RE.search(text)
    assert header and footer, text[:300]
    return text[header.end():footer.start()].split("\n\n")


def opening(block: str) -> tuple[str, str, str]:
    """Headline, body start and style of an article's first paragraph (own bold line, bold lead, plain)."""
    whole = re.fullmatch(r"\*\*([^*]+)\*\*", block)
    if whole and "。" not in whole[1]:
        return whole[1], "", "line"
    lead = re.match(r"\*\*([^*]+?)。\*\*(.*)", block, re.S)
    if lead:
        return lead[1], lead[2], "bold"
    headline, rest = block.split("。", 1)
    return headline, rest, "plain"


def extract(text: str) -> list[dict[str, Any]]:
    """Articles read back with the known layout: column, headline, style, raw body blocks, source."""
    articles: list[dict[str, Any]] = []
    column, current = None, None
    for block in body_blocks(text):
        if (match := COLUMN_RE.fullmatch(block)) is not None:
            column, current = match[2], None
            continue
        if current is not None and (match := SOURCE_RE.fullmatch(block)) is not None:
            current["source"], current["source_line"], current = match[1] or match[2], block, None
            continue
        if current is None:
            headline, rest, style = opening(block)
            current = {"column": column, "headline": headline, "style": style, "blocks": [rest] if rest else []}
            articles.append(current)
        else:
            current["blocks"].append(block)
    assert current is None, "the last article has no source line"
    return articles


def clean_body(blocks: list[str]) -> str:
    """Page-break fragments joined, bold markers and first-page number spacing removed."""
    return NUMBER_GAP_RE.sub("", "".join(blocks).replace("**", ""))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("sample")
    generate_corpus(dest, bulletins=SMALL)
    return dest


@pytest.fixture(scope="module")
def texts(corpus: Path) -> dict[str, str]:
    return {str(p.relative_to(corpus)): p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*/*.txt"))}


@pytest.fixture(scope="module")
def truth(corpus: Path) -> list[dict[str, Any]]:
    return read_truth(corpus)


def test_returns_the_files_it_writes(tmp_path: Path) -> None:
    """The returned paths are exactly the bulletin files on disk, in date order, with one truth row each."""
    paths = generate_corpus(tmp_path, bulletins=12, seed=3)
    assert paths == sorted(tmp_path.glob("*/*.txt"), key=lambda p: p.name.split("_")[0])
    assert [row["file"] for row in read_truth(tmp_path)] == [str(p.relative_to(tmp_path)) for p in paths]


def test_same_seed_gives_identical_bytes(tmp_path: Path, corpus: Path) -> None:
    generate_corpus(tmp_path, bulletins=SMALL)
    assert corpus_bytes(tmp_path) == corpus_bytes(corpus)


def test_other_seed_gives_other_text(tmp_path: Path, corpus: Path) -> None:
    generate_corpus(tmp_path, bulletins=SMALL, seed=2148)
    assert corpus_bytes(tmp_path) != corpus_bytes(corpus)
    assert (tmp_path / "truth.jsonl").read_bytes() != (corpus / "truth.jsonl").read_bytes()


@pytest.mark.parametrize("count", [1, 2, 155, 157, 400])
def test_writes_the_requested_number(tmp_path: Path, count: int) -> None:
    """Fewer bulletins than months, about one per month, and more than two a month all come out whole."""
    paths = generate_corpus(tmp_path, bulletins=count)
    assert len(paths) == len(set(paths)) == count == len(read_truth(tmp_path))


@pytest.mark.parametrize("count", [0, -5, MAX_BULLETINS + 1])
def test_rejects_impossible_counts(tmp_path: Path, count: int) -> None:
    with pytest.raises(ValueError):
        generate_corpus(tmp_path, bulletins=count)


def test_layout_regexes_match_the_seed(seed_dir: Path) -> None:
    """The header and footer patterns these tests hold the generator to are the seed bulletin's."""
    text = (seed_dir / SEED_FILE).read_text(encoding="utf-8")
    header, footer = HEADER_RE.match(text), FOOTER_RE.search(text)
    assert header and footer
    assert (header["issue"], header["total"], footer["editor"]) == ("38", "2147", "梅雪峰")


def test_header_matches_file_name_and_truth(texts: dict[str, str], truth: list[dict[str, Any]]) -> None:
    assert [row["file"] for row in truth] == list(texts)
    for row in truth:
        text = texts[row["file"]]
        header, footer = HEADER_RE.match(text), FOOTER_RE.search(text)
        assert header and footer, row["file"]
        day = f"{header['year']}-{int(header['month']):02d}-{int(header['day']):02d}"
        assert row["file"] == f"{header['year']}/{day}_第{header['issue']}期.txt"
        assert (row["date"], row["issue"], row["total"]) == (day, int(header["issue"]), int(header["total"]))
        assert (row["editor"], row["reviewer"]) == (footer["editor"], footer["reviewer"])
        assert (row["series"], row["office"]) == ("首都精神文明建设情况简报", "首都精神文明办")


def test_numbering(truth: list[dict[str, Any]]) -> None:
    """Issues restart at 1 each year and count up; totals rise by one per issue; dates are in order."""
    dates = [row["date"] for row in truth]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert [b["total"] - a["total"] for a, b in zip(truth, truth[1:])] == [1] * (len(truth) - 1)
    by_year: dict[str, list[int]] = {}
    for row in truth:
        by_year.setdefault(row["date"][:4], []).append(row["issue"])
    assert all(issues == list(range(1, len(issues) + 1)) for issues in by_year.values())


def test_default_size_has_one_or_two_issues_a_month(tmp_path: Path) -> None:
    generate_corpus(tmp_path)
    months = Counter(row["date"][:7] for row in read_truth(tmp_path))
    assert len(months) >= 12 * 12 and set(months.values()) <= {1, 2}


def test_coverage(truth: list[dict[str, Any]]) -> None:
    """Ten years or more, all 16 districts, city-level sources, many columns, 2–8 articles an issue."""
    years = {int(row["date"][:4]) for row in truth}
    articles = [a for row in truth for a in row["articles"]]
    assert max(years) - min(years) + 1 >= 10
    assert {a["district"] for a in articles} == set(DISTRICTS) | {None}
    city = sum(a["district"] is None for a in articles) / len(articles)
    assert 0.07 <= city <= 0.25
    assert min(Counter(a["district"] for a in articles).values()) >= 5
    assert len({a["column"] for a in articles}) >= 12
    assert all(2 <= len(row["articles"]) <= 8 for row in truth)


def test_sources_or_headlines_name_their_district(truth: list[dict[str, Any]]) -> None:
    """District comes from the source; for city-level sources from the headline, else it is null."""
    for article in (a for row in truth for a in row["articles"]):
        district = next((d for d in DISTRICTS if article["source"].startswith(d)), None)
        if district is None:
            named = sorted((article["headline"].find(d), d) for d in DISTRICTS if d in article["headline"])
            district = named[0][1] if named else None
        assert article["district"] == district, article


def test_truth_matches_the_text(texts: dict[str, str], truth: list[dict[str, Any]]) -> None:
    """Reading each file back by its layout gives truth's columns, headlines, sources and bodies."""
    for row in truth:
        articles = extract(texts[row["file"]])
        assert len(articles) == len(row["articles"]), row["file"]
        for got, want in zip(articles, row["articles"]):
            body = clean_body(got["blocks"])
            assert (got["column"], got["source"]) == (want["column"], want["source"]), row["file"]
            assert key(got["headline"]) == key(want["headline"]), row["file"]
            assert (key(body), len(body)) == (want["body_key"], want["body_chars"]), (row["file"], body)


def test_three_headline_styles_and_both_column_marks(texts: dict[str, str]) -> None:
    styles = Counter(a["style"] for text in texts.values() for a in extract(text))
    assert set(styles) == {"line", "bold", "plain"} and min(styles.values()) >= 30
    marks = Counter(bool(COLUMN_RE.fullmatch(b)[1]) for t in texts.values() for b in body_blocks(t)
                    if COLUMN_RE.fullmatch(b))
    assert marks[True] > marks[False] > 0


def test_first_page_ascii_then_full_width(texts: dict[str, str]) -> None:
    """ASCII punctuation and spaced numbers up to the first page break, full-width after it, never back."""
    switched = spaced = 0
    for text in texts.values():
        body = "\n\n".join(body_blocks(text))
        first_full = min((i for i in map(body.find, "，（：；") if i >= 0), default=len(body))
        last_ascii = max(map(body.rfind, ",(:;"))
        assert last_ascii < first_full
        switched += 0 <= last_ascii and first_full < len(body)
        spaced += bool(NUMBER_GAP_RE.search(body[:first_full]))
        assert not NUMBER_GAP_RE.search(body[first_full:])
    assert switched >= SMALL // 2 and spaced >= SMALL // 2


def test_page_breaks_split_sentences(texts: dict[str, str]) -> None:
    """Some paragraphs end mid-sentence (a page break, as `重要` / `工作岗位` in the seed); bold is lost after."""
    broken = 0
    for text in texts.values():
        for article in extract(text):
            ends = [not b.endswith(("。", "。**")) for b in article["blocks"]]
            broken += sum(ends)
            if any(ends):
                assert "**" not in "".join(article["blocks"][ends.index(True) + 1:])
    assert broken >= SMALL // 2


def test_key_phrases_recur(texts: dict[str, str]) -> None:
    """Campaign phrases are shared by many articles, so searches return many hits (and varied counts)."""
    counts = {phrase: sum(text.count(phrase) for text in texts.values())
              for phrase in ("志愿服务", "垃圾分类", "文明创建", "新时代文明实践")}
    assert min(counts.values()) >= 10, counts
    assert len(set(counts.values())) == len(counts)


def test_no_text_from_the_seed(seed_dir: Path, truth: list[dict[str, Any]], texts: dict[str, str]) -> None:
    """No 40-character run of generated article text occurs in the seed bulletin (letters and digits only)."""
    seed = re.sub(r"[\W_]+", "", (seed_dir / SEED_FILE).read_text(encoding="utf-8"))
    windows = {seed[i:i + 40] for i in range(len(seed) - 39)}
    for text in texts.values():
        for article in extract(text):
            flat = re.sub(r"[\W_]+", "", article["headline"] + clean_body(article["blocks"]))
            assert not any(flat[i:i + 40] in windows for i in range(len(flat) - 39))


def templates() -> list[str]:
    phrases = load_phrases()
    found = phrases["openings"] + phrases["closings"] + phrases["general_sentences"]
    found += [s[k] for s in phrases["subjects"] for k in ("full", "short")]
    for theme in phrases["themes"]:
        found += theme["headlines"] + theme["sentences"]
        found += [s[k] for s in theme.get("subjects", []) for k in ("full", "short")]
    return found


@pytest.mark.parametrize("template", templates(), ids=lambda t: t[:12])
def test_template_is_well_formed(template: str) -> None:
    """Known slots, sane ranges, full-width punctuation, no space beside a number (that spacing is damage)."""
    known = CONTEXT_SLOTS | set(load_phrases()["vocab"])
    for numeric, name in SLOT_RE.findall(template):
        if numeric:
            low, high = (int(n) for n in name.split("-"))
            assert 0 <= low < high
        else:
            assert name in known
    assert not re.search(r'[",;:()!?]', template)
    digits = re.sub(r"\{(#[^{}]*|年|月)\}", "9", template)
    assert not re.search(r" [0-9]|[0-9] ", digits)


def test_themes_cover_every_year_and_column_list() -> None:
    phrases = load_phrases()
    assert set(phrases["districts"]) == set(DISTRICTS)
    for year in range(2014, 2027):
        assert sum(t["years"][0] <= year <= t["years"][1] for t in phrases["themes"]) >= 20
    assert all("。" not in h for t in phrases["themes"] for h in t["headlines"])
    assert len({c for t in phrases["themes"] for c in t["columns"]} | set(phrases["general_columns"])) >= 36


def test_script_writes_the_same_corpus(tmp_path: Path) -> None:
    """`python scripts/generate_sample.py DEST` is generate_corpus with the same arguments."""
    generate_corpus(tmp_path / "direct", bulletins=4, seed=9)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_sample.py"), str(tmp_path / "cli"), "--bulletins", "4",
         "--seed", "9"], capture_output=True, text=True, check=True)
    assert "4 bulletins" in result.stdout
    assert corpus_bytes(tmp_path / "cli") == corpus_bytes(tmp_path / "direct")


def test_parser_reads_the_sample_exactly(corpus: Path, truth: list[dict[str, Any]]) -> None:
    """The product's parser gets every header field and every article of the sample corpus right."""
    from index.parser import parse_file

    wrong = []
    for row in truth:
        bulletin = parse_file(corpus / row["file"])
        header = (bulletin.series, bulletin.issue, bulletin.total, bulletin.office, bulletin.date,
                  bulletin.editor, bulletin.reviewer)
        expected = tuple(row[name] for name in ("series", "issue", "total", "office", "date", "editor", "reviewer"))
        if header != expected or len(bulletin.articles) != len(row["articles"]):
            wrong.append(row["file"])
            continue
        for got, want in zip(bulletin.articles, row["articles"]):
            if ((got.column, got.source, got.district, key(got.headline), key(got.body))
                    != (want["column"], want["source"], want["district"], key(want["headline"]), want["body_key"])):
                wrong.append((row["file"], want["headline"]))
    assert wrong == []
