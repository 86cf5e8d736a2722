"""One hand-written bulletin for every header form, damage and layout of other offices the parser reads
(docs/ingestion.md lists them): the header fields, the articles and the structure reported."""

from __future__ import annotations

from typing import Any

import pytest

from index.parser import parse_text
from test_parser import assert_no_text_dropped

BODY = "【工作动态】\n麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n（麦子店街道）\n"
ONE = [("工作动态", "麦子店街道开展环境整治", "麦子店街道")]
FILE = "bulletin.txt"

# (id, header, expected header fields)
HEADERS: list[tuple[str, str, dict[str, Any]]] = [
    ("chinese-seven", "文明创建简报\n第七期\n朝阳区文明办\n2016年3月1日\n",
     {"issue": 7, "issue_label": "第七期", "series": "文明创建简报"}),
    ("chinese-twelve", "文明创建简报\n第十二期\n朝阳区文明办\n2016年3月1日\n", {"issue": 12}),
    ("chinese-ninety-nine", "文明创建简报\n第九十九期\n朝阳区文明办\n2016年3月1日\n", {"issue": 99}),
    ("year-qualified", "文明创建简报\n2016年第三期\n朝阳区文明办\n2016年3月1日\n",
     {"issue": 3, "issue_label": "2016年第三期"}),
    ("supplement", "文明创建简报\n增刊第4期\n朝阳区文明办\n2016年3月1日\n", {"issue": 4, "issue_label": "增刊第4期"}),
    ("bracketed-year-issue", "文明创建简报\n[2011年第9期]\n朝阳区文明办\n2011年3月1日\n",
     {"issue": 9, "issue_label": "2011年第9期", "series": "文明创建简报", "office": "朝阳区文明办"}),
    ("full-width-bracketed-issue", "文明创建简报\n［2011年第9期］\n朝阳区文明办\n2011年3月1日\n", {"issue": 9}),
    ("spaced-issue", "文明创建简报\n第 3 期\n朝阳区文明办\n2016年3月1日\n", {"issue": 3}),
    ("spaced-digits", "文明创建简报\n第 1 2 期\n朝阳区文明办\n2 0 1 6 年 3 月 1 日\n",
     {"issue": 12, "date": "2016-03-01"}),
    ("zero-style-year", "文明创建简报\n第5期\n朝阳区文明办\n二〇二〇年八月四日\n", {"date": "2020-08-04"}),
    ("circle-zero-year", "文明创建简报\n第5期\n朝阳区文明办\n二○一九年十二月三十一日\n", {"date": "2019-12-31"}),
    ("spaced-date", "文明创建简报\n第5期\n朝阳区文明办\n2012 年 5 月 9 日\n", {"date": "2012-05-09"}),
    ("mixed-width-digits", "文明创建简报\n第５期\n朝阳区文明办\n2０12年5月9日\n", {"issue": 5, "date": "2012-05-09"}),
    ("doubled-bold-date", "文明创建简报\n第5期\n朝阳区文明办\n2012 年年 5 月月 9 日日\n", {"date": "2012-05-09"}),
    ("series-and-special-issue-one-line", "朝阳区文明创建专刊第十二期\n朝阳区文明办\n2016年3月1日\n",
     {"series": "朝阳区文明创建专刊", "issue": 12, "office": "朝阳区文明办"}),
    ("special-issue-line", "文明创建简报\n专刊第2期\n朝阳区文明办\n2016年3月1日\n", {"issue": 2, "issue_label": "专刊第2期"}),
    ("office-and-date-one-line", "文明创建简报\n第5期\n朝阳区精神文明建设委员会办公室编印 2016年3月1日\n",
     {"office": "朝阳区精神文明建设委员会办公室", "date": "2016-03-01"}),
    ("office-with-editing-label", "文明创建简报\n第5期\n编辑单位：朝阳区精神文明建设委员会办公室\n2016年3月1日\n",
     {"office": "朝阳区精神文明建设委员会办公室"}),
    ("two-offices-one-line", "文明创建简报\n第5期\n中共朝阳区委宣传部  朝阳区文明办  联合编印\n2016年3月1日\n",
     {"office": "中共朝阳区委宣传部、朝阳区文明办", "date": "2016-03-01"}),
    ("two-offices-two-lines", "文明创建简报\n第5期\n中共朝阳区委宣传部\n朝阳区文明办\n2016年3月1日\n",
     {"office": "中共朝阳区委宣传部、朝阳区文明办"}),
    ("office-name-broken-over-two-lines", "现代高教信息\n中国地质大学(武汉)\n发展研究中心编 第1期(总第7期) 2004年3月19日\n",
     {"office": "中国地质大学(武汉)发展研究中心", "issue": 1, "total": 7, "date": "2004-03-19"}),
    ("traditional-header-words", "文明簡報\n第五期\n(總第二十期)\n朝陽區文明辦編印 2016年3月1日\n",
     {"series": "文明簡報", "issue": 5, "total": 20, "office": "朝陽區文明辦", "date": "2016-03-01"}),
    ("converter-pinyin-traditional", "文(wén)明(míng)簡(jiǎn)報(bào)\n第(dì)五(wǔ)期(qī)\n(總(zǒng)第(dì)二(èr)十(shí)期(qī))\n"
     "朝(cháo)陽(yáng)區(qū)文(wén)明(míng)辦(bàn)編(biān)印(yìn) 2016年3月1日\n",
     {"series": "文明簡報", "issue": 5, "total": 20, "office": "朝陽區文明辦", "date": "2016-03-01"}),
    ("office-name-with-organise-and-inspect", "文明创建简报\n第5期\n中共朝阳区纪律检查委员会办公室\n2016年3月1日\n",
     {"office": "中共朝阳区纪律检查委员会办公室"}),
    ("office-of-organisation-department", "组工简报\n第5期\n中共朝阳区委组织部编\n2016年3月1日\n", {"office": "中共朝阳区委组织部"}),
    ("page-section-heading-above-series-and-issue", "政务公开\n朝阳区文明创建简报第5期\n2016年3月1日\n",
     {"series": "朝阳区文明创建简报", "issue": 5, "office": None, "date": "2016-03-01"}),
    ("office-above-series-and-issue", "中共朝阳区委宣传部\n宣传工作简报第5期\n2016年3月1日\n",
     {"series": "宣传工作简报", "issue": 5, "office": "中共朝阳区委宣传部"}),
    ("replacement-character", "文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日\ufffd\n",
     {"issue": 5, "date": "2016-03-01", "office": "朝阳区文明办"}),
]


@pytest.mark.parametrize(("header", "fields"), [case[1:] for case in HEADERS], ids=[case[0] for case in HEADERS])
def test_header_forms(header: str, fields: dict[str, Any]) -> None:
    bulletin = parse_text(header + BODY, FILE)
    for name, value in fields.items():
        assert getattr(bulletin, name) == value, name
    assert [(a.column, a.headline, a.source) for a in bulletin.articles] == [
        (column, headline.replace("区", "区"), source) for column, headline, source in ONE]


HEADER = "文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日\n"
SECOND = "望京街道举办邻里节\n望京街道举办第五届邻里节，惠及居民五千余人。\n（望京街道）\n"

# (id, body, expected (column, headline, source) list, expected structure)
BODIES: list[tuple[str, str, list[tuple[Any, ...]], str]] = [
    ("hexagonal-column", BODY.replace("【工作动态】", "〔工作动态〕"), ONE, "bracketed columns, source lines"),
    ("source-with-verb-after", BODY.replace("（麦子店街道）", "（麦子店街道供稿）"), ONE, "bracketed columns, source lines"),
    ("source-with-spaced-verb-after", BODY.replace("（麦子店街道）", "（麦子店街道 报送）"), ONE,
     "bracketed columns, source lines"),
    ("white-lenticular-column", BODY.replace("【工作动态】", "〖工作动态〗"), ONE, "bracketed columns, source lines"),
    ("full-width-square-column", BODY.replace("【工作动态】", "［工作动态］"), ONE, "bracketed columns, source lines"),
    ("angle-column", BODY.replace("【工作动态】", "〈工作动态〉"), ONE, "bracketed columns, source lines"),
    ("two-columns", BODY + "〔志愿服务〕\n" + SECOND,
     ONE + [("志愿服务", "望京街道举办邻里节", "望京街道")], "bracketed columns, source lines"),
    ("numbered-columns", "一、工作动态\n" + BODY.split("\n", 1)[1] + "二、志愿服务\n" + SECOND,
     ONE + [("志愿服务", "望京街道举办邻里节", "望京街道")], "numbered columns, source lines"),
    ("numbered-headlines", "一、麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n"
     "二、望京街道举办邻里节\n望京街道举办第五届邻里节，惠及居民五千余人。\n",
     [(None, "麦子店街道开展环境整治", None), (None, "望京街道举办邻里节", None)], "numbered headlines"),
    ("parenthesised-numbered-headlines", "（一）麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n"
     "（二）望京街道举办邻里节\n望京街道举办第五届邻里节，惠及居民五千余人。\n",
     [(None, "麦子店街道开展环境整治", None), (None, "望京街道举办邻里节", None)], "numbered headlines"),
    ("sections-with-parenthesised-headlines", "一、工作动态\n（一）麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物。\n"
     "（二）望京街道举办邻里节\n望京街道举办第五届邻里节。\n二、志愿服务\n（一）酒仙桥街道开展助老服务\n酒仙桥街道志愿者上门服务。\n",
     [("工作动态", "麦子店街道开展环境整治", None), ("工作动态", "望京街道举办邻里节", None),
      ("志愿服务", "酒仙桥街道开展助老服务", None)], "numbered columns, numbered headlines"),
    ("star-column", BODY.replace("【工作动态】", "☆ 工作动态"), ONE, "bracketed columns, source lines"),
    ("star-column-glued-to-headline", BODY.replace("【工作动态】\n", "★ 工作动态：").replace("组织志愿者", "近日组织志愿者"),
     ONE, "bracketed columns, source lines"),
    ("contents-by-column", "☆ 工作动态：麦子店街道开展环境整治\n  清理楼道堆物\n  居民共同参与\n☆ 志愿服务：望京街道举办邻里节\n"
     "工作动态\n麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n（麦子店街道）\n志愿服务\n" + SECOND,
     ONE + [("志愿服务", "望京街道举办邻里节", "望京街道")], "bracketed columns, source lines"),
    ("contents-by-column-without-column-lines", "☆ 工作动态：麦子店街道开展环境整治\n☆ 志愿服务：望京街道举办邻里节\n"
     + BODY.split("\n", 1)[1] + SECOND,
     [(None, "麦子店街道开展环境整治", "麦子店街道"), (None, "望京街道举办邻里节", "望京街道")], "source lines"),
    ("bracketed-editor-note-under-column", BODY.replace("【工作动态】\n", "【工作动态】\n【编者按：现将麦子店街道的做法刊发，供各"
     "单位学习借鉴】\n"), ONE, "bracketed columns, source lines"),
    ("headline-then-numbered-section", "麦子店街道环境整治工作报告\n1.基本情况\n1.1 麦子店街道组织志愿者清理楼道堆物。\n",
     [(None, "麦子店街道环境整治工作报告", None)], "one article (no structure recognised)"),
    ("glued-headline", "麦子店街道开展环境整治活动 近日，麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n"
     "望京街道举办邻里节活动 日前，望京街道举办第五届邻里节，惠及居民五千余人。\n",
     [(None, "麦子店街道开展环境整治活动", None), (None, "望京街道举办邻里节活动", None)], "glued headlines, plain headlines"),
    ("glued-headline-with-source", "【工作动态】\n麦子店街道开展环境整治活动 近日，麦子店街道组织志愿者清理楼道堆物。（麦子店街道）\n"
     "望京街道举办邻里节活动 3月5日，望京街道举办第五届邻里节。（望京街道）\n",
     [("工作动态", "麦子店街道开展环境整治活动", "麦子店街道"), ("工作动态", "望京街道举办邻里节活动", "望京街道")],
     "bracketed columns, glued headlines, source lines"),
    ("no-structure", "麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。居民纷纷点赞。\n活动还将持续一个月。\n",
     [(None, "麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨", None)], "one article (no structure recognised)"),
    ("html-with-inline-styles", '<p style="text-align:center;font-size:16pt"><span style="font-family:黑体">【工作动态】</span></p>'
     '<p style="line-height:150%"><strong>麦子店街道开展环境整治</strong></p><p style="text-indent:2em">麦子店街道&nbsp;组织志愿者'
     '清理楼道堆物，共清理杂物2.3吨。</p><p align="right">（麦子店街道）</p>', ONE, "bracketed columns, source lines"),
    ("word-html-tags-over-lines", '<p class=MsoNormal style="text-align:center;\nline-height:150%"><span lang=EN-US\n'
     'style="font-size:16.0pt">【工作动态】<o:p></o:p></span></p>\n<p class=MsoNormal><b><span style="font-family:\n黑体">'
     '麦子店街道开展环境整治</span></b></p>\n<p class=MsoNormal>麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。</p>\n'
     '<p class=MsoNormal align=right>（麦子店街道）</p>', ONE, "bracketed columns, source lines"),
    ("entities-in-plain-text", BODY.replace("组织志愿者", "组织&nbsp;志愿者&amp;党员").replace("【工作动态】", "【工作动态】&#12288;"),
     ONE, "bracketed columns, source lines"),
    ("document-sharing-chrome", "上传人:张** 文档编号:123 上传时间:2020-10-29 格式:DOC 页数:4 大小:30KB\n返回 下载 相关 举报\n"
     "第1页 / 共4页\n" + BODY + "亲,该文档总共4页,全部预览完了,如果喜欢就下载吧!\n", ONE, "bracketed columns, source lines"),
    ("news-site-lines", "当前位置:首页 > 工作动态\n发布时间:2016-03-01 10:00\nhttp://www.example.gov.cn/gzdt/123.html\n" + BODY
     + "【打印】【关闭】\n", ONE, "bracketed columns, source lines"),
    ("page-numbers-and-page-markers", BODY.replace("堆物，", "堆物，\n- 2 -\n第2页\n"), ONE,
     "bracketed columns, source lines"),
]


@pytest.mark.parametrize(("body", "articles", "structure"), [case[1:] for case in BODIES], ids=[case[0] for case in BODIES])
def test_body_forms(body: str, articles: list[tuple[Any, ...]], structure: str) -> None:
    bulletin = parse_text(HEADER + body, FILE)
    assert (bulletin.issue, bulletin.date, bulletin.office) == (5, "2016-03-01", "朝阳区文明办")
    assert [(a.column, a.headline, a.source) for a in bulletin.articles] == articles
    assert bulletin.structure == structure
    for article in bulletin.articles:
        for leftover in ("&nbsp;", "&amp;", "&#", "<", "上传人", "举报", "发布时间", "http", "- 2 -", "第2页", "打印"):
            assert leftover not in article.headline + article.body, leftover


def test_entities_decoded_in_body() -> None:
    body = parse_text(HEADER + BODY.replace("组织志愿者", "组织&nbsp;志愿者&amp;党员"), FILE).articles[0].body
    assert "组织 志愿者&党员" in body


@pytest.mark.parametrize("text", ["只有一行没有任何结构的文字", "第5期", "2016年3月1日", "朝阳区文明办",
                                  "文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日"])
def test_nothing_is_dropped(text: str) -> None:
    """Whatever the parser cannot structure is one article, its first line as headline."""
    bulletin = parse_text(text, FILE)
    assert len(bulletin.articles) == 1
    assert bulletin.articles[0].headline == text.split("\n")[0]
    assert bulletin.structure == "one article (no structure recognised)"
    assert_no_text_dropped(text, bulletin)


# (id, whole bulletin, expected (series, issue, total, office, date), expected (column, headline, source) list)
WHOLE: list[tuple[str, str, tuple[Any, ...], list[tuple[Any, ...]]]] = [
    ("news-site-copy", "首页 > 工作动态 > 简报\n泗县创文简报（第12期）\n发布时间：2019-05-10 来源：县文明办 浏览次数：320\n"
     "泗县创建全国文明城市工作指挥部办公室  2019年5月8日\n【创文动态】\n县城管局开展占道经营整治\n"
     "近日，县城管局组织执法人员对城区主次干道占道经营行为开展集中整治，共清理流动摊点120余处。\n（县城管局）\n"
     "【志愿服务】\n县团委开展学雷锋志愿服务活动 3月5日，县团委组织青年志愿者走上街头开展志愿服务。\n",
     ("泗县创文简报", 12, None, "泗县创建全国文明城市工作指挥部办公室", "2019-05-08"),
     [("创文动态", "县城管局开展占道经营整治", "县城管局"), ("志愿服务", "县团委开展学雷锋志愿服务活动", None)]),
    ("letter-spaced-title-two-offices-and-date-one-line", "简    报\n第 3 期\n中共泗县县委宣传部          泗县文明办          "
     "2016年3月1日\n一、工作动态\n（一）县城管局开展占道经营整治\n近日，县城管局组织执法人员开展集中整治。\n"
     "（二）县团委开展志愿服务\n县团委组织青年志愿者走上街头。\n",
     ("简报", 3, None, "中共泗县县委宣传部、泗县文明办", "2016-03-01"),
     [("工作动态", "县城管局开展占道经营整治", None), ("工作动态", "县团委开展志愿服务", None)]),
    ("run-together-numbered-and-glued", "垃圾分类工作简报 第4期 XX街道办事处 2020年6月1日 一、社区开展垃圾分类宣传 近日，各社区开展"
     "垃圾分类宣传活动，发放宣传资料2000份。 二、垃圾分类督导员上岗 6月1日起，督导员在各投放点开展督导。",
     ("垃圾分类工作简报", 4, None, "XX街道办事处", "2020-06-01"),
     [(None, "社区开展垃圾分类宣传", None), (None, "垃圾分类督导员上岗", None)]),
    ("editor-note-and-footer-words", "文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日\n编者按：垃圾分类是新时尚，现将麦子店街道"
     "的做法刊发，供各单位学习借鉴。\n麦子店街道开展垃圾分类宣传\n近日，麦子店街道组织志愿者入户宣传，共发放资料3000份。\n"
     "本期编辑：张明　校对：李华\n",
     ("文明创建简报", 5, None, "朝阳区文明办", "2016-03-01"), [(None, "麦子店街道开展垃圾分类宣传", None)]),
    ("web-page-heading-above-the-bulletin", "当前位置：首页 > 工作动态 > 工作简报\n泗县创文简报（第3期）\n发布时间：2016-03-01 "
     "来源：县文明办\n泗县创文简报\n第3期\n泗县创文办  2016年3月1日\n【创文动态】\n县城管局开展占道经营整治\n"
     "近日，县城管局组织执法人员对城区主次干道占道经营行为开展集中整治。\n（县城管局）\n",
     ("泗县创文简报", 3, None, "泗县创文办", "2016-03-01"), [("创文动态", "县城管局开展占道经营整治", "县城管局")]),
    ("total-first-and-bullet-headline", "（总第56期）\n文明通讯\n2016年第3期\n区文明办编\n2016年3月1日\n■ 区文明办召开创城推进会\n"
     "3月1日，区文明办召开创城推进会，部署全年重点工作。\n",
     ("文明通讯", 3, 56, "区文明办", "2016-03-01"), [(None, "区文明办召开创城推进会", None)]),
    ("headline-naming-an-office-after-the-issue", "区妇儿工委简报\n2016年第1期\n区妇儿工委办公室召开成员单位联络员座谈会\n"
     "为总结2015年工作、部署2016年工作，区妇儿工委办公室于1月9日召开成员单位联络员座谈会。\n",
     ("区妇儿工委简报", 1, None, None, None), [(None, "区妇儿工委办公室召开成员单位联络员座谈会", None)]),
    ("headline-ending-like-an-office-after-the-date", "文明创建简报\n第5期\n2016年3月1日\n区文明办举办志愿服务推进会\n"
     "近日，区文明办举办志愿服务推进会，各街道志愿服务负责人参加。\n",
     ("文明创建简报", 5, None, None, "2016-03-01"), [(None, "区文明办举办志愿服务推进会", None)]),
    ("office-line-then-headline-with-office", "文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日\n朝阳区文明办召开创城工作部署会\n"
     "3月1日，朝阳区文明办召开创城工作部署会，部署全年重点工作。\n",
     ("文明创建简报", 5, None, "朝阳区文明办", "2016-03-01"), [(None, "朝阳区文明办召开创城工作部署会", None)]),
    ("cms-page-posting-line-and-breadcrumb", "信息公开\n当前位置：首页 >> 信息公开 >> 正文\n社区工作简报第6期\n"
     "编辑：网站管理员  发表时间：[2015-11-02]  阅读：\n麦子店街道办事处编印 2015年10月30日\n【工作动态】\n"
     "麦子店街道开展环境整治\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n（麦子店街道）\n"
     "字号 大 中 小 | 打印本页 | 关闭窗口\n",
     ("社区工作简报", 6, None, "麦子店街道办事处", "2015-10-30"), [("工作动态", "麦子店街道开展环境整治", "麦子店街道")]),
    ("cms-page-without-office-or-date", "首 页 > 工作简报 > 正文\n\n工作简报\n社区工作简报第6期\n"
     "编辑:admin 发布时间:2015-11-02 10:20 浏览次数:35\n字号:大 中 小 打印本页 关闭窗口\n麦子店街道开展背街小巷环境整治\n"
     "近日，麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n分享到：\n",
     ("社区工作简报", 6, None, None, None), [(None, "麦子店街道开展背街小巷环境整治", None)]),
]


@pytest.mark.parametrize(("text", "header", "articles"), [case[1:] for case in WHOLE], ids=[case[0] for case in WHOLE])
def test_whole_bulletins(text: str, header: tuple[Any, ...], articles: list[tuple[Any, ...]]) -> None:
    bulletin = parse_text(text, FILE)
    assert (bulletin.series, bulletin.issue, bulletin.total, bulletin.office, bulletin.date) == header
    assert [(a.column, a.headline, a.source) for a in bulletin.articles] == articles
    assert all("校对" not in a.body and "张明" not in a.body for a in bulletin.articles)


def test_editor_note_opens_the_first_article() -> None:
    text = next(case[1] for case in WHOLE if case[0] == "editor-note-and-footer-words")
    bulletin = parse_text(text, FILE)
    assert bulletin.articles[0].body.startswith("编者按：垃圾分类是新时尚")
    assert bulletin.editor == "张明"


def test_contents_by_column_are_kept_apart() -> None:
    body = next(case[1] for case in BODIES if case[0] == "contents-by-column")
    bulletin = parse_text(HEADER + body, FILE)
    assert bulletin.contents == ["☆ 工作动态：麦子店街道开展环境整治", "清理楼道堆物", "居民共同参与", "☆ 志愿服务：望京街道举办邻里节"]
    assert bulletin.columns == ["工作动态", "志愿服务"]


def test_bracketed_editor_note_opens_the_article_under_its_column() -> None:
    body = next(case[1] for case in BODIES if case[0] == "bracketed-editor-note-under-column")
    article = parse_text(HEADER + body, FILE).articles[0]
    assert article.body.startswith("【编者按：现将麦子店街道的做法刊发")
    assert article.body.endswith("共清理杂物2.3吨。")
