"""Golden test on real bulletins of other offices (tests/fixtures/realworld): labelled fields right, none refused.

Every labelled field counts once: series, issue, total, date, office, the article count, and each article's headline and
source. Headlines are compared on letters and digits only (the corpus key), so punctuation width does not
count. The figure is printed (`pytest -s tests/test_realworld.py`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from index.parser import parse_file

FIXTURES = Path(__file__).parent / "fixtures" / "realworld"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
TARGET = 0.90


def letters(text: str | None) -> str | None:
    """Letters and digits of `text` (None stays None): the comparison key of headlines."""
    return None if text is None else re.sub(r"[\W_]+", "", text)


def score(entry: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, expected, parsed) for every labelled field of one bulletin."""
    bulletin = parse_file(FIXTURES / entry["file"])
    labels = entry["labels"]
    fields = [(name, labels[name], getattr(bulletin, name)) for name in ("issue", "total", "date", "office")]
    if "series" in labels:
        fields.append(("series", labels["series"], bulletin.series))
    if labels["articles"] is not None:
        fields.append(("articles", len(labels["articles"]), len(bulletin.articles)))
        parsed = bulletin.articles + [None] * len(labels["articles"])
        for number, (want, got) in enumerate(zip(labels["articles"], parsed, strict=False), 1):
            fields.append((f"headline {number}", letters(want["headline"]), letters(got.headline) if got else "-"))
            fields.append((f"source {number}", want["source"], got.source if got else "-"))
    return fields


def test_every_fixture_is_in_the_manifest() -> None:
    listed = {entry["file"] for entry in MANIFEST["bulletins"]}
    assert listed == {path.name for path in FIXTURES.glob("*.txt")}
    assert all(entry["source"]["collection"] and entry["labels"] for entry in MANIFEST["bulletins"])


def tally(entries: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """Fields right, fields labelled and one report line per file (with each wrong field) for `entries`."""
    right = total = 0
    lines = []
    for entry in entries:
        fields = score(entry)
        wrong = [(name, want, got) for name, want, got in fields if want != got]
        right += len(fields) - len(wrong)
        total += len(fields)
        lines.append(f"  {entry['file']}: {len(fields) - len(wrong)}/{len(fields)}"
                     + "".join(f"\n    {name}: expected {want!r}, parsed {got!r}" for name, want, got in wrong))
    return right, total, lines


def figure(label: str, right: int, total: int, files: int) -> str:
    """One printed line: fields right of labelled, the share, and how far it is from the target."""
    if not total:
        return f"{label}: none (the 90% target on unseen bulletins is measured on the project owner's own set)"
    gap = "" if right / total >= TARGET else f", {TARGET:.0%} target missed by {TARGET - right / total:.1%}"
    return f"{label}: {right}/{total} labelled fields right ({right / total:.1%}) in {files} files{gap}"


SEEN = [entry for entry in MANIFEST["bulletins"] if entry["seen_while_tuning"]]
HELD_OUT = [entry for entry in MANIFEST["bulletins"] if not entry["seen_while_tuning"]]


def test_every_file_says_whether_the_parser_was_tuned_on_it() -> None:
    """Every file says whether the parser was tuned with it in view (a bool; false marks a held-out file)."""
    assert all(isinstance(entry.get("seen_while_tuning"), bool) for entry in MANIFEST["bulletins"])


def test_realworld_fields() -> None:
    """The files the parser was tuned on: at least 90% of the labelled fields right, none refused (ReadError fails).

    The held-out files (labelled before the parser was run on them) are printed apart: their figure is the honest
    measure of the target. They are parsed here too, so a held-out file that is refused fails the test. When none
    is held out (today), the figure line says so and where the target is measured instead.
    """
    right, total, lines = tally(SEEN)
    held_right, held_total, held_lines = tally(HELD_OUT)
    print("\n" + figure("real-world bulletins the parser was tuned on", right, total, len(SEEN)) + "\n"
          + "\n".join(lines) + "\n"
          + figure("held-out real-world bulletins (not seen while tuning)", held_right, held_total, len(HELD_OUT))
          + "\n" + "\n".join(held_lines) + "\n"
          + figure("all real-world bulletins", right + held_right, total + held_total, len(SEEN) + len(HELD_OUT)))
    assert right / total >= TARGET


@pytest.mark.parametrize("entry", MANIFEST["bulletins"], ids=[entry["file"] for entry in MANIFEST["bulletins"]])
def test_no_damage_left(entry: dict[str, Any]) -> None:
    """No pinyin annotation, site chrome or doubled text is left in the parsed articles."""
    bulletin = parse_file(FIXTURES / entry["file"])
    text = "\n".join(article.headline + "\n" + article.body for article in bulletin.articles)
    assert bulletin.articles
    for leftover in ("(chuàng)", "(jiǎn)", "上传人", "文档编号", "下载 相关 举报", "_第1页", "由会员分享", "首页>",
                     "年年", "专报疫情海外信息专报"):
        assert leftover not in text, leftover
