"""The workspace: conversations, messages and their text search, shares, feedback, API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_key", sa.String(320), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("updated", TZ, nullable=False))
    op.create_index("ix_conversations_user_updated", "conversations", ["user_key", "updated"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(32),
                  sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_key", sa.String(320), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("build", sa.String(200), nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False))
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_user", "messages", ["user_key"])
    op.create_table(
        "shares",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_key", sa.String(320), nullable=False),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("revoked", TZ, nullable=True))
    op.create_index("ix_shares_user", "shares", ["user_key"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_key", sa.String(320), nullable=True),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("mode", sa.String(16), nullable=True),
        sa.Column("build", sa.String(200), nullable=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("record", sa.JSON, nullable=False))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_key", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created", TZ, nullable=False),
        sa.Column("revoked", TZ, nullable=True))
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_key"])
    op.create_table(
        "workspace_meta",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False))
    # History search: the database's own full-text search over messages.search_text (already
    # lower-cased and without accents, so both dialects match alike).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE message_search USING fts5("
                   "search_text, content='messages', content_rowid='id', "
                   "tokenize='unicode61 remove_diacritics 2')")
        op.execute("CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN "
                   "INSERT INTO message_search(rowid, search_text) "
                   "VALUES (new.id, new.search_text); END")
        op.execute("CREATE TRIGGER messages_search_ad AFTER DELETE ON messages BEGIN "
                   "INSERT INTO message_search(message_search, rowid, search_text) "
                   "VALUES ('delete', old.id, old.search_text); END")
    else:
        op.execute("CREATE INDEX ix_messages_search ON messages "
                   "USING gin (to_tsvector('simple', search_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS messages_search_ad")
        op.execute("DROP TRIGGER IF EXISTS messages_search_ai")
        op.execute("DROP TABLE IF EXISTS message_search")
    for table in ("workspace_meta", "api_tokens", "feedback", "shares", "messages",
                  "conversations"):
        op.drop_table(table)
