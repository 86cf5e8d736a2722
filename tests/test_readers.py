"""Readers: every supported format and encoding from files written here, and every failure as ReadError."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from index.readers import SUPPORTED_SUFFIXES, ReadError, read_text

TEXT = "首都精神文明建设情况简报\n\n第 38 期\n\n【文明创建】\n\n石景山区开展“五落实”活动，共 16 个党组织参与。\n"


@pytest.mark.parametrize(("encoding", "prefix"), [
    ("utf-8", b""),
    ("utf-8", b"\xef\xbb\xbf"),
    ("gb18030", b""),
    ("gbk", b""),
    ("utf-16", b""),
    ("utf-16-le", b""),
    ("utf-16-be", b""),
    ("utf-16-le", b"\xff\xfe"),
])
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_plain_text_encodings(tmp_path: Path, encoding: str, prefix: bytes, suffix: str) -> None:
    path = tmp_path / f"bulletin{suffix}"
    path.write_bytes(prefix + TEXT.encode(encoding))
    assert read_text(path) == TEXT


def test_gbk_is_never_decoded_as_mojibake(tmp_path: Path) -> None:
    text = "延庆区民政局（区委社会工委）全系统、多方位、深层次助力创城。" * 3
    path = tmp_path / "gbk.txt"
    path.write_bytes(text.encode("gbk"))
    assert read_text(path) == text


def test_docx_paragraphs_and_table_cells_in_order(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("首都精神文明建设情况简报")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "责编:梅雪峰"
    table.cell(0, 1).text = "核稿:田文松"
    document.add_paragraph("正文最后一段。")
    path = tmp_path / "bulletin.docx"
    document.save(str(path))
    lines = [line for line in read_text(path).split("\n") if line]
    assert lines == ["首都精神文明建设情况简报", "责编:梅雪峰", "核稿:田文松", "正文最后一段。"]


def write_pdf(path: Path, pages: list[list[str]]) -> None:
    """Write a PDF with a Chinese text layer (reportlab's STSong-Light CID font), one list of lines per page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    for lines in pages:
        pdf.setFont("STSong-Light", 12)
        for number, line in enumerate(lines):
            pdf.drawString(72, 760 - 20 * number, line)
        pdf.showPage()
    pdf.save()


def test_pdf_pages_joined_by_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "bulletin.pdf"
    write_pdf(path, [["首都精神文明建设情况简报", "第 38 期"], ["一批同志走上重要工作岗位。"]])
    assert read_text(path) == "首都精神文明建设情况简报\n第 38 期\n\n一批同志走上重要工作岗位。"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 200, 200, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(ReadError, match="no text layer"):
        read_text(path)


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_visible_text_with_blocks(tmp_path: Path, suffix: str) -> None:
    page = ("<html><head><title>标题不要</title><style>p{color:red}</style></head><body>"
            "<script>var x = '脚本不要';</script><h1>首都精神文明建设情况简报</h1>"
            "<p>第一段<b>加粗</b>文字。</p><div>第二段<br>换行</div></body></html>")
    path = tmp_path / f"bulletin{suffix}"
    path.write_text(page, encoding="utf-8")
    lines = [line for line in read_text(path).split("\n") if line]
    assert lines == ["首都精神文明建设情况简报", "第一段加粗文字。", "第二段", "换行"]


def test_html_in_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "bulletin.html"
    path.write_bytes("<p>首都精神文明建设情况简报</p><p>延庆区民政局助力创城。</p>".encode("gb18030"))
    assert read_text(path) == "首都精神文明建设情况简报\n\n延庆区民政局助力创城。"


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("random.docx", os.urandom(2048), "not a valid .docx"),
    ("random.pdf", os.urandom(2048), "not a valid .pdf"),
    ("fake.pdf", b"%PDF-1.4\n" + os.urandom(512), "not a valid .pdf"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n\t", "empty file"),
    ("binary.txt", bytes(range(256)) * 8, "binary data"),
    ("random.txt", os.urandom(4096), "binary data"),
    ("binary.html", b"\x00\x01\x02\x03" * 300, "binary data"),
    ("sheet.xls", "首都".encode(), "unsupported file type"),
    ("no_suffix", "首都".encode(), "unsupported file type"),
])
def test_unreadable_files_raise_read_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=reason) as caught:
        read_text(path)
    assert caught.value.path == path and name in str(caught.value) and reason in caught.value.reason


def test_docx_zip_without_document(tmp_path: Path) -> None:
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    with pytest.raises(ReadError, match="hollow.docx"):
        read_text(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="cannot open"):
        read_text(tmp_path / "missing.txt")


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".docx", ".pdf", ".html", ".htm"}
