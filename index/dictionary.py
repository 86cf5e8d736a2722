"""jieba, initialised once per process with our dictionaries and a cache folder we own.

The dictionaries (jieba's own, the bundled domain dictionary and an optional user dictionary) decide how
text is segmented, so an index records `dictionary_hash()` and refuses to be updated with other ones.

jieba keeps its prefix dictionary as a Python dict of half a million strings (about 70 MB per process).
A process that only segments queries (a server worker) calls `use_compact_dictionary()` first: its
tokenizer then reads the same words and frequencies from a marisa trie in the cache folder, mapped from
the file, so every worker shares one copy through the page cache. Segmentation is identical (the same
values); lookups are slower, which only long texts would notice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path

import jieba
import jieba.finalseg
import marisa_trie

from index import config
from index.atomic import replacing, replacing_path

DOMAIN_DICT = Path(str(files("index").joinpath("data", "domain_dict.txt")))

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_compact = False


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


def use_compact_dictionary() -> None:
    """Load this process's tokenizer from the shared trie instead of a dict (call before any segmentation)."""
    global _compact, _tokenizer
    with _lock:
        _compact = True
        _tokenizer = None


def _load_tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    cache = config.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    if _compact:
        compact = _load_compact(cache)
        if compact is not None:
            return compact
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache)
    tokenizer.initialize()
    forced = []
    for path in dictionary_files():
        _check_dictionary(path)
        with path.open("rb") as stream:
            tokenizer.load_userdict(stream)
        forced += _zero_frequency_words(path)
    if _compact:
        _save_compact(cache, tokenizer, forced)
        return _load_compact(cache) or tokenizer
    return tokenizer


def _zero_frequency_words(path: Path) -> list[str]:
    """Words a dictionary gives frequency 0: jieba also tells its HMM never to join them."""
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) > 1 and parts[1] == "0":
            words.append(parts[0])
    return words


class CompactFrequencies(Mapping[str, int]):
    """jieba's prefix dictionary (word → frequency, prefix → 0) read from a memory-mapped marisa trie."""

    def __init__(self, trie: marisa_trie.RecordTrie) -> None:
        self._trie = trie

    def __contains__(self, key: object) -> bool:
        return key in self._trie

    def __getitem__(self, key: str) -> int:
        return self._trie[key][0][0]

    def get(self, key: str, default: int | None = None) -> int | None:  # type: ignore[override]
        found = self._trie.get(key)
        return found[0][0] if found else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)


def _compact_paths(cache: Path) -> tuple[Path, Path]:
    stem = f"jieba-{dictionary_hash()}"
    return cache / f"{stem}.marisa", cache / f"{stem}.json"


def _save_compact(cache: Path, tokenizer: jieba.Tokenizer, forced: list[str]) -> None:
    """Write the trie and its totals (atomically: the JSON, written last, says the pair is complete)."""
    trie_path, meta_path = _compact_paths(cache)
    trie = marisa_trie.RecordTrie("<I", ((word, (count,)) for word, count in tokenizer.FREQ.items()))
    with replacing_path(trie_path) as temporary:
        trie.save(str(temporary))
    with replacing(meta_path, "w", encoding="utf-8") as stream:
        json.dump({"total": tokenizer.total, "force_split": forced}, stream)


def _load_compact(cache: Path) -> jieba.Tokenizer | None:
    """A tokenizer over the cached trie, or None when there is none yet (or it cannot be read)."""
    trie_path, meta_path = _compact_paths(cache)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        trie = marisa_trie.RecordTrie("<I")
        trie.mmap(str(trie_path))
    except (OSError, ValueError, RuntimeError):
        return None
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = CompactFrequencies(trie)
    tokenizer.total = meta["total"]
    tokenizer.initialized = True
    for word in meta["force_split"]:
        jieba.finalseg.add_force_split(word)
    return tokenizer


def reset() -> None:
    """Forget the loaded tokenizer so the next use reloads the dictionaries (tests, config changes)."""
    global _tokenizer, _compact
    with _lock:
        _tokenizer = None
        _compact = False
