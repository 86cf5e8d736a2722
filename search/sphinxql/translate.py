"""Query trees (`search.query`) as Sphinx extended-syntax MATCH expressions over our own tokens.

A term as typed must occur exactly: each of its unit groups (`index.analysis.unit_groups`) is one unit
token (`schema.unit_token`), or the phrase of its bigram tokens (`schema.bigram_token`), in the headline or
body, the headline only (`@(hu,hb)`) for 标题:. Unit and bigram tokens occur only in their own fields, so
no field limit is needed otherwise. A synonym matches as words:
each of its jieba words (word tokens, headline or body words) and its unit groups. AND, OR and NOT map to
Sphinx's space, `|` and `-`, always parenthesised (in Sphinx OR binds tighter than AND); a query of only
exclusions excludes from `xall`, the token every row holds. This is the matching of `search.matching`, so
totals are the same on both backends.

Ranking adds the typed terms' jieba words: `(Q) | (Q (w1 | w2 ...))` matches exactly what Q matches (Sphinx
2.2.11's MAYBE operator drops rows, measured here) while the words' occurrences count in BM25F.
"""

from __future__ import annotations

from index.analysis import unit_groups, word_terms
from search.query import All, Any_, Leaf, Node, Not, variants
from search.sphinxql.schema import ALL_TOKEN, bigram_token, unit_token, word_token
from search.synonyms import Synonyms

#: A token no row holds: a synonym without words matches nothing.
NOTHING = "xnone"


def _phrase(group: tuple[str, ...]) -> str:
    """One unit's token, or the phrase of the bigrams of two or more adjacent units."""
    if len(group) == 1:
        return unit_token(group[0])
    tokens = [bigram_token(first, second) for first, second in zip(group, group[1:])]
    return tokens[0] if len(tokens) == 1 else '"' + " ".join(tokens) + '"'


def _exact(text: str, title: bool) -> str:
    """Every unit group of `text` occurs (as adjacent units), in the headline when `title`."""
    groups = unit_groups(text)
    if not groups:
        return ALL_TOKEN
    body = " ".join(_phrase(group) for group in groups)
    return f"(@(hu,hb) {body})" if title else f"({body})"


def _synonym(text: str, title: bool) -> str:
    words = list(dict.fromkeys(word_terms(text)))
    if not words:
        return NOTHING
    field = "@hw " if title else ""
    return f"(({field}{' '.join(word_token(word) for word in words)}) {_exact(text, title)})"


def match_expression(node: Node, synonyms: Synonyms | None, title: bool = False) -> str:
    """The MATCH text of a query tree (not None: browse mode has no MATCH)."""
    if isinstance(node, Leaf):
        in_title = title or node.title
        texts = variants(node, synonyms)
        parts = [_exact(texts[0], in_title)] + [_synonym(text, in_title) for text in texts[1:]]
        return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"
    if isinstance(node, Not):
        return f"({ALL_TOKEN} -{match_expression(node.child, synonyms, title)})"
    if isinstance(node, Any_):
        return "(" + " | ".join(match_expression(child, synonyms, title) for child in node.children) + ")"
    assert isinstance(node, All)
    positives = [match_expression(child, synonyms, title) for child in node.children if not isinstance(child, Not)]
    negatives = [match_expression(child.child, synonyms, title) for child in node.children if isinstance(child, Not)]
    return "(" + " ".join((positives or [ALL_TOKEN]) + [f"-{negative}" for negative in negatives]) + ")"


def ranking_words(node: Node, title: bool = False) -> list[str]:
    """Word tokens of the positive typed terms, which count in ranking where they occur as words."""
    found: list[str] = []

    def walk(item: Node) -> None:
        if isinstance(item, Leaf):
            prefix = "@hw " if (title or item.title) else ""
            found.extend(prefix + word_token(word) for word in word_terms(item.text))
        elif isinstance(item, (All, Any_)):
            for child in item.children:
                walk(child)

    walk(node)
    return list(dict.fromkeys(found))


def ranked_expression(node: Node, synonyms: Synonyms | None, title: bool = False) -> str:
    """The MATCH text for a relevance-ordered search: the same matches, the typed words in the score."""
    required = match_expression(node, synonyms, title)
    words = ranking_words(node, title)
    if not words:
        return required
    return f"({required}) | ({required} ({' | '.join(f'({word})' for word in words)}))"
