"""SphinxQL connections (the MySQL protocol, through PyMySQL) from `sphinxql://HOST:PORT` addresses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pymysql
from pymysql.constants import CLIENT

SCHEME = "sphinxql"
#: Seconds to wait for a node to accept a connection, and for a statement's answer.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0


class ClusterError(Exception):
    """The cluster cannot be reached or refused a statement (the message says which node and why)."""


@dataclass(frozen=True)
class Address:
    """A node's SphinxQL listener."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{SCHEME}://{self.host}:{self.port}"


def is_backend_address(text: str | None) -> bool:
    """Whether `text` names a SphinxQL backend (rather than the embedded index)."""
    return bool(text) and str(text).startswith(f"{SCHEME}://")


def parse_address(text: str) -> Address:
    """`sphinxql://HOST:PORT` → Address (ValueError with the expected form otherwise)."""
    parts = urlsplit(text.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != SCHEME or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"backend address {text!r} is not of the form {SCHEME}://HOST:PORT")
    return Address(parts.hostname, port)


def connect(address: Address, read_timeout: float = READ_TIMEOUT) -> Any:
    """An autocommitting SphinxQL connection that accepts multi-statement batches (ClusterError if down)."""
    try:
        return pymysql.connect(host=address.host, port=address.port, user="", charset="utf8mb4", autocommit=True,
                               client_flag=CLIENT.MULTI_STATEMENTS, connect_timeout=CONNECT_TIMEOUT,
                               read_timeout=read_timeout, write_timeout=read_timeout)
    except pymysql.MySQLError as error:
        raise ClusterError(f"cannot connect to {address}: {error}") from error


def run_batch(connection: Any, statements: list[str], args: list[tuple[Any, ...] | None] | None = None
              ) -> list[list[tuple[Any, ...]]]:
    """Run statements as one multi-statement batch and return each one's rows."""
    cursor = connection.cursor()
    if args is None:
        sql = ";\n".join(statements)
    else:
        sql = ";\n".join(cursor.mogrify(statement, arg) if arg is not None else statement
                         for statement, arg in zip(statements, args))
    cursor.execute(sql)
    results = [list(cursor.fetchall())]
    while cursor.nextset():
        results.append(list(cursor.fetchall()))
    cursor.close()
    return results
