"""The 汇编 (compilation) of a search as a Word document: title, conditions, table of contents, articles.

python-docx writes it. The table of contents is a real TOC field whose result is already filled in (each
entry a link to its article's bookmark), so it reads correctly in any program, and Word can refresh it
with page numbers (F9). Each article is a level-1 heading, a line with its date, district, column, source
and bulletin (series, 期, 总期), then its paragraphs, in the order given. Fonts: 宋体 text and 黑体
headings for Chinese, which Word and LibreOffice map to what the machine has.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.paragraph import Paragraph

from webui.feed import bulletin_label

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Characters XML 1.0 cannot hold (control characters but tab and line breaks, surrogates, U+FFFE/FFFF):
#: a query or a damaged text may carry them, and python-docx refuses them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: Any) -> Any:
    """`value` with the characters XML cannot hold removed (strings only; anything else as it is)."""
    return NOT_XML.sub("", value) if isinstance(value, str) else value


def _east_asian(style: Any, font: str, size: float | None = None, bold: bool | None = None) -> None:
    """Give a style a Chinese font (w:eastAsia), and optionally a size and weight."""
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold


def _chinese(style: Any) -> None:
    """Mark a style's text as Simplified Chinese, so programs pick the SC forms of their CJK fonts."""
    rpr = style.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    rpr.insert_element_before(lang, "w:eastAsianLayout", "w:specVanish", "w:oMath")


def _field_run(paragraph: Paragraph, kind: str) -> None:
    """Append a complex-field character run (begin, separate or end)."""
    run = paragraph.add_run()
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._r.append(char)


def _instruction(paragraph: Paragraph, text: str) -> None:
    run = paragraph.add_run()
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = text
    run._r.append(instruction)


def _link(paragraph: Paragraph, anchor: str, text: str) -> None:
    """Append text linked to a bookmark of this document."""
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    link.set(qn("w:history"), "1")
    run = OxmlElement("w:r")
    text_element = OxmlElement("w:t")
    text_element.set(qn("xml:space"), "preserve")
    text_element.text = text
    run.append(text_element)
    link.append(run)
    paragraph._p.append(link)


def _bookmark(paragraph: Paragraph, number: int, name: str) -> None:
    """Put a bookmark around the paragraph's content."""
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _style(document: Any, name: str, fallback: str = "Normal") -> Any:
    try:
        return document.styles[name]
    except KeyError:
        return document.styles[fallback]


def heading_text(number: int, article: dict[str, Any]) -> str:
    return f"{number}. {article.get('headline') or '（无标题）'}"


def meta_text(article: dict[str, Any]) -> str:
    """The line under an article's heading: 日期, 区, 栏目, 来源, 简报."""
    parts = [("日期", article.get("date")), ("区", article.get("district")), ("栏目", article.get("column")),
             ("来源", article.get("source")), ("简报", bulletin_label(article))]
    return "　".join(f"{label}：{value}" for label, value in parts if value)


def compile_docx(articles: Sequence[dict[str, Any]], title: str, conditions: Sequence[str], summary: str,
                 generated: date, author: str) -> bytes:
    """The document (bytes of a .docx) of `articles` in this order (each as `Engine.article_record` gives it)."""
    articles = [{key: xml_safe(value) for key, value in article.items()} for article in articles]
    title, summary, author = xml_safe(title), xml_safe(summary), xml_safe(author)
    conditions = [xml_safe(line) for line in conditions]
    document = Document()
    _east_asian(document.styles["Normal"], BODY_FONT, 12)
    _chinese(document.styles["Normal"])
    for name in ("Title", "Heading 1", "TOC Heading"):
        _east_asian(_style(document, name), HEADING_FONT)
    document.core_properties.title = title
    document.core_properties.author = author
    document.core_properties.subject = "；".join(conditions)

    document.add_paragraph(title, style=_style(document, "Title"))
    for line in [*conditions, f"生成日期：{generated.year}年{generated.month}月{generated.day}日", summary]:
        document.add_paragraph(line)

    document.add_paragraph("目录", style=_style(document, "TOC Heading"))
    entry_style = _style(document, "toc 1")
    for number, article in enumerate(articles, 1):
        entry = document.add_paragraph(style=entry_style)
        if number == 1:
            _field_run(entry, "begin")
            _instruction(entry, ' TOC \\o "1-1" \\h \\z \\u ')
            _field_run(entry, "separate")
        _link(entry, f"_Toc{number:06d}", heading_text(number, article))
        if number == len(articles):
            _field_run(entry, "end")
    if not articles:
        document.add_paragraph("（没有文章）")

    for number, article in enumerate(articles, 1):
        heading = document.add_heading(heading_text(number, article), level=1)
        _bookmark(heading, number, f"_Toc{number:06d}")
        meta = document.add_paragraph()
        meta_run = meta.add_run(meta_text(article))
        meta_run.font.size = Pt(10.5)
        meta_run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        for line in (article.get("body") or "").split("\n"):
            if line.strip():
                paragraph = document.add_paragraph(line.strip())
                paragraph.paragraph_format.first_line_indent = Pt(24)

    footer = document.sections[0].footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field_run(footer, "begin")
    _instruction(footer, " PAGE ")
    _field_run(footer, "separate")
    footer.add_run("1")
    _field_run(footer, "end")

    output = io.BytesIO()
    document.save(output)
    return output.getvalue()
