"""Shared answers: a link `?share=<token>` to a read-only snapshot of one answer.

The token is `secrets.token_urlsafe(32)` and only its SHA-256 is stored, so the database alone
does not give the links away. The snapshot (question, answer, citations with their passages and
quotes) is copied at sharing time, so it survives rebuilds; `freshness` then says which cited
articles changed or are gone since. Deleting the conversation deletes its shares.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..records import Answer, Citation
from .conversations import get_message, now
from .db import Workspace
from .schema import shares
from .stored import answer_from_json, answer_to_json

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Share:
    id: str
    question: str
    created: datetime
    revoked: datetime | None
    message_id: int


@dataclass(frozen=True)
class Opened:
    """What a share link opens: status "ok" (with the snapshot), "revoked" or "unknown"."""

    status: str
    answer: Answer | None = None
    sharer: str = ""
    created: datetime | None = None


def create_share(ws: Workspace, user: str, message_id: int) -> str:
    """A new link token for one of the user's saved answers (the token is returned once and
    never stored). Raises KeyError when the message is not the user's."""
    found = get_message(ws, user, message_id)
    if found is None:
        raise KeyError(message_id)
    answer = found[1]
    token = secrets.token_urlsafe(32)
    with ws.write() as conn:
        conn.execute(sa.insert(shares).values(
            id=uuid.uuid4().hex, token_hash=token_hash(token), user_key=user,
            message_id=int(message_id), snapshot={"answer": answer_to_json(answer)},
            created=now(), revoked=None))
    return token


def open_share(ws: Workspace, token: str) -> Opened:
    if not TOKEN_RE.match(str(token or "")):
        return Opened("unknown")
    with ws.read() as conn:
        row = conn.execute(sa.select(shares).where(
            shares.c.token_hash == token_hash(token))).first()
    if row is None:
        return Opened("unknown")
    if row.revoked is not None:
        return Opened("revoked", sharer=row.user_key, created=row.created)
    return Opened("ok", answer=answer_from_json(row.snapshot["answer"]), sharer=row.user_key,
                  created=row.created)


def list_shares(ws: Workspace, user: str) -> list[Share]:
    stmt = (sa.select(shares.c.id, shares.c.snapshot, shares.c.created, shares.c.revoked,
                      shares.c.message_id)
            .where(shares.c.user_key == user).order_by(shares.c.created.desc()))
    with ws.read() as conn:
        return [Share(id=r.id, question=(r.snapshot.get("answer") or {}).get("question", ""),
                      created=r.created, revoked=r.revoked, message_id=r.message_id)
                for r in conn.execute(stmt)]


def revoke(ws: Workspace, user: str, share_id: str) -> bool:
    """False when the user has no such (unrevoked) share."""
    with ws.write() as conn:
        return conn.execute(sa.update(shares).where(
            shares.c.id == share_id, shares.c.user_key == user, shares.c.revoked.is_(None))
            .values(revoked=now())).rowcount > 0


def freshness(answer: Answer, lookup: Callable[[str], tuple]) -> dict[int, str]:
    """{n: "gone" | "changed"} for the citations whose article the current index no longer
    has, or no longer has the cited passage (word for word); unchanged ones are left out.
    `lookup(article_id)` returns (article, sections) or raises KeyError (Assistant.article)."""
    out: dict[int, str] = {}
    cache: dict[str, list | None] = {}
    for c in answer.citations:
        if c.article_id not in cache:
            try:
                cache[c.article_id] = [s.text for s in lookup(c.article_id)[1]]
            except KeyError:
                cache[c.article_id] = None
        texts = cache[c.article_id]
        if texts is None:
            out[c.n] = "gone"
        elif not _still_there(c, texts):
            out[c.n] = "changed"
    return out


def _still_there(c: Citation, texts: list[str]) -> bool:
    section = texts[c.section_index] if 0 <= c.section_index < len(texts) else ""
    if section[c.quote_start:c.quote_end] == c.quote and c.passage in section:
        return True
    return any(c.passage in t for t in texts)  # moved to another section, words unchanged
