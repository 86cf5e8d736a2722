"""Punctuation unification for Chinese text: ASCII punctuation next to CJK becomes full-width.

PDF extraction mixes `,` and `，` within one bulletin; unifying them keeps headlines and bodies
consistent (and searchable for either form) without touching numbers (1.2万), times, emails or phones.
"""

from __future__ import annotations

import re

#: CJK ideographs (incl. extension A and compatibility) plus full-width punctuation and curly quotes.
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CONTEXT = CJK_CHARS + "\u3000-\u303f\uff00-\uffef“”‘’"

_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
_PUNCT = re.compile(
    rf"(?:(?<=[{_CJK_CONTEXT}])([,:;?!]))|(?:([,:;?!])(?=[{_CJK_CONTEXT}]))"
)
_PARENS = re.compile(r"\(([^()\n]*)\)")
_HAS_CJK = re.compile(rf"[{CJK_CHARS}]")


def _full_width_punct(match: re.Match[str]) -> str:
    """Replace one ASCII punctuation mark by its full-width form."""
    mark = match.group(1) or match.group(2)
    return _FULL_WIDTH[mark]


def _full_width_parens(match: re.Match[str]) -> str:
    """Turn `(…)` into `（…）` when the bracketed text or its neighbours are Chinese."""
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if _HAS_CJK.search(match.group(1) + before + after):
        return f"（{match.group(1)}）"
    return match.group(0)


def unify_punctuation(text: str) -> str:
    """Return `text` with ASCII `,:;?!()` in Chinese context replaced by full-width forms."""
    text = _PARENS.sub(_full_width_parens, text)
    return _PUNCT.sub(_full_width_punct, text)
