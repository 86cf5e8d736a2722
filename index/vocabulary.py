"""The query vocabulary of a generation: what the index holds, as words, phrases and their pinyin.

Built with every generation (`build_vocabulary`, called by `index.writer` before the generation is checked
and made live), so it is versioned and swapped with the index it describes. It holds, from the index itself:

* entries: every jieba word with its document frequency (the larger of its headline and body frequencies,
  read from Whoosh's term tables and summed over segments, deleted documents included as in Whoosh's own
  statistics), the clauses of headlines (headline phrases, counted over live articles),
  and the districts, columns and offices of live articles; a sorted string table with a count and a bitmask
  of kinds per entry (`index.strings`);
* the toneless readings of every hanzi pypinyin knows, so searches need no pypinyin (56 MB per process);
* the pinyin of every all-hanzi entry except headline phrases (pypinyin with its phrase dictionary, toneless,
  ü written v and also u), as full syllables and as initials: a marisa trie of keys (``f`` + letters,
  ``i`` + initials) whose ids index a CSR table of entries, most frequent first, and the same keys as a
  sorted table with the count of each key's most frequent entry (for completing a pinyin prefix).

Files: ``vocabulary.arrays`` (`index.arrayfile`, checksummed) and ``vocabulary.pinyin.marisa``, both
mapped read-only by searches. An incremental build reuses the pinyin of the words the previous vocabulary
already had (read back from its keys), so only new words go through pypinyin.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import marisa_trie
import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from index import schema as f
from index.arrayfile import ArrayFile, ArrayFileError, write_array_file
from index.atomic import replacing
from index.generation import Generation
from index.normalize import normalize
from index.pinyin import all_char_readings, initials, is_hanzi, syllables
from index.strings import StringTable, pack, unpack

ARRAYS_NAME = "vocabulary.arrays"
TRIE_NAME = "vocabulary.pinyin.marisa"
VERSION = 4

WORD, HEADLINE, DISTRICT, COLUMN, OFFICE = 1, 2, 4, 8, 16
KIND_NAMES = {WORD: "word", HEADLINE: "headline", DISTRICT: "district", COLUMN: "column", OFFICE: "office"}
#: Longest entry that gets pinyin (longer ones are phrases nobody types in pinyin).
MAX_PINYIN_CHARS = 12
#: Headline clauses kept as phrases: between these lengths, holding a hanzi.
PHRASE_CHARS = (2, 30)
#: Where a W3 term info holds the document frequency: after the flags byte and the total weight.
_DOC_FREQUENCY = struct.Struct("!I")
_DOC_FREQUENCY_AT = 5
_CLAUSE_BREAKS = re.compile(r"[^\w\u3400-\u9fff]+|_+")
FULL, INITIALS = "f", "i"


class VocabularyError(Exception):
    """A vocabulary file is missing or damaged; the message names it."""


def headline_phrases(headline: str) -> list[str]:
    """The clauses of a normalised headline that are kept as phrases (split at punctuation and spaces)."""
    low, high = PHRASE_CHARS
    return [part for part in _CLAUSE_BREAKS.split(headline)
            if low <= len(part) <= high and any(is_hanzi(char) for char in part)]


def _segment_words(path: Path, part: Any) -> tuple[list[str], list[int]]:
    """A segment's jieba words and in how many of its documents each occurs (the larger of its headline and
    body document frequencies), read straight from the raw entries of Whoosh's term table.

    `W3TermInfo.from_bytes` would unpickle every inlined posting list (most terms are inlined), ten times
    slower; the document frequency is the fixed-width field after the flags and the total weight
    (`W3TermInfo._struct`, "!BfIBBfII"), and whoosh-reloaded is pinned exactly."""
    found: dict[str, int] = {}
    with _segment_reader(path, part) as reader:
        terms = reader._terms
        for name in f.WORD_FIELDS:
            prefix = terms._keycoder(name, b"")
            for key, value in terms._tindex.items_from(prefix):
                if not key.startswith(prefix):
                    break
                word = key[len(prefix):].decode("utf-8")
                frequency = _DOC_FREQUENCY.unpack_from(value, _DOC_FREQUENCY_AT)[0]
                if frequency > found.get(word, 0):
                    found[word] = frequency
    return list(found), list(found.values())


def _segment_headlines(path: Path, part: Any) -> list[str]:
    """A segment's normalised headlines, one per document (read back from Whoosh for an older segment)."""
    if "vocab.headlines.blob" in part.file.names():
        return unpack(part.file.array("vocab.headlines.blob"), part.file.array("vocab.headlines.offsets"))
    with _segment_reader(path, part) as reader:
        return [normalize(reader.stored_fields(docnum).get(f.HEADLINE) or "") for docnum in range(part.doc_count)]


@contextmanager
def _segment_reader(path: Path, part: Any) -> Iterator[Any]:
    reader = SegmentReader(FileStorage(str(path)), f.build_schema(), part.segment)
    try:
        yield reader
    finally:
        reader.close()


def _previous_pinyin(previous: Path | None) -> dict[str, tuple[str, str]]:
    """Entry text → (pinyin letters, initials) from an earlier vocabulary (empty when there is none)."""
    if previous is None:
        return {}
    try:
        vocabulary = Vocabulary(previous)
    except VocabularyError:
        return {}
    try:
        letters: dict[int, str] = {}
        short: dict[int, str] = {}
        for key, number in vocabulary.trie.items():
            members = vocabulary.key_entries[vocabulary.key_offsets[number]:vocabulary.key_offsets[number + 1]]
            for member in members.tolist():
                if key[0] == INITIALS:
                    short[member] = key[1:]
                elif member not in letters or "v" in key:
                    letters[member] = key[1:]
        return {vocabulary.text(member): (value, short.get(member, "")) for member, value in letters.items()}
    finally:
        vocabulary.close()


def build_vocabulary(path: Path, previous: Path | None = None) -> dict[str, int]:
    """Write the vocabulary of the committed generation at `path`; reuse pinyin from generation `previous`.

    Returns its figures (entries, words, phrases, pinyin keys)."""
    generation = Generation(path)
    live = generation.live()
    counts: Counter[str] = Counter()
    kinds: dict[str, int] = {}
    for part in generation.segments:
        words_, frequencies = _segment_words(path, part)
        counts.update(dict(zip(words_, frequencies)))
    for word in counts:
        kinds[word] = WORD
    words = len(counts)
    phrases: Counter[str] = Counter()
    for part in generation.segments:
        local_live = live[part.base:part.base + part.doc_count]
        headlines = _segment_headlines(path, part)
        for headline, alive in zip(headlines, local_live.tolist()):
            if alive:
                phrases.update(set(headline_phrases(headline)))
    for phrase, count in phrases.items():
        kinds[phrase] = kinds.get(phrase, 0) | HEADLINE
        counts[phrase] = max(counts[phrase], count)
    for name, kind in ((f.DISTRICT, DISTRICT), (f.COLUMN, COLUMN), (f.OFFICE, OFFICE)):
        for value, count in _column_counts(generation, live, name).items():
            kinds[value] = kinds.get(value, 0) | kind
            counts[value] = max(counts[value], count)
    texts = sorted(counts)
    known = _previous_pinyin(previous)
    spelled: list[tuple[str, str]] = []
    for text in texts:
        if kinds[text] != HEADLINE and len(text) <= MAX_PINYIN_CHARS and is_hanzi(text):
            value = known.get(text)
            if value is None:
                parts = syllables(text) or []
                value = ("".join(parts), initials(parts) if len(parts) > 1 else "")
            spelled.append(value)
        else:
            spelled.append(("", ""))
    trie, offsets, entries = _pinyin_index(texts, spelled, counts)
    arrays: dict[str, np.ndarray] = {}
    arrays["entries.blob"], arrays["entries.offsets"] = pack(texts)
    arrays["entries.count"] = np.array([counts[text] for text in texts], dtype=np.int32)
    arrays["entries.kinds"] = np.array([kinds[text] for text in texts], dtype=np.uint8)
    table = all_char_readings()
    arrays["chars.code"] = np.array([ord(char) for char in table], dtype=np.int32)
    arrays["chars.blob"], arrays["chars.offsets"] = pack([",".join(values) for values in table.values()])
    arrays["keys.offsets"], arrays["keys.entries"] = offsets, entries
    ordered_keys = sorted(trie.keys())
    arrays["sorted_keys.blob"], arrays["sorted_keys.offsets"] = pack(ordered_keys)
    arrays["sorted_keys.id"] = np.array([trie[key] for key in ordered_keys], dtype=np.int32)
    best = entries[offsets[arrays["sorted_keys.id"]]] if len(ordered_keys) else np.empty(0, np.int32)
    arrays["sorted_keys.count"] = arrays["entries.count"][best] if len(best) else np.empty(0, np.int32)
    figures = {"entries": len(texts), "words": words, "phrases": len(phrases), "pinyin_keys": len(trie)}
    with replacing(path / TRIE_NAME) as stream:
        stream.write(trie.tobytes())
    write_array_file(path / ARRAYS_NAME, arrays, {
        "version": VERSION, "doc_count": generation.doc_count_all, "toc_generation": generation.toc_generation,
        "trie_keys": len(trie), **figures})
    return figures


def _column_counts(generation: Generation, live: np.ndarray, name: str) -> dict[str, int]:
    codes, values = generation.string_column(name)
    found = np.bincount(codes[live], minlength=len(values)) if len(values) else np.zeros(0, np.int64)
    return {value: int(count) for value, count in zip(values, found.tolist()) if value and count}


def _pinyin_index(texts: list[str], spelled: list[tuple[str, str]],
                  counts: Counter[str]) -> tuple[marisa_trie.Trie, np.ndarray, np.ndarray]:
    """The key trie and its CSR table: for each key id, the entries it spells, most frequent first."""
    keyed: dict[str, list[int]] = {}
    for number, (letters, short) in enumerate(spelled):
        if not letters:
            continue
        names = {FULL + letters}
        if "v" in letters:
            names.add(FULL + letters.replace("v", "u"))
        if short:
            names.add(INITIALS + short)
        for name in names:
            keyed.setdefault(name, []).append(number)
    trie = marisa_trie.Trie(list(keyed))
    ordered = [[] for _ in range(len(trie))]
    for name, members in keyed.items():
        ordered[trie[name]] = sorted(members, key=lambda number: (-counts[texts[number]], texts[number]))
    offsets = np.zeros(len(trie) + 1, dtype=np.uint32)
    offsets[1:] = np.cumsum([len(members) for members in ordered])
    entries = np.array([number for members in ordered for number in members], dtype=np.int32)
    return trie, offsets, entries


class Vocabulary:
    """The vocabulary of generation `path`, mapped read-only (VocabularyError when it is missing or damaged)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.file = ArrayFile(self.path / ARRAYS_NAME)
        except ArrayFileError as error:
            raise VocabularyError(str(error)) from error
        meta = self.file.meta
        if meta.get("version") != VERSION:
            raise VocabularyError(f"{self.file.path} has version {meta.get('version')}, {VERSION} expected")
        self.trie = marisa_trie.Trie()
        try:
            self.trie.mmap(str(self.path / TRIE_NAME))
        except Exception as error:  # noqa: BLE001 - marisa raises several kinds for a missing or bad file
            raise VocabularyError(f"cannot map {self.path / TRIE_NAME}: {error}") from error
        if len(self.trie) != meta.get("trie_keys"):
            raise VocabularyError(f"{self.path / TRIE_NAME} does not match {self.file.path.name}")
        array = self.file.array
        self.entries = StringTable(array("entries.blob"), array("entries.offsets"))
        self.counts = array("entries.count")
        self.kinds = array("entries.kinds")
        self.key_offsets = array("keys.offsets")
        self.key_entries = array("keys.entries")
        self.sorted_keys = StringTable(array("sorted_keys.blob"), array("sorted_keys.offsets"))
        self.sorted_key_ids = array("sorted_keys.id")
        self.sorted_key_counts = array("sorted_keys.count")
        self.char_codes = array("chars.code")
        self.char_table = StringTable(array("chars.blob"), array("chars.offsets"))
        self._readings: dict[str, tuple[str, ...]] = {}
        self.figures = {name: int(meta.get(name, 0)) for name in ("entries", "words", "phrases", "pinyin_keys")}

    def close(self) -> None:
        self.trie = marisa_trie.Trie()

    def verify(self) -> list[str]:
        """Problems found in the vocabulary files (empty when sound)."""
        damaged = self.file.verify()
        return [f"{self.file.path.name}: damaged arrays {', '.join(damaged)}"] if damaged else []

    def count(self, text: str) -> int:
        """The entry's count (document frequency of a word), 0 when it is not in the vocabulary."""
        index = self.entries.find(text)
        return int(self.counts[index]) if index >= 0 else 0

    def is_word(self, text: str) -> bool:
        """True when `text` is a jieba word of the index (or a district, column or office)."""
        index = self.entries.find(text)
        return index >= 0 and bool(self.kinds[index] & (WORD | DISTRICT | COLUMN | OFFICE))

    def completions(self, prefix: str, limit: int) -> list[tuple[str, int, int]]:
        """Up to `limit` entries starting with `prefix` (not `prefix` itself), most frequent first:
        (text, count, kinds)."""
        low, high = self.entries.prefix_range(prefix)
        if high <= low:
            return []
        counts = self.counts[low:high]
        take = min(high - low, limit + 1)
        best = np.argpartition(-counts, take - 1)[:take] if take < high - low else np.arange(high - low)
        best = best[np.lexsort((best, -counts[best]))]
        found = []
        for offset in best.tolist():
            text = self.entries[low + offset]
            if text != prefix:
                found.append((text, int(counts[offset]), int(self.kinds[low + offset])))
        return found[:limit]

    def spelled(self, key: str) -> list[int]:
        """Entries whose pinyin key (FULL or INITIALS + letters) is `key`, most frequent first."""
        if key not in self.trie:
            return []
        number = self.trie[key]
        return self.key_entries[self.key_offsets[number]:self.key_offsets[number + 1]].tolist()

    def key_prefixes(self, kind: str, letters: str) -> list[str]:
        """The keys of `kind` that are prefixes of `letters` (without the kind mark), shortest first."""
        return sorted((key[1:] for key in self.trie.prefixes(kind + letters) if len(key) > 1), key=len)

    def spelled_completions(self, kind: str, prefix: str, limit: int) -> list[int]:
        """Entries whose key of `kind` starts with `prefix`, most frequent first (a few per key)."""
        low, high = self.sorted_keys.prefix_range(kind + prefix)
        if high <= low:
            return []
        counts = self.sorted_key_counts[low:high]
        take = min(high - low, limit)
        best = np.argpartition(-counts, take - 1)[:take] if take < high - low else np.arange(high - low)
        found: dict[int, int] = {}
        for offset in best.tolist():
            number = int(self.sorted_key_ids[low + offset])
            for member in self.key_entries[self.key_offsets[number]:self.key_offsets[number + 1]][:3].tolist():
                found[member] = int(self.counts[member])
        return sorted(found, key=lambda member: (-found[member], member))[:limit]

    def text(self, entry: int) -> str:
        return self.entries[entry]

    def readings(self, char: str) -> tuple[str, ...]:
        """The toneless readings of one hanzi, the most common first (the character itself when unknown)."""
        found = self._readings.get(char)
        if found is None:
            place = int(np.searchsorted(self.char_codes, ord(char))) if len(char) == 1 else len(self.char_codes)
            known = place < len(self.char_codes) and int(self.char_codes[place]) == ord(char)
            found = tuple(self.char_table[place].split(",")) if known else (char,)
            if len(self._readings) < 65536:
                self._readings[char] = found
        return found

    def spellings(self, text: str, limit: int = 4) -> list[str]:
        """The pinyin letters hanzi `text` may be read as (each character's readings combined, at most
        `limit` ways, the most common readings first)."""
        found = [""]
        for char in text:
            found = [done + reading for done in found for reading in self.readings(char)][:limit]
        return found



def open_vocabulary(path: Path) -> Vocabulary | None:
    """The vocabulary of generation `path`, or None when it has none (an index built before vocabularies)."""
    if not (Path(path) / ARRAYS_NAME).exists():
        return None
    return Vocabulary(path)
