"""Related articles (相关文章): a more-like-this query over the distinctive jieba words of an article.

As Lucene's MoreLikeThis: the article's jieba words of two or more characters (headline and body; not the
search-mode sub-words, which would count 海淀区 again as 海淀 and 淀区) are weighted by tf-idf, a headline
occurrence counting `HEADLINE_TF` body occurrences and the document frequency coming from the word index.
Words in no other document, or in more than `MAX_SHARE` of them (and more than `COMMON`), say nothing about
similarity and are left out. The `MAX_WORDS` best words become an OR query, each boosted by its weight
relative to the best, scored with the engine's BM25F over headline and body words
(`search.matching.bm25f`). The best-scoring live articles other than the article itself and exact
duplicates (the same headline and body, whitespace aside) of it or of each other are related; equal scores
put the newer article first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from index import schema as f
from index.analysis import word_terms
from search.matching import bm25f, idf
from search.snapshot import Snapshot

#: Words in the more-like-this query (Lucene's default).
MAX_WORDS = 25
#: A headline occurrence of a word counts this many body occurrences in its weight: a headline names what an
#: article is about. On the whole bench corpus, of the articles sharing a headline's two rarest words with it,
#: 75 % are among the first 8 related at 3, 83 % at 6, 87 % at 10, 90 % at 20 (scripts/workflow_benchmark.py);
#: 10 keeps the body's words in play.
HEADLINE_TF = 10
#: Words in more than this share of the documents (and more than COMMON documents) are too common to tell
#: anything.
MAX_SHARE = 0.1
COMMON = 20
#: Related articles shown by default.
LIMIT = 8


def distinctive_words(frequencies: Callable[[list[str]], dict[str, int]], live: int, headline: str,
                      body: str) -> list[tuple[str, float, int]]:
    """The article's best `MAX_WORDS` words as (word, tf-idf weight, document frequency), best first;
    `frequencies(words)` gives each word's document frequency among the `live` documents (a backend's
    `View.word_frequencies`)."""
    counts: Counter[str] = Counter()
    for text, factor in ((headline, HEADLINE_TF), (body, 1)):
        for word in word_terms(text):
            if len(word) >= 2 and any(char.isalpha() for char in word):
                counts[word] += factor
    known = frequencies(list(counts))
    weighted = []
    for word, count in counts.items():
        frequency = known.get(word, 0)
        if frequency <= 1 or frequency > max(MAX_SHARE * live, COMMON):
            continue
        weighted.append((word, count * idf(frequency, live), frequency))
    weighted.sort(key=lambda item: (-item[1], item[0]))
    return weighted[:MAX_WORDS]


def word_frequencies(snapshot: Snapshot, words: list[str]) -> dict[str, int]:
    """In how many documents each word occurs as a jieba word: its document frequency in the body or the
    headline word index, whichever is larger."""
    return {word: max(snapshot.document_frequency(f.BODY_WORDS, word),
                      snapshot.document_frequency(f.HEADLINE_WORDS, word)) for word in words}


def similarity(snapshot: Snapshot, words: list[tuple[str, float, int]]) -> np.ndarray:
    """The more-like-this score of every document for weighted `words` (0 where none occurs)."""
    score = np.zeros(snapshot.size)
    if not words:
        return score
    best = words[0][1]
    for word, weight, frequency in words:
        in_headlines, headline_counts, _ = snapshot.word_postings(f.HEADLINE_WORDS, word)
        in_bodies, body_counts, _ = snapshot.word_postings(f.BODY_WORDS, word)
        docs = np.union1d(in_headlines, in_bodies)
        headline = np.zeros(len(docs))
        headline[np.searchsorted(docs, in_headlines)] = headline_counts
        body = np.zeros(len(docs))
        body[np.searchsorted(docs, in_bodies)] = body_counts
        score[docs] += weight / best * bm25f(headline, body, snapshot.word_lengths[docs], snapshot.average_words,
                                             frequency, snapshot.live_count)
    return score


def fingerprint(stored: dict[str, Any]) -> str:
    """Headline and body without whitespace: equal for exact duplicates."""
    return "".join(stored.get(f.HEADLINE, "").split()) + "\n" + "".join(stored.get(f.BODY, "").split())


def related_documents(snapshot: Snapshot, docnum: int, limit: int = LIMIT) -> list[dict[str, Any]]:
    """Stored fields of up to `limit` articles most like document `docnum`, most similar first."""
    stored = snapshot.stored_fields(docnum)
    words = distinctive_words(lambda words: word_frequencies(snapshot, words), snapshot.live_count,
                              stored.get(f.HEADLINE, ""), stored.get(f.BODY, ""))
    score = similarity(snapshot, words)
    score[docnum] = 0.0
    score[~snapshot.live] = 0.0
    candidates = np.flatnonzero(score > 0)
    seen = {fingerprint(stored)}
    found: list[dict[str, Any]] = []
    done = 0
    window = 4 * limit
    while len(found) < limit and done < len(candidates):
        top = _best(snapshot, candidates, score, window)
        for candidate in top[done:].tolist():
            other = snapshot.stored_fields(candidate)
            key = fingerprint(other)
            if key not in seen:
                seen.add(key)
                found.append(other)
                if len(found) == limit:
                    break
        done, window = len(top), window * 4
    return found


def _best(snapshot: Snapshot, candidates: np.ndarray, score: np.ndarray, count: int) -> np.ndarray:
    """The `count` best candidates in order: score, then newer first, then article id."""
    if count < len(candidates):
        scores = score[candidates]
        threshold = np.partition(scores, len(scores) - count)[len(scores) - count]
        candidates = candidates[scores >= threshold]
    columns = snapshot.columns
    order = np.lexsort((snapshot.id_rank[candidates], -columns.date_num[candidates], -score[candidates]))
    return candidates[order][:count]
