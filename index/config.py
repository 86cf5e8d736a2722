"""Settings read from the environment, declared in one table so each is documented once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    """One environment setting: its variable, default and what it is for."""

    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("BULLETINS_INDEX", "var/index", "Index folder used when a command gets no --index."),
    Setting("BULLETINS_BACKEND", "", "sphinxql://HOST:PORT of a cluster coordinator: builds publish to it, serve and search use it."),
    Setting("BULLETINS_USER_DICT", "", "Extra jieba dictionary file (word [freq [tag]] per line)."),
    Setting("BULLETINS_SYNONYMS", "", "Synonym file replacing the bundled one (one group per line)."),
    Setting("BULLETINS_THEMES", "", "Theme table (CSV: 主题, 关键词, 同义词) replacing the bundled one."),
    Setting("BULLETINS_CACHE_DIR", "~/.cache/bulletin-search", "Folder for jieba's prefix-dictionary cache."),
    Setting("BULLETINS_QUERY_LOG", "on", "Query log of searches (hot and related searches): on or off."),
    Setting("BULLETINS_QUERY_LOG_DIR", "", "Folder of the query log (default: the index folder)."),
    Setting("BULLETINS_QUERY_LOG_MAX_BYTES", "10000000", "Size at which the query log is rotated."),
    Setting("BULLETINS_QUERY_LOG_KEEP", "5", "Rotated query log files kept."),
    Setting("BULLETINS_QUERY_LOG_CLIENT", "off", "on: also log the client address and user name."),
    Setting("BULLETINS_FAILPOINT", "", "Testing: names of build moments to pause at (index/failpoints.py)."),
    Setting("BULLETINS_CONVERT_TIMEOUT", "180", "Seconds LibreOffice may take to convert one .doc/.wps file."),
    Setting("BULLETINS_OCR_TIMEOUT", "120", "Seconds Tesseract may take to read one scanned PDF page."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def get(name: str) -> str:
    """The value of setting `name`: the environment variable if set and non-empty, else its default."""
    return os.environ.get(name) or _BY_NAME[name].default


def index_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The index location: `explicit`, else BULLETINS_INDEX, else ./var/index."""
    return Path(explicit) if explicit else Path(get("BULLETINS_INDEX"))


def user_dict() -> Path | None:
    """The user dictionary named in configuration, if any."""
    value = get("BULLETINS_USER_DICT")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The folder we own for jieba's cache."""
    return Path(get("BULLETINS_CACHE_DIR")).expanduser()


def seconds(name: str) -> float:
    """A timeout setting in seconds (its default when the variable is not a positive number)."""
    try:
        value = float(get(name))
    except ValueError:
        value = 0.0
    return value if value > 0 else float(_BY_NAME[name].default)
