"""The row format of the cluster: what every shard node stores per article, and the coordinator's metadata.

Analysis is ours, not Sphinx's, so both backends match the same text: each field holds tokens we write,
space-separated, and Sphinx only splits on the spaces.

* `hu`/`bu`: the units (`index.analysis.units`) of headline and body, one token per unit: a CJK character
  as `u` + its code point in hex, a lower-case ASCII letter/digit run as `l` + the run, any other run as
  `h` + a hash. A `.` between two unit segments is a phrase boundary (`phrase_boundary`), so an exact term
  is a phrase of unit tokens that never spans punctuation, a line break or a space between CJK characters,
  exactly like the unit index. Whole-run tokens keep 第5期 from matching 第15期.
* `hb`/`bb`: the same units as bigrams, one token per two adjacent units of a segment (two CJK characters
  as `b` + both code points in five hex digits each, any other pair as `p` + a hash), at the first unit's
  position. A term of n ≥ 2 adjacent units is the phrase of its n-1 bigrams, which matches exactly where
  its units do, and bigram lists are far shorter than those of single characters: a 5-character phrase
  of common characters costs Sphinx a fifth of the time over bigrams (measured).
* `hw`/`bw`: the jieba words (`index.analysis.word_counts`, sub-words included), each as `w` + a hash, for
  ranking and for synonyms, which match as words.
* `xa`: the one token `xall`, so a query of only exclusions has something to exclude from.

Attributes carry the filters and facets (hashes of the facet strings as bigints, the strings beside them),
the dates as YYYYMMDD numbers, the theme names' CRC32s as a multi-value attribute, and the whole stored
document as JSON text for display. `facets` holds every facet value of the row once more as one tagged
code each (`facet_tag`), so that one `GROUP BY facets` counts all the facets that share a WHERE clause:
Sphinx 2.2 evaluates the full-text query once per statement (FACET included), and a search page without
filters needs one grouping evaluation instead of five. `born`/`died` are the generations a row is visible in
(`born <= G < died`, `ALIVE` for rows still live): the publisher flips the coordinator's generation only
once every shard holds the new rows (docs/scale-out.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

from index import schema as f
from index.analysis import units, word_counts
from index.normalize import is_cjk, normalize

#: The version of this row format: the publisher records it in the state row, and the backend refuses a
#: cluster published with another (its searchd configs declare other fields: init a new one and publish).
ROW_FORMAT = 3
#: The distributed index on the coordinator, the RT index on each data node, the coordinator's metadata.
INDEX = "bulletins"
SHARD_INDEX = "shard"
META_INDEX = "bulletins_meta"
#: `died` of a live row.
ALIVE = 4294967295
ALL_TOKEN = "xall"
BOUNDARY = "."
#: Metadata rows: the published state (generation, figures, themes), the cluster topology, and the
#: chunks of the vocabulary files (`BLOB_BASE + part`, by generation).
STATE_ROW = 1
TOPOLOGY_ROW = 2
BLOB_BASE = 1_000_000
BLOB_CHUNK = 512 * 1024

#: Facet strings stored as a bigint hash (`facet_code`) for filters and GROUP BY, and as text.
FACET_ATTRIBUTES = {"district": f.DISTRICT, "column": f.COLUMN, "source": f.SOURCE, "series": f.SERIES}
#: The kinds of tagged codes in `facets`, each in the top byte of a 64-bit value (`facet_tag`).
FACET_KINDS = {"district": 1, "year": 2, "month": 3, "column": 4, "theme": 5}
_TAG_SHIFT = 56
_TAG_VALUE = (1 << _TAG_SHIFT) - 1
#: The multi-value columns of a shard row (a list literal in INSERT).
MULTI_VALUE = ("themes", "facets")
#: Every column of a shard row, in INSERT order.
COLUMNS = ("id", "hu", "bu", "hb", "bb", "hw", "bw", "xa", "born", "died", "year", "month", "date_num", "ordinal",
           "district_code", "column_code", "source_code", "series_code", "themes", "facets",
           "article_id", "bulletin_id", "district", "column_name", "source", "series", "doc")

_ASCII_RUN = re.compile(r"[a-z0-9]{1,40}")

SHARD_SCHEMA = """\
    rt_field = hu
    rt_field = bu
    rt_field = hb
    rt_field = bb
    rt_field = hw
    rt_field = bw
    rt_field = xa
    rt_attr_uint = born
    rt_attr_uint = died
    rt_attr_uint = year
    rt_attr_uint = month
    rt_attr_uint = date_num
    rt_attr_uint = ordinal
    rt_attr_bigint = district_code
    rt_attr_bigint = column_code
    rt_attr_bigint = source_code
    rt_attr_bigint = series_code
    rt_attr_multi = themes
    rt_attr_multi_64 = facets
    rt_attr_string = article_id
    rt_attr_string = bulletin_id
    rt_attr_string = district
    rt_attr_string = column_name
    rt_attr_string = source
    rt_attr_string = series
    rt_attr_string = doc
    charset_table = 0..9, a..z, _
    min_word_len = 1
    phrase_boundary = U+2E
    phrase_boundary_step = 10
    index_field_lengths = 1
    rt_mem_limit = 256M
"""

META_SCHEMA = """\
    rt_field = kind
    rt_attr_uint = generation
    rt_attr_uint = part
    rt_attr_string = value
    rt_mem_limit = 64M
"""


def shard_index_config(path: str) -> str:
    """The `index shard {...}` section of a data node's searchd config, its files under `path`."""
    return f"index {SHARD_INDEX}\n{{\n    type = rt\n    path = {path}\n{SHARD_SCHEMA}}}\n"


def meta_index_config(path: str) -> str:
    """The `index bulletins_meta {...}` section of the coordinator's config."""
    return f"index {META_INDEX}\n{{\n    type = rt\n    path = {path}\n{META_SCHEMA}}}\n"


def _hash(text: str, size: int = 8) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=size).digest()


def unit_token(unit: str) -> str:
    """The token of one unit (a CJK character or a run of other letters and digits)."""
    if len(unit) == 1 and is_cjk(unit):
        return f"u{ord(unit):x}"
    if _ASCII_RUN.fullmatch(unit):
        return f"l{unit}"
    return "h" + _hash(unit).hex()


def bigram_token(first: str, second: str) -> str:
    """The token of two adjacent units."""
    if len(first) == 1 and len(second) == 1 and is_cjk(first) and is_cjk(second):
        return f"b{ord(first):05x}{ord(second):05x}"
    return "p" + _hash(first + "\0" + second).hex()


def word_token(word: str) -> str:
    """The token of one jieba word."""
    return "w" + _hash(word).hex()


def unit_text(text: str) -> str:
    """A field's unit tokens: `text` (stored form) normalised, segments separated by phrase boundaries."""
    tokens: list[str] = []
    segment = None
    for unit in units(normalize(text)):
        if segment is not None and unit.segment != segment:
            tokens.append(BOUNDARY)
        segment = unit.segment
        tokens.append(unit_token(unit.text))
    return " ".join(tokens)


def bigram_text(text: str) -> str:
    """A field's bigram tokens: each pair of adjacent units of a segment, segments separated by boundaries."""
    tokens: list[str] = []
    previous = None
    for unit in units(normalize(text)):
        if previous is not None:
            if unit.segment == previous.segment:
                tokens.append(bigram_token(previous.text, unit.text))
            else:
                tokens.append(BOUNDARY)
        previous = unit
    return " ".join(tokens)


def word_text(text: str) -> str:
    """A field's word tokens, each word as often as it occurs (sub-words included), for BM25."""
    counts, _ = word_counts(normalize(text))
    return " ".join(token for word, count in counts.items() for token in [word_token(word)] * count)


def facet_code(value: str | None) -> int:
    """A facet string's 63-bit code (0 for empty or None): filters and GROUP BY use it."""
    if not value:
        return 0
    return int.from_bytes(_hash(value), "big") & 0x7FFF_FFFF_FFFF_FFFF or 1


def theme_code(name: str) -> int:
    """A theme name's code in the `themes` multi-value attribute."""
    return zlib.crc32(name.encode("utf-8")) or 1


def facet_tag(kind: str, value: int) -> int:
    """The tagged code of a facet value in `facets`: the kind's number in the top byte, then the value's low
    56 bits (a year, a month, a theme's CRC32, or a facet string's code)."""
    return (FACET_KINDS[kind] << _TAG_SHIFT) | (int(value) & _TAG_VALUE)


def facet_untag(code: int) -> tuple[str | None, int]:
    """The kind (None for an unknown tag) and the value bits of a tagged code."""
    tag = int(code) >> _TAG_SHIFT
    kind = next((name for name, number in FACET_KINDS.items() if number == tag), None)
    return kind, int(code) & _TAG_VALUE


def document_json(stored: dict[str, Any]) -> str:
    """The stored document as the `doc` attribute holds it."""
    return json.dumps(stored, ensure_ascii=False, sort_keys=True, default=str)


def row_id(article_id: str, doc: str, themes: Sequence[str] = ()) -> int:
    """A row's Sphinx id: the article, its exact content and its themes, so a changed article (or theme
    table) gives a new row and an unchanged one keeps its row across builds. Positive, below 2^63."""
    key = "\0".join([article_id, doc, "|".join(sorted(themes))])
    return int.from_bytes(_hash(key), "big") & 0x7FFF_FFFF_FFFF_FFFF or 1


def shard_of(article_id: str, shards: int) -> int:
    """The shard an article lives on: a stable hash of its id, the same on every machine and build."""
    return int.from_bytes(_hash(article_id, 4), "big") % shards


def row_values(stored: dict[str, Any], themes: Sequence[str], born: int) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The column values of a live row (everything but `themes`, `facets` as a tuple of tagged codes) and
    its theme codes."""
    doc = document_json(stored)
    headline, body = stored.get(f.HEADLINE, "") or "", stored.get(f.BODY, "") or ""
    values = {
        "id": row_id(stored[f.ID_], doc, themes), "hu": unit_text(headline), "bu": unit_text(body),
        "hb": bigram_text(headline), "bb": bigram_text(body),
        "hw": word_text(headline), "bw": word_text(body), "xa": ALL_TOKEN, "born": born, "died": ALIVE,
        "year": int(stored.get(f.YEAR) or 0), "month": int(stored.get(f.MONTH) or 0),
        "date_num": int(stored.get(f.DATE_NUM) or 0), "ordinal": int(stored.get(f.ORDINAL) or 0),
        "article_id": stored[f.ID_], "bulletin_id": stored.get(f.BULLETIN_ID, "") or "",
        "district": stored.get(f.DISTRICT) or "", "column_name": stored.get(f.COLUMN) or "",
        "source": stored.get(f.SOURCE) or "", "series": stored.get(f.SERIES) or "", "doc": doc,
    }
    for name, field in FACET_ATTRIBUTES.items():
        values[f"{name}_code"] = facet_code(stored.get(field))
    codes = tuple(sorted({theme_code(name) for name in themes}))
    values["facets"] = tuple(sorted({facet_tag("district", values["district_code"]), facet_tag("year", values["year"]),
                                     facet_tag("month", values["month"]), facet_tag("column", values["column_code"]),
                                     *(facet_tag("theme", code) for code in codes)}))
    return values, codes


def insert_statement(rows: Iterable[tuple[dict[str, Any], tuple[int, ...]]], connection: Any,
                     verb: str = "REPLACE") -> str:
    """One `REPLACE INTO shard ... VALUES (...), (...)` statement for `rows` (values escaped by the
    connection; the multi-value attributes as literal lists)."""
    values = []
    for row, themes in rows:
        cells = []
        for column in COLUMNS:
            if column in MULTI_VALUE:
                codes = themes if column == "themes" else row[column]
                cells.append("(" + ",".join(str(int(code)) for code in codes) + ")")
            else:
                cells.append(connection.escape(row[column]))
        values.append("(" + ", ".join(cells) + ")")
    return f"{verb} INTO {SHARD_INDEX} ({', '.join(COLUMNS)}) VALUES " + ", ".join(values)
