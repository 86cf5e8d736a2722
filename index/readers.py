"""Text of a bulletin file, whatever its format: .txt/.md (any common Chinese encoding), .docx, .pdf, .html.

Every failure (corrupt, empty, binary, undecodable or unsupported file) raises `ReadError`, so callers
can report the file and carry on with the others.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from index.normalize_text import CJK_CHARS

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES: frozenset[str] = TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_FALLBACK_ENCODINGS = ("gb18030", "utf-16-le", "utf-16-be", "big5")
#: charset-normalizer's names for the encodings a Chinese bulletin can be in, mapped to our decoder.
_CHINESE_FAMILY = {
    "utf_8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030",
    "utf_16": "utf-16", "utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be",
    "utf_32": "utf-32", "utf_32_le": "utf-32-le", "utf_32_be": "utf-32-be",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_PLAUSIBLE = re.compile(rf"[{CJK_CHARS}\u3000-\u303f\uff00-\uffef“”‘’…—·\s\w!-~]")
_PRIVATE_OR_RARE = re.compile(r"[\ue000-\uf8ff\u0080-\u02ff\u0370-\u1fff]")


class ReadError(Exception):
    """A bulletin file could not be read; `path` names it and `reason` says why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def read_text(path: Path) -> str:
    """Return the text of the bulletin at `path`, raising ReadError when it cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise ReadError(path, f"unsupported file type {suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ReadError(path, f"cannot open: {error.strerror or error}") from error
    if not data.strip():
        raise ReadError(path, "empty file")
    text = reader(path, data)
    if not text.strip():
        raise ReadError(path, "no text in file")
    return text


def decode_bytes(data: bytes) -> str | None:
    """Decode bulletin text bytes, or None when no encoding yields plausible Chinese text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _try_decode(data, encoding)
    for encoding in ("utf-8", *_guess_encodings(data), *_FALLBACK_ENCODINGS):
        text = _try_decode(data, encoding)
        if text is not None:
            return text
    return None


def _guess_encodings(data: bytes) -> list[str]:
    """Chinese-capable encodings charset-normalizer proposes for `data`, best first.

    Western code pages are ignored: they decode any bytes, so GBK text would come out as mojibake.
    """
    from charset_normalizer import from_bytes

    guesses = (_CHINESE_FAMILY.get(match.encoding) for match in from_bytes(data))
    return [encoding for encoding in guesses if encoding]


def _try_decode(data: bytes, encoding: str) -> str | None:
    """Decode strictly and return the text only if it looks like real text (guards against mojibake)."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    text = text.lstrip("\ufeff")
    return text if looks_like_text(text) else None


def looks_like_text(text: str) -> bool:
    """True when `text` is mostly CJK/ASCII/printable, i.e. not binary or a wrong decoding."""
    if not text.strip() or _CONTROL.search(text[:20000]):
        return False
    sample = text[:20000]
    plausible = len(_PLAUSIBLE.findall(sample))
    rare = len(_PRIVATE_OR_RARE.findall(sample))
    return plausible >= 0.95 * len(sample) and rare <= 0.01 * len(sample)


def _read_plain(path: Path, data: bytes) -> str:
    """Text of a .txt/.md file in UTF-8 (BOM or not), GB18030/GBK or UTF-16 (BOM or not)."""
    text = decode_bytes(data)
    if text is None:
        raise ReadError(path, "binary data or unknown text encoding")
    return text


def _read_docx(path: Path, data: bytes) -> str:
    """Paragraphs and table cells of a .docx, in document order, one paragraph per line."""
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx surfaces zip, XML and package errors alike
        raise ReadError(path, f"not a valid .docx file ({error})") from error
    return "\n\n".join(_docx_blocks(document))


def _docx_blocks(document: object) -> list[str]:
    """Texts of the body's paragraphs and table cells in order (merged cells counted once)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            blocks.append(item.text)
        elif isinstance(item, Table):
            blocks.extend(_table_cells(item))
    return [block for block in blocks if block.strip()]


def _table_cells(table: object) -> list[str]:
    """Texts of a table's cells row by row, skipping the repeats of merged cells."""
    seen: set[int] = set()
    cells: list[str] = []
    for row in table.rows:  # type: ignore[attr-defined]
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text)
    return cells


def _read_pdf(path: Path, data: bytes) -> str:
    """Text layer of a .pdf, pages joined by a blank line; a scan without text is an error."""
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many exception types on damaged files
        raise ReadError(path, f"not a valid .pdf file ({error})") from error
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ReadError(path, "PDF has no text layer (scanned image?)")
    return text


def _read_html(path: Path, data: bytes) -> str:
    """Visible text of an .html page with block breaks kept (script, style and head dropped)."""
    from bs4 import BeautifulSoup

    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(path, "binary data, not HTML")
    markup = decode_bytes(data)
    if markup is None:
        raise ReadError(path, "binary data or unknown text encoding")
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in soup.get_text().split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_BLOCK_TAGS = [
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "td", "th", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "hr", "ul", "ol", "dl", "dt", "dd", "title",
]

_READERS: dict[str, Callable[[Path, bytes], str]] = {
    **{suffix: _read_plain for suffix in TEXT_SUFFIXES},
    **{suffix: _read_html for suffix in HTML_SUFFIXES},
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}
