"""`bulletins parse`: readable and JSON output, and the exit status when a file cannot be read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from webui.cli import main

SEED = "2020-08-04_第38期.txt"
ARTICLE_KEYS = {"column", "headline", "body", "source", "district"}
BULLETIN_KEYS = {"file", "series", "issue", "total", "office", "date", "editor", "reviewer", "columns", "articles"}


@pytest.fixture
def seed_copy(seed_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(seed_dir / SEED, tmp_path / SEED))


def test_readable_output(seed_copy: Path) -> None:
    result = CliRunner().invoke(main, ["parse", str(seed_copy)])
    assert result.exit_code == 0, result.output
    assert "首都精神文明建设情况简报" in result.output
    assert "延庆区民政局（区委社会工委）全系统、多方位、深层次助力创城" in result.output
    assert "articles: 3" in result.output


def test_json_output(seed_copy: Path) -> None:
    result = CliRunner().invoke(main, ["parse", "--json", str(seed_copy), str(seed_copy)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data) == 2
    assert BULLETIN_KEYS <= set(data[0])
    assert all(ARTICLE_KEYS <= set(article) for article in data[0]["articles"])
    assert (data[0]["issue"], data[0]["total"], data[0]["date"]) == (38, 2147, "2020-08-04")
    assert "首都精神文明办" in result.output and "\\u" not in result.output


@pytest.mark.parametrize("as_json", [False, True])
def test_bad_file_among_good_ones(seed_copy: Path, tmp_path: Path, as_json: bool) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    args = ["parse", *(["--json"] if as_json else []), str(seed_copy), str(bad), str(seed_copy)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert f"error: {bad}: not a valid .pdf file" in result.stderr
    assert result.stdout.count("首都精神文明建设情况简报") == 2
    if as_json:
        assert len(json.loads(result.stdout)) == 2


def test_requires_a_file() -> None:
    result = CliRunner().invoke(main, ["parse"])
    assert result.exit_code == 2


def test_help_comes_from_docstring() -> None:
    result = CliRunner().invoke(main, ["parse", "--help"])
    assert result.exit_code == 0 and "Parse bulletin FILES" in result.output
