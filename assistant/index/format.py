"""A build's format: its version, the SQLite schema, and reading and checking its manifest.

A build folder (see layout.py for the folder layout and the atomic switch) holds::

    manifest.json       self-description: format, model, chunking, counts, index type, precision,
                        the size of every file (a truncated file is refused at once)
    meta.sqlite         articles (with each source file's sha256), skipped files, sections,
                        chunk rows, sentences: the per-file build records live here, not in JSON;
                        section text zlib-compressed in large builds (manifest "section_text")
    rows.npy            per chunk (= dense index row): article, section, sentence rows, tokens
    vectors.faiss       chunk vectors: exact (flat) when small, IVF over float16 codes when large
    sentences.npy       sentence vectors, float16 (small) or int8 (+ sentence_scales.npy)
    lexical/            BM25 over sections (bm25s), with each entry's term frequency, each
                        section's length and each term's chunk frequency (for updates and idf)

writer.py writes these files; snapshot.py opens them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ..errors import IndexMismatch

# 3: chunk text as section slices, rows.npy, IVF/int8 by size, file records; 4: one BM25 index
# (sections) with the entries an update rebuilds it from, and the chunk frequencies for idf
FORMAT_VERSION = 4
SCHEMA = """
CREATE TABLE articles (ord INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source TEXT UNIQUE NOT NULL,
                       title TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
                       ctime_ns INTEGER);
CREATE TABLE skipped (source TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE sections (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ord INTEGER NOT NULL,
                       heading_path TEXT NOT NULL, text TEXT NOT NULL, page INTEGER,
                       start INTEGER NOT NULL);
CREATE TABLE chunk_rows (row INTEGER PRIMARY KEY, id TEXT NOT NULL, article_id TEXT NOT NULL,
                         section_id INTEGER NOT NULL, section_ord INTEGER NOT NULL,
                         start INTEGER NOT NULL, end INTEGER NOT NULL, page INTEGER,
                         ntokens INTEGER NOT NULL, sent_lo INTEGER NOT NULL,
                         sent_hi INTEGER NOT NULL);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, chunk_row INTEGER NOT NULL,
                        start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE INDEX sections_article ON sections(article_id, ord);
CREATE INDEX chunks_article ON chunk_rows(article_id);
"""
# A chunk's text is a slice of its section's text, so it is stored once (as the section). The
# view exists when the text is stored as text (small builds; large ones store it compressed).
CHUNKS_VIEW = """
CREATE VIEW chunks AS SELECT c.*, substr(s.text, c.start + 1, c.end - c.start) AS text
    FROM chunk_rows c JOIN sections s ON s.id = c.section_id;
"""
# rows.npy: one row per chunk (= FAISS row): article ord, section id, first sentence row, end
# sentence row, tokens. Memory-mapped on opening; SQLite holds the same numbers for inspection.
ROW_COLUMNS = ("article", "section", "sent_lo", "sent_hi", "ntokens")

# Builds whose chunks and vectors a new build may reuse (format 3's lexical index is rebuilt
# from its text, since it lacks the term frequencies).
REUSABLE_FORMATS = (3, FORMAT_VERSION)


def manifest_json(build_dir: Path) -> dict:
    build_dir = Path(build_dir)
    try:
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMismatch(build_dir.parent.parent, "manifest.json is missing") from None
    except (ValueError, OSError):  # bad JSON or text, a folder in its place, ...
        raise IndexMismatch(build_dir.parent.parent, "manifest.json is corrupt") from None
    if not isinstance(manifest, dict):
        raise IndexMismatch(build_dir.parent.parent, "manifest.json is corrupt")
    return manifest


def read_manifest(build_dir: Path, records: bool = True) -> dict:
    """The build's full description: manifest.json plus, from the database, the indexed files
    ("sources": {path: sha256}, "stats": {path: (size, mtime_ns, ctime_ns)}) and the skipped ones
    ("skipped": [{source, reason}]).
    `records=False`: manifest.json alone (a check of format and model needs no more, and the
    records of a large archive take a while to read)."""
    manifest = manifest_json(build_dir)
    if records and manifest.get("format_version") == FORMAT_VERSION:
        db = open_db(Path(build_dir) / "meta.sqlite", Path(build_dir).parent.parent)
        try:
            manifest["sources"], manifest["skipped"], manifest["stats"] = source_records(db)
        except sqlite3.DatabaseError as exc:
            raise IndexMismatch(Path(build_dir).parent.parent,
                                f"meta.sqlite is damaged ({exc})") from None
        finally:
            db.close()
    return manifest


def source_records(db: sqlite3.Connection) -> tuple[dict[str, str], list[dict], dict[str, tuple]]:
    """{source: sha256}, the skipped files, and {source: (size, mtime_ns, ctime_ns)}."""
    sources, stats = {}, {}
    for source, sha, *sig in db.execute(
            "SELECT source, sha256, size, mtime_ns, ctime_ns FROM articles ORDER BY source"):
        sources[source] = sha
        if sig[0] is not None:
            stats[source] = tuple(sig)
    return sources, skipped_files(db), stats


def skipped_files(db: sqlite3.Connection) -> list[dict]:
    return [{"source": s, "reason": r} for s, r in db.execute("SELECT source, reason FROM skipped")]


def open_db(path: Path, index_dir: Path) -> sqlite3.Connection:
    if not path.is_file() or path.stat().st_size == 0:
        raise IndexMismatch(index_dir, "meta.sqlite is missing")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def check_manifest(manifest: dict, index_dir: Path, model_name: str, dim: int,
                   formats: tuple[int, ...] = (FORMAT_VERSION,)) -> None:
    version = manifest.get("format_version")
    if version not in formats:
        fix = ("update it with `assistant build`, which reuses its vectors"
               if version in REUSABLE_FORMATS else "rebuild it with `assistant build --full`")
        raise IndexMismatch(index_dir, f"format version {version}, this program reads "
                                       f"{FORMAT_VERSION}", fix=fix,
                            full=version not in REUSABLE_FORMATS)
    model = manifest.get("model", {})
    if not isinstance(model, dict):
        model = {}
    if model.get("name") != model_name or model.get("dim") != dim:
        raise IndexMismatch(index_dir, f"built with model {model.get('name')} ({model.get('dim')}-d), "
                                       f"this program uses {model_name} ({dim}-d)")
