"""The Flask web UI and JSON API: `create_app()` wires configuration, blueprints, errors and headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from index.config import index_dir
from search.errors import IndexUnavailable, QueryError

#: Sent with every response: everything comes from this server, nothing inline runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

#: Short Chinese names of the HTTP statuses the UI shows.
STATUS_TITLES = {400: "请求有误", 401: "需要登录", 403: "不允许访问", 404: "未找到", 405: "不支持的请求方法",
                 413: "请求过大", 429: "请求过多", 500: "服务器内部错误", 503: "还没有索引"}
#: The largest request body accepted (every page and API call is a GET; forms are small).
MAX_REQUEST_BYTES = 64 * 1024
#: Messages used when an HTTP error carries only Werkzeug's English default description.
STATUS_MESSAGES = {
    400: "请求参数有误。", 401: "需要登录。", 403: "不允许访问。", 404: "没有这个页面或条目。",
    405: "这个地址不支持该请求方法。", 429: "请求过多，请稍后再试。",
    413: f"请求过大 / request body too large: at most {MAX_REQUEST_BYTES // 1024} KiB.",
    500: "服务器出了点问题，已记录日志。请稍后再试。", 503: "索引暂时不可用。",
}


def create_app(test_config: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """The app: defaults, then instance config and BULLETINS_/FLASK_ environment (or a test config), then
    `overrides` (what `bulletins serve` was given on its command line)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        INDEX=str(index_dir()),
        PROPAGATE_EXCEPTIONS=False,
        PAGE_SIZE=20,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SITE_NAME="简报检索",
        #: Most articles in a 汇编 of all results (/export.docx without ticked ids).
        EXPORT_LIMIT=500,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
        app.config.from_prefixed_env("BULLETINS")
    else:
        app.config.from_mapping(test_config)
    app.config.from_mapping(overrides or {})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # /article//x is no article: a 404, not a redirect to /article/x (an encoded slash in an id stays an id).
    app.url_map.merge_slashes = False

    from webui import api, assistance, auth, engine, views

    engine.init_app(app)
    assistance.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    auth.init_app(app)
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
    _register_errors(app)
    app.before_request(_refuse_large_bodies)
    app.after_request(_security_headers)
    return app


def _refuse_large_bodies() -> None:
    """413 for a body over the limit, even where no view reads it (Flask checks only bodies it reads)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def _security_headers(response: Response) -> Response:
    """Add the CSP and hardening headers to every response."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def wants_json() -> bool:
    """True for requests to the JSON API, whose errors are JSON too."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, message: str) -> tuple[Response | str, int]:
    """One error in the right form: the JSON shape under /api, an HTML page in the layout elsewhere."""
    if wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status

    page = render_template(
        "error.html", status=status, title=STATUS_TITLES.get(status, "出错了"), message=message,
        index=current_app.config["INDEX"])
    return page, status


def _register_errors(app: Flask) -> None:
    """Turn every failure into an HTTP status with a page or the JSON error shape, never a traceback."""

    @app.errorhandler(QueryError)
    def query_error(error: QueryError):
        return error_response(400, str(error) or "查询有误")

    @app.errorhandler(IndexUnavailable)
    def index_unavailable(error: IndexUnavailable):
        app.logger.warning("index unavailable: %s", error)
        return error_response(503, str(error) or STATUS_MESSAGES[503])

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        default = type(error).description
        message = error.description if error.description and error.description != default else None
        return error_response(error.code, message or STATUS_MESSAGES.get(error.code, error.name))

    @app.errorhandler(Exception)
    def internal_error(error: Exception):
        app.logger.error("500 on %s %s", request.method, request.full_path, exc_info=error)
        return error_response(500, STATUS_MESSAGES[500])

