"""Text of a bulletin file, whatever its format: .txt/.md (any common Chinese encoding), .docx, .pdf, .html,
legacy Word .doc/.wps (through LibreOffice) and scanned PDFs (through Tesseract OCR).

A few bad bytes never cost a whole bulletin: text that no encoding decodes cleanly is decoded leniently and
the number of replaced characters is reported (`Document.replaced`). Every failure (corrupt, empty, binary,
unsupported file, or a converter that is not installed) raises `ReadError`, so callers can report the file
and carry on with the others.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index import converters
from index.normalize_text import CJK_CHARS

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
LEGACY_WORD_SUFFIXES = frozenset({".doc", ".wps"})
SUPPORTED_SUFFIXES: frozenset[str] = TEXT_SUFFIXES | HTML_SUFFIXES | LEGACY_WORD_SUFFIXES | {".docx", ".pdf"}
#: Lenient decoding gives up when more than this share of the characters had to be replaced (binary data).
MAX_REPLACED_SHARE = 0.02

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
#: CJK, CJK and full-width punctuation, bopomofo (注音 of converted Taiwanese text), quotes, letters, ASCII.
_PLAUSIBLE = re.compile(rf"[{CJK_CHARS}\u3000-\u303f\u3100-\u312f\u31a0-\u31bf\uff00-\uffef“”‘’…—·\s\w!-~]")
_PRIVATE_OR_RARE = re.compile(r"[\ue000-\uf8ff\u0080-\u02ff\u0370-\u1fff]")
#: Characters of that range that real Chinese text uses: tone-marked pinyin and a few typographic symbols.
_COMMON_IN_CHINESE = frozenset("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüÜńňǹḿˊˇˋ˙·×÷°±§µ²³¹«»")


@dataclass
class Document:
    """The text read from a file and what reading it took: replaced characters, converter notes."""

    text: str
    replaced: int = 0
    notes: list[str] = field(default_factory=list)


class ReadError(Exception):
    """A bulletin file could not be read; `path` names it and `reason` says why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def read_text(path: Path) -> str:
    """Return the text of the bulletin at `path`, raising ReadError when it cannot be read."""
    return read_document(path).text


def read_document(path: Path) -> Document:
    """Read the bulletin at `path` into a `Document`, raising ReadError when it cannot be read."""
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
    document = reader(path, data)
    if not document.text.strip():
        raise ReadError(path, "no text in file")
    if document.replaced:
        document.notes.insert(0, f"{document.replaced} undecodable character(s) replaced by U+FFFD")
    return document


def decode_bytes(data: bytes) -> str | None:
    """Decode bulletin text bytes strictly, or None when no encoding yields plausible Chinese text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _try_decode(data, encoding)
    for encoding in _candidate_encodings(data):
        text = _try_decode(data, encoding)
        if text is not None:
            return text
    return None


def decode_leniently(data: bytes) -> tuple[str, int] | None:
    """Decode bytes, replacing what no encoding can decode: (text, replaced characters), or None for binary data.

    A strict decoding is used when there is one, except that UTF-8 with a handful of bad bytes (a file cut in
    the middle of a character) stays UTF-8: other encodings would decode it strictly into mojibake. Otherwise
    every candidate encoding decodes with replacement characters and the one needing the fewest wins,
    provided the rest looks like text and at most `MAX_REPLACED_SHARE` of it (or 3 characters) was replaced.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try_decode(data, encoding)
            return (text, 0) if text is not None else _decode_replacing(data, encoding)
    text = _try_decode(data, "utf-8")
    if text is not None:
        return text, 0
    nearly_utf8 = _decode_replacing(data, "utf-8")
    if nearly_utf8 is not None and nearly_utf8[1] <= max(3, len(nearly_utf8[0]) // 1000):
        return nearly_utf8
    text = decode_bytes(data)
    if text is not None:
        return text, 0
    results = [_decode_replacing(data, encoding) for encoding in _candidate_encodings(data)]
    return min((result for result in results if result is not None), key=lambda result: result[1], default=None)


def _decode_replacing(data: bytes, encoding: str) -> tuple[str, int] | None:
    """Decode with replacement characters; None when too much is replaced or the rest is not text."""
    try:
        text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    except LookupError:
        return None
    replaced = text.count("\ufffd")
    if replaced > max(3, MAX_REPLACED_SHARE * len(text)) or not looks_like_text(text.replace("\ufffd", "")):
        return None
    return text, replaced


def _candidate_encodings(data: bytes) -> list[str]:
    """Encodings to try, most likely first, each once.

    UTF-16/32 only when the bytes hold a NUL: every line break or digit of such text has one, while GBK bytes
    never do, and GBK with a bad byte must not come out as UTF-16 mojibake.
    """
    candidates = dict.fromkeys(("utf-8", *_guess_encodings(data), *_FALLBACK_ENCODINGS))
    return [encoding for encoding in candidates if b"\x00" in data or not encoding.startswith("utf-16")
            and not encoding.startswith("utf-32")]


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
    rare = sum(1 for char in _PRIVATE_OR_RARE.findall(sample) if char not in _COMMON_IN_CHINESE)
    return plausible >= 0.95 * len(sample) and rare <= 0.01 * len(sample)


def _read_plain(path: Path, data: bytes) -> Document:
    """Text of a .txt/.md file in UTF-8 (BOM or not), GB18030/GBK or UTF-16 (BOM or not), bad bytes replaced."""
    decoded = decode_leniently(data)
    if decoded is None:
        raise ReadError(path, "binary data or unknown text encoding")
    return Document(*decoded)


def _read_docx(path: Path, data: bytes) -> Document:
    """Paragraphs and table cells of a .docx, in document order, one paragraph per line."""
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx surfaces zip, XML and package errors alike
        raise ReadError(path, f"not a valid .docx file ({error})") from error
    return Document("\n\n".join(_docx_blocks(document)))


def _read_legacy_word(path: Path, data: bytes) -> Document:
    """A .doc (or WPS .wps) converted to .docx by LibreOffice headless, then read as a .docx."""
    try:
        converted = converters.convert_to_docx(path)
    except converters.ConverterError as error:
        raise ReadError(path, str(error)) from error
    try:
        document = _read_docx(converted, b"")
    except ReadError as error:
        raise ReadError(path, f"LibreOffice's conversion could not be read ({error.reason})") from error
    finally:
        converters.remove_converted(converted)
    if document.text.strip() and not looks_like_text(document.text):
        raise ReadError(path, "LibreOffice could not convert it: the result is not text (damaged, or not Word)")
    document.notes.append("converted from Word 97-2003 by LibreOffice")
    return document


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


def _read_pdf(path: Path, data: bytes) -> Document:
    """Text layer of a .pdf, pages joined by a blank line; pages without text are read by OCR when it is installed.

    A scan without text and without Tesseract's Chinese data is an error naming the package to install; a
    PDF with some text pages keeps them and notes the pages it could not read.
    """
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many exception types on damaged files
        raise ReadError(path, f"not a valid .pdf file ({error})") from error
    blank = [number for number, page in enumerate(pages) if not _has_text(page)]
    notes: list[str] = []
    if blank:
        missing = converters.ocr_missing()
        if missing is None:
            try:
                for number, text in zip(blank, converters.ocr_pdf_pages(path, blank), strict=True):
                    pages[number] = text
            except converters.ConverterError as error:
                raise ReadError(path, str(error)) from error
            notes.append(f"{len(blank)} scanned page(s) read by OCR (Tesseract chi_sim)")
        elif len(blank) == len(pages):
            raise ReadError(path, f"scanned PDF: {missing} to read it")
        else:
            notes.append(f"{len(blank)} scanned page(s) not read: {missing}")
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ReadError(path, "PDF has no text (its pages are empty)")
    return Document(text, notes=notes)


def _has_text(page: str) -> bool:
    """True when an extracted page holds real text (a scan may carry a stray page number or nothing)."""
    return len(re.findall(rf"[{CJK_CHARS}A-Za-z]", page)) >= 5


def _read_html(path: Path, data: bytes) -> Document:
    """Visible text of an .html page with block breaks kept (script, style and head dropped)."""
    from bs4 import BeautifulSoup

    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(path, "binary data, not HTML")
    decoded = decode_leniently(data)
    if decoded is None:
        raise ReadError(path, "binary data or unknown text encoding")
    markup, replaced = decoded
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "head", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in soup.get_text().split("\n"))
    return Document(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), replaced)


_BLOCK_TAGS = [
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "td", "th", "table", "section",
    "article", "header", "footer", "blockquote", "pre", "hr", "ul", "ol", "dl", "dt", "dd", "title",
]

_READERS: dict[str, Callable[[Path, bytes], Document]] = {
    **{suffix: _read_plain for suffix in TEXT_SUFFIXES},
    **{suffix: _read_html for suffix in HTML_SUFFIXES},
    **{suffix: _read_legacy_word for suffix in LEGACY_WORD_SUFFIXES},
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}
