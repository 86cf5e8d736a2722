"""Parser: golden parse of the seed bulletin and one hand-written case per layout variation."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from index.model import Bulletin
from index.normalize_text import unify_punctuation
from index.parser import cn_to_int, district_of, parse_file, parse_text

HEADER = "# 首都精神文明建设情况简报\n\n第 38 期\n\n(总第 2147 期)\n\n首都精神文明办\n\n2020 年 8 月 4 日\n\n"
ARTICLE = "**朝阳区开展垃圾分类宣传**\n\n朝阳区各街道组织志愿者入户宣传垃圾分类知识。居民参与热情高涨。\n\n（朝阳区文明办）\n\n"
FOOTER = "责编:梅雪峰\n\n核稿:田文松\n\n电话:55569506\n\n---\n\n报:中央文明办。\n"
BODY = "朝阳区各街道组织志愿者入户宣传垃圾分类知识。居民参与热情高涨。"
FILE = "2020-08-04_第38期.txt"
#: Header characters a parse turns into numbers or field names, so they may vanish from the output.
VANISHING = set("第期总年月日号责编核稿电话传真邮箱报送发增刊〇零一二三四五六七八九十百千")


def key(text: str | None) -> str:
    """The corpus comparison key: sha1 of letters and digits only."""
    return hashlib.sha1(re.sub(r"[\W_]+", "", text or "").encode()).hexdigest()


def bulletin_with(header: str = HEADER, body: str = "【文明创建】\n\n" + ARTICLE, footer: str = FOOTER) -> str:
    """A bulletin text from its three parts (defaults: the seed's layout with one article)."""
    return header + body + footer


def article_fields(bulletin: Bulletin) -> list[tuple[Any, ...]]:
    """(column, headline, source, district) of every article."""
    return [(a.column, a.headline, a.source, a.district) for a in bulletin.articles]


def output_text(bulletin: Bulletin) -> str:
    """Every string a parse produced, joined (to check that no text was dropped)."""
    parts = [str(value) for value in bulletin.to_dict().values() if isinstance(value, str | int)]
    parts += bulletin.columns + list(bulletin.distribution.values())
    for article in bulletin.articles:
        parts += [article.headline, article.body, article.source or "", article.column or ""]
    return "\n".join(parts)


def assert_no_text_dropped(text: str, bulletin: Bulletin) -> None:
    """Every CJK character of the input is somewhere in the output (header numerals and labels aside)."""
    cjk = re.compile(r"[\u4e00-\u9fff]")
    missing = Counter(cjk.findall(text)) - Counter(cjk.findall(output_text(bulletin)))
    assert not set(missing) - VANISHING, f"dropped: {''.join(sorted(missing))}"


ONE_ARTICLE = [("文明创建", "朝阳区开展垃圾分类宣传", "朝阳区文明办", "朝阳区")]

# (id, text, file name, expected bulletin fields, expected (column, headline, source, district) list)
LAYOUTS: list[tuple[str, str, str, dict[str, Any], list[tuple[Any, ...]] | None]] = [
    ("seed-layout", bulletin_with(), FILE,
     {"series": "首都精神文明建设情况简报", "issue": 38, "total": 2147, "office": "首都精神文明办",
      "date": "2020-08-04", "editor": "梅雪峰", "reviewer": "田文松", "phone": "55569506",
      "distribution": {"报": "中央文明办。"}}, ONE_ARTICLE),
    ("letter-spaced-title", bulletin_with("简 报\n\n第 5 期\n\n首都精神文明办\n\n2020年8月4日\n\n"), FILE,
     {"series": "简报", "issue": 5, "office": "首都精神文明办"}, ONE_ARTICLE),
    ("title-and-issue-one-line", bulletin_with("首都精神文明建设情况简报 第38期\n(总第2147期)\n首都精神文明办\n2020年8月4日\n"),
     FILE, {"series": "首都精神文明建设情况简报", "issue": 38, "total": 2147, "date": "2020-08-04"}, ONE_ARTICLE),
    ("special-issue", bulletin_with("首都精神文明建设情况简报（专刊）\n\n第 3 期\n\n首都精神文明办\n\n2021年1月5日\n\n"), FILE,
     {"series": "首都精神文明建设情况简报（专刊）", "issue": 3, "date": "2021-01-05"}, ONE_ARTICLE),
    ("journal-name", bulletin_with("《文明北京》\n\n2015年第二期\n\n首都精神文明办\n\n2015年3月1日\n\n"), FILE,
     {"series": "《文明北京》", "issue": 2, "issue_label": "2015年第二期", "date": "2015-03-01"}, ONE_ARTICLE),
    ("supplement", bulletin_with("首都精神文明建设情况简报\n\n增刊第7期\n\n首都精神文明办\n\n2020年8月4日\n\n"), FILE,
     {"issue": 7, "issue_label": "增刊第7期"}, ONE_ARTICLE),
    ("office-and-date-one-line", bulletin_with("首都精神文明建设情况简报\n\n第 38 期\n\n首都精神文明办  2020年8月4日\n\n"), FILE,
     {"office": "首都精神文明办", "date": "2020-08-04"}, ONE_ARTICLE),
    ("office-and-date-glued", bulletin_with("首都精神文明建设情况简报\n\n第 38 期\n\n首都精神文明办2020-08-04\n\n"), FILE,
     {"office": "首都精神文明办", "date": "2020-08-04"}, ONE_ARTICLE),
    ("date-after-office-line", bulletin_with("首都精神文明建设情况简报\n\n第 38 期\n\n2020年8月4日\n\n首都精神文明办\n\n"), FILE,
     {"office": "首都精神文明办", "date": "2020-08-04"}, ONE_ARTICLE),
    ("date-without-year", bulletin_with("首都精神文明建设情况简报\n\n第 38 期\n\n首都精神文明办\n\n8月4日\n\n"), FILE,
     {"date": "2020-08-04"}, ONE_ARTICLE),
    ("date-without-any-year", bulletin_with("首都精神文明建设情况简报\n\n第 38 期\n\n首都精神文明办\n\n8月4日\n\n"), "简报.txt",
     {"date": None, "office": "首都精神文明办"}, ONE_ARTICLE),
    ("chinese-numerals", bulletin_with("首都精神文明建设情况简报\n\n第三十八期\n\n（总第二千一百四十七期）\n\n首都精神文明办\n\n"
                                       "二〇二〇年八月十四日\n\n"), FILE,
     {"issue": 38, "total": 2147, "date": "2020-08-14"}, ONE_ARTICLE),
    ("ninth-issue", bulletin_with("首都精神文明建设情况简报\n\n第九期\n\n首都精神文明办\n\n二〇一九年十二月三十一日\n\n"), FILE,
     {"issue": 9, "date": "2019-12-31"}, ONE_ARTICLE),
    ("hexagonal-columns", bulletin_with(body="〔文明创建〕\n\n" + ARTICLE + "〔志愿服务〕\n\n" + ARTICLE), FILE,
     {"columns": ["文明创建", "志愿服务"]}, ONE_ARTICLE + [("志愿服务", *ONE_ARTICLE[0][1:])]),
    ("markdown-column", bulletin_with(body="## 【文明创建】\n\n" + ARTICLE), FILE, {"columns": ["文明创建"]}, ONE_ARTICLE),
    ("numbered-sections", bulletin_with(body="一、文明创建\n\n" + ARTICLE + "二、志愿服务\n\n" + ARTICLE), FILE,
     {"columns": ["文明创建", "志愿服务"]}, ONE_ARTICLE + [("志愿服务", *ONE_ARTICLE[0][1:])]),
    ("no-columns", bulletin_with(body=ARTICLE + ARTICLE), FILE, {"columns": []},
     [(None, *ONE_ARTICLE[0][1:])] * 2),
    ("plain-first-sentence", bulletin_with(body="【文明创建】\n\n" + BODY + "\n\n（朝阳区文明办）\n\n"), FILE, {},
     [("文明创建", "朝阳区各街道组织志愿者入户宣传垃圾分类知识", "朝阳区文明办", "朝阳区")]),
    ("bold-first-sentence", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传。**" + BODY + "\n\n（朝阳区文明办）\n\n"),
     FILE, {}, ONE_ARTICLE),
    ("glued-headline", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传**" + BODY + "\n\n（朝阳区文明办）\n\n"),
     FILE, {}, ONE_ARTICLE),
    ("wrapped-bold-headline", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾\n分类宣传**\n\n" + BODY + "\n\n（朝阳区文明办）\n\n"),
     FILE, {}, ONE_ARTICLE),
    ("wrapped-plain-headline", bulletin_with(body="【文明创建】\n\n朝阳区开展垃圾\n\n分类宣传。" + BODY + "\n\n（朝阳区文明办）\n\n"),
     FILE, {}, ONE_ARTICLE),
    ("no-source", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传**\n\n" + BODY + "\n\n**海淀区举办读书节**\n\n"
                                "海淀区图书馆举办全民读书节。\n\n"), FILE, {},
     [("文明创建", "朝阳区开展垃圾分类宣传", None, "朝阳区"), ("文明创建", "海淀区举办读书节", None, "海淀区")]),
    ("source-after-space", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传**\n\n" + BODY + " （朝阳区文明办）\n\n"),
     FILE, {}, ONE_ARTICLE),
    ("ascii-parenthesised-source", bulletin_with(body="【文明创建】\n\n" + ARTICLE.replace("（朝阳区文明办）", "(朝阳区文明办)")),
     FILE, {}, ONE_ARTICLE),
    ("city-level-source", bulletin_with(body="【文明创建】\n\n**全市开展垃圾分类宣传**\n\n" + BODY + "\n\n（首都文明办）\n\n"),
     FILE, {}, [("文明创建", "全市开展垃圾分类宣传", "首都文明办", None)]),
    ("district-from-headline", bulletin_with(body="【文明创建】\n\n" + ARTICLE.replace("（朝阳区文明办）", "（市志愿服务联合会）")),
     FILE, {}, [("文明创建", "朝阳区开展垃圾分类宣传", "市志愿服务联合会", "朝阳区")]),
    ("one-line-bulletin", bulletin_with().replace("\n", " "), FILE,
     {"series": "首都精神文明建设情况简报", "issue": 38, "total": 2147, "office": "首都精神文明办",
      "date": "2020-08-04", "editor": "梅雪峰", "reviewer": "田文松"}, ONE_ARTICLE),
    ("html-tags", bulletin_with(body="<div>【文明创建】</div><p><strong>朝阳区开展垃圾分类宣传</strong></p>"
                                f"<p>{BODY}</p><p>（朝阳区文明办）</p>\n"), FILE, {}, ONE_ARTICLE),
    ("page-numbers", bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传**\n\n朝阳区各街道组织志愿者入户宣传\n\n- 2 -\n\n"
                                   "垃圾分类知识。\n\n—3—\n\n居民参与热情高涨。\n\n4\n\n（朝阳区文明办）\n\n"), FILE, {}, ONE_ARTICLE),
    ("traditional-characters", bulletin_with(body="【文明創建】\n\n**朝陽區開展垃圾分類宣傳**\n\n朝陽區各街道組織志願者入戶宣傳。\n\n"
                                             "（朝陽區文明辦）\n\n"), FILE, {},
     [("文明創建", "朝陽區開展垃圾分類宣傳", "朝陽區文明辦", "朝阳区")]),
    ("footer-on-one-line", bulletin_with(footer="责编：梅雪峰　核稿：田文松　电话：55569506\n"), FILE,
     {"editor": "梅雪峰", "reviewer": "田文松", "phone": "55569506"}, ONE_ARTICLE),
]


@pytest.mark.parametrize(("text", "file", "fields", "articles"),
                         [case[1:] for case in LAYOUTS], ids=[case[0] for case in LAYOUTS])
def test_layout_variations(text: str, file: str, fields: dict[str, Any], articles: list[tuple[Any, ...]]) -> None:
    bulletin = parse_text(text, file)
    for name, value in fields.items():
        assert getattr(bulletin, name) == value, name
    assert article_fields(bulletin) == articles
    assert_no_text_dropped(text, bulletin)
    for article in bulletin.articles:
        assert "**" not in article.body + article.headline
        assert "<" not in article.body and "2 -" not in article.body


@pytest.mark.parametrize("text", [bulletin_with(body="【文明创建】\n\n**朝阳区开展垃圾分类宣传**\n\n" + BODY + "\n\n（朝阳区文明办）\n\n"),
                                  bulletin_with(body="【文明创建】\n\n" + BODY + "\n\n（朝阳区文明办）\n\n")])
def test_body_is_the_rest_of_the_article(text: str) -> None:
    body = parse_text(text, FILE).articles[0].body
    assert body.endswith("居民参与热情高涨。") and "朝阳区文明办" not in body and "梅雪峰" not in body


def test_page_break_inside_a_sentence_is_joined() -> None:
    body = "**朝阳区开展垃圾分类宣传**\n\n一批同志走上重要\n\n工作岗位。居民参与热情高涨。\n\n第二段落。\n\n（朝阳区文明办）\n\n"
    article = parse_text(bulletin_with(body=body), FILE).articles[0]
    assert article.body == "一批同志走上重要工作岗位。居民参与热情高涨。\n第二段落。"


@pytest.mark.parametrize(("raw", "unified"), [
    ("示范引领,率先开展", "示范引领，率先开展"),
    ("民政局(区委社会工委)全系统", "民政局（区委社会工委）全系统"),
    ("如下:一是;二是?好!", "如下：一是；二是？好！"),
    ("1.2万名在职党员", "1.2万名在职党员"),
    ("邮箱 jswm@163.com, 时间 10:30", "邮箱 jswm@163.com, 时间 10:30"),
    ("回复,3 个月内", "回复，3 个月内"),
])
def test_unify_punctuation(raw: str, unified: str) -> None:
    assert unify_punctuation(raw) == unified


def test_headline_and_body_use_full_width_punctuation() -> None:
    body = "**东城区示范引领,率先开展行动。**区文明委发出倡议,持续汇聚力量(含志愿者)。\n\n（东城区文明办）\n\n"
    article = parse_text(bulletin_with(body=body), FILE).articles[0]
    assert article.headline == "东城区示范引领，率先开展行动"
    assert article.body == "区文明委发出倡议，持续汇聚力量（含志愿者）。"


@pytest.mark.parametrize(("text", "value"), [("38", 38), ("３８", 38), ("九", 9), ("十", 10), ("三十八", 38),
                                             ("一百零二", 102), ("二千一百四十七", 2147), ("二〇二〇", 2020)])
def test_chinese_numerals(text: str, value: int) -> None:
    assert cn_to_int(text) == value


@pytest.mark.parametrize(("text", "district"), [("石景山区文明办", "石景山区"), ("門頭溝區文明辦", "门头沟区"),
                                                ("首都文明办", None), ("", None), (None, None)])
def test_district_of(text: str | None, district: str | None) -> None:
    assert district_of(text) == district


@pytest.mark.parametrize("text", ["", "\n\n", "随便一段没有格式的文字", "**", "（）", "【】", "<p></p>", "第期", "- 2 -"])
def test_never_crashes_on_odd_input(text: str) -> None:
    bulletin = parse_text(text, "x.txt")
    assert_no_text_dropped(text, bulletin)


def test_seed_golden(seed_dir: Path) -> None:
    truth = json.loads((seed_dir / "truth.json").read_text(encoding="utf-8"))
    bulletin = parse_file(seed_dir / truth["file"])
    for name in ("file", "series", "issue", "total", "office", "date", "editor", "reviewer", "phone", "fax",
                 "email", "distribution"):
        assert getattr(bulletin, name) == truth[name], name
    assert len(bulletin.articles) == len(truth["articles"])
    for article, expected in zip(bulletin.articles, truth["articles"], strict=True):
        assert (article.column, key(article.headline), article.source, article.district, key(article.body)) == (
            expected["column"], key(expected["headline"]), expected["source"], expected["district"],
            expected["body_key"])
    for phrase in truth["page_break_phrases"]:
        assert phrase["query"] in bulletin.articles[phrase["article"]].body.replace(" ", "")


def test_seed_keeps_all_body_text(seed_dir: Path) -> None:
    path = seed_dir / "2020-08-04_第38期.txt"
    text = path.read_text(encoding="utf-8")
    assert_no_text_dropped(text, parse_file(path))
