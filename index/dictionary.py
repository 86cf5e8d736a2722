"""jieba, initialised once per process with our dictionaries and a cache folder we own.

The dictionaries (jieba's own, the bundled domain dictionary and an optional user dictionary) decide how
text is segmented, so an index records `dictionary_hash()` and refuses to be updated with other ones.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from importlib.resources import files
from pathlib import Path

import jieba

from index import config

DOMAIN_DICT = Path(str(files("index").joinpath("data", "domain_dict.txt")))

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


class DictionaryError(Exception):
    """A dictionary file cannot be read; the message names the file and line."""


def _check_dictionary(path: Path) -> None:
    """Raise DictionaryError naming the file and line of the first malformed entry."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DictionaryError(f"cannot read dictionary {path}: {error}") from error
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if len(parts) > 1 and not parts[1].isdigit():
            raise DictionaryError(f"{path}:{number}: frequency must be a whole number: {line!r}")


def dictionary_files() -> list[Path]:
    """The extra dictionaries loaded on top of jieba's own, in load order."""
    extra = [DOMAIN_DICT]
    user = config.user_dict()
    if user is not None:
        extra.append(user)
    return extra


def dictionary_hash() -> str:
    """A short hash of jieba's version and every dictionary that decides segmentation."""
    digest = hashlib.sha1(f"jieba {jieba.__version__}\n".encode())
    for path in dictionary_files():
        _check_dictionary(path)
        digest.update(path.name.encode() + b"\n" + path.read_bytes())
    return digest.hexdigest()[:16]


def get_tokenizer() -> jieba.Tokenizer:
    """The process's jieba tokenizer, created and loaded on first use."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _load_tokenizer()
    return _tokenizer


def _load_tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    cache = config.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    tokenizer.tmp_dir = str(cache)
    tokenizer.initialize()
    for path in dictionary_files():
        _check_dictionary(path)
        with path.open("rb") as stream:
            tokenizer.load_userdict(stream)
    return tokenizer


def reset() -> None:
    """Forget the loaded tokenizer so the next use reloads the dictionaries (tests, config changes)."""
    global _tokenizer
    with _lock:
        _tokenizer = None
