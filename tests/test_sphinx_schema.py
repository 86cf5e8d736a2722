"""The cluster row format's tagged facet codes: one GROUP BY over them must give each facet's own values."""

from __future__ import annotations

import pytest

from index import schema as f
from search.sphinxql.schema import FACET_KINDS, facet_code, facet_tag, facet_untag, row_values, theme_code


@pytest.mark.parametrize(("kind", "value"), [
    ("district", facet_code("石景山区")),
    ("district", 0),
    ("year", 2024),
    ("year", 0),
    ("month", 12),
    ("column", facet_code("文明创建")),
    ("theme", theme_code("垃圾分类")),
    ("theme", 0xFFFF_FFFF),
])
def test_a_tagged_code_gives_back_its_kind_and_value(kind: str, value: int) -> None:
    found_kind, bits = facet_untag(facet_tag(kind, value))
    assert found_kind == kind
    assert bits == value & ((1 << 56) - 1)
    assert 0 < facet_tag(kind, value) < 1 << 63


def test_tags_of_different_kinds_never_collide() -> None:
    codes = {facet_tag(kind, 7) for kind in FACET_KINDS}
    assert len(codes) == len(FACET_KINDS)
    assert facet_untag(7) == (None, 7)


def test_a_row_holds_one_tagged_code_per_facet_value() -> None:
    stored = {f.ID_: "a1", f.HEADLINE: "标题", f.BODY: "正文", f.DISTRICT: "朝阳区", f.YEAR: 2023, f.MONTH: 5,
              f.COLUMN: "文明创建"}
    values, themes = row_values(stored, ["垃圾分类", "志愿服务"], born=1)
    kinds: dict[str, list[int]] = {}
    for code in values["facets"]:
        kind, bits = facet_untag(code)
        kinds.setdefault(kind, []).append(bits)
    assert kinds == {"district": [facet_code("朝阳区") & ((1 << 56) - 1)], "year": [2023], "month": [5],
                     "column": [facet_code("文明创建") & ((1 << 56) - 1)],
                     "theme": sorted(theme_code(name) for name in ["垃圾分类", "志愿服务"])}
    assert sorted(themes) == sorted(theme_code(name) for name in ["垃圾分类", "志愿服务"])
