"""Turn a parsed `Bulletin` into the documents of its articles (one per article).

A document holds the stored and facet fields; the segment writer analyses its headline and body into the
word fields and the unit index. A document read back from the index (its stored fields) is a document
again, which is how segments are merged.
"""

from __future__ import annotations

import hashlib
from typing import Any

from index import schema as f
from index.model import Bulletin


def bulletin_id(file_key: str) -> str:
    """A stable id for the bulletin stored under `file_key` (its path relative to the source folder)."""
    return hashlib.sha1(file_key.encode("utf-8")).hexdigest()[:12]


def article_id(bulletin: str, ordinal: int) -> str:
    """The id of the `ordinal`-th (0-based) article of a bulletin: stable across rebuilds."""
    return f"{bulletin}-{ordinal + 1:02d}"


def _date_parts(date: str | None) -> tuple[int, int, int]:
    """(yyyymmdd, year, month) of an ISO date, zeros when the date is unknown."""
    if not date:
        return 0, 0, 0
    year, month, day = (int(part) for part in date.split("-"))
    return year * 10000 + month * 100 + day, year, month


def article_documents(bulletin: Bulletin, file_key: str, file_hash: str) -> list[dict[str, Any]]:
    """The documents to index for `bulletin`, read from `file_key` whose content hash is `file_hash`."""
    bid = bulletin_id(file_key)
    date_num, year, month = _date_parts(bulletin.date)
    meta = {
        "editor": bulletin.editor,
        "reviewer": bulletin.reviewer,
        "phone": bulletin.phone,
        "fax": bulletin.fax,
        "email": bulletin.email,
        "distribution": dict(bulletin.distribution),
        "articles": len(bulletin.articles),
    }
    documents = []
    for ordinal, article in enumerate(bulletin.articles):
        document: dict[str, Any] = {
            f.ID_: article_id(bid, ordinal),
            f.BULLETIN_ID: bid,
            f.FILE: file_key,
            f.FILE_HASH: file_hash,
            f.ORDINAL: ordinal,
            f.SERIES: bulletin.series or "",
            f.ISSUE_LABEL: bulletin.issue_label or "",
            f.OFFICE: bulletin.office or "",
            f.DATE: bulletin.date or "",
            f.DATE_NUM: date_num,
            f.YEAR: year,
            f.MONTH: month,
            f.DISTRICT: article.district or f.CITY_LEVEL,
            f.COLUMN: article.column or f.NO_COLUMN,
            f.SOURCE: article.source or "",
            f.HEADLINE: article.headline,
            f.BODY: article.body,
            f.BULLETIN_META: meta,
        }
        if bulletin.issue is not None:
            document[f.ISSUE] = bulletin.issue
        if bulletin.total is not None:
            document[f.TOTAL] = bulletin.total
        documents.append(document)
    return documents
