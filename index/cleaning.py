"""Repairs of damaged bulletin text before parsing: one small function per kind of damage.

Bulletins arrive through converters, document-sharing sites and web pages, and each leaves its own marks:
pinyin after every character, HTML entities, the site's own lines around the text (上传人, 第1页 / 共4页,
发布时间), digits spaced apart or mixed in width, date units doubled by fake-bold PDF text. Each function
below undoes one of them and leaves text without that damage unchanged, so `clean_text` is safe on
bulletins that were never damaged (the seed and bench corpora pass through it unchanged but for entities).
"""

from __future__ import annotations

import html
import re

from index.normalize_text import CJK_CHARS

CJK = f"[{CJK_CHARS}]"

# ---------------------------------------------------------------- HTML entities

_ENTITY_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: A no-break space whose & was cut off by the text's producer (a line starting `nbsp;&nbsp;`).
_CUT_NBSP_RE = re.compile(r"(?<![A-Za-z])nbsp;")


def decode_entities(text: str) -> str:
    """Decode HTML character references left in plain text (`&nbsp;`, `&amp;`, `&#12288;`).

    Only complete references (ending in `;`) are decoded, so `R&D` or `&copy` in prose stay as written.
    A no-break space becomes a plain space, also one whose & was cut off (`nbsp;`).
    """
    if "&" not in text and "nbsp;" not in text:
        return text
    text = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
    return _CUT_NBSP_RE.sub(" ", text).replace("\xa0", " ")


# ---------------------------------------------------------------- converter annotations

_TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ"
_SYLLABLE = rf"[a-zA-Z{_TONE_MARKS}]{{1,6}}[1-5]?"
_ANNOTATION_RE = re.compile(rf"(?<={CJK})\s?[(（]\s*({_SYLLABLE})\s*[)）]")
_TONE_RE = re.compile(f"[{_TONE_MARKS}]|[a-z][1-5]$")
#: An annotation cut off at the end of the text (`長(zhǎ`).
_CUT_ANNOTATION_RE = re.compile(rf"(?<={CJK})[(（]\s*[a-zA-Z{_TONE_MARKS}]{{1,6}}$")


_BOPOMOFO_RE = re.compile(rf"(?<={CJK})[(（][\u3105-\u312f\u31a0-\u31bfˊˇˋ˙]{{1,6}}[)）]")


def strip_pinyin_annotations(text: str) -> str:
    """Remove the reading a converter wrote after every character: 文(wén)明(míng)簡(jiǎn)報(bào) → 文明簡報,
    also in bopomofo (文(ㄨㄣˊ)).

    A pinyin annotation with a tone mark (or tone digit) always goes; one without (的(de)) only in a text that
    has at least three toned ones, so ordinary brackets such as 总值(GDP) or 编号(a) are kept; bopomofo ones
    only where there are three or more.
    """
    if len(_BOPOMOFO_RE.findall(text)) >= 3:
        text = _BOPOMOFO_RE.sub("", text)
    matches = list(_ANNOTATION_RE.finditer(text))
    toned = sum(1 for match in matches if _TONE_RE.search(match.group(1)))
    if not toned:
        return text

    def replace(match: re.Match[str]) -> str:
        keep = toned < 3 and not _TONE_RE.search(match.group(1))
        return match.group(0) if keep else ""

    text = _ANNOTATION_RE.sub(replace, text)
    return _CUT_ANNOTATION_RE.sub("", text) if toned >= 3 else text


# ---------------------------------------------------------------- page furniture

#: Lines a document-sharing site, a news site or a page layout puts around a bulletin. Each pattern must
#: match a whole (stripped) line and never a line of a bulletin's own text.
_FURNITURE = [
    # document-sharing sites (金锄头文库, 冰豆网, 人人文库, 道客巴巴 …)
    r"上传人\s*[:：].*",
    r".*文档编号\s*[:：]\s*\d+.*",
    r"(?:返回\s*)?下载\s*(?:相关\s*)?举报",
    r"下载资源|资源描述|文档简介|下载本文档|全文预览已结束|点击查看更多\s*>*|展开阅读全文|收藏\s*分享.*",
    r".{0,80}_第\s*\d+\s*页",
    r"第\s*\d+\s*页\s*[/／]\s*共\s*\d+\s*页",
    r"亲[,，]?该文档总共\s*\d+\s*页.*",
    r".*全部预览完了.*",
    r"《.*》由会员分享.*请在.*上搜索。?",
    r"版权说明\s*[:：].*",
    r"(?:\d+\s*[、.．]\s*)?(?:本文档由用户上传|下载文档前请自行甄别|如文档侵犯您的权益|本站不保证|\"?仅部分预览\"?的文档).*",
    r"格式\s*[:：]\s*(?:PDF|DOCX?|WPS|TXT)\s*页数\s*[:：].*",
    # news and government sites
    r"https?://\S+",
    r"(?:当前位置|您的位置|您现在的位置)\s*[:：].*",
    r"首\s*页\s*[>›»＞]\s*.{0,60}",
    r"\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s+(?:来源|作者|编辑)\s*[:：].*",
    r"(?:发布|更新|发表|归档)(?:时间|日期)\s*[:：]\s*\S.*",
    r"(?:浏览次数|点击次数|阅读量|访问量|浏览量|点击数)\s*[:：].*",
    r"字号\s*[:：]?\s*[【\[]?\s*大\s*中\s*小.*",
    r"(?:【\s*(?:打印|关闭|返回顶部|收藏)\s*】\s*)+",
    r"(?:打印本页|关闭窗口|返回顶部|分享到\s*[:：]?.*|微信扫一扫.*)",
    r"来源\s*[:：]\s*\S+\s+(?:作者|时间|日期|发布时间|浏览|点击|编辑)\s*[:：]?.*",
    r"(?:作者|编辑)\s*[:：]\s*\S*\s+(?:来源|时间|日期|发布时间)\s*[:：].*",
    # page markers of printed pages
    r"[-—–－]\s*\d{1,3}\s*[-—–－]",
    r"第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?",
    r"共\s*\d{1,3}\s*页\s*[,，/]?\s*第\s*\d{1,3}\s*页",
    r"\d{1,3}\s*/\s*\d{1,3}",
]
_FURNITURE_RE = re.compile("|".join(f"(?:{pattern})" for pattern in _FURNITURE))


def is_furniture(line: str) -> bool:
    """True for a line that belongs to the page or site around a bulletin, not to the bulletin."""
    return _FURNITURE_RE.fullmatch(line.strip(" \t\u3000\xa0")) is not None


_PAGE_TITLE_RE = re.compile(r"(.{4,80}?)_第\s*\d+\s*页")
_DOCSITE_RE = re.compile(r"上传人\s*[:：]|文档编号\s*[:：]|由会员分享|全部预览完了|下载本文档")
_CHUNK_RE = re.compile(r"^(\d{1,3})、\s?")


def drop_page_furniture(text: str) -> str:
    """Remove the lines of site chrome and page markers (see `is_furniture`), keeping every other line.

    On a document-sharing site's page, the document's title line (repeated in every `title_第N页`) goes too,
    and the numbered preview chunks (1、 … 2、 …, cut anywhere, even mid-sentence) are joined back.
    """
    lines = text.split("\n")
    titles = {match.group(1).strip() for line in lines if (match := _PAGE_TITLE_RE.fullmatch(line.strip()))}
    kept = [line for line in lines if not (line.strip() and (is_furniture(line) or line.strip() in titles))]
    if _DOCSITE_RE.search(text):
        kept = _join_preview_chunks(kept)
    return text if kept == lines else "\n".join(kept)


def _join_preview_chunks(lines: list[str]) -> list[str]:
    """Join the numbered chunks a document-sharing site shows its text in (1、…, 2、…) into one text."""
    chunks = [(index, match) for index, line in enumerate(lines) if (match := _CHUNK_RE.match(line.strip()))]
    numbers = [int(match.group(1)) for _, match in chunks]
    if len(chunks) < 2 or numbers != list(range(1, len(chunks) + 1)):
        return lines
    first = chunks[0][0]
    body = "".join(_CHUNK_RE.sub("", line.strip()) for line in lines[first:] if line.strip())
    return lines[:first] + [body]


# ---------------------------------------------------------------- web page posting lines

#: The fields a CMS prints around an article (编辑:admin 发表时间:[2008-07-18] 阅读:). The page-only ones never
#: occur in a bulletin's own text with such a value (a date, a count, nothing); 编辑/作者/来源 alone are a
#: bulletin's footer or source line and stay.
_DATE_VALUE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
_TOKEN_VALUE = r"[^\s|｜\]】)）:：]*"


def _bracketed(value: str) -> str:
    """`value`, optionally in brackets ([2008-07-18], 【320】)."""
    return rf"(?:[\[【(（]\s*)?(?:{value})(?:\s*[\]】)）])?"


_PAGE_ONLY_FIELDS = [
    (r"发表时间|发布时间|发布日期|发表日期|更新时间|更新日期|录入时间|上传时间", _bracketed(_DATE_VALUE) + "|"),
    (r"阅读(?:次数|量|数)?|浏览(?:次数|量|数)?|点击(?:次数|量|数|率)?|访问量|人气", _bracketed(r"\d*\s*次?")),
    (r"发布者|发布人", _bracketed(_TOKEN_VALUE)),
]
_SHARED_FIELDS = r"编辑|作者|来源|信息来源|文章来源|稿件来源|责任编辑|录入|审核"
_FIELD_VALUE = _bracketed(f"{_DATE_VALUE}|{_TOKEN_VALUE}")
_PAGE_ACTIONS = (r"(?:字号|字体)\s*[:：]?\s*[【\[]?\s*大\s*中\s*小\s*[】\]]?|打印本页|打印此页|打印|关闭窗口|关闭本页|关闭"
                 r"|分享到\s*[:：]?|收藏本页|收藏|返回顶部|返回列表|【\s*(?:打印|关闭|收藏|返回顶部)\s*】")
_PAGE_ONLY_RE = re.compile("|".join(rf"(?:{names})\s*[:：]\s*(?:{value})(?![^\s|｜])" for names, value in _PAGE_ONLY_FIELDS)
                           + f"|{_PAGE_ACTIONS}")
_SHARED_RE = re.compile(rf"(?:{_SHARED_FIELDS})\s*[:：]\s*{_FIELD_VALUE}")
_SEPARATORS_RE = re.compile(r"[\s|｜/·•【】\[\]（）()]*")


def is_posting_line(line: str) -> bool:
    """True for a web page's posting line or button row: nothing but CMS fields and page actions, at least one
    of them page-only (发表时间, 阅读, 浏览次数, 点击数, 发布者, 字号 大 中 小, 打印本页, 关闭窗口, 分享到).

    `编辑：张明` or `来源：XX街道` alone is a bulletin's footer or source line and is kept.
    """
    line = line.strip(" \t\u3000\xa0")
    rest, page_only = _PAGE_ONLY_RE.subn(" ", line)
    if not page_only:
        return False
    rest = _SHARED_RE.sub(" ", rest)
    return _SEPARATORS_RE.fullmatch(rest) is not None


def drop_posting_lines(text: str) -> str:
    """Remove the posting lines and button rows of a CMS page around a bulletin (see `is_posting_line`), so a
    page's editor or posting date is never read as the bulletin's office or date."""
    lines = text.split("\n")
    kept = [line for line in lines if not (line.strip() and is_posting_line(line))]
    return text if kept == lines else "\n".join(kept)


# ---------------------------------------------------------------- breadcrumbs

_BREADCRUMB_RE = re.compile(r"(?:(?:当前位置|您的位置|您现在的位置|所在位置)\s*[:：]\s*)?首\s*页\s*[>›»＞].*"
                            r"|(?:当前位置|您的位置|您现在的位置|所在位置)\s*[:：].*")
_CRUMB_SEPARATOR_RE = re.compile(r"\s*(?:[>›»＞]+|-{1,2}>|→)\s*")


def drop_breadcrumbs(text: str) -> str:
    """Remove a web page's breadcrumb (`当前位置：首页 >> 决策参考 >> 正文`, `首页> 两纲 > 简报`) and the section
    heading the page prints next to it (the line just above or below that is one of its steps, `决策参考`), so
    the page's section is never read as the bulletin's title. A line naming the same words elsewhere stays."""
    lines = text.split("\n")
    crumbs = [i for i, line in enumerate(lines) if _BREADCRUMB_RE.fullmatch(line.strip(" \t\u3000\xa0"))]
    if not crumbs:
        return text
    dropped = set(crumbs)
    for i in crumbs:
        trail = re.sub(r"^[^:：]*[:：]", "", lines[i]) if re.match(r"\s*(?:当前|您的|您现在|所在)", lines[i]) else lines[i]
        steps = {re.sub(r"\s+", "", step) for step in _CRUMB_SEPARATOR_RE.split(trail.strip())}
        steps -= {"", "首页", "正文", "详情", "内容"}
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and not lines[j].strip():
                j += step
            if 0 <= j < len(lines) and re.sub(r"\s+", "", lines[j]) in steps:
                dropped.add(j)
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


_INLINE_PAGE_MARKER_RE = re.compile(r"[ \t\u3000]*(?:第\s*\d{1,3}\s*页\s*[/／]?\s*共\s*\d{1,3}\s*页"
                                    r"|共\s*\d{1,3}\s*页\s*[/／]?\s*第\s*\d{1,3}\s*页)[ \t\u3000]*")


def drop_inline_page_markers(text: str) -> str:
    """Remove page markers run into the text (…知识。第2页 共4页 居民…): `第N页 共M页` without a comma between
    never occurs in prose (共4页，第2页有插图 does, and stays)."""
    return _INLINE_PAGE_MARKER_RE.sub(" ", text) if "页" in text else text


# ---------------------------------------------------------------- digits

_SPACED_DIGITS_RE = re.compile(r"(?<![\d.])\d(?:[ \u3000]\d)+(?![\d.])(?=\s*[年月日号期页])")
_AFTER_DI_RE = re.compile(r"(?<=第)\s*(\d(?:[ \u3000]\d)+)(?=\s*期)")


def join_spaced_digits(text: str) -> str:
    """Join digits a PDF or Word conversion spaced apart in numbers of dates and issues (2 0 1 6 年 → 2016年)."""
    text = _AFTER_DI_RE.sub(lambda m: re.sub(r"\s", "", m.group(1)), text)
    return _SPACED_DIGITS_RE.sub(lambda m: re.sub(r"\s", "", m.group(0)), text)


_DIGIT_RUN_RE = re.compile(r"[0-9０-９]{2,}")
_FULL_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def unify_digit_width(text: str) -> str:
    """Make a number written with full-width and ASCII digits mixed (2０2０) all ASCII.

    A number wholly in full-width digits (３月) is a typographic choice and stays as written; the index
    folds widths for search anyway.
    """

    def fix(match: re.Match[str]) -> str:
        run = match.group(0)
        mixed = run != run.translate(_FULL_DIGITS) and any(char.isascii() for char in run)
        return run.translate(_FULL_DIGITS) if mixed else run

    return _DIGIT_RUN_RE.sub(fix, text)


_DOUBLED_DATE_RE = re.compile(r"(\d{4}\s*)年年(\s*\d{1,2}\s*)月月(\s*\d{1,2}\s*)日日")


_DOUBLED_RUN_RE = re.compile(rf"((?:{CJK}|[A-Za-z0-9“”《》：:、]){{6,60}}?)\1")


def undouble_bold_text(text: str) -> str:
    """Undo fake-bold PDF text, which extracts every bold run twice: 专报专报 (2020 年年 8 月月 5 日日).

    Only in a text that shows the signature of it, a whole date with all three units doubled (2023年年会,
    the annual meeting, is real text); then the date units and every run of six or more characters
    repeated at once are written once.
    """
    if not _DOUBLED_DATE_RE.search(text):
        return text
    return _DOUBLED_RUN_RE.sub(r"\1", _DOUBLED_DATE_RE.sub(r"\1年\2月\3日", text))


# ---------------------------------------------------------------- OCR spacing

_CJK_OR_PUNCT = f"[{CJK_CHARS}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20“”‘’…—]"
_CJK_SPACING_RE = re.compile(f"(?<={_CJK_OR_PUNCT})[ \t]+(?={_CJK_OR_PUNCT})")


def close_cjk_spacing(text: str) -> str:
    """Remove the spaces OCR puts between Chinese characters and punctuation (文 明 创 建 → 文明创建).

    Used on OCR output only: in a bulletin's own text a space between two Chinese words can be meaningful
    (a headline's two halves), and the parser handles letter-spaced titles itself.
    """
    return _CJK_SPACING_RE.sub("", text)


_LETTER_SPACE_RE = re.compile(f"(?<=[{CJK_CHARS}])[ \u3000](?=[{CJK_CHARS}])")
_CJK_RE = re.compile(CJK)


def close_letter_spacing(text: str) -> str:
    """Close up a text whose Chinese characters are all spaced apart (文 明 创 建 简 报, from some PDFs).

    Only when at least a third of the characters are followed by a single space and another character: in
    ordinary text a space between two Chinese words is rare and meaningful (a headline's two halves).
    """
    spaced = len(_LETTER_SPACE_RE.findall(text))
    if spaced < 10 or spaced < len(_CJK_RE.findall(text)) / 3:
        return text
    return close_cjk_spacing(text)


# ---------------------------------------------------------------- the whole stage


def clean_text(text: str, *, entities: bool = True) -> str:
    """Apply every repair above, in an order where none undoes another (`entities` False keeps them as text)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    if entities:
        text = decode_entities(text)
    text = strip_pinyin_annotations(text)
    text = drop_page_furniture(drop_breadcrumbs(drop_posting_lines(text)))
    text = close_letter_spacing(drop_inline_page_markers(text))
    text = undouble_bold_text(join_spaced_digits(text))
    return unify_digit_width(text)
