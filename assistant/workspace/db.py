"""The app database: one engine per process, migrated to the newest schema when opened.

SQLite file `<ASSISTANT_DATA_DIR>/assistant.db` by default (WAL, so readers do not wait for the
writer; a busy timeout, so concurrent writers queue instead of failing), or the server named by
ASSISTANT_DATABASE_URL (postgresql://…, through psycopg 3) when several app servers share it.

Every failure leaves here as one `DatabaseUnavailable` line that names the database and the
reason, never a traceback, and never by touching the file: a damaged database is left as it is
for the owner to restore.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from ..errors import AssistantError

log = logging.getLogger("article_assistant.workspace")

DB_FILE = "assistant.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 30.0
RETRY_AFTER_S = 5.0  # after a failed open, the next attempt waits this long
# Alembic keeps the running migration in module globals: one migration at a time per process
# (other processes are ordered by the database: an advisory lock on PostgreSQL, see env.py).
_MIGRATE_LOCK = threading.Lock()


class DatabaseUnavailable(AssistantError):
    """The app database cannot be used now; the message is one line for the user."""


def database_url(settings) -> str:
    """ASSISTANT_DATABASE_URL, else the SQLite file in the data folder."""
    url = (getattr(settings, "database_url", "") or "").strip()
    if url:
        return url
    return f"sqlite:///{Path(settings.data_dir).expanduser().resolve() / DB_FILE}"


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _driver_url(url: str) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa_exc.ArgumentError:
        raise DatabaseUnavailable(
            f"ASSISTANT_DATABASE_URL={redact(url)!r} is not a database URL (expected "
            "postgresql://user:password@host:port/name, or leave it empty for the SQLite "
            "file in the data folder).") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            f"ASSISTANT_DATABASE_URL={redact(url)!r}: only sqlite:/// and postgresql:// "
            "databases are supported.")
    return parsed


def make_engine(url: str) -> sa.Engine:
    parsed = _driver_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"The database folder for {parsed.database} cannot "
                                          f"be made ({exc.strerror or exc}).") from None
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S,
                                                        "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            cur.close()
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                pool_recycle=1800, connect_args={"connect_timeout": 5})
    except ModuleNotFoundError as exc:
        raise DatabaseUnavailable(f"PostgreSQL needs psycopg: pip install 'psycopg[binary]' "
                                  f"({exc}).") from None


def reason(exc: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)


class Workspace:
    """An open, migrated database. Thread-safe: every call takes a connection from the pool."""

    def __init__(self, engine: sa.Engine, url: str):
        self.engine = engine
        self.url = url
        self.dialect = engine.dialect.name

    @property
    def where(self) -> str:
        if self.dialect == "sqlite":
            return str(self.engine.url.database)
        return redact(self.url)

    @classmethod
    def open(cls, settings=None, url: str | None = None) -> Workspace:
        """Connect and migrate (Alembic, to head). Raises DatabaseUnavailable (one line)."""
        if url is None:
            from ..config import Settings

            url = database_url(settings or Settings())
        ws = cls(make_engine(url), url)
        try:
            ws.migrate()
        except DatabaseUnavailable:
            ws.engine.dispose()
            raise
        return ws

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with _MIGRATE_LOCK, self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa_exc.DBAPIError as exc:
            raise self.unavailable(exc, "opened") from None
        except sa_exc.SQLAlchemyError as exc:  # e.g. an unknown dialect option
            raise DatabaseUnavailable(f"The app database {self.where} cannot be opened "
                                      f"({reason(exc)}).") from None

    def unavailable(self, exc: BaseException, doing: str) -> DatabaseUnavailable:
        why = reason(exc)
        if self.dialect == "sqlite" and ("not a database" in why or "malformed" in why):
            return DatabaseUnavailable(
                f"The app database {self.where} is damaged ({why}); it was left as it is: "
                "restore it from a backup (README, section The app database) or move it away "
                "to start a new one.")
        return DatabaseUnavailable(f"The app database {self.where} could not be {doing} "
                                   f"({why}).")

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction; any database failure becomes one DatabaseUnavailable line."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa_exc.IntegrityError:
            raise  # a constraint the caller expects (a one-time key), not an outage
        except sa_exc.DBAPIError as exc:
            raise self.unavailable(exc, "written") from None

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa_exc.DBAPIError as exc:
            raise self.unavailable(exc, "read") from None

    def close(self) -> None:
        self.engine.dispose()


class WorkspaceHolder:
    """The process's workspace, opened on first use and again after a failure (no sooner than
    RETRY_AFTER_S later), so a database that was down at start is used once it is back."""

    def __init__(self, settings=None, url: str | None = None):
        self._settings, self._url = settings, url
        self._ws: Workspace | None = None
        self._error: DatabaseUnavailable | None = None
        self._failed_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Workspace:
        ws = self._ws
        if ws is not None:
            return ws
        with self._lock:
            if self._ws is not None:
                return self._ws
            if self._error is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S:
                raise self._error
            try:
                self._ws = Workspace.open(self._settings, self._url)
                self._error = None
                log.info("app database: %s", self._ws.where)
                return self._ws
            except DatabaseUnavailable as exc:
                self._error, self._failed_at = exc, time.monotonic()
                log.warning("%s", exc)
                raise
