"""A small corpus for the staff workflows (themes, matrix, related, within, feed, 汇编), and its theme table.

It has an exact duplicate (the same article in two bulletins), an undated bulletin, a district outside the
16, and text that needs escaping in XML and HTML.
"""

from __future__ import annotations

from pathlib import Path

from index.model import Article, Bulletin
from index.writer import write_bulletins

SORTING = ("海淀区全面推进生活垃圾分类",
           "海淀区召开垃圾分类推进会，要求各街道做好厨余垃圾分类投放，志愿者在桶前值守，引导居民分类投放。\n"
           "垃圾分类工作纳入社区考核。")

WORKFLOW = {
    "w1": Bulletin(file="w1.txt", series="首都精神文明建设情况简报", issue=5, total=1005, office="首都精神文明办",
                   date="2020-03-15", articles=[
        Article("工作动态", *SORTING, "海淀区城管委", "海淀区"),
        Article("工作动态", "朝阳区倡导文明养犬",
                "朝阳区开展文明养犬宣传月活动，提醒居民遛狗牵绳，及时清理犬只粪便。", "朝阳区文明办", "朝阳区"),
        Article("志愿服务", "朝阳区志愿者服务冬奥会",
                "朝阳区组织志愿者参与冬奥会城市志愿服务，在站点开展文明引导。", "朝阳区文明办", "朝阳区"),
    ]),
    "w2": Bulletin(file="w2.txt", series="首都精神文明建设情况简报", issue=12, total=1012, date="2021-06-01", articles=[
        Article("工作动态", "首都文明办部署冬奥会志愿服务",
                "为做好北京冬季奥林匹克运动会服务保障，全市志愿者开展“礼让斑马线”行动。", "首都文明办", None),
        Article("基层风采", "西城区“礼让斑马线”<行动> & 文明交通",
                "西城区开展文明交通宣传，倡导礼让斑马线，<b>不闯红灯</b> & 文明出行。", "西城区委宣传部", "西城区"),
        Article("工作动态", "东城区垃圾分类示范小区验收",
                "东城区对垃圾分类示范小区进行验收，厨余垃圾分出率明显提高，居民分类投放习惯养成。",
                "东城区城管委", "东城区"),
    ]),
    "w3": Bulletin(file="w3.txt", series="首都精神文明建设情况简报", issue=30, total=1030, date="2021-11-20", articles=[
        Article("工作动态", *SORTING, "海淀区城管委", "海淀区"),
        Article("工作动态", "经开区推进垃圾分类进企业",
                "北京经济技术开发区推动垃圾分类进企业、进园区，企业员工参与分类投放。", "经开区社会事业局",
                "经开区"),
        Article("工作动态", "海淀区召开冬奥城市运行会议", "海淀区部署冬奥期间城市运行保障工作。", "海淀区政府",
                "海淀区"),
    ]),
    "w4": Bulletin(file="w4.txt", series="文明简报", issue=9, date=None, articles=[
        Article(None, "丰台区文明实践中心揭牌", "丰台区新时代文明实践中心揭牌成立，志愿服务队同时成立。",
                None, "丰台区"),
    ]),
}

#: A theme table for WORKFLOW, in the bundled file's format.
THEMES_CSV = """主题,关键词,同义词
# comment lines are skipped
垃圾分类,垃圾分类、厨余垃圾,分类投放
志愿服务,志愿服务、志愿者,
文明养犬,文明养犬、遛狗牵绳,犬只
冬奥会,冬奥会、冬季奥林匹克,冬奥
文明交通,礼让斑马线、文明交通,
控烟,控烟,禁烟
"""


def build_workflow_index(root: Path) -> Path:
    """WORKFLOW written into a new live generation under `root`."""
    write_bulletins(root, WORKFLOW)
    return root


def write_themes(path: Path, text: str = THEMES_CSV) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
