"""Readers: every supported format and encoding from files written here, and every failure as ReadError."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from index.readers import SUPPORTED_SUFFIXES, ReadError, read_document, read_text

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
    assert SUPPORTED_SUFFIXES == {".txt", ".md", ".docx", ".pdf", ".html", ".htm", ".doc", ".wps"}


# ---------------------------------------------------------------- lenient decoding

PINYIN = "文明（wénmíng）城市创建简报，第三期：lǜsè shēnghuó，nǚ zhìyuànzhě。\n" * 3


@pytest.mark.parametrize(("data", "text", "replaced"), [
    # UTF-8 cut in the middle of its last character
    (TEXT.encode("utf-8") + "报".encode("utf-8")[:2], TEXT + "\ufffd", 1),
    # a converter already wrote U+FFFD into the file
    ((TEXT + "\ufffd").encode("utf-8"), TEXT + "\ufffd", 1),
    # one bad byte inside UTF-8 text
    (TEXT.encode("utf-8").replace(b"\n\n", b"\n\xff\n", 1), None, 1),
    # tone-marked pinyin is text, not a wrong decoding
    (PINYIN.encode("utf-8"), PINYIN, 0),
    (PINYIN.encode("gb18030"), PINYIN, 0),
    # bopomofo annotations (注音) are text too
    (("文(ㄨㄣˊ)明(ㄇㄧㄥˊ)簡(ㄐㄧㄢˇ)報(ㄅㄠˋ)\n" * 3).encode("utf-8"), "文(ㄨㄣˊ)明(ㄇㄧㄥˊ)簡(ㄐㄧㄢˇ)報(ㄅㄠˋ)\n" * 3, 0),
    # GBK text with two bytes that are not GBK
    ((TEXT * 5).encode("gbk") + b"\xff\xff" + TEXT.encode("gbk"), None, 2),
])
def test_damaged_text_is_decoded_with_a_count(tmp_path: Path, data: bytes, text: str | None, replaced: int) -> None:
    path = tmp_path / "damaged.txt"
    path.write_bytes(data)
    document = read_document(path)
    assert document.replaced == replaced
    assert document.text.count("\ufffd") == replaced
    if text is not None:
        assert document.text == text
    assert text is not None or "首都精神文明建设情况简报" in document.text and "石景山区开展" in document.text
    assert document.notes == [f"{replaced} undecodable character(s) replaced by U+FFFD"] if replaced else not document.notes


GBK_TEXT = "延庆区民政局（区委社会工委）全系统、多方位、深层次助力创城。\n第 38 期\n"


@pytest.mark.parametrize(("data", "replaced"), [
    (GBK_TEXT.encode("gbk") * 3 + b"\xff" + GBK_TEXT.encode("gbk"), 1),
    (GBK_TEXT.encode("gbk") * 3 + b"\x80" + GBK_TEXT.encode("gbk"), 1),
    (GBK_TEXT.encode("gbk") * 4 + "城".encode("gbk")[:1], 1),
])
def test_gbk_with_bad_bytes_is_never_mojibake(tmp_path: Path, data: bytes, replaced: int) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(data)
    document = read_document(path)
    assert document.text.replace("\ufffd", "") == GBK_TEXT * 4 and document.replaced == replaced


def test_mostly_undecodable_text_is_still_binary(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(TEXT.encode("utf-8") + os.urandom(600))
    with pytest.raises(ReadError, match="binary data"):
        read_text(path)


def test_html_with_a_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes("<p>首都精神文明建设情况简报</p><p>延庆区民政局助力创城。</p>".encode() + b"\xe5\x88")
    document = read_document(path)
    assert document.replaced == 1 and "延庆区民政局助力创城。" in document.text


# ---------------------------------------------------------------- legacy Word through LibreOffice

DOC_LINES = ["文明创建工作简报", "第 7 期", "朝阳区文明办编印 2016年3月1日", "【工作动态】",
             "麦子店街道开展环境整治", "麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。", "（麦子店街道）"]


def write_doc(folder: Path, program: str, lines: list[str] = DOC_LINES) -> Path:
    """A Word 97-2003 .doc written by LibreOffice from a .docx made with python-docx."""
    import subprocess

    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    source = folder / "made.docx"
    document.save(str(source))
    subprocess.run([program, f"-env:UserInstallation={(folder / 'lo-profile').as_uri()}", "--headless",
                    "--convert-to", "doc:MS Word 97", "--outdir", str(folder), str(source)],
                   check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(folder)})
    converted = folder / "made.doc"
    assert converted.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1"), "not an OLE2 Word 97 file"
    return converted


def test_doc_is_read_through_libreoffice(tmp_path: Path, libreoffice: str) -> None:
    path = write_doc(tmp_path, libreoffice)
    document = read_document(path)
    assert [line for line in document.text.split("\n") if line] == DOC_LINES
    assert document.notes == ["converted from Word 97-2003 by LibreOffice"]
    assert not list(tmp_path.glob("bulletins-lo-*"))


def test_wps_is_read_when_libreoffice_reads_it(tmp_path: Path, libreoffice: str) -> None:
    path = tmp_path / "bulletin.wps"
    path.write_bytes(write_doc(tmp_path, libreoffice).read_bytes())
    assert "麦子店街道开展环境整治" in read_text(path)


def test_damaged_doc_is_a_read_error(tmp_path: Path, libreoffice: str) -> None:
    path = tmp_path / "broken.doc"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + os.urandom(2048))
    with pytest.raises(ReadError, match="LibreOffice could not convert it"):
        read_text(path)


@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_doc_without_libreoffice_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      suffix: str) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    path = tmp_path / f"bulletin{suffix}"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 512)
    with pytest.raises(ReadError, match="install libreoffice-writer"):
        read_text(path)


# ---------------------------------------------------------------- scanned PDFs through Tesseract

SCAN_LINES = ["文明创建工作简报", "第 5 期", "海淀区文明办  2023年3月15日", "学院路街道开展环境整治",
              "学院路街道组织志愿者清理楼道堆物，共清理杂物三吨。"]


def write_scan(path: Path, font: Path, lines: list[str] = SCAN_LINES) -> Path:
    """A PDF that is only an image: the lines rendered with a CJK font, as a scanner would give them."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (2480, 1200), 255)
    draw = ImageDraw.Draw(image)
    typeface = ImageFont.truetype(str(font), 64)
    for number, line in enumerate(lines):
        draw.text((160, 120 + 150 * number), line, font=typeface, fill=0)
    image.save(path, "PDF", resolution=300.0)
    return path


def test_scanned_pdf_is_read_by_ocr(tmp_path: Path, tesseract: None, cjk_font: Path) -> None:
    path = write_scan(tmp_path / "scan.pdf", cjk_font)
    import difflib

    document = read_document(path)
    text = document.text.replace(" ", "")
    for line in SCAN_LINES[:4]:
        assert line.replace(" ", "") in text
    expected = "".join(SCAN_LINES).replace(" ", "")
    matcher = difflib.SequenceMatcher(None, expected, text.replace("\n", ""), autojunk=False)
    assert matcher.ratio() >= 0.95, text
    assert document.notes == ["1 scanned page(s) read by OCR (Tesseract chi_sim)"]


def test_scanned_pdf_without_tesseract_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 200, 200, fill=1)
    pdf.showPage()
    pdf.save()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ReadError, match="scanned PDF: install tesseract-ocr-chi-sim to read it"):
        read_text(path)


def test_doc_that_is_really_rtf(tmp_path: Path, libreoffice: str) -> None:
    """Many sites serve RTF (or HTML) under a .doc name: LibreOffice reads those too."""
    path = tmp_path / "bulletin.doc"
    escaped = "".join(f"\\u{ord(char)}?" for char in "文明创建工作简报")
    path.write_text("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 SimSun;}}\\f0 " + escaped + "\\par 2016\\par}", encoding="ascii")
    assert read_text(path).split() == ["文明创建工作简报", "2016"]


def mixed_pdf(tmp_path: Path, font: Path) -> Path:
    """A PDF whose first page has a text layer and whose second is a scan."""
    from pypdf import PdfWriter

    text_page, scan_page = tmp_path / "text.pdf", tmp_path / "scan.pdf"
    write_pdf(text_page, [["首都精神文明建设情况简报", "第 38 期"]])
    write_scan(scan_page, font, ["学院路街道开展环境整治"])
    writer = PdfWriter()
    for part in (text_page, scan_page):
        writer.append(str(part))
    target = tmp_path / "mixed.pdf"
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def test_only_pages_without_text_are_read_by_ocr(tmp_path: Path, tesseract: None, cjk_font: Path) -> None:
    document = read_document(mixed_pdf(tmp_path, cjk_font))
    first, second = document.text.split("\n\n", 1)
    assert first == "首都精神文明建设情况简报\n第 38 期"
    assert "学院路街道开展环境整治" in second.replace(" ", "")
    assert document.notes == ["1 scanned page(s) read by OCR (Tesseract chi_sim)"]


def test_scanned_pages_without_tesseract_are_noted(tmp_path: Path, cjk_font: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = mixed_pdf(tmp_path, cjk_font)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    document = read_document(path)
    assert document.text == "首都精神文明建设情况简报\n第 38 期"
    assert document.notes == ["1 scanned page(s) not read: install tesseract-ocr-chi-sim"]
