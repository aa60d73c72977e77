"""Alembic environment: run programmatically by assistant.workspace.db with an open connection
(config.attributes["connection"]); there is no alembic.ini."""

from alembic import context
from sqlalchemy import text

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Several app servers may start at once: one migrates, the others wait and find it done.
        connection.execute(text("SELECT pg_advisory_xact_lock(220022)"))
    context.run_migrations()
