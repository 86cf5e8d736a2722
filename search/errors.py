"""Errors the search layer raises; the web layer maps them to HTTP statuses (400 and 503)."""

from __future__ import annotations


class SearchError(Exception):
    """Base of the search layer's errors."""


class QueryError(SearchError, ValueError):
    """A request parameter is invalid (HTTP 400); the message is Chinese then English."""


class IndexUnavailable(SearchError):
    """No usable index (missing or built with another schema/dictionaries) (HTTP 503); says how to build."""
