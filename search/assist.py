"""Query assistance: pinyin queries, typo correction and full forms of short forms (the did-you-mean layer).

Every proposal comes from the generation's own vocabulary (`index.vocabulary`), so it only proposes words
the index holds, and the engine only shows one that has results (`assist`):

* a term written in Latin letters that is not a word of the text (GDP, a name and an e-mail address are
  left alone) and spells vocabulary words in full pinyin (lajifenlei, laji fenlei), as initials (ljfl) or
  mixed with hanzi (垃圾fenlei) becomes those words; a dynamic programme over the letters picks the reading
  with the best log frequency (each word costing a little, so longer words win);
* a hanzi term in which one or two characters are homophones (same toneless pinyin, any reading) or
  near-homophones (z/zh, c/ch, s/sh, n/l, f/h, an/ang, en/eng, in/ing) of vocabulary words is corrected by
  the same kind of programme over its characters, each changed character costing a penalty. A term that
  occurs in the index as typed is only corrected when the correction is far more probable; one that does
  not occur takes the best correction;
* a short form the synonym table knows (创城) gets its full form (创建文明城市) proposed.

The homophone of a word is ambiguous (共识, 攻势, 公式 are all gongshi), so each corrected term keeps a few
alternatives, and the query whose terms occur together in the most articles wins. Shape-similar characters
are not corrected: there is no character-shape table among our dependencies.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from index.normalize import normalize
from index.pinyin import PINYIN_TEXT, is_hanzi, normalise_latin, variants
from index.vocabulary import FULL, INITIALS, Vocabulary
from search.backend import View
from search.query import All, Any_, Leaf, Node, Not, unparse
from search.request import SearchRequest
from search.synonyms import Synonyms

#: Longest hanzi term the typo corrector looks at, and longest word it puts in.
MAX_TERM_CHARS = 16
MAX_WORD_CHARS = 8
#: Changes allowed in one term, and what each costs in log-probability (a near-homophone costs more).
MAX_CHANGES = 2
CHANGE_COST = 3.0
NEAR_COST = 1.5
#: What each word of a reading costs (log-probability): fewer, longer words read better.
PIECE_COST = 2.0
#: What a one-character word costs on top in a pinyin reading (one syllable spells dozens of them).
SYLLABLE_COST = 2.0
#: A term that occurs as typed is corrected only when the correction beats it by this much.
MARGIN = 4.0
#: Homophone words tried per span, reading combinations per span, alternatives kept per term.
WORDS_PER_KEY = 6
READING_COMBINATIONS = 16
ALTERNATIVES = 3
#: Queries with more terms than this are taken as typed (nobody types ten words in pinyin).
MAX_TERMS = 8
#: Letters of a pinyin term (beyond this it is not treated as pinyin).
MAX_PINYIN_LETTERS = 60
#: A query with at least this many results is never questioned (only a short form gets its full form).
FEW_RESULTS = 5
#: A query that has results gets "did you mean" only when the proposal has this many times more.
DID_YOU_MEAN_FACTOR = 10
#: The first proposal (most probable) wins unless another has more than this many times its results
#: (its words occur together where the first one's hardly do).
SHARE_OF_BEST = 4
#: Full forms of a short form counted at most (the one written out in most articles is proposed).
MAX_FULL_FORMS = 3
#: Combinations of term readings tried per query at most.
MAX_COMBINATIONS = 27
#: Combinations enumerated before ranking at most (the longest lists of readings are cut to fit).
MAX_PRODUCT = 1024
_LATIN_RUNS = re.compile(r"[a-zü']+|[^a-zü']+")
#: A term read as pinyin holds only letters, apostrophes and hanzi: URLs, e-mail addresses, numbers and
#: codes are left as typed.
_PINYIN_TERM = re.compile(r"[a-zü'\u3400-\u4dbf\u4e00-\u9fff]+")


@dataclass
class Assistance:
    """What the engine shows beside (or instead of) the results of a query."""

    did_you_mean: dict[str, Any] | None = None
    #: The corrected query whose results are shown instead (the typed one has none).
    correction: str | None = None


def assist(view: View, synonyms: Synonyms | None, request: SearchRequest, node: Node | None, total: int,
           count_many: Callable[[list[SearchRequest]], list[int]]) -> Assistance:
    """Decide on did-you-mean and correction for a search that found `total` articles.

    A query that has results is never corrected, at most offered an alternative with many times its
    results; one without results is corrected when `request.correct`, unless only the filters excluded
    its matches (then the typed text does occur, and the engine's suggestions say so). When nothing
    matches the whole query although each term occurs, a term that is a homophone of a word the others
    occur with may be corrected (两点 → 亮点).
    """
    vocabulary = view.vocabulary()
    if vocabulary is None or node is None:
        return Assistance()

    title = request.scope == "title"

    def count(other: SearchRequest) -> int:
        return count_many([other])[0]

    def occurs(text: str) -> bool:
        return view.occurrences(Leaf(text), title) > 0

    assistant = Assistant(vocabulary, synonyms, view.live_count, occurs)
    proposals = assistant.corrections(node) if total < FEW_RESULTS else []
    if not proposals and total == 0:
        assistant.occurs = lambda text: False
        proposals = assistant.corrections(node, one_at_a_time=True)
    # How often each proposal's terms occur together (no filters), counted by the view in one go.
    together = view.occurrences_many(proposals, title)
    best_q, best_total = None, 0
    for proposal, found in zip(proposals, together):
        if found and found * SHARE_OF_BEST >= max(together):
            best_q = unparse(proposal)
            best_total = count(replace(request, q=best_q, page=1, correct=False))
            break
    if best_q is not None and best_total:
        if total == 0:
            if request.correct and not (request.has_filters() and count(request.without_filters())):
                return Assistance(correction=best_q)
            return Assistance({"q": best_q, "total": best_total})
        if best_total and best_total >= DID_YOU_MEAN_FACTOR * total:
            return Assistance({"q": best_q, "total": best_total})
    best_q, best_literal = None, 0
    fulls = assistant.full_forms(node)[:MAX_FULL_FORMS]
    literals = count_many([replace(request, q=full, page=1, correct=False, synonyms=False) for full in fulls])
    for full, literal in zip(fulls, literals):
        if literal > best_literal:
            best_q, best_literal = full, literal
    if best_q is None:
        return Assistance()
    return Assistance({"q": best_q, "total": count(replace(request, q=best_q, page=1, correct=False))})


class Assistant:
    """Proposals for one query over one vocabulary (and the synonym table in effect)."""

    def __init__(self, vocabulary: Vocabulary, synonyms: Synonyms | None, documents: int,
                 occurs: Callable[[str], bool] = lambda text: True) -> None:
        self.vocabulary = vocabulary
        self.synonyms = synonyms
        self.total = max(documents, 1)
        self.occurs = occurs

    # Whole queries.

    def corrections(self, node: Node | None, one_at_a_time: bool = False) -> list[Node]:
        """Rewritten queries (pinyin converted, typos corrected), most probable first; empty when none.

        Each term that needs it has a few readings, best first; the combinations are ordered by the sum of
        their ranks (at most MAX_COMBINATIONS). With `one_at_a_time`, each changes a single term."""
        if node is None:
            return []
        leaves: list[Leaf] = []
        _collect(node, leaves)
        if len(leaves) > MAX_TERMS:
            return []
        options = []
        for leaf in leaves:
            readings_ = self.leaf_options(leaf)
            # a term that does not occur as typed is only worth keeping when nothing reads it better
            keep = not readings_ or one_at_a_time or self.occurs(normalize(leaf.text))
            options.append(([leaf] if keep else []) + readings_)
        while math.prod(len(choices) for choices in options) > MAX_PRODUCT:
            longest = max(options, key=len)
            longest.pop()
        ranked = []
        for ranks in itertools.product(*(range(len(choices)) for choices in options)):
            chosen = {id(leaf): choices[rank] for leaf, choices, rank in zip(leaves, options, ranks)
                      if choices[rank] is not leaf}
            if not chosen or (one_at_a_time and len(chosen) > 1):
                continue
            ranked.append((sum(ranks), ranks, chosen))
        ranked.sort(key=lambda item: item[:2])
        found: list[Node] = []
        for _, _, chosen in ranked[:MAX_COMBINATIONS]:
            rewritten = _substitute(node, chosen)
            if rewritten not in found:
                found.append(rewritten)
        whole = self._whole_pinyin(node)
        if whole is not None and whole not in found:
            found.insert(min(1, len(found)), whole)
        return found

    def leaf_options(self, leaf: Leaf) -> list[Node]:
        """Replacements for one term, best first (empty when it needs none)."""
        readings_ = self.term_readings(leaf.text)
        # a term that occurs as typed is only ever offered as another phrase, never loosened into words
        loosen = not leaf.phrase and not self.occurs(normalize(leaf.text))
        found: list[Node] = []
        for words in readings_:
            found.append(replace(leaf, text="".join(words)))
            if len(words) > 1 and loosen:
                found.append(All(tuple(Leaf(word, title=leaf.title) for word in words)))
        return list(dict.fromkeys(found))[:ALTERNATIVES + 1]

    def _whole_pinyin(self, node: Node) -> Node | None:
        """A query made only of pinyin terms read as one run of letters: its words (spaced as typed)."""
        leaves = [node] if isinstance(node, Leaf) else list(node.children) if isinstance(node, All) else []
        if len(leaves) < 2 or not all(isinstance(leaf, Leaf) and not leaf.phrase and not leaf.title
                                      for leaf in leaves):
            return None
        texts = [normalize(leaf.text) for leaf in leaves]
        if not all(PINYIN_TEXT.fullmatch(text) and not self._is_text_word(text) for text in texts):
            return None
        readings_ = self.pinyin_readings("".join(texts))
        return All(tuple(Leaf(word) for word in readings_[0])) if readings_ else None

    def full_forms(self, node: Node | None) -> list[str]:
        """The query with a short form replaced by each longer member of its synonym group (longest first)."""
        if node is None or self.synonyms is None:
            return []
        leaves: list[Leaf] = []
        _collect(node, leaves)
        found: list[str] = []
        for leaf in leaves:
            text = normalize(leaf.text)
            if leaf.phrase or not is_hanzi(text):
                continue
            longer = sorted((member for member in self.synonyms.expand(leaf.text)[1:] if len(member) > len(text)),
                            key=len, reverse=True)
            found += [unparse(_substitute(node, {id(leaf): replace(leaf, text=member)})) for member in longer]
        return found

    # One term.

    def term_readings(self, text: str) -> list[tuple[str, ...]]:
        """Other readings of one term as words, best first: its pinyin converted, or its typos corrected."""
        normalised = normalize(text)
        if _PINYIN_TERM.fullmatch(normalised) and PINYIN_TEXT.search(normalised) \
                and not self._is_text_word(normalised):
            runs = _LATIN_RUNS.findall(normalised)
            converted: list[list[tuple[str, ...]]] = []
            for run in runs:
                found = self.pinyin_readings(run) if PINYIN_TEXT.fullmatch(run) and not self._is_text_word(run) \
                    else []
                converted.append(found or [(run,)])
            if any(len(options) > 1 or options[0] != (run,) for options, run in zip(converted, runs)):
                best = [options[0] for options in converted]
                results = [tuple(word for words in best for word in words)]
                for place, options in enumerate(converted):
                    for other in options[1:]:
                        swapped = best[:place] + [other] + best[place + 1:]
                        results.append(tuple(word for words in swapped for word in words))
                return [tuple(word for word in words if word.strip()) for words in results]
        if is_hanzi(normalised) and 2 <= len(normalised) <= MAX_TERM_CHARS:
            return self.hanzi_readings(normalised, strict=self.occurs(normalised))
        return []

    def _is_text_word(self, text: str) -> bool:
        """True when Latin text occurs in the index as a word (GDP, a name, an abbreviation)."""
        return self.vocabulary.count(text.strip().lower()) > 0

    def _log_probability(self, count: int) -> float:
        return math.log((count + 0.5) / self.total)

    def pinyin_readings(self, letters: str) -> list[tuple[str, ...]]:
        """The vocabulary words a run of pinyin spells, best reading first, then readings with one word
        swapped for another of the same spelling (full syllables; initials only as one whole word)."""
        letters = normalise_latin(letters)
        if not letters or len(letters) > MAX_PINYIN_LETTERS or not letters.isalpha():
            return []
        vocabulary = self.vocabulary
        best: list[tuple[float, list[tuple[str, list[int]]]] | None] = [None] * (len(letters) + 1)
        best[0] = (0.0, [])
        for start in range(len(letters)):
            if best[start] is None:
                continue
            score, pieces = best[start]
            for key in vocabulary.key_prefixes(FULL, letters[start:]):
                members = vocabulary.spelled(FULL + key)
                if not members:
                    continue
                gain = self._log_probability(int(vocabulary.counts[members[0]])) - PIECE_COST
                if len(vocabulary.text(members[0])) == 1:
                    gain -= SYLLABLE_COST
                end = start + len(key)
                if best[end] is None or score + gain > best[end][0]:
                    best[end] = (score + gain, pieces + [(key, members)])
        if best[-1] is not None:
            pieces = best[-1][1]
            words = [vocabulary.text(members[0]) for _, members in pieces]
            found = [tuple(words)]
            for place, (_, members) in enumerate(pieces):
                for other in members[1:ALTERNATIVES]:
                    found.append(tuple(words[:place] + [vocabulary.text(other)] + words[place + 1:]))
            return found
        members = vocabulary.spelled(INITIALS + letters) if len(letters) >= 2 else []
        return [(vocabulary.text(member),) for member in members[:ALTERNATIVES]]

    def hanzi_readings(self, term: str, strict: bool = True) -> list[tuple[str, ...]]:
        """`term` with one or two characters replaced so that it reads as more probable vocabulary words:
        the best such reading, then that reading with one changed word swapped for another homophone.

        `strict` (the term occurs as typed): only when the correction beats the typed reading by MARGIN."""
        n = len(term)
        impossible = (-math.inf, ())
        # best[i][c]: (score, pieces) of the best reading of term[:i] with c changes; a piece is
        # (start, end, word, changes, options of the span)
        best: list[list[tuple[float, tuple]]] = [[impossible] * (MAX_CHANGES + 1) for _ in range(n + 1)]
        best[0][0] = (0.0, ())
        for start in range(n):
            if all(item[0] == -math.inf for item in best[start]):
                continue
            for end in range(start + 1, min(n, start + MAX_WORD_CHARS) + 1):
                options = self._span_options(term[start:end])
                for word, changes, penalty, count in options:
                    gain = self._log_probability(count) - penalty - PIECE_COST
                    for used in range(MAX_CHANGES + 1 - changes):
                        score, pieces = best[start][used]
                        if score == -math.inf:
                            continue
                        if score + gain > best[end][used + changes][0]:
                            best[end][used + changes] = (score + gain, pieces + ((word, changes, options),))
        typed = best[n][0]
        score, pieces = max(best[n][1:], key=lambda item: item[0])
        if score == -math.inf or (strict and score <= typed[0] + MARGIN):
            return []
        words = [piece[0] for piece in pieces]
        found = [tuple(words)]
        for place, (word, changes, options) in enumerate(pieces):
            if not changes:
                continue
            others = [option[0] for option in options if option[1] == changes and option[0] != word]
            for other in others[:ALTERNATIVES - 1]:
                found.append(tuple(words[:place] + [other] + words[place + 1:]))
        return found

    def _span_options(self, span: str) -> list[tuple[str, int, float, int]]:
        """Ways to read `span` as one piece: (text, changed characters, penalty, count), by count."""
        vocabulary = self.vocabulary
        options = []
        count = vocabulary.count(span) if vocabulary.is_word(span) else 0
        if count:
            options.append((span, 0, 0.0, count))
        elif len(span) == 1:
            options.append((span, 0, 0.0, 0))
        if len(span) < 2:
            return options
        seen = {span}
        for key, near in self._keys(span):
            for entry in vocabulary.spelled(FULL + key)[:WORDS_PER_KEY]:
                word = vocabulary.text(entry)
                if len(word) != len(span) or word in seen:
                    continue
                changes = sum(1 for a, b in zip(word, span) if a != b)
                if 1 <= changes <= min(MAX_CHANGES, len(span) - 1):
                    seen.add(word)
                    options.append((word, changes, changes * CHANGE_COST + (NEAR_COST if near else 0.0),
                                    int(vocabulary.counts[entry])))
        return sorted(options, key=lambda option: (option[2], -option[3]))

    def _keys(self, span: str) -> list[tuple[str, bool]]:
        """Pinyin keys `span` may be meant as: its readings, then one syllable swapped for a near-homophone."""
        choices = [self.vocabulary.readings(char)[:3] for char in span]
        keys = ["".join(combination) for combination in itertools.islice(itertools.product(*choices),
                                                                          READING_COMBINATIONS)]
        found = [(key, False) for key in keys]
        first = [choice[0] for choice in choices]
        for position, syllable in enumerate(first):
            for other in variants(syllable):
                found.append(("".join(first[:position] + [other] + first[position + 1:]), True))
        return found


def _collect(node: Node, leaves: list[Leaf]) -> None:
    """The positive leaves of `node` (excluded terms are left as typed)."""
    if isinstance(node, Leaf):
        leaves.append(node)
    elif isinstance(node, (All, Any_)):
        for child in node.children:
            _collect(child, leaves)


def _substitute(node: Node, chosen: dict[int, Node]) -> Node:
    """`node` with the leaves in `chosen` (by identity) replaced."""
    if isinstance(node, Leaf):
        return chosen.get(id(node), node)
    if isinstance(node, Not):
        return node
    if isinstance(node, All):
        children: list[Node] = []
        for child in node.children:
            new = _substitute(child, chosen)
            children.extend(new.children if isinstance(new, All) else (new,))
        return All(tuple(children))
    if isinstance(node, Any_):
        return Any_(tuple(_substitute(child, chosen) for child in node.children))
    return node
