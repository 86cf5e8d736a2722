"""Parser on hand-made layouts of other offices' bulletins: key fields right and no article text dropped."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from index.model import Bulletin
from index.parser import parse_text, short_district_of

CITY = "首都精神文明建设情况简报\n\n第 38 期\n\n首都精神文明办\n\n2020年8月4日\n\n"
HAIDIAN = "海淀区文明创建简报\n\n第5期\n\n海淀区精神文明建设委员会办公室\n\n2023年3月15日\n\n"
FOOTER = "责编：张明　核稿：李华\n"
FILE = "2023-03-15_第5期.txt"
#: Layout the parser turns into fields or drops on purpose: column brackets, 一、 numbering, page markers.
LAYOUT_RE = re.compile(r"^[【〔].*?[】〕]$|^[一二三四五六七八九十]{1,3}、|第\s*\d+\s*页\s*共\s*\d+\s*页|供稿单位|供稿|来源",
                       re.M)
CJK_RE = re.compile(r"[\u4e00-\u9fff]")

# (id, header, body, footer, expected bulletin fields, expected (column, headline, source, district) list,
#  {article index: text its body must contain}, texts no body may contain)
VARIANTS: list[tuple[str, str, str, str, dict[str, Any], list[tuple[Any, ...]], dict[int, str], list[str]]] = [
    ("glued-full-width-source", HAIDIAN,
     "【创城动态】\n\n海淀区启动2023年“创城”攻坚行动\n3月10日，海淀区召开创建全国文明城区工作推进会，部署全年创城重点任务。"
     "会议强调，要坚持问题导向，持续开展环境整治。（区文明办）\n\n", FOOTER,
     {"series": "海淀区文明创建简报", "issue": 5, "office": "海淀区精神文明建设委员会办公室", "date": "2023-03-15"},
     [("创城动态", "海淀区启动2023年“创城”攻坚行动", "区文明办", "海淀区")], {0: "持续开展环境整治。"}, ["（区文明办）"]),
    ("glued-ascii-source-and-wrapped-headline", HAIDIAN,
     "学院路街道开展背街小巷\n环境整治专项行动\n学院路街道组织城管、物业、志愿者对辖区12条背街小巷开展集中整治，"
     "清理堆物堆料3.5吨，发现的问题已全部整改到位。(学院路街道)\n", FOOTER, {},
     [(None, "学院路街道开展背街小巷环境整治专项行动", "学院路街道", "海淀区")], {0: "已全部整改到位。"}, ["(学院路"]),
    ("parentheticals-inside-sentences-kept", CITY,
     "【志愿服务】\n\n**全市开展志愿者培训**\n\n市志愿服务联合会邀请专家为200余名骨干授课（含线上直播），反响热烈。"
     "课程资料已上传（详见附件）。\n\n（市志愿服务联合会）\n\n", FOOTER, {},
     [("志愿服务", "全市开展志愿者培训", "市志愿服务联合会", None)], {0: "课程资料已上传（详见附件）。"}, []),
    ("numbered-headlines-in-a-column", HAIDIAN,
     "【志愿服务】\n\n一、“学雷锋志愿服务月”活动火热开展\n3月5日，全区1.2万名志愿者走上街头，开展文明引导、环境清洁等志愿服务活动，"
     "参与率达到95.3%。\n\n二、海淀文明办举办志愿者培训\n区文明办邀请专家为200余名志愿服务骨干讲授志愿服务管理知识。（海淀文明办）\n\n",
     FOOTER, {"columns": ["志愿服务"]},
     [("志愿服务", "“学雷锋志愿服务月”活动火热开展", None, "海淀区"),
      ("志愿服务", "海淀文明办举办志愿者培训", "海淀文明办", "海淀区")], {0: "参与率达到95.3%。"}, []),
    ("numbered-headlines-without-columns", CITY,
     "一、“学雷锋志愿服务月”活动火热开展\n\n3月5日，全市各区志愿者走上街头，开展文明引导、环境清洁等志愿服务活动。\n\n（首都文明办）\n\n"
     "二、通州区开展文明交通劝导\n\n通州区组织志愿者在重点路口开展文明交通劝导，引导市民遵守交通规则。\n\n（通州融媒）\n\n",
     FOOTER, {"columns": []},
     [(None, "“学雷锋志愿服务月”活动火热开展", "首都文明办", None),
      (None, "通州区开展文明交通劝导", "通州融媒", "通州区")], {}, []),
    ("numbered-columns-with-plain-headlines", CITY,
     "一、文明创建\n\n朝阳区开展垃圾分类宣传\n\n朝阳区各街道组织志愿者入户宣传垃圾分类知识，居民参与热情高涨。\n\n（朝阳区文明办）\n\n"
     "二、志愿服务\n\n海淀区举办读书节\n\n海淀区图书馆举办全民读书节，吸引读者三千余人次。\n\n（海淀区文明办）\n\n", FOOTER,
     {"columns": ["文明创建", "志愿服务"]},
     [("文明创建", "朝阳区开展垃圾分类宣传", "朝阳区文明办", "朝阳区"),
      ("志愿服务", "海淀区举办读书节", "海淀区文明办", "海淀区")], {}, []),
    ("special-series-office-verb-chinese-date",
     "昌平区文明办工作专刊 第十二期\n\n昌平区精神文明建设委员会办公室编 二〇二二年十一月八日\n\n",
     "**回龙观街道开展邻里节活动**\n\n回龙观街道举办第五届邻里节，开展文艺演出、便民服务等活动，惠及居民五千余人。\n\n（回龙观街道）\n\n",
     FOOTER, {"series": "昌平区文明办工作专刊", "issue": 12, "issue_label": "第十二期",
              "office": "昌平区精神文明建设委员会办公室", "date": "2022-11-08"},
     [(None, "回龙观街道开展邻里节活动", "回龙观街道", "昌平区")], {}, []),
    ("issue-on-title-line-office-and-date-one-line",
     "朝阳区文明创建工作简报 第7期\n朝阳区文明办编印 2023年5月8日\n\n",
     "【工作动态】\n\n**麦子店街道开展环境整治**\n\n麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n\n（麦子店街道）\n\n",
     FOOTER, {"series": "朝阳区文明创建工作简报", "issue": 7, "office": "朝阳区文明办", "date": "2023-05-08"},
     [("工作动态", "麦子店街道开展环境整治", "麦子店街道", "朝阳区")], {}, []),
    ("office-with-label", "门头沟区文明简报\n\n2023年第2期\n\n主办：门头沟区文明办\n\n2023年2月1日\n\n",
     "**大峪街道开展文明劝导**\n\n大峪街道组织志愿者在公交站开展文明乘车劝导。\n\n（大峪街道）\n\n", FOOTER,
     {"series": "门头沟区文明简报", "issue": 2, "office": "门头沟区文明办", "date": "2023-02-01"},
     [(None, "大峪街道开展文明劝导", "大峪街道", "门头沟区")], {}, []),
    ("header-noise-line", "内部资料 注意保存\n\n房山区文明实践简报\n\n第3期\n\n房山区文明办\n\n2023年4月2日\n\n",
     "**良乡镇开展文明实践活动**\n\n良乡镇新时代文明实践所组织志愿者开展健康义诊。\n\n（良乡镇）\n\n", FOOTER,
     {"series": "房山区文明实践简报", "office": "房山区文明办"}, [(None, "良乡镇开展文明实践活动", "良乡镇", "房山区")], {}, []),
    ("city-bulletin-keeps-city-level-and-short-forms", CITY,
     "【文明创建】\n\n**海淀开展创城宣传**\n\n志愿者进社区宣传创城知识，发放资料三千份。\n\n（海淀文明办）\n\n"
     "**朝阳门街道开展胡同整治**\n\n朝阳门街道清理胡同堆物，恢复胡同风貌。\n\n（朝阳门街道）\n\n"
     "**全市部署创城工作**\n\n首都文明办召开会议部署创城工作。\n\n（首都文明办）\n\n", FOOTER, {},
     [("文明创建", "海淀开展创城宣传", "海淀文明办", "海淀区"), ("文明创建", "朝阳门街道开展胡同整治", "朝阳门街道", None),
      ("文明创建", "全市部署创城工作", "首都文明办", None)], {}, []),
    ("district-bulletin-city-source-stays-none", HAIDIAN,
     "**全市推进志愿服务**\n\n市志愿服务联合会发布志愿服务项目二百个。\n\n（市志愿服务联合会）\n\n"
     "**温泉镇开展垃圾分类**\n\n温泉镇组织党员入户宣传垃圾分类。\n\n（温泉镇）\n\n", FOOTER, {},
     [(None, "全市推进志愿服务", "市志愿服务联合会", None), (None, "温泉镇开展垃圾分类", "温泉镇", "海淀区")], {}, []),
    ("source-lines-with-label", CITY,
     "**朝阳区开展文明餐桌行动**\n\n朝阳区在餐饮企业推广公筷公勺，覆盖门店1200余家。\n\n供稿：朝阳区文明办\n\n"
     "**大兴区举办志愿服务展示**\n\n大兴区举办志愿服务项目展示会，展出项目八十个。\n\n（供稿单位：大兴区文明办）\n\n"
     "**西城区开展文明引导**\n\n西城区组织志愿者在地铁站开展文明引导。\n\n——西长安街街道\n\n", FOOTER, {},
     [(None, "朝阳区开展文明餐桌行动", "朝阳区文明办", "朝阳区"), (None, "大兴区举办志愿服务展示", "大兴区文明办", "大兴区"),
      (None, "西城区开展文明引导", "西长安街街道", "西城区")], {}, ["供稿"]),
    ("plain-headlines-labelled-sources-blank-lines", HAIDIAN,
     "清河街道开展“文明楼门”评选\n\n清河街道组织居民评选文明楼门，共评出示范楼门三十个，带动居民参与环境治理。\n\n来源：清河街道\n\n"
     "青龙桥街道推进背街小巷整治\n\n青龙桥街道完成十条背街小巷整治提升，新增绿地1.5万平方米。\n\n来源：青龙桥街道\n\n", FOOTER, {},
     [(None, "清河街道开展“文明楼门”评选", "清河街道", "海淀区"), (None, "青龙桥街道推进背街小巷整治", "青龙桥街道", "海淀区")],
     {1: "新增绿地1.5万平方米。"}, []),
    ("source-right-after-headline", CITY,
     "【工作动态】\n\n**顺义区推进文明乡风建设**\n\n来源：顺义区文明办\n\n顺义区评选文明村镇四十个，村规民约覆盖率达到100%。\n\n"
     "**平谷区开展文明家庭评选**\n\n来源：平谷区妇联\n\n平谷区评选文明家庭三百户。\n\n", FOOTER, {},
     [("工作动态", "顺义区推进文明乡风建设", "顺义区文明办", "顺义区"), ("工作动态", "平谷区开展文明家庭评选", "平谷区妇联", "平谷区")],
     {0: "覆盖率达到100%。", 1: "三百户"}, []),
    ("distribution-footer-variants", CITY,
     "**怀柔区开展文明旅游宣传**\n\n怀柔区在景区开展文明旅游宣传，发放倡议书五千份。\n\n（怀柔区文明办）\n\n",
     "签发：王强\n联系人：赵敏　联系电话：69641234\n报送：市委宣传部，首都文明办。\n抄送：各镇乡、街道。\n（共印50份）\n",
     {"reviewer": "王强", "phone": "69641234", "distribution": {"报送": "市委宣传部，首都文明办。", "抄送": "各镇乡、街道。"}},
     [(None, "怀柔区开展文明旅游宣传", "怀柔区文明办", "怀柔区")], {}, ["联系人", "抄送", "共印"]),
    ("page-markers", CITY,
     "**密云区开展生态文明宣传**\n\n密云区组织志愿者在水库周边开展生态环保宣传，\n\n- 3 -\n\n参与群众两千余人次。\n\n"
     "第 2 页 共 4 页\n\n活动持续一个月。\n\n（密云区文明办）\n\n", FOOTER, {},
     [(None, "密云区开展生态文明宣传", "密云区文明办", "密云区")], {0: "开展生态环保宣传，参与群众两千余人次。"}, ["页", "3 -"]),
    ("html-leftovers", CITY,
     "<p><strong>延庆区开展冬奥志愿服务</strong></p><p>延庆区&nbsp;组织志愿者2000余人服务冬奥赛事。<br/>志愿者服务时长累计"
     "3.5万小时。</p><p>（延庆区文明办）</p>\n", FOOTER, {},
     [(None, "延庆区开展冬奥志愿服务", "延庆区文明办", "延庆区")], {0: "3.5万小时。"}, ["<", "nbsp", "&"]),
    ("no-columns-no-sources", HAIDIAN,
     "甘家口街道开展文明养犬宣传\n\n甘家口街道联合派出所开展文明养犬宣传，为居民免费办理犬证。\n\n活动当天共登记犬只120只。\n\n"
     "北下关街道举办邻里文化节\n\n北下关街道举办邻里文化节，开展书画展、包饺子等活动，居民参与热情高涨。\n\n", FOOTER, {},
     [(None, "甘家口街道开展文明养犬宣传", None, "海淀区"), (None, "北下关街道举办邻里文化节", None, "海淀区")],
     {0: "共登记犬只120只。"}, []),
    ("numbered-headline-on-body-line", CITY,
     "一、丰台区开展文明交通宣传。丰台区组织志愿者在重点路口开展文明交通引导，累计服务1.2万人次。\n\n"
     "二、石景山区推进垃圾分类。石景山区新建垃圾分类驿站二十个，居民分类准确率达到85%。\n\n", FOOTER, {"columns": []},
     [(None, "丰台区开展文明交通宣传", None, "丰台区"), (None, "石景山区推进垃圾分类", None, "石景山区")],
     {1: "准确率达到85%。"}, []),
    ("hard-wrapped-lines", HAIDIAN,
     "【工作动态】\n中关村街道推进文明社区建设\n中关村街道以创建全国文明城区为契机，组织社区党组织、物业企\n"
     "业和志愿者开展楼院环境整治，清理楼道堆物、规范非机动车停放，\n共整治楼院四十余个，居民满意度达到96.5%。\n"
     "同时，街道建立问题台账，对居民反映的停车难、垃圾清运不及时\n等问题逐项销账，已解决问题一百二十余件。\n"
     "（中关村街道）\n万寿路街道开展文明家庭评选\n万寿路街道组织开展文明家庭评选活动，经社区推荐、居民投票，\n"
     "共评出文明家庭五十户，并在社区宣传栏集中展示先进事迹。\n（万寿路街道）\n", FOOTER, {},
     [("工作动态", "中关村街道推进文明社区建设", "中关村街道", "海淀区"),
      ("工作动态", "万寿路街道开展文明家庭评选", "万寿路街道", "海淀区")], {0: "组织社区党组织、物业企业和志愿者"}, []),
    ("letter-spaced-title-and-total", "文 明 创 建 简 报\n2023年第3期（总第156期）\n海淀区精神文明建设委员会办公室\n2023年3月15日\n\n",
     "**八里庄街道开展文明劝导**\n\n八里庄街道组织志愿者开展文明劝导。\n\n（八里庄街道）\n\n", FOOTER,
     {"series": "文明创建简报", "issue": 3, "total": 156, "office": "海淀区精神文明建设委员会办公室"},
     [(None, "八里庄街道开展文明劝导", "八里庄街道", "海淀区")], {}, []),
]


def article_text(bulletin: Bulletin) -> str:
    """Every article's column, headline, body and source, joined."""
    return "\n".join(f"{a.column or ''}{a.headline}{a.body}{a.source or ''}" for a in bulletin.articles)


def dropped(region: str, bulletin: Bulletin) -> str:
    """CJK characters of the article region (layout markers aside) that no article holds."""
    expected = Counter(CJK_RE.findall(LAYOUT_RE.sub("", re.sub(r"<[^<>]*>|&\w+;", "", region))))
    return "".join(sorted(expected - Counter(CJK_RE.findall(article_text(bulletin)))))


@pytest.mark.parametrize(("header", "body", "footer", "fields", "articles", "bodies", "absent"),
                         [case[1:] for case in VARIANTS], ids=[case[0] for case in VARIANTS])
def test_variant(header: str, body: str, footer: str, fields: dict[str, Any], articles: list[tuple[Any, ...]],
                 bodies: dict[int, str], absent: list[str]) -> None:
    bulletin = parse_text(header + body + footer, FILE)
    for name, value in fields.items():
        assert getattr(bulletin, name) == value, name
    assert [(a.column, a.headline, a.source, a.district) for a in bulletin.articles] == articles
    assert not dropped(body, bulletin)
    for index, text in bodies.items():
        assert text in bulletin.articles[index].body
    for text in absent:
        assert all(text not in a.body + a.headline for a in bulletin.articles), text


@pytest.mark.parametrize(("text", "district"), [("海淀文明办", "海淀区"), ("通州融媒", "通州区"), ("石景山宣传部", "石景山区"),
                                                ("朝阳门街道", None), ("朝阳文明办", "朝阳区"), ("密云水库", None), (None, None)])
def test_short_district_of(text: str | None, district: str | None) -> None:
    assert short_district_of(text) == district


@pytest.mark.parametrize("case", VARIANTS, ids=[case[0] for case in VARIANTS])
def test_variant_survives_one_line_and_crlf(case: tuple[Any, ...]) -> None:
    """The same bulletins with Windows line ends, or run together on one line, still keep every article character."""
    header, body, footer = case[1:4]
    for text in ((header + body + footer).replace("\n", "\r\n"), (header + body + footer).replace("\n", " ")):
        assert not dropped(body, parse_text(text, FILE))
