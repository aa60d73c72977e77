"""The app database: saved conversations, history search, shared answers, feedback and API
tokens, through SQLAlchemy with Alembic migrations (SQLite by default, PostgreSQL for several
app servers). Free of Streamlit; app.py (through workspace_ui.py) and the CLI call it."""

from .db import DatabaseUnavailable, Workspace, WorkspaceHolder, database_url  # noqa: F401
from .schema import LOCAL_USER  # noqa: F401
