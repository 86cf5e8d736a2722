"""The real server in a subprocess, driven by headless chromium: search, facet, article, offline, screenshots;
ticking and exporting results, the district × year matrix, search within results, printing an article."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_webui import sample_index

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bulletins_command() -> list[str]:
    """The installed `bulletins` script beside this Python, else the same CLI through -c."""
    script = shutil.which("bulletins", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from webui.cli import main; main()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    port = free_port()
    command = bulletins_command() + ["serve", "--index", str(sample_index(tmp_path_factory)), "--port", str(port)]
    environment = {**os.environ, "BULLETINS_QUERY_LOG_DIR": str(tmp_path_factory.mktemp("browser-query-log"))}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"Serving 简报检索 on http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shown_total(page) -> int:
    text = page.locator(".summary .count").inner_text()
    match = re.search(r"共\s*([\d,]+)\s*条", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_search_facet_and_article_in_a_real_browser(server: str, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(server + "/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.screenshot(path=str(ARTIFACTS / "home-1280.png"), full_page=True)
    page.keyboard.type("志愿")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator(".hits mark").count() > 0
    before = shown_total(page)
    assert before > 0

    page.locator("aside.facets .facet").first.locator("li a").first.click()
    page.wait_for_url(re.compile(r"district="))
    after = shown_total(page)
    assert 0 < after < before
    assert page.locator(".chips .chip").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "search-1280.png"), full_page=True)

    page.locator(".hits .hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator(".doc .body mark").count() > 0
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.screenshot(path=str(ARTIFACTS / "article-1280.png"), full_page=True)

    page.locator("a", has_text="阅读整期简报").click()
    page.wait_for_url(re.compile(r"/bulletin/"))
    assert page.locator(".bulletin-article").count() > 0

    origin = server + "/"
    assert requests and all(url.startswith(origin) for url in requests), requests
    assert not problems, problems
    context.close()


def test_phone_width_puts_the_sidebar_below_the_results(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(server + "/search?q=志愿")
    results = page.locator(".results").bounding_box()
    facets = page.locator("aside.facets").bounding_box()
    assert results and facets and facets["y"] > results["y"] + results["height"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "search-phone.png"), full_page=True)
    page.goto(server + "/")
    page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)
    context.close()


def test_tick_two_results_and_export_them_as_a_word_document(server: str, browser, tmp_path: Path) -> None:
    import docx

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(server + "/search?q=志愿")
    picks = page.locator(".hits .hit .pick")
    assert picks.count() >= 2
    chosen = [page.locator(".hits .hit h2 a").nth(index).inner_text() for index in (0, 1)]
    picks.nth(0).check()
    picks.nth(1).check()
    with page.expect_download() as download_info:
        page.locator("#export-ticked").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    document = docx.Document(str(target))
    headings = [paragraph.text for paragraph in document.paragraphs if paragraph.style.name == "Heading 1"]
    assert headings == [f"1. {chosen[0]}", f"2. {chosen[1]}"]
    assert document.paragraphs[0].text == "材料汇编：志愿"
    context.close()


def test_a_matrix_cell_leads_to_as_many_results_as_it_shows(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/search?q=志愿")
    page.locator("a.matrix-toggle").click()
    page.wait_for_url(re.compile(r"matrix=1"))
    cells = page.locator("table.matrix tbody td:not(.total) a")
    assert cells.count() > 5
    cell = cells.nth(cells.count() // 2)
    shown = int(cell.inner_text())
    cell.click()
    page.wait_for_url(re.compile(r"district=.*year=|year=.*district="))
    assert shown_total(page) == shown
    assert page.locator("table.matrix td.selected").count() == 1
    page.screenshot(path=str(ARTIFACTS / "matrix-1280.png"), full_page=True)
    context.close()


def test_matrix_scrolls_sideways_on_a_phone(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(server + "/search?q=志愿&matrix=1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator(".matrix-scroll")
    assert box.evaluate("element => element.scrollWidth > element.clientWidth")
    page.screenshot(path=str(ARTIFACTS / "matrix-phone.png"), full_page=True)
    context.close()


def test_search_within_results_keeps_both_and_shows_chips(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/search?q=志愿")
    before = shown_total(page)
    page.locator("#refine").check()
    assert page.locator("#header-q").input_value() == ""
    page.locator("#header-q").fill("社区")
    page.locator("#header-q").press("Enter")
    page.wait_for_url(re.compile(r"within="))
    assert 0 < shown_total(page) < before
    chips = page.locator(".chips .chip").all_inner_texts()
    assert any("检索：志愿" in chip for chip in chips) and any("在结果中：社区" in chip for chip in chips)
    context.close()


def test_article_prints_without_navigation_but_with_its_bulletin(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/search?q=志愿")
    page.locator(".hits .hit h2 a").first.click()
    page.wait_for_url(re.compile(r"/article/"))
    assert page.locator(".related li").count() > 0
    assert page.locator(".site-header").is_visible() and not page.locator(".source-line").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible() and not page.locator(".breadcrumbs").is_visible()
    assert not page.locator(".related").is_visible()
    assert page.locator(".source-line").is_visible() and "出处：" in page.locator(".source-line").inner_text()
    assert page.locator(".doc .meta").first.is_visible()
    page.pdf(path=str(ARTIFACTS / "article-print.pdf"))
    context.close()


def test_results_page_links_its_feed(server: str, browser) -> None:
    import feedparser

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/search?q=志愿&district=东城区")
    link = page.locator("a.feed")
    assert link.inner_text() == "订阅本检索"
    assert page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href") == \
        link.get_attribute("href")
    response = page.request.get(server + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.body())
    assert parsed.bozo == 0 and parsed.version == "atom10"
    assert 0 < len(parsed.entries) == min(50, shown_total(page))


def test_suggestions_are_a_listbox_used_with_the_keyboard(server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server + "/")
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    page.keyboard.type("垃圾")
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    option = listbox.locator("[role=option]", has_text="垃圾分类").first
    option.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    page.screenshot(path=str(ARTIFACTS / "suggest-1280.png"))
    page.keyboard.press("Escape")
    assert listbox.is_hidden() and box.get_attribute("aria-expanded") == "false"
    page.keyboard.press("ArrowDown")
    option.wait_for(state="visible")
    texts = listbox.locator("[role=option]").evaluate_all("items => items.map(item => item.dataset.text)")
    for _ in range(texts.index("垃圾分类") + 1):
        page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert page.locator("#" + active).get_attribute("aria-selected") == "true"
    assert page.locator("#" + active).get_attribute("data-text") == "垃圾分类"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=%E5%9E%83%E5%9C%BE%E5%88%86%E7%B1%BB$"))
    assert shown_total(page) > 0
    assert not problems, problems
    context.close()


def test_the_search_box_works_without_javascript(server: str, browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    assert page.locator("#q").get_attribute("role") is None
    page.locator("#q").fill("lajifenlei")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=lajifenlei"))
    assert "以下是“垃圾分类”的结果" in page.locator(".assist").inner_text()
    assert shown_total(page) > 0
    context.close()
