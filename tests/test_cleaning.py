"""The cleaning stage: one table per kind of damage, each with cases that must stay untouched."""

from __future__ import annotations

import pytest

from index.cleaning import (
    clean_text,
    close_cjk_spacing,
    close_letter_spacing,
    decode_entities,
    drop_inline_page_markers,
    drop_breadcrumbs,
    drop_page_furniture,
    drop_posting_lines,
    is_furniture,
    is_posting_line,
    join_spaced_digits,
    strip_pinyin_annotations,
    undouble_bold_text,
    unify_digit_width,
)


@pytest.mark.parametrize(("raw", "clean"), [
    ("延庆区&nbsp;组织志愿者", "延庆区 组织志愿者"),
    ("自身。&nbsp;", "自身。 "),
    ("R&amp;D 中心", "R&D 中心"),
    ("&#12288;&#12288;近日，", "\u3000\u3000近日，"),
    ("&#x3000;正文", "\u3000正文"),
    ("&lt;工作动态&gt;", "<工作动态>"),
    ("R&D 与 AT&T", "R&D 与 AT&T"),
    ("&copy 没有分号", "&copy 没有分号"),
    ("nbsp;&nbsp;正文", "  正文"),
    ("没有实体的文字", "没有实体的文字"),
])
def test_decode_entities(raw: str, clean: str) -> None:
    assert decode_entities(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("文(wén)明(míng)簡(jiǎn)報(bào)", "文明簡報"),
    ("創(chuàng)文簡(jiǎn)報(bào)\n第九期", "創文簡報\n第九期"),
    ("文（wén）明（míng）创（chuàng）建（jiàn）", "文明创建"),
    ("文(wen2)明(ming2)建(jian4)设(she4)", "文明建设"),
    ("我(wǒ)們(men)的(de)城(chéng)市(shì)", "我們的城市"),
    ("協(xié)會(huì)會(huì)長(zhǎ", "協會會長"),
    ("国内生产总值(GDP)增长", "国内生产总值(GDP)增长"),
    ("附件(a)和附件(b)", "附件(a)和附件(b)"),
    ("一个(de)字", "一个(de)字"),
    ("没有注音的文字", "没有注音的文字"),
    ("文(ㄨㄣˊ)明(ㄇㄧㄥˊ)簡(ㄐㄧㄢˇ)報(ㄅㄠˋ)", "文明簡報"),
    ("注音符号（ㄅㄆㄇ）", "注音符号（ㄅㄆㄇ）"),
])
def test_strip_pinyin_annotations(raw: str, clean: str) -> None:
    assert strip_pinyin_annotations(raw) == clean


@pytest.mark.parametrize("line", [
    "上传人:大*** 文档编号:149742536 上传时间:2020-10-29 格式:PDF 页数:8 大小:354.86KB",
    "返回 下载 相关 举报",
    "下载 相关 举报",
    "清华-疫情海外信息专报117-2020.8-8页-WN9_第1页",
    "第1页 / 共8页",
    "点击查看更多>>",
    "资源描述",
    "《清华-疫情海外信息专报117》由会员分享,可在线阅读,更多相关《清华》请在金锄头文库上搜索。",
    "亲,该文档总共16页,全部预览完了,如果喜欢就下载吧!",
    "全文预览已结束",
    "版权说明:本文档由用户提供并上传,收益归属内容提供方",
    "https://www.example.gov.cn/xwzx/2016/0301/123.html",
    "当前位置:首页 > 新闻中心 > 工作动态",
    "首页> 两纲 > 两纲通讯",
    "首 页 >> 决策参考 >> 正文",
    "发布时间:2016-03-01 10:00",
    "2017-04-10 14:05:58 来源:中国初级卫生保健",
    "来源:区文明办 作者:张三 时间:2016-03-01",
    "浏览次数:590",
    "字号:【大 中 小】",
    "【打印】【关闭】",
    "- 3 -",
    "第 2 页 共 4 页",
    "第3页",
    "2/4",
])
def test_furniture_lines(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize("line", [
    "来源：清河街道",
    "（来源：区文明办）",
    "首都精神文明建设情况简报",
    "第 38 期",
    "2020 年 8 月 4 日",
    "近日，区文明办组织志愿者开展垃圾分类宣传，共发放资料3000份。",
    "一、工作动态",
    "第一页码说明不是页码",
    "下载中心开展培训",
])
def test_bulletin_lines_are_not_furniture(line: str) -> None:
    assert not is_furniture(line)


@pytest.mark.parametrize(("line", "posting"), [
    ("编辑：李老师    发布时间：2015-11-02    阅读：", True),
    ("发布者：系统管理员 发表时间：[2019-05-10 10:00] 浏览次数：320", True),
    ("作者：王涛 来源：校团委 点击数：56 更新时间：2012-3-8", True),
    ("发布日期：2020年4月3日 9:30 阅读次数：1024", True),
    ("阅读量：88", True),
    ("更新时间：2012-3-8 阅读：12次", True),
    ("阅读：《平凡的世界》", False),
    ("浏览：北京胡同的故事", False),
    ("字号 大 中 小 | 打印本页 | 关闭窗口", True),
    ("【字体：大 中 小】【打印本页】【关闭窗口】", True),
    ("分享到：", True),
    ("编辑：张明", False),
    ("来源：清河街道", False),
    ("作者：李华 来源：区文明办", False),
    ("编辑：张明　校对：李华", False),
    ("本期编辑：张明 电话：84562233", False),
    ("点击率大幅提高，阅读推广活动深受欢迎。", False),
    ("区图书馆开展全民阅读活动", False),
    ("县文明办发布时间表", False),
])
def test_is_posting_line(line: str, posting: bool) -> None:
    assert is_posting_line(line) is posting


def test_drop_posting_lines_keeps_the_bulletin() -> None:
    page = "社区工作简报第6期\n编辑：网站管理员  发表时间：[2015-11-02]  阅读：\n麦子店街道办事处编印 2015年10月30日\n编辑：张明"
    assert drop_posting_lines(page) == "社区工作简报第6期\n麦子店街道办事处编印 2015年10月30日\n编辑：张明"


@pytest.mark.parametrize(("raw", "clean"), [
    ("信息公开\n当前位置：首页 >> 信息公开 >> 正文\n社区工作简报第6期", "社区工作简报第6期"),
    ("您的位置：首页 > 工作动态 > 简报\n\n工作动态\n朝阳区文明创建简报", "\n朝阳区文明创建简报"),
    ("首 页 ＞ 政务公开 ＞ 工作简报\n朝阳区文明创建简报\n第5期", "朝阳区文明创建简报\n第5期"),
    ("首页> 两纲 > 简报\n国务院妇儿工委简报第1期\n区妇联开展两纲宣传\n正文提到两纲。", "国务院妇儿工委简报第1期\n区妇联开展两纲宣传\n正文提到两纲。"),
    ("当前位置：首页 > 信息公开\n朝阳区文明创建简报\n第5期\n信息公开\n正文。", "朝阳区文明创建简报\n第5期\n信息公开\n正文。"),
    ("决策参考\n朝阳区文明创建简报", "决策参考\n朝阳区文明创建简报"),
])
def test_drop_breadcrumbs(raw: str, clean: str) -> None:
    assert drop_breadcrumbs(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("宣传垃圾分类知识。第2页 共4页 居民参与热情高涨。", "宣传垃圾分类知识。 居民参与热情高涨。"),
    ("宣传垃圾分类知识。 第 2 页 / 共 4 页居民参与", "宣传垃圾分类知识。 居民参与"),
    ("共4页第2页", " "),
    ("全书共4页，第2页有插图", "全书共4页，第2页有插图"),
    ("第2页", "第2页"),
])
def test_drop_inline_page_markers(raw: str, clean: str) -> None:
    assert drop_inline_page_markers(raw) == clean


def test_document_sharing_page_is_unwrapped() -> None:
    page = ("简报第3期-2016-4页\n上传人:张** 文档编号:123 上传时间:2020-10-29 格式:DOC 页数:4 大小:30KB\n"
            "返回 下载 相关 举报\n简报第3期-2016-4页_第1页\n第1页 / 共4页\n资源描述\n"
            "1、 文明简报 第3期 区文明办 2016年3月1日 近日，区文明办组织\n\n2、志愿者开展宣传。")
    assert drop_page_furniture(page) == "文明简报 第3期 区文明办 2016年3月1日 近日，区文明办组织志愿者开展宣传。"


def test_numbered_lines_of_an_ordinary_bulletin_are_kept() -> None:
    text = "1、学雷锋活动\n2、垃圾分类\n正文。"
    assert drop_page_furniture(text) == text


@pytest.mark.parametrize(("raw", "clean"), [
    ("2 0 1 6 年 3 月 1 日", "2016 年 3 月 1 日"),
    ("第 1 2 期", "第12 期"),
    ("第 3 期", "第 3 期"),
    ("2012 年 5 月 9 日", "2012 年 5 月 9 日"),
    ("（总第 2 1 4 7 期）", "（总第2147 期）"),
    ("共有 1 2 3 人", "共有 1 2 3 人"),
    ("比分 3 2", "比分 3 2"),
])
def test_join_spaced_digits(raw: str, clean: str) -> None:
    assert join_spaced_digits(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("2０2０年8月4日", "2020年8月4日"),
    ("第3８期", "第38期"),
    ("３月份产销", "３月份产销"),
    ("２０２０年", "２０２０年"),
    ("2020年", "2020年"),
])
def test_unify_digit_width(raw: str, clean: str) -> None:
    assert unify_digit_width(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("疫情海外信息专报疫情海外信息专报 (2020 年年 8 月月 5 日日)", "疫情海外信息专报 (2020 年 8 月 5 日)"),
    ("2020年年8月月5日日 发文称近期美方声明亟待完善发文称近期美方声明亟待完善", "2020年8月5日 发文称近期美方声明亟待完善"),
    ("博鳌亚洲论坛2023年年会准备就绪", "博鳌亚洲论坛2023年年会准备就绪"),
    ("谢谢谢谢大家大家", "谢谢谢谢大家大家"),
])
def test_undouble_bold_text(raw: str, clean: str) -> None:
    assert undouble_bold_text(raw) == clean


@pytest.mark.parametrize(("raw", "clean"), [
    ("文 明 创 建 简 报", "文明创建简报"),
    ("近 日 ， 区 文 明 办", "近日，区文明办"),
    ("2020 年", "2020 年"),
    ("GDP 增长", "GDP 增长"),
])
def test_close_cjk_spacing(raw: str, clean: str) -> None:
    assert close_cjk_spacing(raw) == clean


SPACED = "文 明 创 建 简 报\n第 5 期\n近 日 ， 区 文 明 办 组 织 志 愿 者 开 展 垃 圾 分 类 宣 传 。"


@pytest.mark.parametrize(("raw", "clean"), [
    (SPACED, "文明创建简报\n第 5 期\n近日，区文明办组织志愿者开展垃圾分类宣传。"),
    ("共护一江水 万里长江焕发新活力\n近日，区文明办组织志愿者开展垃圾分类宣传。", None),
    ("文 明 创 建", None),
])
def test_close_letter_spacing(raw: str, clean: str | None) -> None:
    assert close_letter_spacing(raw) == (raw if clean is None else clean)


def test_clean_text_leaves_clean_text_alone() -> None:
    text = "首都精神文明建设情况简报\n第 38 期\n（总第 2147 期）\n2020 年 8 月 4 日\n【文明创建】\n正文（朝阳区文明办）"
    assert clean_text(text) == text


def test_clean_text_can_keep_entities() -> None:
    assert clean_text("自身。&nbsp;", entities=False) == "自身。&nbsp;"
    assert clean_text("自身。&nbsp;") == "自身。 "
