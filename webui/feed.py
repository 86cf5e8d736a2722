"""Atom 1.0 feeds (RFC 4287) of a search: its newest matches, so a feed reader or mail client can follow it.

Ids are `urn:uuid:` names derived from the article id (entries) and from the search's parameters (the
feed), so they stay the same whatever host name serves them. An entry's `updated` is its bulletin's date
(midnight, Beijing time); the feed's is its newest entry's, or the index build time when nothing matches.
Text is escaped by ElementTree; characters XML cannot carry are dropped first.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree as ET

from markupsafe import escape

from search.highlight import paragraphs_html

ATOM = "http://www.w3.org/2005/Atom"
#: Bulletin dates are days in Beijing.
BEIJING = "+08:00"
#: Namespace of the feed's and entries' UUIDs.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:bulletin-search")
#: Characters XML 1.0 does not allow.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ET.register_namespace("", ATOM)


@dataclass(frozen=True)
class FeedInfo:
    """What describes the feed itself."""

    title: str
    subtitle: str
    key: str
    self_url: str
    html_url: str
    fallback_updated: str
    generator: str


def entry_id(article_id: str) -> str:
    """The permanent id of an article's entry."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'article:' + article_id)}"


def feed_id(key: str) -> str:
    """The permanent id of the feed of a search (`key`: its canonical parameters)."""
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed:' + key)}"


def timestamp(day: str, fallback: str) -> str:
    """An RFC 3339 time: midnight in Beijing of an ISO date, else `fallback` (an ISO time) in UTC."""
    if day:
        return f"{day}T00:00:00{BEIJING}"
    return rfc3339(fallback)


def rfc3339(stamp: str) -> str:
    """An ISO timestamp as RFC 3339 with an explicit offset (naive times are taken as UTC)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        moment = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat(timespec="seconds")


def _text(value: Any) -> str:
    return _NOT_XML.sub("", "" if value is None else str(value))


def _add(parent: ET.Element, tag: str, text: Any = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {name: _text(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def bulletin_label(article: dict[str, Any]) -> str:
    """《series》第N期（总第M期）, as far as known."""
    label = f"《{article['series']}》" if article.get("series") else ""
    if article.get("issue_label"):
        label += article["issue_label"]
    elif article.get("issue"):
        label += f"第{article['issue']}期"
    if article.get("total_issue"):
        label += f"（总第{article['total_issue']}期）"
    return label


def meta_line(article: dict[str, Any]) -> str:
    """Date, district, column, source and bulletin of an article, as one line of text."""
    parts = [article.get("date"), article.get("district"), article.get("column"),
             f"来源：{article['source']}" if article.get("source") else "", bulletin_label(article)]
    return " · ".join(part for part in parts if part)


def atom(info: FeedInfo, articles: Sequence[dict[str, Any]], link: Callable[[str], str]) -> bytes:
    """The feed document (UTF-8 bytes) of `articles` (newest first); `link(id)` is an article's absolute URL."""
    updated = [timestamp(article.get("date", ""), info.fallback_updated) for article in articles]
    root = ET.Element(f"{{{ATOM}}}feed")
    _add(root, "id", feed_id(info.key))
    _add(root, "title", info.title)
    _add(root, "subtitle", info.subtitle)
    _add(root, "updated", max(updated) if updated else rfc3339(info.fallback_updated))
    _add(_add(root, "author"), "name", info.generator)
    _add(root, "generator", info.generator)
    _add(root, "link", rel="self", type="application/atom+xml", href=info.self_url)
    _add(root, "link", rel="alternate", type="text/html", href=info.html_url)
    for article, moment in zip(articles, updated):
        entry = _add(root, "entry")
        _add(entry, "id", entry_id(article["id"]))
        _add(entry, "title", article.get("headline") or "（无标题）")
        _add(entry, "updated", moment)
        _add(entry, "published", moment)
        _add(entry, "link", rel="alternate", type="text/html", href=link(article["id"]))
        _add(_add(entry, "author"), "name", article.get("source") or article.get("office") or info.generator)
        for value in (article.get("district"), article.get("column")):
            if value:
                _add(entry, "category", term=value)
        _add(entry, "summary", meta_line(article), type="text")
        content = f"<p>{escape(meta_line(article))}</p>\n{paragraphs_html(article.get('body', ''), [])}"
        _add(entry, "content", content, type="html")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
