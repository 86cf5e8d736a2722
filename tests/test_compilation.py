"""/export.docx: the 汇编 Word document of a search or of ticked articles, read back with python-docx and
converted by LibreOffice headless (skipped without LibreOffice, failing under CI)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import docx
import pytest
from test_webui import links_of, page, sample_index
from workflow_corpus import WORKFLOW, build_workflow_index

from webui import create_app
from webui.compilation import MIME, compile_docx, meta_text
from webui.engine import close_engine

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def soffice() -> str:
    """The LibreOffice binary (skips the test without one, fails it under CI)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        message = "LibreOffice (soffice) is not installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def to_text(data: bytes, folder: Path) -> str:
    """The document as plain text, converted by LibreOffice headless (its own profile in `folder`)."""
    source = folder / "compilation.docx"
    source.write_bytes(data)
    profile = folder / "profile"
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "txt:Text (encoded):UTF8",
         "--outdir", str(folder), str(source)], capture_output=True, text=True, timeout=180)
    target = folder / "compilation.txt"
    assert result.returncode == 0 and target.exists(), result.stdout + result.stderr
    return target.read_text(encoding="utf-8-sig")


def paragraphs(data: bytes) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph of a .docx."""
    document = docx.Document(io.BytesIO(data))
    return [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs]


def headings(data: bytes) -> list[str]:
    return [text for style, text in paragraphs(data) if style == "Heading 1"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator:
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application
    close_engine(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def workflow_client(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator:
    root = build_workflow_index(tmp_path_factory.mktemp("workflow"))
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True,
                              "EXPORT_LIMIT": 4})
    yield application.test_client()
    close_engine(application)


def export(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == MIME
    assert "attachment" in response.headers["Content-Disposition"]
    assert "材料汇编" in unquote(response.headers["Content-Disposition"])
    return response.get_data()


def test_all_results_in_the_order_shown_with_title_contents_and_metadata(client) -> None:
    hits = client.get("/api/search?q=志愿&district=东城区&size=100").get_json()["hits"]
    data = export(client, "/export.docx?q=志愿&district=东城区")
    found = paragraphs(data)
    assert found[0][0] == "Title" and found[0][1] == "材料汇编：志愿"
    texts = [text for _, text in found]
    assert "检索词：志愿" in texts and "区：东城区" in texts
    assert any(text.startswith("生成日期：") for text in texts)
    assert f"检索结果共 {len(hits)} 篇，全部收录，按检索结果的顺序排列。" in texts
    expected = [f"{number}. {hit['headline']}" for number, hit in enumerate(hits, 1)]
    assert headings(data) == expected
    contents = texts[texts.index("目录") + 1:texts.index("目录") + 1 + len(hits)]
    assert contents == expected
    articles_start = texts.index("目录") + len(hits) + 1
    for number, hit in enumerate(hits, 1):
        line = texts[texts.index(f"{number}. {hit['headline']}", articles_start) + 1]
        assert f"日期：{hit['date']}" in line and f"区：{hit['district']}" in line and f"来源：{hit['source']}" in line
        assert f"《{hit['series']}》" in line and str(hit["issue"]) in line


def test_table_of_contents_is_a_field_with_links_to_bookmarks(client) -> None:
    data = export(client, "/export.docx?q=志愿&district=东城区")
    body = docx.Document(io.BytesIO(data)).element.body
    assert any("TOC" in (node.text or "") for node in body.iter(f"{W}instrText"))
    anchors = [link.get(f"{W}anchor") for link in body.iter(f"{W}hyperlink")]
    bookmarks = [mark.get(f"{W}name") for mark in body.iter(f"{W}bookmarkStart")]
    assert anchors and anchors == bookmarks


def test_ticked_articles_only_in_the_order_given(client) -> None:
    hits = client.get("/api/search?q=志愿&size=5").get_json()["hits"]
    chosen = [hits[3], hits[1]]
    data = export(client, f"/export.docx?q=志愿&id={chosen[0]['id']}&id=nope&id={chosen[1]['id']}")
    assert headings(data) == [f"1. {chosen[0]['headline']}", f"2. {chosen[1]['headline']}"]
    assert "收录勾选的 2 篇文章（另有 1 篇已不在索引中），按检索结果的顺序排列。" in [text for _, text in paragraphs(data)]
    assert client.get("/export.docx?id=nope").status_code == 404


def test_the_limit_is_stated_and_kept(workflow_client) -> None:
    data = export(workflow_client, "/export.docx?sort=date")
    assert len(headings(data)) == 4
    assert "检索结果共 10 篇，收录排在前面的 4 篇，按检索结果的顺序排列。" in [text for _, text in paragraphs(data)]
    assert "导出前 4 条为 Word 汇编" in page(workflow_client, "/search")


def test_bad_parameters_are_a_400(client) -> None:
    assert client.get("/export.docx?year=abc").status_code == 400


def test_results_page_offers_ticking_and_both_exports(client) -> None:
    text = page(client, "/search?q=志愿&district=东城区")
    assert text.count('form="compile-form"') >= 2 and 'id="compile-form"' in text
    assert '<input type="hidden" name="q" value="志愿">' in text
    assert '<input type="hidden" name="district" value="东城区">' in text
    every = next(href for href, label in links_of(text).links if "Word 汇编" in label)
    assert every.startswith("/export.docx?q=")
    export(client, every)


def test_document_without_articles_still_opens() -> None:
    data = compile_docx([], "材料汇编：无", ["检索词：无"], "检索结果共 0 篇", date(2024, 1, 2), "简报检索")
    assert "（没有文章）" in [text for _, text in paragraphs(data)] and headings(data) == []


def test_libreoffice_reads_the_document_back(workflow_client, tmp_path: Path) -> None:
    data = export(workflow_client, "/export.docx?q=垃圾分类")
    text = to_text(data, tmp_path)
    hits = workflow_client.get("/api/search?q=垃圾分类").get_json()["hits"]
    assert "材料汇编：垃圾分类" in text and "目录" in text and "生成日期：" in text
    positions = [text.rindex(f"{number}. {hit['headline']}") for number, hit in enumerate(hits, 1)]
    assert positions == sorted(positions)
    assert text.index(f"1. {hits[0]['headline']}") < text.index("目录") + 200
    for hit in hits:
        article = next(article for bulletin in WORKFLOW.values() for article in bulletin.articles
                       if article.headline == hit["headline"])
        assert article.body.split("\n")[0] in text
    assert meta_text({**hits[0], "total_issue": hits[0]["total_issue"]}) in text
