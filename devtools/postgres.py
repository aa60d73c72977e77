"""A real PostgreSQL server for tests: Debian's `postgresql` package (initdb, pg_ctl) in a
temporary folder on a free loopback port. Run as the `postgres` system user when the tests run as
root (initdb refuses root). Never a mock.

    with PostgresServer() as pg:
        pg.url  # postgresql://postgres@127.0.0.1:PORT/assistant
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from devtools.streamlit_server import free_port

PG_BIN = Path(os.environ.get("ASSISTANT_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> str | None:
    """None when PostgreSQL can be started here, else why not (for a skip message)."""
    if not (PG_BIN / "initdb").exists():
        return (f"{PG_BIN}/initdb is missing: install PostgreSQL with `make postgresql` "
                "(apt-get install postgresql)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root"
    return None


class PostgresServer:
    def __init__(self, database: str = "assistant"):
        self.root = Path(tempfile.mkdtemp(prefix="aa-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.database = database
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", database)

    def _run(self, *cmd: str) -> None:
        out = subprocess.run([*self._as_user, *cmd], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n"
                               f"{out.stdout[-2000:]}\n{out.stderr[-2000:]}")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        for attempt in range(4):  # the port was free when chosen; it may have been taken since
            try:
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.root / "log"), "-w", "-t", "60", "-o",
                          f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                          "-c fsync=off -c max_connections=60", "start")
                return
            except RuntimeError:
                log = (self.root / "log").read_text(errors="replace") \
                    if (self.root / "log").exists() else ""
                if attempt == 3 or "already in use" not in log:
                    raise
                (self.root / "log").unlink()
                self.port = free_port()

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def close(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def saved_feedback(data_dir: Path | str) -> list[dict]:
    """The feedback records in the app database of a data folder (the default SQLite file)."""
    from assistant.workspace import Workspace
    from assistant.workspace.db import DB_FILE
    from assistant.workspace.feedback import list_feedback

    ws = Workspace.open(url=f"sqlite:///{Path(data_dir).resolve() / DB_FILE}")
    try:
        return list_feedback(ws)
    finally:
        ws.close()
