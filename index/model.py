"""The document model every layer shares: a `Bulletin` (one issue) holding `Article`s."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Beijing's 16 districts, the values of `Article.district` (None means city level).
DISTRICTS: tuple[str, ...] = (
    "东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "门头沟区", "房山区",
    "通州区", "顺义区", "昌平区", "大兴区", "怀柔区", "平谷区", "密云区", "延庆区",
)


@dataclass
class Article:
    """One article of a bulletin: its column (theme), headline, body and source line."""

    column: str | None
    headline: str
    body: str
    source: str | None = None
    district: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Bulletin:
    """One parsed bulletin file: header, articles and footer.

    `issue` is the number of the issue within its year or series (第 38 期 → 38), `issue_label` the
    text it came from (增刊第7期); `total` is the running number (总第 2147 期); `date` is ISO.
    `contents` is a table of contents printed before the articles (本期要目), when there is one;
    `structure` says how the articles were found (columns, source lines, headlines …, or one article when no
    structure was recognised); `replaced` counts characters that could not be decoded and `notes` says what
    reading the file took (a conversion, OCR, replaced characters).
    """

    file: str
    series: str | None = None
    issue: int | None = None
    issue_label: str | None = None
    total: int | None = None
    office: str | None = None
    date: str | None = None
    editor: str | None = None
    reviewer: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    distribution: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    structure: str | None = None
    replaced: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `bulletins parse --json` (field names match the corpus truth files)."""
        return asdict(self)
