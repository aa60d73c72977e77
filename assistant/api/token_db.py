"""API tokens in the app database (issue 22's `api_tokens` table), behind the same `TokenStore`
interface as the JSON file: the store `assistant serve`, `assistant token` and the app use.

Only the sha256 of a token is stored; revoked rows stay (when, by whom), so the API can tell a
revoked token from an unknown one. Ids are the table's row numbers, as text. An older
`data/api_tokens.json` is copied into the database once, at first use (a `workspace_meta`
marker, as the feedback import does), and left in place."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ..config import Settings
from ..errors import AssistantError
from ..workspace import WorkspaceHolder, database_url
from ..workspace.schema import api_tokens, meta
from .tokens import (
    TOKEN_FILE,
    FileTokenStore,
    TokenFileError,
    TokenInfo,
    clean_name,
    looks_like_token,
    new_secret,
    token_hash,
)

_ISO = "%Y-%m-%dT%H:%M:%SZ"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(_ISO)


def _when(text: str | None) -> datetime | None:
    return None if not text else datetime.strptime(text, _ISO).replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _info(row) -> TokenInfo:
    return TokenInfo(id=str(row.id), user=row.user_key, name=row.name,
                     created=_iso(row.created) or "", hash=row.token_hash,
                     revoked=_iso(row.revoked), revoked_by=row.revoked_by)


class DbTokenStore:
    """Tokens in the app database. Thread-safe (every call takes a pooled connection); a
    database that is down gives one `DatabaseUnavailable` line (an AssistantError)."""

    def __init__(self, holder: WorkspaceHolder, data_dir: Path | str | None = None):
        self.holder = holder
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._imported = False
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> DbTokenStore:
        """The store of these settings: ASSISTANT_DATABASE_URL, else data_dir/assistant.db."""
        return cls(WorkspaceHolder(url=database_url(settings)), settings.data_dir)

    @classmethod
    def in_data_dir(cls, data_dir: Path | str) -> DbTokenStore:
        return cls.for_settings(Settings().replace(data_dir=Path(data_dir)))

    def _ws(self):
        ws = self.holder.get()
        if not self._imported and self.data_dir is not None:
            with self._lock:
                if not self._imported:
                    n, problem = import_token_file(ws, self.data_dir / TOKEN_FILE)
                    if problem:
                        print(problem, file=sys.stderr, flush=True)
                    elif n:
                        print(f"Imported {n} API token(s) from {self.data_dir / TOKEN_FILE} "
                              "into the app database.", file=sys.stderr, flush=True)
                    self._imported = True
        return ws

    def create(self, user: str, name: str) -> tuple[str, TokenInfo]:
        user = (user or "").strip().lower()
        if not user:
            raise AssistantError("A token needs its user (an e-mail address).")
        secret = new_secret()
        with self._ws().write() as conn:
            row_id = conn.execute(sa.insert(api_tokens).values(
                user_key=user, name=clean_name(name), token_hash=token_hash(secret),
                created=_now(), revoked=None).returning(api_tokens.c.id)).scalar_one()
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == row_id)).one()
        return secret, _info(row)

    def list(self, user: str | None = None) -> list[TokenInfo]:
        stmt = sa.select(api_tokens).order_by(api_tokens.c.created.desc(),
                                              api_tokens.c.id.desc())
        if user:
            stmt = stmt.where(api_tokens.c.user_key == user.strip().lower())
        with self._ws().read() as conn:
            return [_info(r) for r in conn.execute(stmt)]

    def revoke(self, token_id: str, by: str) -> TokenInfo:
        if not str(token_id).isdigit():
            raise KeyError(token_id)
        with self._ws().write() as conn:
            conn.execute(sa.update(api_tokens).where(
                api_tokens.c.id == int(token_id), api_tokens.c.revoked.is_(None))
                .values(revoked=_now(), revoked_by=by))
            row = conn.execute(sa.select(api_tokens).where(
                api_tokens.c.id == int(token_id))).first()
        if row is None:
            raise KeyError(token_id)
        return _info(row)

    def lookup(self, secret: str) -> TokenInfo | None:
        if not looks_like_token(secret):
            return None
        with self._ws().read() as conn:
            row = conn.execute(sa.select(api_tokens).where(
                api_tokens.c.token_hash == token_hash(secret))).first()
        return _info(row) if row else None


def import_token_file(ws, path: Path | str) -> tuple[int, str | None]:
    """Copy the records of an older api_tokens.json into the database, once (later calls, also
    from other processes, do nothing). Returns (tokens imported, a problem line or None). The
    file is left in place."""
    path = Path(path)
    key = f"api-tokens-import:{path.resolve()}"
    with ws.read() as conn:
        if conn.execute(sa.select(meta.c.key).where(meta.c.key == key)).first() is not None:
            return 0, None
    if not path.exists():
        return 0, None
    try:
        records = FileTokenStore(path).list()
        rows = [dict(user_key=r.user, name=clean_name(r.name), token_hash=r.hash,
                     created=_when(r.created), revoked=_when(r.revoked),
                     revoked_by=r.revoked_by) for r in records]
    except (TokenFileError, ValueError) as exc:
        return 0, f"{path}: not imported ({exc})."
    try:
        with ws.write() as conn:
            conn.execute(sa.insert(meta).values(key=key, value=f"{len(rows)} tokens"))
            known = {h for (h,) in conn.execute(sa.select(api_tokens.c.token_hash))}
            fresh = [r for r in rows if r["token_hash"] not in known]
            if fresh:
                conn.execute(sa.insert(api_tokens), fresh)
    except sa_exc.IntegrityError:
        return 0, None  # imported before (by another process)
    return len(fresh), None
