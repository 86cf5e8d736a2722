"""`bulletins serve` (the web UI and API under gunicorn) and `bulletins demo` (sample corpus, index, serve)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from gunicorn.app.base import BaseApplication

from webui.auth import access_controlled
from webui.cli_build import backend_option

if TYPE_CHECKING:
    from flask import Flask


DEMO_BULLETINS = 300
DEMO_SEED = 2147


def server_url(host: str, port: int) -> str:
    """The http URL of host:port (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def default_workers() -> int:
    """One worker process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@click.command()
@click.option("--index", "index", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              envvar="BULLETINS_INDEX", help="Index folder [env BULLETINS_INDEX; default var/index].")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST",
              help="Address to bind; the default serves this machine only.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), metavar="PORT",
              envvar="BULLETINS_PORT", help="TCP port (0 picks a free one) [env BULLETINS_PORT].")
@click.option("--workers", default=None, type=click.IntRange(1, 64), metavar="N",
              help="Worker processes [default: one per core].")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), metavar="N",
              help="Threads per worker process.")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              envvar="BULLETINS_USERS", metavar="FILE",
              help="Require a login (users from `bulletins users --file FILE add NAME`) [env BULLETINS_USERS].")
@click.option("--trust-header", default=None, envvar="BULLETINS_TRUST_HEADER", metavar="NAME",
              help="Take the user from this header set by a single sign-on proxy (off by default).")
@click.option("--allow", multiple=True, envvar="BULLETINS_ALLOW", metavar="NETWORK",
              help="Only these addresses or CIDR networks may connect (repeatable) [env BULLETINS_ALLOW].")
@click.option("--behind-proxy", is_flag=True, help="Trust one reverse proxy's X-Forwarded-For and -Proto.")
@backend_option("Search this Sphinx/Manticore cluster's coordinator instead of the index folder "
                "(docs/scale-out.md).")
def serve(index: Path | None, host: str, port: int, workers: int | None, threads: int, users_file: Path | None,
          trust_header: str | None, allow: tuple[str, ...], behind_proxy: bool, backend: str | None = None) -> None:
    """Serve the web UI and JSON API until interrupted (gunicorn: worker processes x threads).

    The workers share the index files (read-only, mapped into memory) and each opens them once; a rebuild
    of the index shows up without a restart. With --backend they search a cluster instead, each thread
    over its own SphinxQL connection, and a new published generation shows up the same way.
    """
    from index.config import index_dir

    index_folder = str(index_dir(index))
    try:
        listener = listen(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    if backend is None:
        note_missing_index(index_folder)
    access = access_settings(users_file, trust_header, allow, behind_proxy)
    if not is_loopback(host) and not access_controlled(access):
        click.echo(f"warning: serving on {host} without any access control: anyone who can reach this address "
                   "can search; use --users FILE, --trust-header NAME or --allow NETWORK", err=True)
    click.echo(f"Serving 简报检索 on {server_url(host, listener.getsockname()[1])}")
    where = f"cluster {backend}" if backend else index_folder
    click.echo(f"Index: {where}  ({workers or default_workers()} workers x {threads} threads; Ctrl+C stops)")
    server = GunicornServer(index_folder, listener, workers or default_workers(), threads, access, backend)
    master = os.getpid()
    try:
        server.run()
    except SystemExit as stop:
        if os.getpid() != master:  # a worker process leaving (gunicorn exits workers with SystemExit)
            raise
        if stop.code not in (0, None):
            raise click.ClickException(f"the server stopped with status {stop.code}") from None
    click.echo("Stopped.")


class GunicornServer(BaseApplication):
    """gunicorn's arbiter over our app: pre-forked workers with threads, on a socket we bound ourselves."""

    def __init__(self, index: str, listener: socket.socket, workers: int, threads: int,
                 access: dict[str, Any] | None = None, backend: str | None = None) -> None:
        self.index = index
        self.backend = backend
        self.access = access or {}
        listener.set_inheritable(True)
        self.settings = {
            "bind": [f"fd://{listener.fileno()}"],
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "keepalive": 5,
            "timeout": 120,
            "graceful_timeout": 10,
            "loglevel": "warning",
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "bulletins",
            "post_worker_init": _warm_up_worker,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from index.dictionary import use_compact_dictionary
        from webui import create_app

        use_compact_dictionary()
        app = create_app(overrides={"INDEX": self.index, "BACKEND": self.backend or "", **self.access})
        return app


def access_settings(users_file: Path | None, trust_header: str | None, allow: tuple[str, ...],
                    behind_proxy: bool) -> dict[str, Any]:
    """The app settings of `webui.auth` given on the command line (the unset ones left out)."""
    settings: dict[str, Any] = {}
    if users_file:
        settings["USERS"] = str(users_file)
    if trust_header:
        settings["TRUST_HEADER"] = trust_header
    networks = [item.strip() for value in allow for item in value.replace(";", ",").split(",") if item.strip()]
    if networks:
        settings["ALLOW"] = networks
    if behind_proxy:
        settings["BEHIND_PROXY"] = True
    return settings


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or name (the server is then reachable from this machine only)."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _warm_up_worker(worker: object) -> None:
    """In each worker, before it takes requests: open the index and load the dictionaries."""
    warm_up(worker.wsgi)  # type: ignore[attr-defined]


def note_missing_index(index: str) -> None:
    """Say so when there is no index yet (pages answer 503 until a build finishes)."""
    from index.store import IndexLocation

    if IndexLocation(index).generation() is None:
        click.echo(f"No index yet in {index}; pages answer 503 until a build finishes.", err=True)


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (bound here so a busy port fails cleanly, before gunicorn starts)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError:
        listener.close()
        raise
    return listener


def warm_up(app: Flask) -> None:
    """Open the index and load the dictionaries now, so the first visitor does not wait for them."""
    from search.errors import IndexUnavailable
    from search.request import SearchRequest
    from webui.engine import get_engine

    with app.app_context():
        try:
            get_engine().search(SearchRequest(q="简报", size=1))
        except IndexUnavailable:
            pass


def ensure_corpus(corpus: Path) -> bool:
    """Generate the deterministic sample corpus into `corpus` unless it is there; True when generated."""
    from index.samplegen import generate_corpus

    if corpus.is_dir() and any(corpus.iterdir()):
        return False
    corpus.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".corpus-", dir=corpus.parent))
    try:
        generate_corpus(staging, bulletins=DEMO_BULLETINS, seed=DEMO_SEED)
        if corpus.exists():
            corpus.rmdir()
        staging.rename(corpus)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return True


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, metavar="DIR", help="Folder for the sample corpus and its index.")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="HOST", help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), metavar="PORT",
              envvar="BULLETINS_PORT", help="TCP port [env BULLETINS_PORT].")
@click.option("--no-serve", is_flag=True, help="Only prepare the corpus and index.")
@click.pass_context
def demo(ctx: click.Context, directory: Path, host: str, port: int, no_serve: bool) -> None:
    """Try it out: generate sample bulletins into DIR/corpus, index them into DIR/index, then serve.

    The corpus is generated once (deterministically); the build is incremental, so a second run is quick.
    """
    from index.writer import BuildError, IndexIncompatibleError, build

    corpus, index = directory / "corpus", directory / "index"
    if ensure_corpus(corpus):
        click.echo(f"Generated {DEMO_BULLETINS} sample bulletins in {corpus}")
    try:
        try:
            report = build([corpus], index, full=False)
        except IndexIncompatibleError as error:
            click.echo(f"The demo index is stale ({error}); rebuilding it.", err=True)
            report = build([corpus], index, full=True)
    except BuildError as error:
        raise click.ClickException(str(error)) from error
    click.echo(report.summary())
    if not no_serve:
        ctx.invoke(serve, index=index, host=host, port=port, workers=None, threads=4)
