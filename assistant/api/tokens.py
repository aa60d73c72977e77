"""Personal API tokens: each acts as the user who made it.

A token is `aat_` + secrets.token_urlsafe(32), shown once when made; only its sha256 is kept,
so a leaked token file lets nobody in. Revoked tokens stay on record (revoked, by whom, when)
so that the API can say "revoked" rather than "unknown".

`TokenStore` is the interface; `FileTokenStore` keeps the records in one JSON file in the data
folder (mode 0600, replaced atomically under a lock, so the app, the CLI and the server can all
write). The default store is `token_db.DbTokenStore` over the app database (issue 22); this
file store remains for the one-time import of an older data/api_tokens.json."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import AssistantError

PREFIX = "aat_"  # "article assistant token": recognisable in logs and by secret scanners
TOKEN_FILE = "api_tokens.json"
FORMAT = 1
MAX_NAME_CHARS = 80
_SECRET = re.compile(r"^aat_[A-Za-z0-9_-]{43}$")


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return bool(_SECRET.match(secret or ""))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def clean_name(name: str) -> str:
    """A token's label: control characters out, white space folded, at most 80 characters."""
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(name or ""))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_NAME_CHARS] or "unnamed"


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token, never the token itself."""

    id: str  # short, random, public: what `revoke` takes
    user: str  # the owner's e-mail address (lower case), as the sign-in gives it
    name: str
    created: str  # ISO 8601, UTC
    hash: str = dataclasses.field(repr=False, default="")
    revoked: str | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def public(self) -> dict:
        """For listings: everything but the hash."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "hash"}


class TokenStore(Protocol):
    def create(self, user: str, name: str) -> tuple[str, TokenInfo]:
        """A new token for `user`: (the secret, to show once; its record)."""

    def list(self, user: str | None = None) -> list[TokenInfo]:
        """The tokens of `user` (all users: None), newest first, revoked ones included."""

    def revoke(self, token_id: str, by: str) -> TokenInfo:
        """Revoke a token (KeyError when there is none with that id); revoking twice keeps the
        first record."""

    def lookup(self, secret: str) -> TokenInfo | None:
        """The record of a presented token (revoked or not), or None."""


class TokenFileError(AssistantError):
    pass


class FileTokenStore:
    """Token records in one JSON file. Reads are cached until the file changes (the server
    checks a token on every request; a revocation by the CLI or the app is seen by the next)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: tuple[tuple, dict[str, TokenInfo]] | None = None

    @classmethod
    def in_data_dir(cls, data_dir: Path | str) -> FileTokenStore:
        return cls(Path(data_dir) / TOKEN_FILE)

    # ---------------------------------------------------------------- reading
    def _signature(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> dict[str, TokenInfo]:
        """{hash: record}, from the cache when the file did not change."""
        sig = self._signature()
        if sig is None:
            return {}
        with self._lock:
            if self._cache is not None and self._cache[0] == sig:
                return self._cache[1]
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                records = [TokenInfo(**r) for r in data["tokens"]]
            except FileNotFoundError:
                return {}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise TokenFileError(
                    f"{self.path} is not a readable token file ({type(exc).__name__}: {exc}); "
                    "move it away to start with no tokens.") from None
            by_hash = {r.hash: r for r in records}
            self._cache = (sig, by_hash)
            return by_hash

    def lookup(self, secret: str) -> TokenInfo | None:
        if not looks_like_token(secret):
            return None
        return self._read().get(token_hash(secret))

    def list(self, user: str | None = None) -> list[TokenInfo]:
        who = user.strip().lower() if user else None
        rows = [r for r in self._read().values() if who is None or r.user == who]
        return sorted(rows, key=lambda r: (r.created, r.id), reverse=True)

    # ---------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, TokenInfo]]:
        """The records, locked against other writers (processes too); written back on exit."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path.with_name(self.path.name + ".lock"),
                         os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenFileError(f"Cannot write tokens to {self.path} "
                                 f"({exc.strerror or exc}).") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = dict(self._read())
            yield records
            try:
                self._write(records)
            except OSError as exc:
                raise TokenFileError(f"Cannot write tokens to {self.path} "
                                     f"({exc.strerror or exc}).") from None
        finally:
            os.close(fd)  # releases the lock

    def _write(self, records: dict[str, TokenInfo]) -> None:
        data = {"format": FORMAT, "tokens": [dataclasses.asdict(r) for r in records.values()]}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)  # also when a umask or an old file said otherwise
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def create(self, user: str, name: str) -> tuple[str, TokenInfo]:
        user = (user or "").strip().lower()
        if not user:
            raise AssistantError("A token needs its user (an e-mail address).")
        secret = new_secret()
        with self._locked() as records:
            ids = {r.id for r in records.values()}
            token_id = next(i for i in iter(lambda: secrets.token_hex(4), None) if i not in ids)
            info = TokenInfo(id=token_id, user=user, name=clean_name(name), created=_now(),
                             hash=token_hash(secret))
            records[info.hash] = info
        return secret, info

    def revoke(self, token_id: str, by: str) -> TokenInfo:
        with self._locked() as records:
            found = next((r for r in records.values() if r.id == token_id), None)
            if found is None:
                raise KeyError(token_id)
            if found.active:
                found = dataclasses.replace(found, revoked=_now(), revoked_by=by)
                records[found.hash] = found
        return found


# ------------------------------------------------------------------ who may see and revoke what

def visible_tokens(store: TokenStore, user: str, admin: bool = False) -> list[TokenInfo]:
    """A user sees their own tokens; an admin sees everyone's."""
    return store.list(None if admin else user)


def revoke_as(store: TokenStore, token_id: str, user: str, admin: bool = False) -> TokenInfo:
    """Revoke a token on behalf of `user`: their own, or any when `admin`. A token of someone
    else is reported as not found (its id tells nothing)."""
    user = (user or "").strip().lower()
    mine = {t.id for t in store.list(None if admin else user)}
    if token_id not in mine:
        raise KeyError(token_id)
    return store.revoke(token_id, by=user or "admin")
