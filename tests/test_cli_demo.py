"""`bulletins demo --no-serve`: sample corpus once, index built or brought up to date, stale index rebuilt."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from index import dictionary
from index.store import IndexLocation
from webui.cli import main


@pytest.fixture
def fresh_dictionaries(monkeypatch: pytest.MonkeyPatch):
    dictionary.reset()
    yield monkeypatch
    monkeypatch.undo()
    dictionary.reset()


def test_demo_prepares_then_reuses_then_rebuilds_a_stale_index(tmp_path: Path, fresh_dictionaries) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--no-serve", "--dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "Generated" in first.output and "articles in index" in first.output
    files = sorted(p.name for p in (tmp_path / "corpus").rglob("*.txt"))
    generation = IndexLocation(tmp_path / "index").generation()

    again = runner.invoke(main, ["demo", "--no-serve", "--dir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "Generated" not in again.output and " 0 added" in again.output
    assert IndexLocation(tmp_path / "index").generation() == generation

    user_dict = tmp_path / "words.txt"
    user_dict.write_text("吉祥小院 100 n\n", encoding="utf-8")
    fresh_dictionaries.setenv("BULLETINS_USER_DICT", str(user_dict))
    dictionary.reset()
    stale = runner.invoke(main, ["demo", "--no-serve", "--dir", str(tmp_path)])
    assert stale.exit_code == 0, stale.output
    assert "stale" in stale.output
    assert IndexLocation(tmp_path / "index").generation() != generation
    assert sorted(p.name for p in (tmp_path / "corpus").rglob("*.txt")) == files
