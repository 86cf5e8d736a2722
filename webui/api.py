"""The JSON API: the engine's contract as JSON; errors use one shape, {"error": {"status", "message"}}."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from webui import assistance
from webui.engine import get_engine
from webui.views import parse_request

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    """Search results: {query, total, page, size, took_ms, hits, facets, suggestions, did_you_mean,
    corrected_from}."""
    search_request = parse_request()
    results = get_engine().search(search_request).to_dict()
    assistance.record(search_request, results, "api")
    return jsonify(results)


@bp.get("/suggest")
def suggest() -> Response:
    """Completions of what is being typed: {q, suggestions: [{text, kind, count}]}."""
    q = request.args.get("q", "")
    return jsonify({"q": q, "suggestions": get_engine().suggest(q, assistance.history(q))})


@bp.get("/article/<article_id>")
def article(article_id: str) -> Response:
    """One article (body highlighted for ?q=) with its bulletin and sibling articles."""
    found = get_engine().article(article_id, q=request.args.get("q", ""))
    if found is None:
        abort(404, "没有这篇文章 / no such article")
    return jsonify(found)


@bp.get("/bulletin/<bulletin_id>")
def bulletin(bulletin_id: str) -> Response:
    """One whole bulletin with its articles."""
    found = get_engine().bulletin(bulletin_id)
    if found is None:
        abort(404, "没有这期简报 / no such bulletin")
    return jsonify(found)


@bp.get("/stats")
def stats() -> Response:
    """What the index holds."""
    return jsonify(get_engine().stats())
