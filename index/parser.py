"""Bulletin text → `Bulletin`: header, columns, articles (headline, body, source, district) and footer.

The input is text extracted from PDF/Word/HTML bulletins, so the parser repairs the usual damage
first (page breaks inside sentences, page numbers, leftover HTML tags, bold markers, mixed ASCII and
full-width punctuation, a whole bulletin on one line, hard-wrapped lines) and then reads the layout line by
line. Articles end at a source line (`（XX区文明办）`, `供稿：XX`, `——XX街道`, also glued to the last
sentence), a bold headline, a numbered headline, or (when a bulletin has no sources) a plain headline line;
an article whose source and headline name no district takes the district of a district's own bulletin.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.cleaning import clean_text
from index.model import DISTRICTS, Article, Bulletin
from index.normalize_text import CJK_CHARS, unify_punctuation
from index.readers import read_document

CJK = f"[{CJK_CHARS}]"
#: Traditional forms of the characters in the header, footer and source words below (總第, 編印, 電話, 來源 …),
#: so bulletins in traditional characters are read the same way (their text is kept as written).
TRADITIONAL = {"总": "總", "编": "編", "简": "簡", "报": "報", "办": "辦", "发": "發", "单": "單", "责": "責",
               "辑": "輯", "电": "電", "话": "話", "传": "傳", "邮": "郵", "审": "審", "签": "簽", "联": "聯",
               "系": "繫", "来": "來", "号": "號", "专": "專", "内": "內", "资": "資", "刊": "刊", "稿": "稿",
               "会": "會", "协": "協", "组": "組", "织": "織", "数": "數", "份": "份", "导": "導", "读": "讀"}
_SIMPLIFIED = {traditional: simplified for simplified, traditional in TRADITIONAL.items()}


def _t(pattern: str) -> str:
    """`pattern` with every character of TRADITIONAL also matching its traditional form (编 → [编編])."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char in TRADITIONAL and TRADITIONAL[char] != char:
            out.append(char + TRADITIONAL[char] if in_class else f"[{char}{TRADITIONAL[char]}]")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _simplified(text: str) -> str:
    """`text` with the traditional characters of TRADITIONAL made simplified (to look a matched word up)."""
    return "".join(_SIMPLIFIED.get(char, char) for char in text)

CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM = r"[0-9０-９〇零○一二三四五六七八九十百千两]+"
SENTENCE_END = "。！？!?…”』）)」"

# Header patterns.
TOTAL_RE = re.compile(_t(rf"[（(]?\s*总\s*第?\s*({NUM})\s*期\s*[)）]?"))
ISSUE_RE = re.compile(_t(rf"(?<!总)(?<!总第)((?:\d{{4}}\s*年\s*(?:增刊|专刊|特刊)?|(?<![^\n\[［【〔(（])(?:增刊|专刊|特刊))?\s*第\s*({NUM})\s*期)"))
YEAR = r"\d{4}|[〇零○一二三四五六七八九]{4}"
MONTH_DAY = r"\d{1,2}|[一二三四五六七八九十]{1,3}"
DATE_RE = re.compile(
    rf"(?:({YEAR})\s*年\s*)?({MONTH_DAY})\s*月\s*({MONTH_DAY})\s*[日号號]|(\d{{4}})\s*[-/.]\s*(\d{{1,2}})\s*[-/.]\s*(\d{{1,2}})"
)
FILE_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")

# Body patterns.
#: Column headings in brackets: 【】 〔〕 〖〗 ［］ [] 〈〉 (a bracket pair, not a mix).
COLUMN_BRACKETS = {"【": "】", "〔": "〕", "〖": "〗", "［": "］", "[": "]", "〈": "〉"}
BRACKET_COLUMN_RE = re.compile(
    r"^#*\s*(?:\*\*)?\s*(?:" + "|".join(
        rf"{re.escape(left)}\s*([^{re.escape(left + right)}]{{1,30}}?)\s*{re.escape(right)}"
        for left, right in COLUMN_BRACKETS.items()) + r")\s*(?:\*\*)?$")
SECTION_COLUMN_RE = re.compile(r"^#*\s*(?:\*\*)?\s*[一二三四五六七八九十]{1,3}\s*、\s*([^。，,；;：:！？!?*]{1,25}?)\s*(?:\*\*)?$")
PAREN_LINE_RE = re.compile(r"^[（(]\s*([^（）()]{2,30}?)\s*[)）]$")
ORG_SUFFIX_RE = re.compile(
    r"(?:办|辦|部|委|会|會|中心|局|院|厅|廳|处|處|站|社|台|臺|报|報|队|隊|所|团|團|馆|館|校|府|组|組|联|聯|署|司|科|网|網|室"
    r"|街道|镇|鎮|乡|鄉|社区|社區|村|地区|地區|集团|集團|公司|医院|醫院|大学|大學|学院|學院|小学|中学)$"
)
#: Verbs of an event (国务院妇儿工委办公室召开联络员座谈会): a line with one is a headline, never an office name,
#: even when it ends like one (座谈会, 推进会). Words that occur inside office names (组织部, 纪律检查, 调研室,
#: 推进办) are not listed.
EVENT_VERB_RE = re.compile(_t(r"召开|举行|举办|开展|部署|启动|出席|会见|慰问|走访|视察|荣获|签署|召集|印发(?=\S)|发布(?=《)"))
PUNCT_RE = re.compile(r"[，。、：:；;,！？!?“”\"\d]")
TRAILING_SOURCE_RE = re.compile(
    r"^(.*?(?:[。！？!?”]|\S\s))\s*([（(【][^（）()【】\n]{2,30}[)）】]|——\s*\S{2,25}|(?:供稿单位|供稿|来源)\s*[:：]\s*\S{2,25})$"
)
SOURCE_LABEL_RE = re.compile(_t(
    r"^[（(【\[]?\s*(?:供稿单位|供稿|稿件来源|信息来源|来源|报送单位)\s*[:：]\s*([^（）()【】\[\]，。；,;]{2,30}?)\s*[)）】\]]?$"
))
DASH_SOURCE_RE = re.compile(r"^[—–－]{1,2}\s*([^，。；,;—–－]{2,25})$")
#: A source written with its verb after the name: （朝阳区文明办供稿）, （XX街道 报送）.
SUPPLIED_BY_RE = re.compile(_t(r"^(.{2,25}?)\s*(?:供稿|报送|提供|撰稿|来稿)$"))
NUMBERED_RE = re.compile(r"^[一二三四五六七八九十]{1,3}\s*、")
#: The name of a bulletin, not of an office (…简报, …动态, …通讯): ends like a series title.
SERIES_NAME_RE = re.compile(_t(r"(?:简报|简讯|快报|专报|周报|通讯|动态|专刊|增刊|特刊|信息|参阅|周刊|月刊)$"))
#: An editor's note opening the body (编者按：…, 【编者按】…).
EDITOR_NOTE_RE = re.compile(_t(r"^[【〔\[]?\s*(?:编者按|编者的话|编者)\s*[】〕\]]?\s*[:：]?"))
#: A bullet symbol in front of a headline (■ 区文明办召开推进会), not part of it.
BULLET_RE = re.compile(r"^[■□●○◆◇▲△▶►•※]+\s*")
#: The numberings that can head articles, outermost first: 一、 （一） 1. / 1、
NUMBERINGS = [NUMBERED_RE, re.compile(r"^[（(]\s*[一二三四五六七八九十]{1,3}\s*[)）]"),
              re.compile(r"^\d{1,2}\s*[.、．](?!\d)")]
ANY_NUMBERED_RE = re.compile("|".join(f"(?:{numbering.pattern})" for numbering in NUMBERINGS))
#: A table of contents at the top of the body (本期要目 then numbered headlines without text).
CONTENTS_TITLE_RE = re.compile(_t(r"^(?:本期要目|本期导读|本期目录|本期提要|目\s*录|要\s*目)\s*[:：]?$"))
#: A column marked by a star (☆ 本期关注), alone or with the headline it holds after a colon (☆ 本期关注：XX报告).
STAR_COLUMN_RE = re.compile(r"^[☆★]\s*([^\s:：，。,；;！？!?【】]{2,10})\s*(?:[:：]\s*(\S.{0,59}))?$")
#: A headline glued to the first sentence of its article by a space (…宣传活动 近日，区文明办…).
LEAD_WORDS = (r"(?:近日|日前|近期|连日来|今年以来|本报讯|(?:\d{1,2}\s*月\s*\d{1,2}\s*日|[一二三四五六七八九十]{1,3}月[一二三四五六七八九十]{1,3}日)"
              r"(?:起|以来|上午|下午|晚上?)?"
              r"|为了?[^，。,]{2,30}|在[^，。,]{2,30}|据[^，。,]{1,12})")
GLUED_HEADLINE_RE = re.compile(
    rf"^(?P<head>(?:[^\s，。,；;！？!?]|(?<=[A-Za-z0-9、]) (?=\S)){{6,40}})[ \u3000]+"
    rf"(?P<body>{LEAD_WORDS}[，,].*[。！？!?”）)]?\s*(?:[（(][^（）()]{{2,30}}[)）])?)$")
HEADLINE_END = "。！？!?；;，,、：:"
CITY_SOURCE_RE = re.compile(r"^(?:首都|北京市|市|中央|全国|国家)")
WHOLE_BOLD_RE = re.compile(r"^\*\*([^*]+)\*\*$")
LEAD_BOLD_RE = re.compile(r"^\*\*(.+?)\*\*(.*)$")
#: The numbered first section of an article under its headline (1.前言与背景, 一、基本情况, 1.1 …).
SECTION_NUMBER_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+(?:\.\d+)*\s*[.、．]?\s*(?=\D))\S")
SUBHEADING_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])")

# Footer patterns.
FOOTER_FIELDS = {"责编": "editor", "责任编辑": "editor", "编辑": "editor", "本期编辑": "editor", "本期责编": "editor",
                 "核稿": "reviewer", "审核": "reviewer", "签发": "reviewer", "电话": "phone", "联系电话": "phone",
                 "传真": "fax", "邮箱": "email", "电子邮箱": "email", "联系人": "contact", "校对": "proofreader"}
FOOTER_KEY = _t("|".join(sorted(FOOTER_FIELDS, key=len, reverse=True)))
FOOTER_LINE_RE = re.compile(rf"^(?:{FOOTER_KEY})\s*[:：]")
FOOTER_FIELD_RE = re.compile(rf"({FOOTER_KEY})\s*[:：]\s*(.*?)\s*(?=(?:{FOOTER_KEY})\s*[:：]|$)")
DISTRIBUTION_RE = re.compile(_t(r"^(报送|抄送|抄报|主送|分送|发送|报|送|发)\s*[:：]\s*(.+)$"))
PRINT_RUN_RE = re.compile(r"^[（(]?\s*(?:共印|印数|印)\s*[:：]?\s*\d+\s*份\s*[)）]?$|^.{0,30}\d{1,2}\s*日\s*印发$")

# Cleaning patterns.
RULE_RE = re.compile(r"^(?:[-—_*=＝－]{3,}|#+)$")
PAGE_NUMBER_RE = re.compile(
    r"^(?:[-—–－~～·•]*\s*\d{1,3}\s*[-—–－~～·•]*|第\s*\d{1,3}\s*页|\d{1,3}\s*/\s*\d{1,3}|\d{1,3}\s*、"
    r"|第\s*\d{1,3}\s*页\s*[,，/]?\s*共\s*\d{1,3}\s*页|共\s*\d{1,3}\s*页\s*[,，/]?\s*第\s*\d{1,3}\s*页)$"
)
INLINE_PAGE_RE = re.compile(rf"(?<=[{CJK_CHARS}，。、；：])\s*(?:[-—–－]\s*\d{{1,3}}\s*[-—–－]|\d{{1,3}}、(?=\s*$))\s*(?=[{CJK_CHARS}]|$)")
HTML_BREAK_RE = re.compile(
    r"<\s*(?:br\s*/?|/?\s*(?:p|div|h\d|li|tr|table|section|article)(?:\s[^<>]*)?)>", re.I
)
HTML_BOLD_RE = re.compile(r"<\s*/?\s*(?:b|strong)(?:\s[^<>]*)?>", re.I)
HTML_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,300}>|<!--.*?-->", re.S)

# Header noise and the verbs or labels around an issuing office (编, 主办, 编印单位：).
HEADER_NOISE_RE = re.compile(_t(r"^(?:内部(?:资料|刊物|材料|参阅)|注意保存|[★☆]+|秘密|机密|绝密)(?:\s*(?:注意保存|[★☆]+))*$"))
OFFICE_LABEL_RE = re.compile(_t(r"^(?:主办单位|编印单位|编辑单位|主办|编印|编发|编辑|印发|承办)\s*[:：]\s*"))
OFFICE_VERB_RE = re.compile(_t(r"\s*(?:联合)?(?:编印|编发|主办|印发|编)$"))

# Where a bulletin run together on one line is split back into lines.
RUN_ON_BREAKS = [
    re.compile(r"\s*(?<!#)(?=#{1,3}\s)"),
    re.compile(r"\s*(?=[【〔〖][^【】〔〕〖〗\d]{1,30}[】〕〗])"),
    re.compile(r"(?<=[】〕〗])(?<![\d])(?:\s+|$)"),
    re.compile(_t(rf"\s*(?=(?<!总)第\s*{NUM}\s*期)")),
    re.compile(_t(r"\s*(?=[（(]\s*总\s*第)")),
    re.compile(rf"\s*(?=(?:{FOOTER_KEY})\s*[:：])"),
    re.compile(_t(r"\s*(?=(?<![^\s。.])(?:报|送|发)\s*[:：])")),
    re.compile(r"\s*(?=-{3,})"),
    re.compile(r"(?<=[。！？!?”])\s*(?=[一二三四五六七八九十]{1,3}、)"),
    re.compile(r"(?<=[。！？!?”])\s*(?=[（(][一二三四五六七八九十]{1,3}[)）])"),
]

RUN_ON_SOURCE_RE = re.compile(r"\s*[（(]([^（）()\n，。]{2,30})[)）]\s*")


@dataclass
class _Draft:
    """An article being collected: its column, raw paragraphs and source."""

    column: str | None
    paragraphs: list[str] = field(default_factory=list)
    source: str | None = None


def parse_file(path: Path, name: str | None = None) -> Bulletin:
    """Read and parse the bulletin at `path` (ReadError propagates); `name` overrides the file name."""
    path = Path(path)
    document = read_document(path)
    bulletin = parse_text(document.text, name if name is not None else path.name)
    bulletin.replaced = document.replaced
    bulletin.notes = document.notes
    return bulletin


def parse_text(text: str, file: str = "", *, entities: bool = True) -> Bulletin:
    """Parse the text of one bulletin; `file` is kept and gives the year to dates written without one.

    `entities` False keeps HTML entities in plain text as written (the bench corpus's truth was made so).
    """
    lines = prepare_lines(text, entities=entities)
    bulletin = Bulletin(file=file)
    header_end = _header_end(lines)
    _parse_header(lines[:header_end], bulletin, file)
    body, footer = _split_footer(lines[header_end:])
    _parse_footer(footer, bulletin)
    own = _own_district(bulletin.office, bulletin.series)
    bulletin.contents, body = _split_contents(body)
    body = _split_star_columns(body)
    note, body = _split_editor_note(body)
    bulletin.articles, bulletin.columns, bulletin.structure = _parse_articles(body, own)
    if note and bulletin.articles:
        first = bulletin.articles[0]
        first.body = "\n".join(filter(None, ["\n".join(unify_punctuation(line) for line in note), first.body]))
    elif note:
        bulletin.articles = [_whole_text_article(note, own)]
    if not bulletin.articles and any(re.search(r"[^\W_]", line) for line in lines):
        bulletin.articles = [_whole_text_article(lines, own)]
        bulletin.structure = "one article (no structure recognised)"
    return bulletin


def _split_star_columns(lines: list[str]) -> list[str]:
    """Put a column marker glued before its first headline (`☆ 本期关注：XX街道开展环境整治`, then the text) on a
    line of its own, so the marker is not read as part of the headline."""
    result: list[str] = []
    for i, line in enumerate(lines):
        star = STAR_COLUMN_RE.match(line)
        if star and star.group(2) and i + 1 < len(lines) and _is_heading(star.group(2), None) \
                and _opens_body(lines[i + 1]):
            result += [f"【{star.group(1)}】", star.group(2)]
        else:
            result.append(line)
    return result


def _split_editor_note(lines: list[str]) -> tuple[list[str], list[str]]:
    """An editor's note (编者按：…, 【编者按：…】, also right under the first column heading) before the first
    article, and the other lines: the note belongs to the article it introduces (it goes to the start of its
    body), it is not an article of its own."""
    column = 1 if len(lines) > 1 and _column_name(lines[0], sections=False) else 0
    if len(lines) <= column or not EDITOR_NOTE_RE.match(lines[column]):
        return [], lines
    end = column + 1
    closing = COLUMN_BRACKETS.get(lines[column][0])
    while end < len(lines) and not re.search(r"[。！？!?”]$", lines[end - 1]) \
            and not (closing and lines[end - 1].endswith(closing)):
        end += 1
    return lines[column:end], lines[:column] + lines[end:]


def _whole_text_article(lines: list[str], district: str | None) -> Article:
    """The whole text as one article, its first line as headline: what the parser could not structure is
    still indexed and found."""
    headline = lines[0].replace("**", "").strip()
    sentence = re.search(r"[。！？!?]", headline)
    if len(headline) > 40 and sentence:
        rest = [headline[sentence.end():].strip()] if headline[sentence.end():].strip() else []
        headline, tail = headline[:sentence.start()], rest + lines[1:]
    else:
        tail = lines[1:]
    body = "\n".join(unify_punctuation(line.replace("**", "")) for line in tail)
    return Article(column=None, headline=unify_punctuation(headline), body=body, source=None,
                   district=district_of(headline) or district)


def district_of(text: str | None) -> str | None:
    """The first Beijing district named in `text` (simplified or traditional), or None."""
    if not text:
        return None
    match = _DISTRICT_RE.search(text)
    return _DISTRICT_NAMES[match.group(0)] if match else None


def _traditional_forms(name: str) -> set[str]:
    """`name` and its traditional-character spelling (the few characters district names need)."""
    table = str.maketrans({"区": "區", "东": "東", "阳": "陽", "丰": "豐", "门": "門", "头": "頭",
                           "沟": "溝", "顺": "順", "义": "義", "兴": "興", "怀": "懷", "云": "雲",
                           "庆": "慶"})
    return {name, name.translate(table), name.translate(table).replace("豐台", "豐臺")}


_DISTRICT_NAMES = {form: name for name in DISTRICTS for form in _traditional_forms(name)}
_DISTRICT_RE = re.compile("|".join(sorted(_DISTRICT_NAMES, key=len, reverse=True)))
_SHORT_NAMES = {form[:-1]: name for form, name in _DISTRICT_NAMES.items()}
#: Words that may follow a district's short name in an organisation (海淀文明办, 通州融媒); not 门 (朝阳门).
_SHORT_FOLLOWERS = ("文明|融媒|宣传|街道|新闻|团委|妇联|教委|卫健|城管|公安|分局|检察|法院|文旅|志愿|网信|广播|电视|"
                    "发布|区委|区政府|精神文明")
_SHORT_DISTRICT_RE = re.compile(f"({'|'.join(sorted(_SHORT_NAMES, key=len, reverse=True))})(?={_SHORT_FOLLOWERS})")


def short_district_of(text: str | None) -> str | None:
    """The district an organisation names by its short form (海淀文明办 → 海淀区; 朝阳门街道 → None)."""
    match = _SHORT_DISTRICT_RE.search(text or "")
    return _SHORT_NAMES[match.group(1)] if match else None


def _own_district(*names: str | None) -> str | None:
    """The district a bulletin belongs to, named by its office or series (None for city-level bulletins)."""
    for name in names:
        if found := district_of(name) or short_district_of(name):
            return found
    return None


# ---------------------------------------------------------------- cleaning


def prepare_lines(text: str, *, entities: bool = True) -> list[str]:
    """Clean extracted text into non-empty lines (HTML, damage, page numbers, rules and run-on layout repaired)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    had_tags = HTML_TAG_RE.search(text) is not None
    text = clean_text(_strip_html(text), entities=entities and not had_tags)
    lines = [line.replace("\xa0", " ").strip(" \t\u3000") for line in text.split("\n")]
    lines = [line for line in lines if line]
    if _is_run_on(lines):
        lines = _split_run_on(" ".join(lines))
    lines = [INLINE_PAGE_RE.sub("", line) for line in lines]
    lines = [line for line in lines if not (PAGE_NUMBER_RE.match(line) or RULE_RE.match(line))]
    return _merge_open_bold(_split_trailing_sources(lines))


def _strip_html(text: str) -> str:
    """Drop leftover HTML tags (bold kept as ** and breaks as new lines) and decode entities."""
    if not HTML_TAG_RE.search(text):
        return text
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", "", text, flags=re.S | re.I)
    text = HTML_BREAK_RE.sub("\n\n", text)
    text = HTML_BOLD_RE.sub("**", text)
    return html.unescape(HTML_TAG_RE.sub("", text))


def _is_run_on(lines: list[str]) -> bool:
    """True when the bulletin came out as (almost) one line, so its layout must be rebuilt."""
    if len(lines) > 3 or not lines or max(map(len, lines)) < 60:
        return False
    joined = " ".join(lines)
    return bool(re.search(rf"[【〔]|(?:{FOOTER_KEY})\s*[:：]", joined) or ISSUE_RE.search(joined)
                or DATE_RE.search(joined[:120]))


def _split_run_on(text: str) -> list[str]:
    """Split a one-line bulletin back into header, column, article, source and footer lines."""
    for pattern in RUN_ON_BREAKS:
        text = pattern.sub("\n", text)
    text = RUN_ON_SOURCE_RE.sub(
        lambda m: f"\n{m.group(0).strip()}\n" if len(m.group(1).strip()) >= 3 and _is_org(m.group(1)) else m.group(0), text)
    date = DATE_RE.search(text, 0, 200)
    if date:
        end = date.end() + len(re.match(r"\s*[)）]?", text[date.end():]).group(0))
        text = text[:end] + "\n" + text[end:].lstrip()
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    result: list[str] = []
    for line in lines:
        after_boundary = bool(result) and (_column_name(result[-1], sections=False) is not None
                                           or _source_name(result[-1]) is not None)
        result += _split_run_on_headline(line) if after_boundary else [line]
    return result


#: Where a news article's text starts after its headline: a dateline (新华社北京5月20日电) or a by-line.
DATELINE_RE = re.compile(r"\s(?=(?:新华社|中新社|人民网|新华网|央视网|光明网|本报|据[^，。]{0,10}报道)\S)")


def _split_run_on_headline(line: str) -> list[str]:
    """A plain headline and the article text run together after a source or column ("推动工业恢复 稳步回升
    新华社北京5月20日电…"): split at a dateline, else at the last space before the first clause ends."""
    if line.startswith("**"):
        return [line]
    first_clause = re.search(r"[，,。！？!?]", line)
    limit = first_clause.start() if first_clause else len(line)
    dateline = DATELINE_RE.search(line, 0, limit)
    if dateline and 4 <= dateline.start() <= 60:
        cut = dateline.start()
    else:
        depth, cut = 0, -1
        for position, char in enumerate(line[:limit]):
            depth += char in "（(“《【" and 1 or 0
            depth -= char in "）)”》】" and 1 or 0
            if char == " " and depth <= 0 and 4 <= position <= 60:
                cut = position
        if cut < 0 or not first_clause:
            return [line]
    head, body = line[:cut].strip(), line[cut:].strip()
    if not head or not body or re.search(r"[。！？!?；;]", head):
        return [line]
    return [head, body]


def _split_trailing_sources(lines: list[str]) -> list[str]:
    """Put a source glued to the end of a paragraph (`…整治。（区文明办）`, `… ——XX街道`) on its own line."""
    result: list[str] = []
    for line in lines:
        match = TRAILING_SOURCE_RE.match(line)
        if match and _source_name(match.group(2).strip()) is not None:
            result.extend([match.group(1).strip(), match.group(2).strip()])
        else:
            result.append(line)
    return result


def _source_name(line: str) -> str | None:
    """The organisation a source line names (`（XX区文明办）`, `供稿：XX`, `——XX街道`), else None."""
    for pattern in (SOURCE_LABEL_RE, DASH_SOURCE_RE, PAREN_LINE_RE):
        match = pattern.match(line)
        if match:
            text = match.group(1).strip()
            if pattern is SOURCE_LABEL_RE or _is_org(text):
                return text
            supplied = SUPPLIED_BY_RE.match(text)
            if pattern is PAREN_LINE_RE and supplied and _is_org(supplied.group(1)):
                return supplied.group(1)
            return None
    return None


def _merge_open_bold(lines: list[str]) -> list[str]:
    """Join a line whose ** is left open with the following line(s) that close it (wrapped headlines)."""
    result: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.count("**") % 2 and i + 1 < len(lines) and "**" in lines[i + 1]:
            result.append(_glue(line, lines[i + 1]))
            i += 2
            continue
        result.append(line)
        i += 1
    return result


def _glue(left: str, right: str) -> str:
    """Join two pieces of one sentence: no space between Chinese, one between Latin words."""
    if re.search(r"[A-Za-z0-9]$", left) and re.match(r"[A-Za-z0-9]", right):
        return f"{left} {right}"
    return left + right


# ---------------------------------------------------------------- header


def _header_end(lines: list[str]) -> int:
    """Index of the first line after the header (title, issue, total, office, date)."""
    for i, line in enumerate(lines[:12]):
        if i and (_column_name(line, sections=False) or line.startswith("**") or "。" in line or len(line) > 60):
            return i
        if i and _first_headline(lines, i):
            return i
        if DATE_RE.search(line) and not ISSUE_RE.fullmatch(line.strip("# ")):
            if i + 1 < len(lines) and _is_office_line(lines[i + 1]) and not _office_before(lines[:i + 1]):
                return i + 2
            return i + 1
    return 0 if not lines else min(len(lines), 1)


def _first_headline(lines: list[str], i: int) -> bool:
    """True when line `i`, after an issue number, is the first article's headline: not an office or a date, and
    followed by a paragraph of text (a bulletin without an office line: NPA通讯 2001年第4期 / headline / text)."""
    line = lines[i]
    if i + 1 >= len(lines) or not any(ISSUE_RE.search(earlier) or TOTAL_RE.search(earlier) for earlier in lines[:i]):
        return False
    if DATE_RE.search(line) or ISSUE_RE.search(line) or TOTAL_RE.search(line) or _is_office_name(_clean_office(line)):
        return False
    return 12 <= len(line) <= 40 and _is_heading(line, None) and _opens_body(lines[i + 1])


def _is_office_line(line: str) -> bool:
    """True for a short line naming an issuing office (it may follow the date)."""
    line = _clean_office(line)
    return len(line) <= 20 and not PUNCT_RE.search(line) and _is_office_name(line)


def _is_office_name(text: str) -> bool:
    """True when `text` ends like an organisation (办公室, 委员会, 街道 …) and is a name, not a sentence about
    one: `XX办公室` is, `XX办公室召开联络员座谈会` (an event verb) is not."""
    return bool(ORG_SUFFIX_RE.search(text)) and not EVENT_VERB_RE.search(text)


def _office_before(lines: list[str]) -> bool:
    """True when some header line other than the title is left over after the numbers, i.e. an office."""
    return len(_header_leftovers(lines)) >= 2


def _header_leftovers(lines: list[str]) -> list[str]:
    """Header lines with issue, total and date removed (title first, then office)."""
    leftovers = []
    for line in lines:
        rest = DATE_RE.sub(" ", ISSUE_RE.sub(" ", TOTAL_RE.sub(" ", line.lstrip("#").replace("*", ""))))
        rest = re.sub(r"[（(\[［【〔]\s*[)）\]］】〕]", " ", rest)
        rest = _strip_unbalanced(rest.strip(" \t|·-—_,，"))
        for part in _split_offices(rest):
            part = _clean_office(_despace(part.replace("\ufffd", "")))
            if part and re.search(rf"{CJK}|[A-Za-z]", part) and not HEADER_NOISE_RE.match(part):
                leftovers.append(part)
    return leftovers


def _split_offices(text: str) -> list[str]:
    """Two or more offices on one line, separated by spaces (中共XX区委宣传部  XX区文明办 联合编印), else the line."""
    parts = [part for part in re.split(r"\s+", OFFICE_VERB_RE.sub("", text.strip())) if part]
    if len(parts) >= 2 and all(len(part) >= 4 and ORG_SUFFIX_RE.search(part) for part in parts):
        return parts
    return [text]


def _clean_office(text: str) -> str:
    """Drop the label or verb around an office name (`主办：XX`, `XX编`, `XX编印`); a bare verb becomes empty."""
    text = OFFICE_LABEL_RE.sub("", text)
    stripped = OFFICE_VERB_RE.sub("", text)
    if not stripped or ORG_SUFFIX_RE.search(stripped):
        return stripped
    return text


def _strip_unbalanced(text: str) -> str:
    """Drop brackets left dangling at either end once the issue and total numbers were removed."""
    if re.fullmatch(r"[\s()（）\[\]［］【】〔〕]*", text):
        return ""
    previous = None
    while previous != text:
        previous = text
        if text[:1] in "(（[［【〔" and not re.search(r"[)）\]］】〕]", text):
            text = text[1:].strip()
        if text[-1:] in ")）]］】〕" and not re.search(r"[(（\[［【〔]", text):
            text = text[:-1].strip()
        if text in {"()", "（）", "[]", "［］", "【】", "〔〕"}:
            text = ""
    return text


def _parse_header(lines: list[str], bulletin: Bulletin, file: str) -> None:
    """Fill series, issue, issue_label, total, office and date from the header lines."""
    joined = "\n".join(line.lstrip("#").replace("*", "") for line in lines)
    if total := TOTAL_RE.search(joined):
        bulletin.total = cn_to_int(total.group(1))
    if issue := ISSUE_RE.search(TOTAL_RE.sub(" ", joined)):
        bulletin.issue = cn_to_int(issue.group(2))
        bulletin.issue_label = re.sub(r"\s+", "", issue.group(1))
    bulletin.date = _find_date(ISSUE_RE.sub(" ", joined), file)
    leftovers = _header_leftovers(lines)
    title = _title_on_issue_line(lines)
    if leftovers and title and title != leftovers[0] and not SERIES_NAME_RE.search(leftovers[0]):
        before = leftovers[:leftovers.index(title)]
        offices = [name for name in before if _is_office_name(name)] + leftovers[leftovers.index(title) + 1:]
        bulletin.series = title
        bulletin.office = _offices(offices, title) if offices else None
        return
    if leftovers:
        bulletin.series = leftovers[0]
    if len(leftovers) >= 2:
        bulletin.office = _offices(leftovers[1:], leftovers[0])


def _title_on_issue_line(lines: list[str]) -> str | None:
    """The series title printed on the issue number's line (`XX简报第24期`, `XX信息（第5期）`) when it reads like a
    title (ends in 简报, 信息, 通讯 …): it is the bulletin's title even under a web page's section heading
    (`政务公开`) or an office line printed above it."""
    for line in lines:
        if ISSUE_RE.search(TOTAL_RE.sub(" ", line)):
            own = _header_leftovers([line])
            return own[0] if own and SERIES_NAME_RE.search(own[0]) else None
    return None


def _offices(names: list[str], series: str) -> str | None:
    """The issuing office from the header lines after the title: several offices joined by 、, a name broken
    over two lines (中国地质大学(武汉) / 发展研究中心) joined again, otherwise the last line. The title printed
    twice (a web page's heading above the bulletin's own) is not an office, nor is a sentence with an event verb
    (a headline): None when only such lines are left."""
    names = [name for name in names if name != series and not SERIES_NAME_RE.search(name)] or names
    names = [name for name in names if not EVENT_VERB_RE.search(name)]
    if not names:
        return None
    offices: list[str] = []
    for name in names:
        if offices and not ORG_SUFFIX_RE.search(offices[-1]) and ORG_SUFFIX_RE.search(name):
            offices[-1] += name
        else:
            offices.append(name)
    if len(offices) >= 2 and all(ORG_SUFFIX_RE.search(office) for office in offices):
        return "、".join(offices)
    return offices[-1]


def _despace(text: str) -> str:
    """Remove letter-spacing between Chinese characters (简 报 → 简报)."""
    return re.sub(rf"(?<={CJK})\s+(?={CJK})", "", text.strip())


def _find_date(text: str, file: str) -> str | None:
    """The first valid date in `text` as ISO; a date without a year takes the year of the file name."""
    for match in DATE_RE.finditer(text):
        if match.group(4):
            year, month, day = (int(match.group(k)) for k in (4, 5, 6))
        else:
            file_year = FILE_YEAR_RE.search(file)
            year_text = match.group(1) or (file_year.group(1) if file_year else None)
            if year_text is None:
                return None
            year, month, day = cn_to_int(year_text), cn_to_int(match.group(2)), cn_to_int(match.group(3))
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def cn_to_int(text: str) -> int:
    """Integer value of Arabic, full-width or Chinese numerals (三十八 → 38, 二〇二〇 → 2020)."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if text.isdigit():
        return int(text)
    if all(char in CN_DIGITS for char in text):
        return int("".join(str(CN_DIGITS[char]) for char in text))
    total, digit = 0, 0
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        else:
            total += (digit or 1) * CN_UNITS[char]
            digit = 0
    return total + digit


# ---------------------------------------------------------------- footer


def _split_footer(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split body lines from the footer (责编, 核稿, 电话, … and the 报/送/发 distribution lines)."""
    start = len(lines)
    while start > 0 and (FOOTER_LINE_RE.match(lines[start - 1]) or DISTRIBUTION_RE.match(lines[start - 1])):
        start -= 1
    for i, line in enumerate(lines[:start]):
        if FOOTER_LINE_RE.match(line):
            start = i
            break
    return lines[:start], lines[start:]


def _parse_footer(lines: list[str], bulletin: Bulletin) -> None:
    """Fill editor, reviewer, phone, fax, email and distribution from the footer (联系人 has no field: skipped)."""
    for line in lines:
        if match := DISTRIBUTION_RE.match(line):
            bulletin.distribution[match.group(1)] = match.group(2).strip()
            continue
        for key, value in FOOTER_FIELD_RE.findall(line):
            attribute = FOOTER_FIELDS[_simplified(key)]
            if value and hasattr(bulletin, attribute) and getattr(bulletin, attribute) is None:
                setattr(bulletin, attribute, value.strip())


# ---------------------------------------------------------------- articles


def _column_name(line: str, sections: bool) -> str | None:
    """The column a heading line opens (【文明创建】, 〔…〕, 〖…〗, ［…］, 〈…〉, ☆ 文明创建, or 一、… when `sections`), else None.

    Brackets around an issue number or a date ([2011年第9期]) are not a column.
    """
    match = BRACKET_COLUMN_RE.match(line)
    name = next((group for group in match.groups() if group is not None), None) if match else None
    if name is not None and (ISSUE_RE.search(name) or TOTAL_RE.search(name) or DATE_RE.search(name)
                             or not re.search(CJK, name)):
        name = None
    if name is None and (star := STAR_COLUMN_RE.match(line)) and star.group(2) is None:
        name = star.group(1)
    if name is None and sections and (section := SECTION_COLUMN_RE.match(line)):
        name = section.group(1)
    return re.sub(r"\s+", " ", name.strip()) if name else None


def _is_org(text: str) -> bool:
    """True when `text` reads like an organisation name (a source attribution)."""
    return len(text) <= 25 and not PUNCT_RE.search(text) and bool(ORG_SUFFIX_RE.search(text))


def _source_of(lines: list[str], i: int, sections: bool) -> str | None:
    """The source named by line `i` when it is an attribution closing an article, else None."""
    name = _source_name(lines[i])
    match = PAREN_LINE_RE.match(lines[i])
    if name is not None or match is None:
        return name
    text = match.group(1).strip()
    at_boundary = i + 1 == len(lines) or lines[i + 1].startswith("**") or _column_name(lines[i + 1], sections)
    return text if at_boundary and len(text) <= 25 and not PUNCT_RE.search(text) else None


def _starts_article(line: str, draft: _Draft | None) -> bool:
    """True when a bold line or bold lead sentence opens a new article rather than continuing one."""
    if not line.startswith("**") or draft is None or not draft.paragraphs:
        return False
    whole = WHOLE_BOLD_RE.match(line)
    if whole:
        if len(draft.paragraphs) == 1 and WHOLE_BOLD_RE.match(draft.paragraphs[0]):
            return False
        return not SUBHEADING_RE.match(whole.group(1).strip())
    return draft.paragraphs[-1].rstrip("*").endswith(tuple(SENTENCE_END))


def _parse_articles(lines: list[str], district: str | None = None) -> tuple[list[Article], list[str], str]:
    """Group body lines into articles under their columns; return the articles, column names and structure found."""
    lines, glued = _split_glued_headlines(lines)
    sections = not any(_column_name(line, sections=False) for line in lines) and _numbered_are_columns(lines)
    marker = _article_numbering(lines, sections)
    width = _wrap_width(lines)
    plain = not any(_source_name(line) or PAREN_LINE_RE.match(line) for line in lines)
    drafts: list[_Draft] = []
    columns: list[str] = []
    column: str | None = None
    draft: _Draft | None = None
    numbered: bool | None = None
    found: set[str] = set()
    for i, line in enumerate(lines):
        name = _column_name(line, sections)
        if name:
            column, draft, numbered = name, None, None
            if name not in columns:
                columns.append(name)
            continue
        source = _source_of(lines, i, sections)
        if source is not None and draft is not None and draft.paragraphs:
            draft.source = source
            found.add("source lines")
            draft = draft if _heading_only(draft, width) else None
            continue
        if numbered is None:
            numbered = bool(marker.match(line))
        if draft is None or _starts_article(line, draft) or _starts_plain_article(
                lines, i, draft, numbered, width if plain else -1, marker):
            if draft is not None:
                found.add(_boundary_kind(line, numbered, marker))
            draft = _Draft(column)
            drafts.append(draft)
        draft.paragraphs.append(line)
    articles = [_build_article(d, width, district, marker) for d in drafts if d.paragraphs]
    found |= {"glued headlines"} if glued and len(articles) > 1 else set()
    return articles, columns, _structure(columns, sections, found, len(articles))


def _boundary_kind(line: str, numbered: bool | None, marker: re.Pattern[str]) -> str:
    """What told an article start from the text before it: a bold, numbered or plain headline."""
    if line.startswith("**"):
        return "bold headlines"
    return "numbered headlines" if numbered and marker.match(line) else "plain headlines"


def _structure(columns: list[str], sections: bool, found: set[str], articles: int) -> str:
    """A short description of the structure the parser recognised (shown by `bulletins parse`)."""
    parts = [("numbered columns" if sections else "bracketed columns")] if columns else []
    parts += sorted(found)
    if articles <= 1 and not parts:
        return "one article (no structure recognised)"
    return ", ".join(parts) if parts else "one article"


def _split_glued_headlines(lines: list[str]) -> tuple[list[str], bool]:
    """Put a headline glued to its article's first sentence on its own line; True when there was one."""
    result: list[str] = []
    glued = False
    for line in lines:
        match = GLUED_HEADLINE_RE.match(line)
        if match and not _source_name(match.group("head")):
            result += [match.group("head"), match.group("body")]
            glued = True
        else:
            result.append(line)
    return result, glued


def _article_numbering(lines: list[str], sections: bool) -> re.Pattern[str]:
    """The numbering that heads articles: 一、 unless it heads columns, then the next level used twice or more."""
    candidates = NUMBERINGS[1:] if sections else NUMBERINGS
    for numbering in candidates:
        if sum(1 for line in lines if numbering.match(line)) >= 2:
            return numbering
    return NUMBERED_RE


def _split_contents(lines: list[str]) -> tuple[list[str], list[str]]:
    """A table of contents at the top of the body and the body after it.

    Contents are a 本期要目/目录 line followed by numbered lines, three or more numbered short lines in a
    row with no text between them (each article's headline listed once more before the articles), or a
    contents by column (☆ 本期关注：headline, with short entries under it, see `_split_column_contents`).
    """
    start = 1 if lines and CONTENTS_TITLE_RE.match(lines[0]) else 0
    by_column = _split_column_contents(lines, start)
    if by_column is not None:
        return by_column
    end = start
    while end < len(lines) and ANY_NUMBERED_RE.match(lines[end]) and len(lines[end]) <= 60 \
            and not re.search(r"[。！？!?]$", lines[end]):
        end += 1
    if (start and end > start) or end - start >= 3:
        return lines[:end], lines[end:]
    return [], lines


def _split_column_contents(lines: list[str], start: int) -> tuple[list[str], list[str]] | None:
    """Contents listed by column (`☆ 本期关注：书院制教育考察报告`, then its sections as short lines, then
    `☆ 它山之石：…`): two or more star-marked column entries, or one after a 本期要目 line. The contents end at
    a line naming one of their columns alone, at one of their headlines, or at a line that opens a paragraph
    or is followed by one. A column named alone afterwards heads the articles under it (it becomes 【name】)."""
    columns: list[str] = []
    headlines: set[str] = set()
    end = start
    while end < len(lines):
        line = lines[end]
        entry = STAR_COLUMN_RE.match(line)
        if entry and entry.group(1) not in columns:
            columns.append(entry.group(1))
            headlines.add(entry.group(2) or "")
        elif not columns or line.strip("☆★ ") in columns or line in headlines or len(line) > 40 \
                or re.search(r"[。！？!?；;，,]", line) or EDITOR_NOTE_RE.match(line) or _column_name(line, False) \
                or (end + 1 < len(lines) and _opens_body(lines[end + 1])):
            break
        end += 1
    if not columns or (len(columns) < 2 and not start):
        return None
    body = [f"【{line.strip('☆★ ')}】" if line.strip("☆★ ") in columns else line for line in lines[end:]]
    return lines[:end], body


def _numbered_are_columns(lines: list[str]) -> bool:
    """True when `一、…` lines head columns (an article start follows one) rather than being headlines."""
    found = [i for i, line in enumerate(lines) if SECTION_COLUMN_RE.match(line)]
    for i in found:
        after = lines[i + 1] if i + 1 < len(lines) else ""
        if after.startswith("**") or _is_heading(after, None) or _column_name(after, sections=False):
            return True
    bounds = [*found, len(lines)]
    return any(sum(_source_name(line) is not None for line in lines[a:b]) >= 2 for a, b in zip(bounds, bounds[1:]))


def _wrap_width(lines: list[str]) -> int | None:
    """The line width of hard-wrapped text (most lines about equally long), or None for one line per paragraph."""
    long_lines = [len(line) for line in lines if len(line) >= 15]
    if len(long_lines) < 6:
        return None
    width = max(set(long_lines), key=lambda n: sum(n - 3 <= m <= n for m in long_lines))
    near = sum(width - 3 <= m <= width for m in long_lines)
    return width if near >= 0.4 * len(long_lines) else None


def _is_heading(line: str, width: int | None) -> bool:
    """True for a short stand-alone line without sentence punctuation: a plain headline (or one of its two lines)."""
    text = line.replace("**", "").strip()
    if not text or len(text) > 40 or (width and len(text) >= width - 3) or not re.search(CJK, text):
        return False
    if text.endswith(tuple(HEADLINE_END)) or re.search(r"[。！？!?；;]", text) or _source_name(text):
        return False
    return not (PAREN_LINE_RE.match(text) or FOOTER_LINE_RE.match(text) or DISTRIBUTION_RE.match(text))


def _opens_body(line: str) -> bool:
    """True for a paragraph that starts a full sentence (not the tail of a headline cut by a page break)."""
    if line.startswith("**") or not line or line[0] in "、，,；;：:。”）)":
        return False
    first = re.split(r"[。！？!?]", line, maxsplit=1)[0]
    return bool(re.search(r"[。！？!?]", line) or len(line) > 40) and (len(first) >= 40 or bool(re.search("[，,]", first)))


def _heading_lines(paragraphs: list[str], width: int | None) -> int:
    """How many leading paragraphs form a plain headline (one line, or two short wrapped lines): 0, 1 or 2."""
    lead_in = paragraphs[0].endswith(("：", ":")) and _is_heading(paragraphs[0][:-1], width)
    if len(paragraphs) < 2 or not (lead_in or _is_heading(paragraphs[0], width)):
        return 0
    second = paragraphs[1]
    if lead_in:
        two = len(paragraphs) > 2 and _is_heading(second, width) and _opens_body(_repair_breaks(paragraphs[2:7])[0])
        return 2 if two else 0
    two = len(paragraphs[0]) + len(second) <= 60 and _is_heading(second, width) and not re.search("[，,]", second)
    if two and len(paragraphs) > 2 and _opens_body(_repair_breaks(paragraphs[2:7])[0]):
        return 2
    if _opens_body(_repair_breaks(paragraphs[1:6])[0]) or (ANY_NUMBERED_RE.match(paragraphs[0]) and second[0] not in HEADLINE_END):
        return 1
    if SECTION_NUMBER_RE.match(second) and len(paragraphs) > 2 and not ANY_NUMBERED_RE.match(paragraphs[0]):
        return 1
    return 0


def _heading_only(draft: _Draft, width: int | None) -> bool:
    """True while a draft holds only its headline, so a source line right after it does not close it."""
    return len(draft.paragraphs) <= 2 and all(_is_heading(p, width) or WHOLE_BOLD_RE.match(p) for p in draft.paragraphs)


def _starts_plain_article(lines: list[str], i: int, draft: _Draft | None, numbered: bool, width: int | None,
                          marker: re.Pattern[str] = NUMBERED_RE) -> bool:
    """True when line `i` is a numbered headline, or a plain one (`width` -1: sources delimit articles instead)."""
    if draft is None or not draft.paragraphs or not draft.paragraphs[-1].rstrip("*").endswith(tuple(SENTENCE_END)):
        return False
    line = lines[i]
    if numbered and marker.match(line):
        return True
    if width == -1 or SUBHEADING_RE.match(line) or re.search("[，,]", line) or len(draft.paragraphs) < 2:
        return False
    return _heading_lines(lines[i:i + 6], width) > 0


def _build_article(draft: _Draft, width: int | None = None, district: str | None = None,
                   marker: re.Pattern[str] = NUMBERED_RE) -> Article:
    """Turn a draft's raw paragraphs into headline, body, source and district."""
    headline, paragraphs = _split_headline(draft.paragraphs, width)
    body = "\n".join(unify_punctuation(p) for p in _repair_breaks([p.replace("**", "") for p in paragraphs]))
    headline = unify_punctuation(re.sub(r"\s+", " ", headline)).strip().rstrip("。.")
    headline = ANY_NUMBERED_RE.sub("", BULLET_RE.sub("", headline), count=1).strip() or headline
    return Article(column=draft.column, headline=headline, body=body, source=draft.source,
                   district=_article_district(draft.source, headline, district))


def _article_district(source: str | None, headline: str, fallback: str | None) -> str | None:
    """District from the source, then the headline, then the bulletin's own district unless the source is city-level."""
    found = district_of(source) or short_district_of(source) or district_of(headline)
    if found or (source and CITY_SOURCE_RE.match(source)):
        return found
    return fallback


def _split_headline(paragraphs: list[str], width: int | None = None) -> tuple[str, list[str]]:
    """Headline and remaining body paragraphs: a bold line, a bold lead sentence, a plain line or the first sentence."""
    first = paragraphs[0]
    if first.startswith("**"):
        lead = LEAD_BOLD_RE.match(first)
        if lead:
            rest = lead.group(2).strip()
            headline, tail = lead.group(1), paragraphs[1:]
            if not rest and tail and WHOLE_BOLD_RE.match(tail[0]):
                headline, tail = _glue(headline, tail[0].strip("*")), tail[1:]
            return headline.replace("**", ""), ([rest] if rest else []) + tail
        paragraphs = [first.lstrip("*"), *paragraphs[1:]]
    count = _heading_lines(paragraphs, width)
    if count:
        return _glue(*paragraphs[:count]) if count == 2 else paragraphs[0], paragraphs[count:]
    repaired = _repair_breaks([p.replace("**", "") for p in paragraphs])
    first = repaired[0]
    match = re.search(r"[。！？!?]", first)
    if match is None:
        return first, repaired[1:]
    rest = first[match.end():].strip()
    return first[: match.start()], ([rest] if rest else []) + repaired[1:]


def _repair_breaks(paragraphs: list[str]) -> list[str]:
    """Join paragraphs split by a page break: one not ending a sentence is glued to the next."""
    result: list[str] = []
    for paragraph in paragraphs:
        if result and not result[-1].endswith(tuple(SENTENCE_END)) and not PAREN_LINE_RE.match(paragraph):
            result[-1] = _glue(result[-1], paragraph)
        else:
            result.append(paragraph)
    return result
