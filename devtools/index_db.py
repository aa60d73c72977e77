"""A build's database read the way a person inspects it (`sqlite3 meta.sqlite`): for the tests and
tools that check the on-disk format itself. Everything else reads a build through
assistant.index (Snapshot); only assistant/index/ and this module open the database."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def db_rows(build_dir: Path, sql: str, args=()) -> list[tuple]:
    """The rows of one read-only query against build_dir/meta.sqlite."""
    con = sqlite3.connect(f"file:{Path(build_dir) / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()
