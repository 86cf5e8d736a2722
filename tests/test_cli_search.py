"""`bulletins search`: readable output, the JSON contract, and exit statuses for bad input and no index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from webui.cli import main
from test_search import GOLDEN, build_index


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("golden"), GOLDEN)


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["search", *args])


def test_readable_output_marks_matches_in_brackets(root: Path) -> None:
    result = run("垃圾分类", "--index", str(root), "--district", "海淀区")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("共 1 条")
    assert "1. 海淀区召开【垃圾分类】推进会" in result.output
    assert "<mark>" not in result.output


def test_json_is_the_contract(root: Path) -> None:
    result = run("志愿", "--index", str(root), "--year", "2020", "--year", "2021", "--sort", "date", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["query", "total", "page", "size", "took_ms", "hits", "facets", "suggestions", "did_you_mean",
                          "corrected_from", "partial", "missing_shards"]
    assert data["total"] == 2 and [hit["date"] for hit in data["hits"]] == ["2021-11-20", "2020-03-15"]
    assert "志愿" in result.output


@pytest.mark.parametrize(("args", "status", "message"), [
    (["创城", "--page", "abc"], 2, "page must be a whole number"),
    (["创城", "--from", "2021-02-30"], 2, "from must be a date"),
    (["创城", "--from", "2021-02-01", "--to", "2020-01-01"], 2, "is after to"),
])
def test_bad_parameters_exit_2(root: Path, args: list[str], status: int, message: str) -> None:
    result = run(*args, "--index", str(root))
    assert result.exit_code == status and message in result.output


def test_missing_index_exits_1(tmp_path: Path) -> None:
    result = run("创城", "--index", str(tmp_path / "none"))
    assert result.exit_code == 1 and "bulletins build" in result.output


def test_no_synonyms_and_suggestions(root: Path) -> None:
    assert "共 1 条" in run("创建文明城市", "--index", str(root)).output
    plain = run("创建文明城市", "--index", str(root), "--no-synonyms")
    assert plain.output.startswith("共 0 条") and "使用同义词 / with synonyms: 创建文明城市 (1)" in plain.output
    suggested = json.loads(run("创建文明城市", "--index", str(root), "--no-synonyms", "--json").output)
    assert suggested["total"] == 0
    assert suggested["suggestions"] == [{"label": "使用同义词 / with synonyms", "q": "创建文明城市",
                                         "params": {"q": "创建文明城市"}, "total": 1}]


@pytest.mark.parametrize(("args", "line"), [
    (["lajifenlei"], "以下是“垃圾分类”的结果 · 仍然搜索：lajifenlei (--no-correct)"),
    (["lajifenlei", "--no-correct"], "您是不是要找：垃圾分类 (2)"),
])
def test_corrections_are_shown(root: Path, args: list[str], line: str) -> None:
    result = run(*args, "--index", str(root))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == line
