"""Ingestion end to end: `bulletins parse` and `build` on a .doc, a scanned PDF and a converter-damaged
traditional file, the replaced-character count reported, and damaged text still found by a search."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.engine import Engine
from search.request import SearchRequest
from test_readers import DOC_LINES, write_doc, write_scan
from webui.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "realworld"
TRADITIONAL = "qingcheng-chuangwen-2014-09.txt"
DAMAGED = ("文明创建简报\n第5期\n朝阳区文明办\n2016年3月1日\n【工作动态】\n麦子店街道开展环境整治\n"
           "麦子店街道组织志愿者清理楼道堆物，共清理杂物2.3吨。\n（麦子店街道）\n").encode() + "报".encode()[:2]


def parse_json(*paths: Path) -> list[dict]:
    result = CliRunner().invoke(main, ["parse", "--json", *map(str, paths)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_parse_converter_damaged_traditional_file(tmp_path: Path) -> None:
    path = Path(shutil.copy(FIXTURES / TRADITIONAL, tmp_path / TRADITIONAL))
    [data] = parse_json(path)
    assert (data["issue"], data["total"], data["date"], data["office"]) == (9, 16, "2014-07-03", "清城區創建全國文明城市辦公室")
    assert data["series"] == "創文簡報"
    assert [a["headline"] for a in data["articles"]][0] == "市創文督查組對我區開展創文公益廣告宣傳實地檢查"
    assert all({"headline", "source"} <= set(article) for article in data["articles"])
    readable = CliRunner().invoke(main, ["parse", str(path)])
    assert "structure: bracketed columns" in readable.output and "(chuàng)" not in readable.output


def test_parse_reports_replaced_characters(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(DAMAGED)
    result = CliRunner().invoke(main, ["parse", str(path)])
    assert result.exit_code == 0, result.output
    assert "replaced characters: 1" in result.stdout
    assert f"note: {path}: 1 undecodable character(s) replaced by U+FFFD" in result.stderr
    [data] = parse_json(path)
    assert data["replaced"] == 1 and data["issue"] == 5 and data["articles"][0]["source"] == "麦子店街道"


def test_parse_doc(tmp_path: Path, libreoffice: str) -> None:
    [data] = parse_json(write_doc(tmp_path, libreoffice))
    assert (data["issue"], data["date"], data["office"]) == (7, "2016-03-01", "朝阳区文明办")
    assert [(a["column"], a["headline"], a["source"]) for a in data["articles"]] == [
        ("工作动态", DOC_LINES[4], "麦子店街道")]
    assert data["notes"] == ["converted from Word 97-2003 by LibreOffice"]


def test_parse_scanned_pdf(tmp_path: Path, tesseract: None, cjk_font: Path) -> None:
    [data] = parse_json(write_scan(tmp_path / "scan.pdf", cjk_font))
    assert (data["series"], data["issue"], data["date"], data["office"]) == (
        "文明创建工作简报", 5, "2023-03-15", "海淀区文明办")
    assert data["articles"][0]["headline"] == "学院路街道开展环境整治"


def test_build_notes_damage_and_indexes_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cut.txt").write_bytes(DAMAGED)
    shutil.copy(FIXTURES / TRADITIONAL, corpus / TRADITIONAL)
    (corpus / "plain.txt").write_text("没有任何结构的一段文字，只说了一件事情。\n第二行也没有结构。", encoding="utf-8")
    index = tmp_path / "index"
    result = CliRunner().invoke(main, ["build", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "note: corpus/cut.txt: 1 undecodable character(s) replaced by U+FFFD" in result.stderr
    engine = Engine(index)
    try:
        for text in ("麦子店街道组织志愿者", "督查組", "督查组", "第二行也没有结构"):
            assert engine.count(SearchRequest(q=f'"{text}"', synonyms=False)) == 1, text
    finally:
        engine.close()


@pytest.mark.parametrize("suffix", [".doc", ".pdf"])
def test_build_skips_with_the_converter_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Without the converters a .doc or a scan is skipped with what to install, and the rest is indexed."""
    from reportlab.pdfgen import canvas

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "cut.txt").write_bytes(DAMAGED)
    target = corpus / f"bulletin{suffix}"
    if suffix == ".pdf":
        pdf = canvas.Canvas(str(target))
        pdf.rect(100, 100, 200, 200, fill=1)
        pdf.showPage()
        pdf.save()
    else:
        target.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 512)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = CliRunner().invoke(main, ["build", str(corpus), "--index", str(tmp_path / "index")])
    assert result.exit_code == 3, result.output
    assert f"skipped: corpus/bulletin{suffix}: " in result.stderr
    assert ("install tesseract-ocr-chi-sim" if suffix == ".pdf" else "install libreoffice-writer") in result.stderr
