"""API tokens (for the HTTP API): one per user and purpose, shown once, stored as a SHA-256."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .conversations import now
from .db import Workspace
from .schema import api_tokens
from .shares import token_hash

PREFIX = "aa_"


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    created: datetime
    revoked: datetime | None


def create_token(ws: Workspace, user: str, name: str) -> tuple[int, str]:
    """(id, token): the token is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    with ws.write() as conn:
        tid = conn.execute(sa.insert(api_tokens).values(
            user_key=user, name=" ".join(str(name).split())[:200] or "token",
            token_hash=token_hash(token), created=now(), revoked=None)
            .returning(api_tokens.c.id)).scalar_one()
    return int(tid), token


def list_tokens(ws: Workspace, user: str) -> list[ApiToken]:
    stmt = (sa.select(api_tokens).where(api_tokens.c.user_key == user)
            .order_by(api_tokens.c.id))
    with ws.read() as conn:
        return [ApiToken(id=r.id, name=r.name, created=r.created, revoked=r.revoked)
                for r in conn.execute(stmt)]


def revoke_token(ws: Workspace, user: str, token_id: int) -> bool:
    with ws.write() as conn:
        return conn.execute(sa.update(api_tokens).where(
            api_tokens.c.id == int(token_id), api_tokens.c.user_key == user,
            api_tokens.c.revoked.is_(None)).values(revoked=now())).rowcount > 0


def lookup_token(ws: Workspace, token: str) -> str | None:
    """The user a live token belongs to; None for an unknown or revoked one."""
    if not str(token or "").startswith(PREFIX):
        return None
    with ws.read() as conn:
        row = conn.execute(sa.select(api_tokens.c.user_key).where(
            api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked.is_(None))).first()
    return row.user_key if row else None
