"""`bulletins serve` for real: worker processes answer concurrent clients, pick up a rebuild, stop cleanly."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_browser import bulletins_command, free_port
from test_webui import sample_index

from index.writer import build


def children(pid: int) -> list[int]:
    """The direct child processes of `pid` (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@contextmanager
def running_server(index: Path, *options: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """`bulletins serve --index INDEX OPTIONS` on a free port, once it answers: (base URL, process); stopped
    (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    process = subprocess.Popen([*bulletins_command(), "serve", "--index", str(index), "--port", str(port), *options],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    try:
        assert f"Serving 简报检索 on http://127.0.0.1:{port}/" in process.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(base + "/api/stats")
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "the server never answered"
                time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """A server with 2 workers over a copy of the sample index; yields (base URL, process, index folder)."""
    index = tmp_path_factory.mktemp("serve") / "index"
    shutil.copytree(sample_index(tmp_path_factory), index)
    with running_server(index, "--workers", "2", "--threads", "2") as (base, process):
        yield base, process, index


def test_workers_answer_concurrent_clients(server) -> None:
    base, process, _ = server
    assert len(children(process.pid)) == 2
    queries = ["文明", "志愿服务", '"垃圾分类"', "的", "", "社区 OR 街道", "-文明"] * 6
    expected = {query: get_json(f"{base}/api/search?q={urllib.parse.quote(query)}")["total"] for query in queries}
    with ThreadPoolExecutor(max_workers=8) as pool:
        totals = list(pool.map(lambda query: get_json(f"{base}/api/search?q={urllib.parse.quote(query)}")["total"],
                               queries))
    assert totals == [expected[query] for query in queries]
    assert expected["文明"] > 0 and expected[""] > expected["文明"]


def test_workers_see_a_rebuild_without_restart(server, tmp_path_factory: pytest.TempPathFactory) -> None:
    base, _, index = server
    corpus = tmp_path_factory.getbasetemp() / "webui-sample" / "corpus"
    extra = tmp_path_factory.mktemp("extra") / "corpus"
    shutil.copytree(corpus, extra)
    first = sorted(extra.rglob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("。", "。鹦鹉螺号潜艇出海。", 1), encoding="utf-8")
    build([extra], index, progress=False, log=lambda message: None)
    for _ in range(10):  # every worker, whichever answers, sees the new generation
        assert get_json(f"{base}/api/search?q={urllib.parse.quote('鹦鹉螺号潜艇')}")["total"] == 1


def test_sigterm_stops_the_workers_and_the_server(server) -> None:
    _, process, _ = server
    workers = children(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output = process.stdout.read()
    assert "Stopped." in output and "Traceback" not in output
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers):
        assert time.monotonic() < deadline, "worker processes outlived the server"
        time.sleep(0.1)
