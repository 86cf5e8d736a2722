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
from dataclasses import dataclass

import numpy as np

from index import schema as f
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
class Match:
    """The documents a (sub)query matches and their scores (zero where it does not match)."""

    mask: np.ndarray
    score: np.ndarray


class Matcher:
    """Evaluates query trees over one snapshot, for one request (word postings are cached per request)."""

    def __init__(self, snapshot: Snapshot, synonyms: Synonyms | None, title: bool = False) -> None:
        self.snapshot = snapshot
        self.synonyms = synonyms
        self.title = title
        self._words: dict[tuple[str, str], np.ndarray] = {}

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
            return Match(mask, np.sum([match.score for match in found], axis=0))
        positives = [self.evaluate(child) for child in node.children if not isinstance(child, Not)]
        negatives = [self.evaluate(child.child) for child in node.children if isinstance(child, Not)]
        if positives:
            mask = np.logical_and.reduce([match.mask for match in positives])
            score = np.sum([match.score for match in positives], axis=0)
        else:
            mask, score = self.snapshot.live.copy(), np.zeros(size)
        for negative in negatives:
            mask &= ~negative.mask
        return Match(mask, np.where(mask, score, 0.0))

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
        """The text as typed: exact occurrences required, their words scored on top."""
        snapshot = self.snapshot
        mask = snapshot.live.copy()
        headline = np.zeros(snapshot.size)
        body = np.zeros(snapshot.size)
        for group in unit_groups(text):
            in_headline, in_body = snapshot.unit_counts(query_symbols(group))
            mask &= (in_headline > 0) if title else ((in_headline > 0) | (in_body > 0))
            headline += in_headline
            if not title:
                body += in_body
        score = np.zeros(snapshot.size)
        found = np.flatnonzero(mask)
        if found.size:
            score[found] = self._bm25f(headline[found], body[found], snapshot.unit_lengths[found],
                                       snapshot.average_units, found.size)
            score[found] += WORD_WEIGHT * self._word_score(word_terms(text), found, title)
        return Match(mask, score)

    def _synonym(self, text: str, title: bool) -> Match:
        """A synonym: its words must all be in the document and its text must occur there."""
        snapshot = self.snapshot
        words = word_terms(text)
        if not words:
            return Match(np.zeros(snapshot.size, dtype=bool), np.zeros(snapshot.size))
        mask = snapshot.live.copy()
        for word in words:
            present = self._frequencies(f.HEADLINE_WORDS, word) > 0
            if not title:
                present |= self._frequencies(f.BODY_WORDS, word) > 0
            mask &= present
        for group in unit_groups(text):
            in_headline, in_body = snapshot.unit_counts(query_symbols(group))
            mask &= (in_headline > 0) if title else ((in_headline > 0) | (in_body > 0))
        score = np.zeros(snapshot.size)
        found = np.flatnonzero(mask)
        if found.size:
            score[found] = WORD_WEIGHT * self._word_score(words, found, title)
        return Match(mask, score)

    def _word_score(self, words: list[str], found: np.ndarray, title: bool) -> np.ndarray:
        """The summed BM25F scores of `words` (each once) for the documents `found`."""
        snapshot = self.snapshot
        total = np.zeros(found.size)
        for word in dict.fromkeys(words):
            headline = self._frequencies(f.HEADLINE_WORDS, word)
            body = np.zeros(snapshot.size) if title else self._frequencies(f.BODY_WORDS, word)
            frequency = int(np.count_nonzero(((headline > 0) | (body > 0)) & snapshot.live))
            if frequency:
                total += self._bm25f(headline[found], body[found], snapshot.word_lengths[found],
                                     snapshot.average_words, frequency)
        return total

    def _frequencies(self, field: str, word: str) -> np.ndarray:
        """How often `word` occurs in `field` of every document (dense, cached for this request)."""
        key = (field, word)
        dense = self._words.get(key)
        if dense is None:
            docnums, weights = self.snapshot.word_postings(field, word)
            dense = np.zeros(self.snapshot.size)
            dense[docnums] = weights
            self._words[key] = dense
        return dense

    def _bm25f(self, headline: np.ndarray, body: np.ndarray, lengths: np.ndarray, averages: np.ndarray,
               frequency: int) -> np.ndarray:
        """BM25F of per-document field frequencies, `frequency` documents containing the term."""
        normal = 1.0 - B + B * lengths / averages
        weighted = HEADLINE_WEIGHT * headline / normal[:, 0] + body / normal[:, 1]
        live = self.snapshot.live_count
        idf = math.log(1.0 + (live - frequency + 0.5) / (frequency + 0.5))
        return idf * weighted * (K1 + 1.0) / (weighted + K1)
