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


def test_realworld_fields() -> None:
    """At least 90% of the labelled fields right over all real bulletins, and no file refused (ReadError fails)."""
    right = total = 0
    lines = []
    for entry in MANIFEST["bulletins"]:
        fields = score(entry)
        wrong = [(name, want, got) for name, want, got in fields if want != got]
        right += len(fields) - len(wrong)
        total += len(fields)
        lines.append(f"  {entry['file']}: {len(fields) - len(wrong)}/{len(fields)}"
                     + "".join(f"\n    {name}: expected {want!r}, parsed {got!r}" for name, want, got in wrong))
    print(f"\nreal-world bulletins: {right}/{total} labelled fields right ({right / total:.1%}) "
          f"in {len(MANIFEST['bulletins'])} files\n" + "\n".join(lines))
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
