"""Evaluating a query tree over a `Snapshot`: which documents match, and their scores, as numpy arrays.

A term matches where its text occurs exactly: every group of adjacent units (`index.analysis.unit_groups`)
occurs in the headline or body (the headline only for 标题:). Its score is BM25F over the two fields
(Robertson and Zaragoza's form: per-field length normalisation, a headline weight, one saturation), taken
once over how often the exact text occurs and once more over its jieba words, read from Whoosh's word
index, so an article where the term is a real word ranks above one where it straddles two words. A
synonym matches as jieba words: each of its words must be in the document and its text must occur there,
so 创文 finds 创文工作 but not 开创文化. AND intersects, OR unites and adds scores, NOT excludes.

Everything is a whole-index array (one entry per document), so a query costs a few numpy passes whatever
it matches; the positions behind the exact counts come from each segment's unit index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from index import schema as fields
from index.analysis import unit_groups, word_terms
from index.unitindex import query_symbols
from search.query import Any_, Leaf, Node, Not, variants
from search.snapshot import Snapshot
from search.synonyms import Synonyms

#: BM25 term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
#: A headline occurrence counts this many body occurrences (before saturation). Measured on the bench corpus
#: with two-word headline queries (scripts/benchmark.py, two seeds): 6 puts the article in the top 3 for 63-65 %
#: of all queries and 97.8-98.7 % of the unambiguous ones, 10 for 65-68 % and 99.6-100 %, 20 for 66-69 % and
#: 100 %; 30 is no better.
HEADLINE_WEIGHT = 20.0
#: Weight of the jieba-word score relative to the exact-text score.
WORD_WEIGHT = 1.0


@dataclass
class WordPart:
    """The jieba-word half of a typed term's score, added later only for the documents shown or ranked."""

    words: list[str]
    title: bool
    mask: np.ndarray


@dataclass
class Match:
    """The documents a (sub)query matches, their scores so far (zero where it does not match), and the word
    scores still to add (`Matcher.add_word_scores`)."""

    mask: np.ndarray
    score: np.ndarray
    words: list[WordPart] = field(default_factory=list)


class Matcher:
    """Evaluates query trees over one snapshot, for one request (word postings are cached per request).

    Evaluation gives every match and its exact-text score; the word scores, which need a word's postings,
    are added afterwards for the documents that pass the filters (`add_word_scores`), so a selective query
    or filter decodes only the posting blocks of its candidates and a count decodes none.
    """

    def __init__(self, snapshot: Snapshot, synonyms: Synonyms | None, title: bool = False,
                 units: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.snapshot = snapshot
        self.synonyms = synonyms
        self.title = title
        self._words: dict[tuple[str, str], tuple[np.ndarray, int]] = {}
        #: Exact counts per unit sequence, shareable by the matchers of one request (its suggestions).
        self.units = {} if units is None else units

    def evaluate(self, node: Node | None) -> Match:
        """The match of `node`; None (browse mode) matches every live document with score 0."""
        size = self.snapshot.size
        if node is None:
            return Match(self.snapshot.live.copy(), np.zeros(size))
        if isinstance(node, Leaf):
            return self._leaf(node)
        if isinstance(node, Not):
            return Match(self.snapshot.live & ~self.evaluate(node.child).mask, np.zeros(size))
        if isinstance(node, Any_):
            found = [self.evaluate(child) for child in node.children]
            mask = np.logical_or.reduce([match.mask for match in found])
            return Match(mask, np.sum([match.score for match in found], axis=0),
                         [part for match in found for part in match.words])
        positives = [self.evaluate(child) for child in node.children if not isinstance(child, Not)]
        negatives = [self.evaluate(child.child) for child in node.children if isinstance(child, Not)]
        if positives:
            mask = np.logical_and.reduce([match.mask for match in positives])
            score = np.sum([match.score for match in positives], axis=0)
        else:
            mask, score = self.snapshot.live.copy(), np.zeros(size)
        for negative in negatives:
            mask &= ~negative.mask
        return Match(mask, np.where(mask, score, 0.0), [part for match in positives for part in match.words])

    def add_word_scores(self, match: Match, docnums: np.ndarray) -> None:
        """Add the word scores of `match` for `docnums` (ascending; documents it matches)."""
        for part in match.words:
            found = docnums[part.mask[docnums]]
            if found.size:
                match.score[found] += WORD_WEIGHT * self._word_score(part.words, found, part.title)
        match.words = []

    def _leaf(self, leaf: Leaf) -> Match:
        title = self.title or leaf.title
        texts = variants(leaf, self.synonyms)
        match = self._typed(texts[0], title)
        for synonym in texts[1:]:
            other = self._synonym(synonym, title)
            match.mask |= other.mask
            match.score += other.score
        return match

    def _typed(self, text: str, title: bool) -> Match:
        """The text as typed: exact occurrences required, their words scored on top (later)."""
        snapshot = self.snapshot
        mask = snapshot.live.copy()
        counts = [self._unit_counts(group) for group in unit_groups(text)]
        for in_headline, in_body in counts:
            mask &= (in_headline > 0) if title else ((in_headline > 0) | (in_body > 0))
        score = np.zeros(snapshot.size)
        found = np.flatnonzero(mask)
        if found.size:
            headline = np.sum([in_headline[found] for in_headline, _ in counts], axis=0)
            body = np.zeros(found.size) if title else np.sum([in_body[found] for _, in_body in counts], axis=0)
            score[found] = self._bm25f(headline, body, snapshot.unit_lengths[found], snapshot.average_units,
                                       found.size)
        return Match(mask, score, [WordPart(word_terms(text), title, mask.copy())])

    def _synonym(self, text: str, title: bool) -> Match:
        """A synonym: its words must all be in the document and its text must occur there."""
        snapshot = self.snapshot
        words = word_terms(text)
        if not words:
            return Match(np.zeros(snapshot.size, dtype=bool), np.zeros(snapshot.size))
        mask = snapshot.live.copy()
        for word in words:
            present = self._frequencies(fields.HEADLINE_WORDS, word)[0] > 0
            if not title:
                present |= self._frequencies(fields.BODY_WORDS, word)[0] > 0
            mask &= present
        for group in unit_groups(text):
            in_headline, in_body = self._unit_counts(group)
            mask &= (in_headline > 0) if title else ((in_headline > 0) | (in_body > 0))
        score = np.zeros(snapshot.size)
        found = np.flatnonzero(mask)
        if found.size:
            score[found] = WORD_WEIGHT * self._word_score(words, found, title)
        return Match(mask, score)

    def _word_score(self, words: list[str], found: np.ndarray, title: bool) -> np.ndarray:
        """The summed BM25F scores of `words` (each once) for the documents `found` (ascending)."""
        snapshot = self.snapshot
        total = np.zeros(found.size)
        for word in dict.fromkeys(words):
            headline, in_headlines = self._frequencies(fields.HEADLINE_WORDS, word, found)
            body, in_bodies = (np.zeros(snapshot.size), 0) if title else self._frequencies(fields.BODY_WORDS, word, found)
            frequency = max(in_headlines, in_bodies)
            if frequency:
                total += self._bm25f(headline[found], body[found], snapshot.word_lengths[found],
                                     snapshot.average_words, frequency)
        return total

    def _frequencies(self, field: str, word: str, found: np.ndarray | None = None) -> tuple[np.ndarray, int]:
        """How often `word` occurs in `field` of every document (dense; exact at least for `found`, or for
        every document when None), and its document frequency there. Complete arrays are kept for the
        request."""
        key = (field, word)
        known = self._words.get(key)
        if known is not None:
            return known
        docnums, weights, frequency = self.snapshot.word_postings(field, word, found)
        dense = np.zeros(self.snapshot.size)
        dense[docnums] = weights
        if found is None:
            self._words[key] = (dense, frequency)
        return dense, frequency

    def _unit_counts(self, group: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        symbols = tuple(query_symbols(group))
        found = self.units.get(symbols)
        if found is None:
            found = self.units[symbols] = self.snapshot.unit_counts(symbols)
        return found

    def _bm25f(self, headline: np.ndarray, body: np.ndarray, lengths: np.ndarray, averages: np.ndarray,
               frequency: int) -> np.ndarray:
        return bm25f(headline, body, lengths, averages, frequency, self.snapshot.live_count)


def idf(frequency: int, live: int) -> float:
    """BM25's inverse document frequency of a term in `frequency` of `live` documents."""
    return math.log(1.0 + (live - frequency + 0.5) / (frequency + 0.5))


def bm25f(headline: np.ndarray, body: np.ndarray, lengths: np.ndarray, averages: np.ndarray, frequency: int,
          live: int) -> np.ndarray:
    """BM25F of per-document field frequencies (lengths: documents × 2), `frequency` of `live` documents
    containing the term."""
    normal = 1.0 - B + B * lengths / averages
    weighted = HEADLINE_WEIGHT * headline / normal[:, 0] + body / normal[:, 1]
    return idf(frequency, live) * weighted * (K1 + 1.0) / (weighted + K1)
