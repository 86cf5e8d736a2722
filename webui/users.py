"""The users file of an intranet login: names, salted password hashes and API token hashes, as JSON.

Passwords are hashed with werkzeug.security (scrypt, salted); API tokens are random (`secrets`) and only
their SHA-256 is kept, so the file never holds a secret that works. Writes replace the file atomically and
keep it readable by its owner only. Every call reads the file again, so `bulletins users` changes apply to
a running server at once (a removed user or a revoked token stops working on the next request).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from index.atomic import replacing

#: A user name: letters (any script), digits, dot, dash, underscore, at most 64 characters.
NAME = re.compile(r"[\w.@-]{1,64}")
MIN_PASSWORD = 8
#: Bytes of randomness in an API token.
TOKEN_BYTES = 32
#: A fixed hash checked when a name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class UsersError(Exception):
    """The users file cannot be read or changed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    """One user as the file records it (hashes only)."""

    name: str
    created: str
    tokens: int


class UserStore:
    """The users file at `path` (created on the first `add`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"users": {}}
        except (OSError, ValueError) as error:
            raise UsersError(f"cannot read the users file {self.path}: {error}") from error
        if not isinstance(data, dict) or not isinstance(data.get("users"), dict):
            raise UsersError(f"{self.path} is not a users file (expected {{\"users\": {{...}}}})")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(self.path, "w", encoding="utf-8") as stream:
            os.chmod(stream.name, 0o600)
            json.dump(data, stream, ensure_ascii=False, indent=1)

    def users(self) -> list[User]:
        """Every user, by name."""
        return [User(name, entry.get("created", ""), len(entry.get("tokens", [])))
                for name, entry in sorted(self._read()["users"].items())]

    def add(self, name: str, password: str) -> None:
        """Add a user, or set the password of an existing one."""
        if not NAME.fullmatch(name):
            raise UsersError(f"invalid user name {name!r}: letters, digits, . @ - _ (at most 64)")
        if len(password) < MIN_PASSWORD:
            raise UsersError(f"the password must have at least {MIN_PASSWORD} characters")
        data = self._read()
        entry = data["users"].setdefault(name, {"created": _now(), "tokens": []})
        entry["password"] = generate_password_hash(password)
        self._write(data)

    def remove(self, name: str) -> None:
        """Remove a user and every token of theirs."""
        data = self._read()
        if data["users"].pop(name, None) is None:
            raise UsersError(f"no user {name!r} in {self.path}")
        self._write(data)

    def new_token(self, name: str) -> str:
        """A new API token for `name` (shown once; only its hash is kept)."""
        data = self._read()
        entry = data["users"].get(name)
        if entry is None:
            raise UsersError(f"no user {name!r} in {self.path}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        entry.setdefault("tokens", []).append({"sha256": _digest(token), "created": _now()})
        self._write(data)
        return token

    def revoke_tokens(self, name: str) -> int:
        """Revoke every API token of `name`; how many there were."""
        data = self._read()
        entry = data["users"].get(name)
        if entry is None:
            raise UsersError(f"no user {name!r} in {self.path}")
        count = len(entry.get("tokens", []))
        entry["tokens"] = []
        self._write(data)
        return count

    def check_password(self, name: str, password: str) -> bool:
        """Whether `password` is the password of `name` (False for an unknown name, in the same time)."""
        entry = self._read()["users"].get(name)
        stored = entry.get("password") if entry else None
        matches = check_password_hash(stored or _DUMMY_HASH, password)
        return bool(stored) and matches

    def user_of_token(self, token: str) -> str | None:
        """The user an API token belongs to, or None."""
        digest = _digest(token)
        for name, entry in self._read()["users"].items():
            for item in entry.get("tokens", []):
                if hmac.compare_digest(item.get("sha256", ""), digest):
                    return name
        return None

    def exists(self, name: str) -> bool:
        return name in self._read()["users"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
