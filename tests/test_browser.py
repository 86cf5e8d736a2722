"""The real server in a subprocess, driven by headless chromium: search, facet, article, offline, screenshots."""

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
