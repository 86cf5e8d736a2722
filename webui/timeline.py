"""A bar chart of matches per period as inline SVG: server-rendered, one link and one <title> per bar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 150
TOP = 18
BOTTOM = 24
GAP = 0.2


@dataclass(frozen=True)
class Bar:
    """One period: its axis label, match count, the link filtering to it, its tooltip and whether it is active."""

    label: str
    count: int
    href: str
    title: str
    selected: bool = False


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def render(bars: Sequence[Bar], caption: str) -> Markup:
    """The SVG of `bars` (empty markup for no bars); heights scale to the largest count."""
    if not bars:
        return Markup("")
    peak = max(bar.count for bar in bars) or 1
    slot = WIDTH / len(bars)
    width = slot * (1 - GAP)
    plot = HEIGHT - TOP - BOTTOM
    label_every = max(1, round(len(bars) / 14))
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-label="{escape(caption)}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(caption)}</title>",
        f'<line class="axis" x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
    ]
    for position, bar in enumerate(bars):
        height = plot * bar.count / peak if bar.count else 0
        x = slot * position + (slot - width) / 2
        y = HEIGHT - BOTTOM - height
        centre = _number(x + width / 2)
        css = "bar selected" if bar.selected else "bar"
        parts.append(f'<a href="{escape(bar.href)}" class="{css}" aria-label="{escape(bar.title)}">')
        parts.append(f"<title>{escape(bar.title)}</title>")
        parts.append(
            f'<rect class="hit" x="{_number(slot * position)}" y="0" width="{_number(slot)}" height="{HEIGHT}"/>')
        parts.append(f'<rect x="{_number(x)}" y="{_number(y)}" width="{_number(width)}" height="{_number(height)}"/>')
        if bar.count:
            parts.append(f'<text class="count" x="{centre}" y="{_number(y - 4)}">{bar.count}</text>')
        if position % label_every == 0:
            parts.append(f'<text class="label" x="{centre}" y="{HEIGHT - 7}">{escape(bar.label)}</text>')
        parts.append("</a>")
    parts.append("</svg>")
    return Markup("".join(parts))
