"""The query log: lines appended by concurrent processes, rotation by size, the off switch, privacy, and
what the log tells (hot, related and zero-result queries, `bulletins stats --queries`)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.querylog import LOG_NAME, QueryLog, query_log
from webui.cli import main

WRITERS = 4
LINES_PER_WRITER = 300


def _write_many(folder: str, writer: int, max_bytes: int) -> None:
    log = QueryLog(folder, max_bytes=max_bytes, keep=100)
    for number in range(LINES_PER_WRITER):
        log.append({"q": f"写入者{writer}-第{number}条" + "填" * (number % 40), "page": 1, "total": number})


def all_lines(folder: Path) -> list[dict]:
    lines = []
    for path in sorted(folder.glob(LOG_NAME + "*")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            lines.append(json.loads(raw))  # a torn or interleaved line would not parse
    return lines


@pytest.mark.parametrize("max_bytes", [10_000_000, 20_000])
def test_concurrent_writers_lose_and_tear_no_line(tmp_path: Path, max_bytes: int) -> None:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_write_many, args=(str(tmp_path), writer, max_bytes))
                 for writer in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    lines = all_lines(tmp_path)
    assert len(lines) == WRITERS * LINES_PER_WRITER
    assert len({line["q"] for line in lines}) == WRITERS * LINES_PER_WRITER
    rotated = sorted(tmp_path.glob(LOG_NAME + ".*"))
    assert bool(rotated) == (max_bytes < 100_000)


def test_rotation_keeps_a_bounded_number_of_files(tmp_path: Path) -> None:
    log = QueryLog(tmp_path, max_bytes=2_000, keep=3)
    for number in range(400):
        log.append({"q": f"查询{number}", "page": 1, "total": 1})
    files = sorted(path.name for path in tmp_path.glob(LOG_NAME + "*"))
    assert files == [LOG_NAME, LOG_NAME + ".1", LOG_NAME + ".2", LOG_NAME + ".3"]
    assert all(path.stat().st_size <= 2_000 + 200 for path in tmp_path.glob(LOG_NAME + "*"))
    newest = log.entries()
    assert newest[-1]["q"] == "查询399" and len(newest) < 400


def test_the_off_switch_and_the_folder_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULLETINS_QUERY_LOG", "off")
    assert query_log(tmp_path) is None
    monkeypatch.setenv("BULLETINS_QUERY_LOG", "on")
    monkeypatch.setenv("BULLETINS_QUERY_LOG_DIR", str(tmp_path / "logs"))
    log = query_log(tmp_path / "index")
    assert log is not None and log.path == tmp_path / "logs" / LOG_NAME


@pytest.mark.parametrize(("client", "logged"), [(False, set()), (True, {"client", "user"})])
def test_no_address_or_user_unless_asked(tmp_path: Path, client: bool, logged: set) -> None:
    log = QueryLog(tmp_path, record_client=client)
    log.append({"q": "垃圾分类", "page": 1, "total": 3, "client": "10.0.0.7", "user": "zhang"})
    assert logged == {"client", "user"} & set(all_lines(tmp_path)[0])


def test_hot_related_and_zero_result_queries(tmp_path: Path) -> None:
    log = QueryLog(tmp_path)
    visits = [("垃圾分类", 12, ""), ("垃圾分类", 12, ""), ("垃圾分类 海淀区", 3, "垃圾分类"), ("志愿服务", 40, ""),
              ("垃圾分類", 12, ""), ("创城", 4, "志愿服务"), ("不存在的词", 0, ""), ("不存在的词", 0, ""),
              ("另一个空词", 0, ""), ("志愿服务", 40, ""), ("第二页", 5, "")]
    for q, total, previous in visits:
        log.append({"q": q, "page": 1, "total": total, "prev": previous})
    log.append({"q": "第二页", "page": 2, "total": 5})
    hot = log.hot(3)
    assert [item["q"] for item in hot] == ["垃圾分类", "志愿服务", "创城"]
    assert hot[0]["count"] == 3                       # traditional 垃圾分類 counted with 垃圾分类
    assert [item["q"] for item in log.related("志愿服务")] == ["创城"]
    assert [item["q"] for item in log.related("垃圾分类")] == ["垃圾分类 海淀区"]
    assert [(item["q"], item["count"]) for item in log.zero_results()] == [("不存在的词", 2), ("另一个空词", 1)]
    assert [item["q"] for item in log.popular("垃圾")] == ["垃圾分类", "垃圾分类 海淀区"]


def test_a_damaged_line_is_skipped(tmp_path: Path) -> None:
    log = QueryLog(tmp_path)
    log.append({"q": "垃圾分类", "page": 1, "total": 3})
    with (tmp_path / LOG_NAME).open("a", encoding="utf-8") as stream:
        stream.write('{"q": "半行\n')
    log.append({"q": "志愿服务", "page": 1, "total": 3})
    assert [entry["q"] for entry in log.entries()] == ["垃圾分类", "志愿服务"]


def test_stats_lists_zero_result_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_vocabulary import write_bulletin

    from index.writer import build

    source = tmp_path / "src"
    write_bulletin(source, "a.txt", 1, "海淀区推进垃圾分类工作", "海淀区全面推进垃圾分类，开展宣传活动。", "海淀区")
    build([source], tmp_path / "index", progress=False, log=lambda _: None)
    monkeypatch.delenv("BULLETINS_QUERY_LOG_DIR", raising=False)
    log = QueryLog(tmp_path / "index")
    for q, total in [("没有的词", 0), ("没有的词", 0), ("垃圾分类", 2)]:
        log.append({"q": q, "page": 1, "total": total})
    result = CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "index"), "--queries"])
    assert result.exit_code == 0, result.output
    assert "没有的词" in result.output and "2" in result.output and "垃圾分类" not in result.output.split("没有结果")[-1]
    as_json = json.loads(CliRunner().invoke(main, ["stats", "--index", str(tmp_path / "index"), "--queries",
                                                   "--json"]).output)
    assert as_json["zero_result_queries"][0]["q"] == "没有的词"
