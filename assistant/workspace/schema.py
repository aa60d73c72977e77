"""The app database's tables (SQLAlchemy Core), as the code reads and writes them.

The migrations in `migrations/versions/` create them; this module must describe what they made
(tests/test_workspace.py compares the two on SQLite). Users are keyed by the text the sign-in
records (`auth.Identity.label`: the e-mail address, else "sub:<subject>"), or LOCAL_USER when
sign-in is not configured.
"""

from __future__ import annotations

import sqlalchemy as sa

LOCAL_USER = "local"

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_key", sa.String(320), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_conversations_user_updated", "user_key", "updated"),
)

messages = sa.Table(
    "messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(32),
              sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_key", sa.String(320), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("build", sa.String(200), nullable=False),
    sa.Column("citations", sa.JSON, nullable=False),  # [{n, article, section, source, quote, ...}]
    sa.Column("payload", sa.JSON, nullable=False),  # the whole answer, to show it again
    # Question and answer, lower-cased and without accents: what history search matches.
    sa.Column("search_text", sa.Text, nullable=False),
    sa.Index("ix_messages_conversation", "conversation_id", "id"),
    sa.Index("ix_messages_user", "user_key"),
)

shares = sa.Table(
    "shares", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_key", sa.String(320), nullable=False),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_shares_user", "user_key"),
)

feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_key", sa.String(320), nullable=True),  # None: sign-in not configured
    sa.Column("time", sa.String(32), nullable=False),
    sa.Column("rating", sa.String(8), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("tier", sa.String(16), nullable=True),
    sa.Column("mode", sa.String(16), nullable=True),
    sa.Column("build", sa.String(200), nullable=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="SET NULL"),
              nullable=True),
    sa.Column("record", sa.JSON, nullable=False),  # the whole feedback line
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_key", sa.String(320), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.String(320), nullable=True),  # migration 0002
    sa.Index("ix_api_tokens_user", "user_key"),
)

meta = sa.Table(  # one-time events (the feedback.jsonl import)
    "workspace_meta", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
