"""A deterministic sample corpus in the layout of 《首都精神文明建设情况简报》, for the demo and tests.

`generate_corpus` writes bulletins as `.txt` files laid out like the reference bulletin (header, columns,
articles closed by a source line, footer, distribution lines) together with the extraction damage real
files carry: three headline styles, ASCII punctuation and spaced numbers on the first page, a page break
that splits a paragraph mid-sentence and bold sub-headings lost after it. The prose comes from the
templates in `index/data/sample_phrases.json`; `truth.jsonl` records what a parser must find.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from index.model import DISTRICTS

PHRASES_PATH = Path(__file__).resolve().parent / "data" / "sample_phrases.json"
SERIES = "首都精神文明建设情况简报"
OFFICE = "首都精神文明办"
FIRST_YEAR, LAST_YEAR = 2014, 2026
FIRST_TOTAL = 1651
CITY_SHARE = 0.15
MAX_BULLETINS = (LAST_YEAR - FIRST_YEAR + 1) * 12 * 28

_SLOT = re.compile(r"\{(#?)([^{}]+)\}")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMBER_GAP = re.compile(r"(?<=[\u4e00-\u9fff])(?=[0-9])|(?<=[0-9])(?=[\u4e00-\u9fff])")
_TO_ASCII = str.maketrans({"，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"})


@dataclass
class SampleArticle:
    """One generated article; `headline` and `paragraphs` are canonical (full-width, `**` marks bold)."""

    column: str
    headline: str
    paragraphs: list[str]
    source: str
    district: str | None
    style: int

    @property
    def body(self) -> str:
        """The body a parser should recover: paragraphs joined, bold markers dropped."""
        return "".join(p.replace("**", "") for p in self.paragraphs)


@dataclass
class SampleBulletin:
    """One generated issue: date, numbering, staff and articles grouped by column."""

    day: date
    issue: int
    total: int
    editor: str
    reviewer: str
    articles: list[SampleArticle] = field(default_factory=list)
    hashed_columns: dict[str, bool] = field(default_factory=dict)

    @property
    def relpath(self) -> str:
        """Where the file goes under the corpus folder: `YYYY/YYYY-MM-DD_第N期.txt`."""
        return f"{self.day.year}/{self.day.isoformat()}_第{self.issue}期.txt"


@dataclass
class Block:
    """One blank-line-separated paragraph of the body; `protect` chars at its start hold a headline."""

    text: str
    kind: str
    article: int | None
    protect: int = 0


@lru_cache(maxsize=1)
def load_phrases() -> dict[str, Any]:
    """The vocabulary and templates (read once; the file ships as package data)."""
    return json.loads(PHRASES_PATH.read_text(encoding="utf-8"))


def body_key(body: str) -> str:
    """sha1 of the body's letters and digits, as in the corpus truth files (punctuation-insensitive)."""
    return hashlib.sha1(re.sub(r"[\W_]+", "", body).encode()).hexdigest()


class Deck:
    """Draws items in shuffled rounds so that every item turns up evenly (e.g. all 16 districts)."""

    def __init__(self, items: list[str], rng: random.Random) -> None:
        self._items, self._rng, self._pile = list(items), rng, []

    def draw(self) -> str:
        """The next item of the current round (a new shuffled round when one runs out)."""
        if not self._pile:
            self._pile = list(self._items)
            self._rng.shuffle(self._pile)
        return self._pile.pop()


class Filler:
    """Fills `{slot}` and `{#a-b}` templates from one article's context, the vocabulary and the rng."""

    def __init__(self, rng: random.Random, vocab: dict[str, list[str]], context: dict[str, str]) -> None:
        self.rng, self.vocab, self.context = rng, vocab, context
        self.subject_uses = 0
        self._full_subject = False

    def fill(self, template: str, *, full_subject: bool = False) -> str:
        """`template` with every slot filled (slots may yield slots); `full_subject` for headlines."""
        self._full_subject = full_subject
        for _ in range(4):
            filled = _SLOT.sub(self._value, template)
            if filled == template:
                break
            template = filled
        return template

    def _value(self, match: re.Match[str]) -> str:
        if match[1]:
            low, high = (int(n) for n in match[2].split("-"))
            number = self.rng.randint(low, high)
            approximate = match.string.startswith("余", match.end())
            return str(_round_number(number) if approximate else number)
        name = match[2]
        if name == "主体":
            return self._subject()
        if name in self.context:
            return self.context[name]
        return self.rng.choice(self.vocab[name])

    def _subject(self) -> str:
        """The acting unit: its full name first, then often its short form (区文明办, 街道, 社区…)."""
        if self._full_subject:
            return self.context["主体全称"]
        self.subject_uses += 1
        if self.subject_uses > 1 and self.rng.random() < 0.6:
            return self.context["主体简称"]
        return self.context["主体全称"]


def _round_number(number: int) -> int:
    """A number as written before 余 (“30余名”, “3200余份”): two significant digits, trailing zeros."""
    if number < 20:
        return number
    scale = 10 ** (len(str(number)) - 2)
    return number // scale * scale


def _schedule(count: int, rng: random.Random) -> list[date]:
    """Issue dates: `count` spread evenly over 2014–2026 (1–2 a month at the default size), sorted."""
    months = [(y, m) for y in range(FIRST_YEAR, LAST_YEAR + 1) for m in range(1, 13)]
    base, extra = divmod(count, len(months))
    per_month = [base] * len(months)
    offset = rng.random()
    for i in range(extra):
        per_month[int((i + offset) * len(months) / extra)] += 1
    days: list[date] = []
    for (year, month), k in zip(months, per_month):
        days += [date(year, month, d) for d in sorted(rng.sample(range(1, 29), k))]
    return days


def _town_kind(town: str) -> str:
    """How a town is referred to the second time: 街道, 该镇, 该地区."""
    if town.endswith("街道"):
        return "街道"
    return "该镇" if town.endswith("镇") else "该地区"


def _context(rng: random.Random, phrases: dict[str, Any], theme: dict[str, Any], district: str,
             day: date) -> dict[str, str]:
    """The fixed names of one article: district, town, community, village, theme and acting unit."""
    vocab = phrases["vocab"]
    town = rng.choice(phrases["districts"][district])
    context = {
        "区": district, "街": town, "街类": _town_kind(town),
        "社区": f"{town}{rng.choice(phrases['community_names'])}社区",
        "村": f"{rng.choice(phrases['village_names'])}村",
        "主题": theme["topic"], "年": str(day.year), "月": str(day.month),
        "部门": rng.choice(vocab["部门"]), "学校": rng.choice(vocab["学校"]),
    }
    subject = rng.choice(theme.get("subjects") or phrases["subjects"])
    names = Filler(rng, vocab, context)
    context["主体全称"] = names.fill(subject["full"])
    context["主体简称"] = names.fill(subject["short"])
    return context


def _sentences(rng: random.Random, phrases: dict[str, Any], theme: dict[str, Any], filler: Filler) -> list[str]:
    """An opening, a shuffled mix of theme and general sentences and usually a closing, all filled."""
    pool = theme["sentences"]
    chosen = rng.sample(pool, rng.randint(3, min(8, len(pool))))
    chosen += rng.sample(phrases["general_sentences"], rng.randint(1, 5))
    rng.shuffle(chosen)
    chosen.insert(0, rng.choice(phrases["openings"]))
    if rng.random() < 0.8:
        chosen.append(rng.choice(phrases["closings"]))
    return [filler.fill(s) for s in chosen]


def _split(rng: random.Random, items: list[str], parts: int) -> list[list[str]]:
    """`items` cut into `parts` non-empty consecutive runs."""
    cuts = sorted(rng.sample(range(1, len(items)), parts - 1))
    return [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)])]


def _paragraphs(rng: random.Random, phrases: dict[str, Any], sentences: list[str]) -> list[str]:
    """Sentences laid out as paragraphs; some articles list points (`**强化组织领导。**…`) as in the seed.

    Bold points only ever sit inside a paragraph, as in the seed: a paragraph that opens with a bold
    sentence is how a new article's headline looks, so points that open paragraphs stay plain.
    """
    if rng.random() < 0.3 and len(sentences) >= 4:
        intro, rest = sentences[0], sentences[1:]
        points = rng.sample(phrases["vocab"]["要点"], rng.randint(2, min(4, len(rest))))
        inline = rng.random() < 0.5
        bold = inline and rng.random() < 0.7
        runs = [(f"**{p}。**" if bold else f"{p}。") + "".join(r)
                for p, r in zip(points, _split(rng, rest, len(points)))]
        return [intro + "".join(runs)] if inline else [intro, *runs]
    return ["".join(run) for run in _split(rng, sentences, rng.randint(1, min(4, len(sentences))))]


def _article(rng: random.Random, phrases: dict[str, Any], theme: dict[str, Any], district: str,
             city_source: str | None, day: date) -> SampleArticle:
    """One article about `theme` in `district`, credited to the district or to a city-level office."""
    context = _context(rng, phrases, theme, district, day)
    filler = Filler(rng, phrases["vocab"], context)
    headline = filler.fill(rng.choice(theme["headlines"]), full_subject=True)
    paragraphs = _paragraphs(rng, phrases, _sentences(rng, phrases, theme, filler))
    columns = theme["columns"] + (phrases["general_columns"] if rng.random() < 0.2 else [])
    if city_source:
        if rng.random() < 0.8:
            headline = headline.replace(district, "全市")
        source, credited = city_source, _first_district_named(headline)
    else:
        source, credited = district + rng.choice(phrases["district_source_kinds"]), district
    style = rng.choices((0, 1, 2), weights=(35, 35, 30))[0]
    return SampleArticle(rng.choice(columns), headline, paragraphs, source, credited, style)


def _first_district_named(text: str) -> str | None:
    """The district a city-level article is about: the first one its headline names, if any."""
    named = [(text.find(name), name) for name in DISTRICTS if name in text]
    return min(named)[1] if named else None


def _bulletins(count: int, rng: random.Random, phrases: dict[str, Any]) -> list[SampleBulletin]:
    """All issues in date order with numbering, staff, and 2–8 articles grouped by column."""
    districts = Deck(list(DISTRICTS), rng)
    staff: dict[int, list[str]] = {}
    issues: dict[int, int] = {}
    result = []
    for index, day in enumerate(_schedule(count, rng)):
        issues[day.year] = issues.get(day.year, 0) + 1
        editor, reviewer = staff.setdefault(day.year, rng.sample(phrases["staff"], 2))
        bulletin = SampleBulletin(day, issues[day.year], FIRST_TOTAL + index, editor, reviewer)
        themes = [t for t in phrases["themes"] if t["years"][0] <= day.year <= t["years"][1]]
        articles = []
        for _ in range(rng.choices(range(2, 9), weights=(4, 8, 10, 10, 8, 5, 3))[0]):
            city = rng.choice(phrases["city_sources"]) if rng.random() < CITY_SHARE else None
            articles.append(_article(rng, phrases, rng.choice(themes), districts.draw(), city, day))
        order = list(dict.fromkeys(a.column for a in articles))
        bulletin.articles = sorted(articles, key=lambda a: order.index(a.column))
        bulletin.hashed_columns = {c: rng.random() < 0.8 for c in order}
        result.append(bulletin)
    return result


def _blocks(bulletin: SampleBulletin) -> list[Block]:
    """The body as paragraphs: column headers, headlines (three styles), body paragraphs, source lines."""
    blocks: list[Block] = []
    column = None
    for index, article in enumerate(bulletin.articles):
        if article.column != column:
            column = article.column
            mark = "## " if bulletin.hashed_columns[column] else ""
            blocks.append(Block(f"{mark}【{column}】", "column", None))
        paragraphs = list(article.paragraphs)
        if article.style == 0:
            blocks.append(Block(f"**{article.headline}**", "headline", index))
        else:
            head = f"**{article.headline}。**" if article.style == 1 else f"{article.headline}。"
            blocks.append(Block(head + paragraphs.pop(0), "para", index, len(head)))
        blocks += [Block(p, "para", index) for p in paragraphs]
        blocks.append(Block(article.source, "source", index))
    return blocks


def _cut(block: Block, room: int) -> int | None:
    """Where a page break may split `block` (between two CJK characters, outside bold), at most `room`."""
    text = block.text
    for i in range(min(room, len(text) - 4), block.protect + 4, -1):
        if _CJK.match(text[i - 1]) and _CJK.match(text[i]) and text[:i].count("**") % 2 == 0:
            return i
    return None


def _paginate(blocks: list[Block], rng: random.Random) -> list[tuple[Block, int]]:
    """Each block with its page number; a paragraph crossing a page end is split in two (the damage)."""
    capacity, used, page, placed = rng.randint(700, 1200), 0, 0, []
    lost_bold: int | None = None
    for block in blocks:
        if block.kind == "para" and block.article == lost_bold:
            block = Block(block.text.replace("**", ""), block.kind, block.article, block.protect)
        while len(block.text) > capacity - used:
            cut = _cut(block, capacity - used) if block.kind == "para" else None
            if cut is not None:
                placed.append((Block(block.text[:cut], "para", block.article, block.protect), page))
                tail = block.text[cut:].replace("**", "")
                block, lost_bold = Block(tail, "para", block.article), block.article
            page, used, capacity = page + 1, 0, rng.randint(1100, 1500)
        placed.append((block, page))
        used += len(block.text)
    return placed


def _printed(block: Block, first_page: bool) -> str:
    """A block as extracted from its page: the first page has ASCII punctuation and spaced numbers."""
    if block.kind == "source":
        return f"({block.text})" if first_page else f"（{block.text}）"
    if not first_page:
        return block.text
    text = block.text.translate(_TO_ASCII)
    return _NUMBER_GAP.sub(" ", text) if block.kind == "para" else text


def _header(bulletin: SampleBulletin) -> list[str]:
    """Series title, issue, running total, office and date, spaced as in the seed."""
    day = bulletin.day
    return [f"# {SERIES}", f"第 {bulletin.issue} 期", f"(总第 {bulletin.total} 期)", OFFICE,
            f"{day.year} 年 {day.month} 月 {day.day} 日"]


def _footer(bulletin: SampleBulletin, footer: dict[str, str]) -> list[str]:
    """Editor, reviewer, contacts and the 报/送/发 distribution lines between rules, as in the seed."""
    return [f"责编:{bulletin.editor}", f"核稿:{bulletin.reviewer}", f"电话:{footer['phone']}",
            f"传真:{footer['fax']}", f"邮箱:{footer['email']}", "---",
            f"报:{footer['报']}", f"送:{footer['送']}", f"发:{footer['发']}", "---"]


def render(bulletin: SampleBulletin, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """The bulletin's file text and its truth record (headlines as printed, minus the final 。)."""
    placed = _paginate(_blocks(bulletin), rng)
    body = [_printed(block, page == 0) for block, page in placed]
    text = "\n\n" + "\n\n".join(_header(bulletin) + body + _footer(bulletin, load_phrases()["footer"]))
    headline_pages = {}
    for block, page in placed:
        if block.kind in ("headline", "para") and block.article is not None:
            headline_pages.setdefault(block.article, page)
    articles = [{
        "column": a.column,
        "headline": a.headline.translate(_TO_ASCII) if headline_pages[i] == 0 else a.headline,
        "source": a.source,
        "district": a.district,
        "body_chars": len(a.body),
        "body_key": body_key(a.body),
    } for i, a in enumerate(bulletin.articles)]
    truth = {"file": bulletin.relpath, "series": SERIES, "issue": bulletin.issue, "total": bulletin.total,
             "office": OFFICE, "date": bulletin.day.isoformat(), "editor": bulletin.editor,
             "reviewer": bulletin.reviewer, "articles": articles}
    return text, truth


def generate_corpus(dest: Path, bulletins: int = 300, seed: int = 2147) -> list[Path]:
    """Write `bulletins` sample bulletins under `dest/YYYY/` plus `dest/truth.jsonl`; same seed, same bytes."""
    if not 1 <= bulletins <= MAX_BULLETINS:
        raise ValueError(f"bulletins must be between 1 and {MAX_BULLETINS}")
    dest = Path(dest)
    rng = random.Random(seed)
    paths, records = [], []
    for bulletin in _bulletins(bulletins, rng, load_phrases()):
        text, truth = render(bulletin, rng)
        path = dest / bulletin.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        paths.append(path)
        records.append(json.dumps(truth, ensure_ascii=False))
    (dest / "truth.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8", newline="\n")
    return paths
