"""`bulletins users`: the users file of the intranet login (add, remove, list, token, revoke)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from webui.users import UsersError, UserStore

T = TypeVar("T")


@click.group()
@click.option("--file", "users_file", type=click.Path(dir_okay=False, path_type=Path), envvar="BULLETINS_USERS",
              required=True, metavar="FILE", help="The users file [env BULLETINS_USERS].")
@click.pass_context
def users(ctx: click.Context, users_file: Path) -> None:
    """Manage who may log in when `bulletins serve --users FILE` runs."""
    ctx.obj = UserStore(users_file)


def _store() -> UserStore:
    return click.get_current_context().find_object(UserStore)


def _password() -> str:
    """The new password: prompted twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return sys.stdin.readline().rstrip("\r\n")


def _run(action: Callable[[], T]) -> T:
    """`action`, with a users-file error turned into the CLI's one-line error."""
    try:
        return action()
    except UsersError as error:
        raise click.ClickException(str(error)) from error


@users.command()
@click.argument("name")
def add(name: str) -> None:
    """Add a user (or set a user's password); the password is read from standard input or prompted."""
    password = _password()
    _run(lambda: _store().add(name, password))
    click.echo(f"user {name} saved in {_store().path}")


@users.command()
@click.argument("name")
def remove(name: str) -> None:
    """Remove a user and their API tokens (effective at once, also on a running server)."""
    _run(lambda: _store().remove(name))
    click.echo(f"user {name} removed")


@users.command(name="list")
def list_users() -> None:
    """List the users, when each was created and how many API tokens they have."""
    for user in _run(lambda: _store().users()):
        click.echo(f"{user.name}\t{user.created}\t{user.tokens} token(s)")


@users.command()
@click.argument("name")
def token(name: str) -> None:
    """Print a new API token for NAME (for scripts: `Authorization: Bearer TOKEN`); it is shown only once."""
    click.echo(_run(lambda: _store().new_token(name)))


@users.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke every API token of NAME."""
    count = _run(lambda: _store().revoke_tokens(name))
    click.echo(f"{count} token(s) of {name} revoked")
