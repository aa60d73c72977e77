"""A build's database read the way a person inspects it (`sqlite3 meta.sqlite`): for the tests and
tools that check the on-disk format itself. Everything else reads a build through
assistant.index (Snapshot); only assistant/index/ and this module open the database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def db_rows(build_dir: Path, sql: str, args=()) -> list[tuple]:
    """The rows of one read-only query against build_dir/meta.sqlite."""
    con = sqlite3.connect(f"file:{Path(build_dir) / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def as_format_3(index_dir) -> None:
    """Make the current build look like format 3 to this program: format_version 3 and no
    stored lexical entries (format 3 had a chunk-level BM25 index in lexical/ instead)."""
    from assistant.index import format as index_format
    from assistant.index import layout

    d = layout.current_build_dir(index_dir)
    manifest = index_format.read_manifest(d, records=False)
    for name in ("doclen.npy", "chunk_df.npy"):
        (d / "lexical" / name).unlink()
        del manifest["files"][f"lexical/{name}"]
    manifest["format_version"] = 3
    (d / "manifest.json").write_text(json.dumps(manifest))
