"""Access control: the users file and CLI, login with sessions and CSRF, API tokens, the trusted SSO header,
the IP allow-list, the rate limit on logins, and the warning of a server exposed without any of them."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_api import assert_error
from test_browser import bulletins_command, free_port
from test_webui import sample_index

from webui import create_app
from webui.engine import close_engine
from webui.users import UsersError, UserStore

PASSWORD = "correct horse battery"
#: Every kind of page and endpoint the login guards.
GUARDED = ["/", "/search?q=文明", "/advanced", "/export.csv?q=文明", "/export.docx?q=文明", "/feed.atom?q=文明",
           "/opensearch.xml", "/api/search?q=文明",
           "/api/stats", "/article/x", "/api/article/x"]
BULLETINS_EXE = Path(sys.executable).parent / "bulletins"


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    store = UserStore(tmp_path / "users.json")
    store.add("张三", PASSWORD)
    return store


def _app(tmp_path_factory: pytest.TempPathFactory, **config: object):
    return create_app({"INDEX": str(sample_index(tmp_path_factory)), "TESTING": True, **config})


@pytest.fixture
def app(tmp_path_factory: pytest.TempPathFactory, users: UserStore) -> Iterator:
    application = _app(tmp_path_factory, USERS=str(users.path))
    yield application
    close_engine(application)


def _csrf(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _login(client, name: str = "张三", password: str = PASSWORD, next_path: str = "/"):
    return client.post("/login", data={"username": name, "password": password, "csrf": _csrf(client),
                                       "next": next_path})


# The users file

def test_users_file_keeps_hashes_only(users: UserStore) -> None:
    token = users.new_token("张三")
    text = users.path.read_text(encoding="utf-8")
    assert PASSWORD not in text and token not in text
    assert users.path.stat().st_mode & 0o077 == 0
    assert users.check_password("张三", PASSWORD) and not users.check_password("张三", "wrong password")
    assert not users.check_password("nobody", PASSWORD)
    assert users.user_of_token(token) == "张三" and users.user_of_token(token + "x") is None


@pytest.mark.parametrize(("name", "password", "message"), [
    ("", PASSWORD, "invalid user name"), ("a b", PASSWORD, "invalid user name"), ("x" * 65, PASSWORD, "invalid"),
    ("李四", "short", "at least 8"),
])
def test_users_file_refuses_bad_names_and_short_passwords(users: UserStore, name: str, password: str,
                                                           message: str) -> None:
    with pytest.raises(UsersError, match=message):
        users.add(name, password)


def test_users_cli_add_list_token_revoke_remove(tmp_path: Path) -> None:
    path = str(tmp_path / "u.json")

    def run(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BULLETINS_EXE), "users", "--file", path, *arguments], input=stdin,
                              capture_output=True, text=True, timeout=60, check=False)

    assert run("add", "王五", stdin=PASSWORD + "\n").returncode == 0
    assert "王五" in run("list").stdout
    token = run("token", "王五").stdout.strip()
    assert len(token) >= 40 and UserStore(path).user_of_token(token) == "王五"
    assert "1 token(s) of 王五 revoked" in run("revoke", "王五").stdout
    assert UserStore(path).user_of_token(token) is None
    assert run("remove", "王五").returncode == 0 and run("list").stdout == ""
    missing = run("remove", "王五")
    assert missing.returncode == 1 and "no user" in missing.stderr
    short = run("add", "赵六", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr


# Login

@pytest.mark.parametrize("path", GUARDED)
def test_without_login_pages_redirect_and_the_api_is_401(app, path: str) -> None:
    response = app.test_client().get(path)
    if path.startswith("/api/"):
        assert "authentication required" in assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_static_files_and_the_login_page_need_no_login(app) -> None:
    client = app.test_client()
    style = client.get("/static/style.css")
    style.close()
    assert style.status_code == 200
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)


def test_login_then_every_page_works_and_logout_ends_it(app) -> None:
    client = app.test_client()
    response = _login(client, next_path="/search?q=文明")
    assert response.status_code == 302 and unquote(response.headers["Location"]) == "/search?q=文明"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    for path in GUARDED:
        assert client.get(path).status_code in (200, 404), path
    assert "张三" in client.get("/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf": _csrf(client, "/")}).status_code == 302
    assert client.get("/search?q=文明").status_code == 302


def test_the_cookie_is_secure_over_https(app) -> None:
    client = app.test_client()
    response = client.post("/login", base_url="https://localhost", data={
        "username": "张三", "password": PASSWORD, "csrf": _csrf(client)})
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(("name", "password"), [("张三", "wrong password"), ("nobody", PASSWORD), ("", "")])
def test_a_wrong_password_or_name_is_refused(app, name: str, password: str) -> None:
    client = app.test_client()
    response = _login(client, name, password)
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/api/stats").status_code == 401


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_login_and_logout_need_the_csrf_token(app, csrf: str | None) -> None:
    client = app.test_client()
    _csrf(client)
    data = {"username": "张三", "password": PASSWORD} | ({} if csrf is None else {"csrf": csrf})
    response = client.post("/login", data=data)
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    _login(client)
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/api/stats").status_code == 200


def test_an_expired_session_goes_back_to_the_login(tmp_path_factory, users: UserStore) -> None:
    application = _app(tmp_path_factory, USERS=str(users.path), SESSION_HOURS=1)
    client = application.test_client()
    _login(client)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session["at"] = time.time() - 3601
    response = client.get("/search?q=文明")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "会话已过期" in client.get(response.headers["Location"]).get_data(as_text=True)
    close_engine(application)


def test_a_removed_user_loses_the_session(app, users: UserStore) -> None:
    client = app.test_client()
    _login(client)
    users.remove("张三")
    assert client.get("/api/stats").status_code == 401


def test_login_attempts_are_rate_limited(tmp_path_factory, users: UserStore) -> None:
    application = _app(tmp_path_factory, USERS=str(users.path), LOGIN_ATTEMPTS=3, LOGIN_WINDOW=60)
    client = application.test_client()
    for _ in range(3):
        assert _login(client, password="wrong password").status_code == 401
    blocked = _login(client)
    assert blocked.status_code == 429 and "too many login attempts" in blocked.get_data(as_text=True)
    other = application.test_client()
    assert other.post("/login", environ_base={"REMOTE_ADDR": "10.1.2.3"}, data={
        "username": "张三", "password": PASSWORD, "csrf": _csrf(other)}).status_code == 302
    close_engine(application)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_to_another_site(app, target: str) -> None:
    response = _login(app.test_client(), next_path=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


# Tokens

def test_a_bearer_token_opens_the_api_and_a_revoked_one_does_not(app, users: UserStore) -> None:
    client = app.test_client()
    token = users.new_token("张三")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/search?q=文明", headers=headers).status_code == 200
    assert client.get("/export.csv?q=文明", headers=headers).status_code == 200
    users.revoke_tokens("张三")
    assert "revoked" in assert_error(client.get("/api/search?q=文明", headers=headers), 401)


@pytest.mark.parametrize("header", ["Bearer ", "Bearer nonsense", "Basic dXNlcjpwYXNz", "token"])
def test_bad_credentials_are_401(app, header: str) -> None:
    assert_error(app.test_client().get("/api/stats", headers={"Authorization": header}), 401)


# Trusted header and allow-list

def test_the_trusted_header_is_ignored_unless_turned_on(app) -> None:
    response = app.test_client().get("/api/stats", headers={"X-Remote-User": "张三"})
    assert_error(response, 401)


def test_the_trusted_header_names_the_user_when_turned_on(tmp_path_factory) -> None:
    application = _app(tmp_path_factory, TRUST_HEADER="X-Remote-User")
    client = application.test_client()
    assert client.get("/api/stats", headers={"X-Remote-User": "sso-user"}).status_code == 200
    assert_error(client.get("/api/stats"), 401)
    assert_error(client.get("/api/stats", headers={"X-Forwarded-User": "sso-user"}), 401)
    close_engine(application)


@pytest.mark.parametrize(("address", "status"), [("10.1.2.3", 200), ("10.255.0.1", 200), ("192.168.1.9", 403),
                                                  ("127.0.0.1", 200), ("::1", 403)])
def test_the_allow_list(tmp_path_factory, address: str, status: int) -> None:
    application = _app(tmp_path_factory, ALLOW="10.0.0.0/8, 127.0.0.1")
    response = application.test_client().get("/api/stats", environ_base={"REMOTE_ADDR": address})
    if status == 403:
        assert_error(response, 403)
    else:
        assert response.status_code == 200
    close_engine(application)


def test_serving_beyond_loopback_without_access_control_warns(tmp_path_factory) -> None:
    index = sample_index(tmp_path_factory)
    warned = _serve_first_lines(["--index", str(index), "--host", "0.0.0.0"])
    assert "without any access control" in warned
    quiet = _serve_first_lines(["--index", str(index), "--host", "0.0.0.0", "--allow", "127.0.0.1"])
    assert "without any access control" not in quiet


def _serve_first_lines(arguments: list[str]) -> str:
    """What `bulletins serve` prints before it serves (then it is stopped)."""
    process = subprocess.Popen([*bulletins_command(), "serve", *arguments, "--port", str(free_port()),
                                "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        while "Serving" not in (line := process.stdout.readline()):
            assert line, "".join(lines)
            lines.append(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
    return "".join(lines)
