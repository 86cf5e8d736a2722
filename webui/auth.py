"""Access control for intranet use: an IP allow-list, a login with sessions, API tokens and a trusted SSO header.

Off unless configured (the server then listens on loopback only by default). Settings, in the app config
or as BULLETINS_* environment variables:

- `USERS`: the users file (`webui.users`); every page, export and API call then needs a session (the login
  page, a signed cookie that expires after `SESSION_HOURS`) or `Authorization: Bearer TOKEN`. An API call
  without either gets 401 in the JSON error shape; a page redirects to the login page.
- `TRUST_HEADER`: the name of a header set by the office's single sign-on reverse proxy (for example
  X-Remote-User); its value is taken as the user. Ignored unless set.
- `ALLOW`: networks allowed to connect (comma-separated addresses or CIDR blocks); others get 403.
- `BEHIND_PROXY`: trust one reverse proxy's X-Forwarded-For/-Proto (client address, https for the cookie).

The login form and logout carry a CSRF token kept in the session; failed logins are limited per client
address (`LOGIN_ATTEMPTS` in `LOGIN_WINDOW` seconds, per worker process) and answered 429 beyond that.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from flask import (Blueprint, Flask, Response, abort, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from webui import wants_json
from webui.users import UsersError, UserStore

bp = Blueprint("auth", __name__)

SESSION_HOURS = 12
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 300
#: Endpoints reachable without logging in.
OPEN_ENDPOINTS = {"static", "auth.login"}


class _Attempts:
    """Failed login times per client address (this process), for rate limiting."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked_for(self, address: str, limit: int, window: float) -> float:
        """Seconds until `address` may try again (0 when it may now)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures[address]
            while failures and now - failures[0] > window:
                failures.popleft()
            return window - (now - failures[0]) if len(failures) >= limit else 0.0

    def fail(self, address: str) -> None:
        with self._lock:
            self._failures[address].append(time.monotonic())

    def clear(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose cookie is Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def access_controlled(config: Any) -> bool:
    """Whether any access control is configured."""
    return bool(config.get("USERS") or config.get("TRUST_HEADER") or config.get("ALLOW"))


def init_app(app: Flask) -> None:
    """Install the access checks the app's config asks for (nothing when none is set)."""
    app.register_blueprint(bp)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    if not access_controlled(app.config):
        return
    app.extensions["bulletins_networks"] = _networks(app.config.get("ALLOW"))
    app.extensions["bulletins_attempts"] = _Attempts()
    if app.config.get("USERS"):
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _secret_key(Path(app.config["USERS"]))
        app.session_interface = _SessionInterface()
        app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
        app.config["SESSION_COOKIE_NAME"] = "bulletins_session"
        app.permanent_session_lifetime = float(app.config.get("SESSION_HOURS") or SESSION_HOURS) * 3600
    app.before_request(_check_access)
    app.after_request(_challenge)


def _networks(value: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    if not value:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    try:
        return [ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip()]
    except ValueError as error:
        raise ValueError(f"invalid allow-list entry: {error}") from error


def _secret_key(users: Path) -> str:
    """The session signing key shared by every worker: kept beside the users file (owner-only), made once."""
    path = users.with_name(users.name + ".secret")
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(key)
    return key


def _store() -> UserStore | None:
    users = current_app.config.get("USERS")
    return UserStore(users) if users else None


def _check_access() -> Response | None:
    """Before every request: the allow-list, then who the user is (token, trusted header, session)."""
    networks = current_app.extensions["bulletins_networks"]
    if networks and not _allowed(request.remote_addr, networks):
        abort(403, "此地址不允许访问 / this address may not use the service")
    if not (current_app.config.get("USERS") or current_app.config.get("TRUST_HEADER")):
        return None
    g.user = _user()
    if g.user is not None or request.endpoint in OPEN_ENDPOINTS:
        return None
    if wants_json():
        abort(401, "需要登录 / authentication required: send `Authorization: Bearer TOKEN` "
                   "(`bulletins users --file FILE token NAME` makes one)")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _challenge(response: Response) -> Response:
    """A 401 of the API names the scheme it accepts."""
    if response.status_code == 401 and wants_json():
        response.headers["WWW-Authenticate"] = 'Bearer realm="bulletins"'
    return response


def _allowed(address: str | None, networks: list[Any]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _user() -> str | None:
    """The authenticated user of this request, or None."""
    authorization = request.headers.get("Authorization", "")
    store = _store()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or store is None:
            abort(401, "无效的凭据 / invalid credentials: use `Authorization: Bearer TOKEN`")
        name = _guarded(lambda: store.user_of_token(token.strip()))
        if name is None:
            abort(401, "无效或已撤销的令牌 / invalid or revoked token")
        return name
    header = current_app.config.get("TRUST_HEADER")
    if header:
        trusted = request.headers.get(header, "").strip()
        if trusted:
            return trusted
    if store is None:
        return None
    name, started = session.get("user"), session.get("at")
    if not name:
        return None
    hours = float(current_app.config.get("SESSION_HOURS") or SESSION_HOURS)
    if not isinstance(started, (int, float)) or time.time() - started > hours * 3600:
        session.clear()
        session["expired"] = True
        return None
    if not _guarded(lambda: store.exists(name)):
        session.clear()
        return None
    return str(name)


def _guarded(read: Any) -> Any:
    """A users-file read; a file that cannot be read is a 503 naming it, not a 500."""
    try:
        return read()
    except UsersError as error:
        abort(503, str(error))


def csrf_token() -> str:
    """This session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400, "表单已失效，请刷新后重试 / the form expired (CSRF token missing or wrong): reload and retry")


def _safe_next(target: str | None) -> str:
    """A local path to return to after login (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("views.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login page (only when a users file is configured)."""
    store = _store()
    if store is None:
        abort(404)
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        expired = bool(session.pop("expired", False))
        return render_template("login.html", next=target, csrf=csrf_token(), error=None, expired=expired)
    _check_csrf()
    attempts: _Attempts = current_app.extensions["bulletins_attempts"]
    address = request.remote_addr or "?"
    limit = int(current_app.config.get("LOGIN_ATTEMPTS") or LOGIN_ATTEMPTS)
    window = float(current_app.config.get("LOGIN_WINDOW") or LOGIN_WINDOW)
    wait = attempts.blocked_for(address, limit, window)
    if wait > 0:
        abort(429, f"登录尝试过多，请 {int(wait) + 1} 秒后再试 / too many login attempts: retry in {int(wait) + 1} s")
    name = request.form.get("username", "").strip()
    if not _guarded(lambda: store.check_password(name, request.form.get("password", ""))):
        attempts.fail(address)
        page = render_template("login.html", next=target, csrf=csrf_token(), error="用户名或密码错误。",
                               expired=False)
        return page, 401
    attempts.clear(address)
    session.clear()
    session.permanent = True
    session["user"], session["at"] = name, time.time()
    return redirect(target)


@bp.post("/logout")
def logout() -> Any:
    """End the session (CSRF-checked form)."""
    _check_csrf()
    session.clear()
    return redirect(url_for("auth.login") if _store() else url_for("views.home"))
