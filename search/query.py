"""The query language: user text → a small syntax tree (never raises on user text).

Syntax: space-separated terms are ANDed; "quoted" (also “…”, 「…」, 『…』) is an exact phrase without
synonym expansion; a leading - excludes a term, phrase or group; OR or | between terms; parentheses group;
标题: / title: restricts a term, phrase or group to headlines. Full-width forms count as ASCII (NFKC per
character, without lower-casing, so only upper-case OR/AND are operators). Anything malformed degrades:
stray operators and closing parentheses are dropped, an open quote or parenthesis runs to the end,
wildcards and other punctuation only separate text, and input is cut to `MAX_QUERY_CHARS`. When nothing
searchable is left the tree is None: browse mode (every article).

`search.matching` evaluates the tree: each term must occur exactly (its units, `unit_groups`), and its
jieba words add to the score where they occur as words. This module also says what to highlight.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from index.analysis import unit_groups, word_terms
from search.synonyms import Synonyms

#: Longer input is cut here by the parser; a SearchRequest refuses it with a message instead.
MAX_QUERY_CHARS = 500
MAX_DEPTH = 16
_QUOTES = {'"': '"', "“": "”", "「": "」", "『": "』", "”": "”"}
_STOPS = set("()|") | set(_QUOTES)
_TITLE_PREFIXES = ("标题:", "title:")


@dataclass(frozen=True)
class Leaf:
    """A term or phrase; `title` restricts it to headlines."""

    text: str
    phrase: bool = False
    title: bool = False


@dataclass(frozen=True)
class Not:
    """Excludes the articles its child matches."""

    child: Node


@dataclass(frozen=True)
class All:
    """Every child must match (AND)."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    """At least one child must match (OR)."""

    children: tuple[Node, ...]


Node = Leaf | Not | All | Any_


@dataclass(frozen=True)
class HighlightTerm:
    """Token groups of one positive term (or synonym) to mark in text; `title` = headline only.

    `words` is False for a term the user typed (groups of adjacent units, marked wherever they occur) and
    True for a synonym (one group of jieba words, marked where the text has those words).
    """

    text: str
    groups: tuple[tuple[str, ...], ...]
    title: bool
    words: bool = False


def prepare(text: str) -> str:
    """Cut to MAX_QUERY_CHARS, turn control characters into spaces, fold full-width forms (case kept)."""
    chars = []
    for char in text[:MAX_QUERY_CHARS]:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            chars.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", char)
        chars.append(folded if len(folded) == 1 else char)
    return "".join(chars)


def tokenize(text: str) -> list[tuple[str, str]]:
    """Lexical tokens (kind, text): WORD, PHRASE, OR, NOT, TITLE, OPEN, CLOSE."""
    tokens: list[tuple[str, str]] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(("OPEN" if char == "(" else "CLOSE", char))
            index += 1
        elif char == "|":
            tokens.append(("OR", char))
            index += 1
        elif char in _QUOTES:
            close = text.find(_QUOTES[char], index + 1)
            if char in '"“”':
                ends = [pos for pos in (text.find('"', index + 1), text.find("”", index + 1)) if pos >= 0]
                close = min(ends) if ends else -1
            end = close if close >= 0 else length
            tokens.append(("PHRASE", text[index + 1:end]))
            index = end + 1
        elif char == "-":
            if index + 1 < length and not text[index + 1].isspace():
                tokens.append(("NOT", char))
            index += 1
        else:
            end = index
            while end < length and not text[end].isspace() and text[end] not in _STOPS:
                end += 1
            tokens.extend(_word_tokens(text[index:end]))
            index = end
    return tokens


def _word_tokens(word: str) -> list[tuple[str, str]]:
    if word == "OR":
        return [("OR", word)]
    if word == "AND":
        return []
    for prefix in _TITLE_PREFIXES:
        if word.lower().startswith(prefix):
            rest = word[len(prefix):]
            return [("TITLE", prefix), *([("WORD", rest)] if rest else [])]
    return [("WORD", word)]


class _Parser:
    """Recursive descent over the tokens; every malformed input still yields a tree (or None)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def peek(self) -> str:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else "END"

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node | None:
        parts = []
        while self.peek() != "END":
            if self.peek() == "CLOSE":
                self.take()
                continue
            parts.append(self.parse_or())
        return _all(parts)

    def parse_or(self) -> Node | None:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return _any(parts)

    def parse_and(self) -> Node | None:
        parts = []
        while self.peek() not in ("OR", "CLOSE", "END"):
            parts.append(self.parse_unary())
        return _all(parts)

    def parse_unary(self) -> Node | None:
        kind = self.peek()
        if kind in ("OR", "CLOSE", "END"):
            return None
        kind, text = self.take()
        if kind == "NOT":
            child = self.parse_unary()
            if child is None:
                return None
            return child.child if isinstance(child, Not) else Not(child)
        if kind == "TITLE":
            child = self.parse_unary()
            return _to_title(child) if child is not None else None
        if kind == "OPEN":
            self.depth += 1
            node = self.parse_or() if self.depth <= MAX_DEPTH else None
            self.depth -= 1
            if self.peek() == "CLOSE":
                self.take()
            return node
        text = text.strip()
        if not unit_groups(text):
            return None
        return Leaf(text, phrase=kind == "PHRASE")


def _all(parts: list[Node | None]) -> Node | None:
    kept = tuple(part for part in parts if part is not None)
    return None if not kept else kept[0] if len(kept) == 1 else All(kept)


def _any(parts: list[Node | None]) -> Node | None:
    kept = tuple(part for part in parts if part is not None)
    return None if not kept else kept[0] if len(kept) == 1 else Any_(kept)


def _to_title(node: Node) -> Node:
    if isinstance(node, Leaf):
        return replace(node, title=True)
    if isinstance(node, Not):
        return Not(_to_title(node.child))
    return type(node)(tuple(_to_title(child) for child in node.children))


def parse_query(text: str) -> Node | None:
    """The syntax tree of user `text`, or None when nothing searchable is left (browse mode)."""
    return _Parser(tokenize(prepare(text))).parse()


def parse_all(texts: list[str]) -> Node | None:
    """The tree of several query texts that must all match (在结果中检索: `q` then each `within`).

    Each text is parsed on its own and the trees are ANDed, with nested ANDs flattened, so `A` within `B`
    is the tree of `A B`, and `a OR b` within `c` is `(a OR b) c`, not `a OR (b c)`.
    """
    parts: list[Node] = []
    for text in texts:
        node = parse_query(text)
        if isinstance(node, All):
            parts.extend(node.children)
        elif node is not None:
            parts.append(node)
    return _all(list(parts))


def unparse(node: Node | None) -> str:
    """Query text that parses back to `node` (used to build suggestions)."""
    if node is None:
        return ""
    if isinstance(node, Leaf):
        text = _quoted(node.text) if node.phrase or any(char in node.text for char in " ()|-") else node.text
        return ("标题:" if node.title else "") + text
    if isinstance(node, Not):
        return "-" + _grouped(node.child)
    if isinstance(node, All):
        return " ".join(_grouped(child) for child in node.children)
    return " OR ".join(_grouped(child) if isinstance(child, (All, Any_)) else unparse(child) for child in node.children)


def _quoted(text: str) -> str:
    """`text` as a phrase, in the first pair of quotes that cannot end it early (a phrase's text can hold
    the quotes of another pair: 「他说"好"」); text holding every closing quote loses its quotes."""
    for opening, closing in (('"', '"”'), ("「", "」"), ("『", "』")):
        if not any(mark in text for mark in closing):
            return f"{opening}{text}{closing[0]}"
    cleaned = "".join(char for char in text if char not in _QUOTES and char not in "」』").strip()
    return f'"{cleaned}"'


def _grouped(node: Node) -> str:
    return unparse(node) if isinstance(node, (Leaf, Not)) else f"({unparse(node)})"


def variants(leaf: Leaf, synonyms: Synonyms | None) -> list[str]:
    """The texts a leaf searches for: itself, plus its synonyms for an unquoted term when enabled."""
    if leaf.phrase or synonyms is None:
        return [leaf.text]
    return synonyms.expand(leaf.text)


def highlight_terms(node: Node | None, synonyms: Synonyms | None = None, title: bool = False) -> list[HighlightTerm]:
    """The positive (not excluded) terms of a tree, with synonyms, as exact token groups to mark."""
    found: list[HighlightTerm] = []

    def walk(current: Node) -> None:
        if isinstance(current, Leaf):
            for number, text in enumerate(variants(current, synonyms)):
                if number == 0:
                    groups = tuple(unit_groups(text))
                else:
                    words = tuple(word_terms(text))
                    groups = (words,) if words else ()
                if groups:
                    found.append(HighlightTerm(text, groups, title or current.title, words=number > 0))
        elif isinstance(current, (All, Any_)):
            for child in current.children:
                walk(child)

    if node is not None:
        walk(node)
    return found


def positive_leaves(node: Node | None) -> list[Leaf]:
    """The leaves that are not under an exclusion."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.children for leaf in positive_leaves(child)]
