"""Search over one's own history: words of the questions and answers, case- and
accent-insensitive, with the database's own full-text search (SQLite FTS5 over the
`message_search` table; PostgreSQL `to_tsvector('simple', …)` with its GIN index).

Both match the same folded text (`fold`: lower case, accents removed), so "Mexico" finds
"méxico" on either. Every word must occur, as a word or the start of one ("coop" finds
"cooperation"). Only the asking user's messages are searched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .db import Workspace
from .schema import conversations, messages

MAX_TERMS = 12
MAX_RESULTS = 20


def fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped): the searched form."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def terms(query: str) -> list[str]:
    """The query's words, folded; at most MAX_TERMS."""
    return re.findall(r"\w+", fold(query))[:MAX_TERMS]


def search_text(question: str, answer: str) -> str:
    return fold(f"{question}\n{answer}")


@dataclass(frozen=True)
class Hit:
    conversation_id: str
    title: str
    message_id: int
    question: str
    snippet: str
    created: datetime


def search(ws: Workspace, user: str, query: str, limit: int = MAX_RESULTS) -> list[Hit]:
    words = terms(query)
    if not words:
        return []
    m, c = messages, conversations
    cols = [m.c.id, m.c.conversation_id, c.c.title, m.c.question, m.c.answer, m.c.created]
    if ws.dialect == "sqlite":
        match = " ".join(f'"{w}"*' for w in words)
        ids = sa.text("SELECT rowid FROM message_search WHERE message_search MATCH :q")
        cond = m.c.id.in_(ids.bindparams(q=match).columns(sa.column("rowid")))
    else:
        tsq = " & ".join(f"{w}:*" for w in words)
        cond = sa.func.to_tsvector(sa.literal_column("'simple'"), m.c.search_text).op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'"), tsq))
    stmt = (sa.select(*cols).join(c, c.c.id == m.c.conversation_id)
            .where(m.c.user_key == user, c.c.user_key == user, cond)
            .order_by(m.c.id.desc()).limit(limit))
    with ws.read() as conn:
        rows = conn.execute(stmt).all()
    return [Hit(conversation_id=r.conversation_id, title=r.title, message_id=r.id,
                question=r.question, snippet=snippet(r.answer, words), created=r.created)
            for r in rows]


def snippet(text: str, words: list[str], width: int = 160) -> str:
    """About `width` characters of `text` around the first matched word."""
    folded = fold(text)
    pos = min((i for i in (folded.find(w) for w in words) if i >= 0), default=0)
    # fold() keeps lengths for the common accented letters; clamp for the rest.
    start = max(0, min(pos - width // 3, len(text) - width))
    out = text[start:start + width].strip()
    return ("…" if start > 0 else "") + out + ("…" if start + width < len(text) else "")
