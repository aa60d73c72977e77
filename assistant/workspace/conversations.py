"""Saved conversations: each belongs to one user and is only ever read through that user's key
(every query below filters on it, so another user's id reads as "no such conversation")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from ..records import Answer
from .db import Workspace
from .schema import conversations, messages
from .search import search_text
from .stored import answer_from_json, answer_to_json, citations_json

TITLE_CHARS = 120
LISTED = 50


def now() -> datetime:
    return datetime.now(UTC)


def title_of(question: str) -> str:
    """The first question, on one line and cut to TITLE_CHARS."""
    line = " ".join(str(question or "").split()) or "Untitled conversation"
    return line if len(line) <= TITLE_CHARS else line[:TITLE_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: datetime
    updated: datetime


@dataclass(frozen=True)
class Turn:
    """One saved question and its answer, with what the chat needs to continue from it."""

    message_id: int
    question: str
    answer: Answer
    history: tuple[str, ...]
    filtered: int


def _conversation(row) -> Conversation:
    return Conversation(id=row.id, title=row.title, created=row.created, updated=row.updated)


def save_answer(ws: Workspace, user: str, conversation_id: str | None, answer: Answer,
                history: list[str] | tuple[str, ...] = (), filtered: int = 0
                ) -> tuple[str, int]:
    """Store one answer (in a new conversation when `conversation_id` is None or not the
    user's). Returns (conversation id, message id). Raises DatabaseUnavailable."""
    when = now()
    payload = {"answer": answer_to_json(answer), "history": list(history),
               "filtered": int(filtered)}
    with ws.write() as conn:
        if conversation_id is not None:
            owned = conn.execute(sa.update(conversations).where(
                conversations.c.id == conversation_id, conversations.c.user_key == user)
                .values(updated=when)).rowcount
            if not owned:
                conversation_id = None
        if conversation_id is None:
            conversation_id = uuid.uuid4().hex
            first = history[0] if history else answer.question
            conn.execute(sa.insert(conversations).values(
                id=conversation_id, user_key=user, title=title_of(first), created=when,
                updated=when))
        message_id = conn.execute(sa.insert(messages).values(
            conversation_id=conversation_id, user_key=user, created=when,
            question=answer.question, answer=answer.text, tier=answer.tier, mode=answer.mode,
            build=answer.build_id or "", citations=citations_json(answer), payload=payload,
            search_text=search_text(answer.question, answer.text)
        ).returning(messages.c.id)).scalar_one()
    return conversation_id, int(message_id)


def list_conversations(ws: Workspace, user: str, limit: int = LISTED) -> list[Conversation]:
    """The user's conversations, the most recently used first."""
    stmt = (sa.select(conversations).where(conversations.c.user_key == user)
            .order_by(conversations.c.updated.desc(), conversations.c.id).limit(limit))
    with ws.read() as conn:
        return [_conversation(r) for r in conn.execute(stmt)]


def get_conversation(ws: Workspace, user: str, conversation_id: str
                     ) -> tuple[Conversation, list[Turn]] | None:
    """The conversation and its turns in order; None when the user has no such conversation
    (also when it is another user's). A turn that cannot be read back is left out."""
    with ws.read() as conn:
        row = conn.execute(sa.select(conversations).where(
            conversations.c.id == str(conversation_id), conversations.c.user_key == user)).first()
        if row is None:
            return None
        rows = conn.execute(sa.select(messages.c.id, messages.c.payload).where(
            messages.c.conversation_id == row.id, messages.c.user_key == user)
            .order_by(messages.c.id)).all()
    turns = []
    for r in rows:
        try:
            p = r.payload
            answer = answer_from_json(p["answer"])
            turns.append(Turn(message_id=r.id, question=answer.question, answer=answer,
                              history=tuple(p.get("history") or ()),
                              filtered=int(p.get("filtered") or 0)))
        except (KeyError, TypeError, ValueError):
            continue
    return _conversation(row), turns


def get_message(ws: Workspace, user: str, message_id: int) -> tuple[str, Answer] | None:
    """(conversation id, answer) of one of the user's messages; None otherwise."""
    with ws.read() as conn:
        row = conn.execute(sa.select(messages.c.conversation_id, messages.c.payload).where(
            messages.c.id == int(message_id), messages.c.user_key == user)).first()
    if row is None:
        return None
    return row.conversation_id, answer_from_json(row.payload["answer"])


def rename(ws: Workspace, user: str, conversation_id: str, title: str) -> bool:
    """False when the user has no such conversation."""
    title = " ".join(str(title or "").split())[:300]
    if not title:
        return False
    with ws.write() as conn:
        return conn.execute(sa.update(conversations).where(
            conversations.c.id == conversation_id, conversations.c.user_key == user)
            .values(title=title)).rowcount > 0


def delete(ws: Workspace, user: str, conversation_id: str) -> bool:
    """Delete the conversation, its messages and the shares of its answers, for good."""
    from .schema import shares

    with ws.write() as conn:
        exists = conn.execute(sa.select(conversations.c.id).where(
            conversations.c.id == conversation_id, conversations.c.user_key == user)).first()
        if exists is None:
            return False
        ids = sa.select(messages.c.id).where(messages.c.conversation_id == conversation_id)
        conn.execute(sa.delete(shares).where(shares.c.message_id.in_(ids)))
        conn.execute(sa.delete(messages).where(messages.c.conversation_id == conversation_id))
        conn.execute(sa.delete(conversations).where(conversations.c.id == conversation_id))
    return True
