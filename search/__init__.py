"""Queries over the Whoosh index: query language, filters, facets, ranking and snippets."""
