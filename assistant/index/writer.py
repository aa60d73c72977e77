"""Writing a build folder: the SQLite metadata, the per-chunk row table, the vectors and the
lexical indexes. An update copies what it keeps from the previous build (SQL inside SQLite,
vectors block by block) instead of reading it into Python objects, so a million-chunk index
is updated in about the time it takes to copy it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .. import __version__
from . import dense
from ..records import Article, Chunk
from .format import CHUNKS_VIEW, FORMAT_VERSION, ROW_COLUMNS, SCHEMA
from .layout import fsync_tree, write_json

if TYPE_CHECKING:
    from .snapshot import Snapshot


@dataclass
class BuildContent:
    """A new build: the articles of `base` (the previous build, opened) named in `keep` are
    copied as they are; `articles` (new or changed) follow with their vectors."""

    articles: list[Article]
    chunks: list[list[Chunk]]  # per article
    vectors: np.ndarray  # (n new chunks, d) in article/chunk order
    sentence_vectors: list[np.ndarray]  # per new chunk
    skipped: list[dict] = field(default_factory=list)
    base: Snapshot | None = None
    keep: Sequence[str] = ()  # article ids of `base`
    # (size, mtime_ns, ctime_ns) by source: of the new files, and kept ones whose stat changed
    stats: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def write_build(tmp_dir: Path, content: BuildContent, manifest: dict, lexical) -> None:
    """Write all files of a build into tmp_dir (not yet current). `lexical` (a
    lexical.LexicalIndex) indexes the sections in their id order (kept ones first)."""
    dim = manifest["model"]["dim"]
    base = content.base if content.keep else None
    db = sqlite3.connect(tmp_dir / "meta.sqlite")
    try:
        db.executescript(SCHEMA)
        old_ords, mask = (_attach_kept(db, base, content.keep) if base is not None
                          else (np.zeros(0, np.int64), np.zeros(0, bool)))
        packing = dense.text_packing(int(np.count_nonzero(mask))
                                            + sum(len(c) for c in content.chunks))
        if packing == "text":
            db.executescript(CHUNKS_VIEW)
        db.create_function("repack", 1, dense.pack_text if packing == "zlib"
                           else dense.unpack_text, deterministic=True)
        repack = base is not None and base.manifest.get("section_text", "text") != packing
        kept = (_copy_kept(db, base, old_ords, mask, repack) if base is not None
                else _Kept.empty())
        with db:
            new_rows = _insert_new(db, content, kept, packing)
            db.executemany("UPDATE articles SET size = ?, mtime_ns = ?, ctime_ns = ? "
                           "WHERE source = ?",
                           [(*st, src) for src, st in content.stats.items()])
            db.executemany("INSERT INTO skipped VALUES (?,?)",
                           [(s["source"], s["reason"]) for s in content.skipped])
    finally:
        db.close()
    rows = np.concatenate([kept.rows, new_rows]).astype(np.int32)
    np.save(tmp_dir / "rows.npy", rows)
    n = len(rows)
    plan = dense.index_plan(n)
    old_index = base.dense.index if base is not None else None
    kept_vecs = (dense.kept_vectors(old_index, kept.old_rows) if len(kept.old_rows)
                 else iter(()))
    dense.write_index(tmp_dir / "vectors.faiss", plan, dim, kept_vecs, content.vectors,
                             old_index, kept.remap)
    precision = dense.sentence_precision(n)
    n_sent = int(rows[-1, 3]) if n else 0
    sv = [s for s in content.sentence_vectors if len(s)]
    kept_sv = (dense.kept_sentences(base.sentence_vectors, kept.sentence_mask, precision)
               if base is not None and kept.sentence_mask is not None else iter(()))
    new_sv = (np.concatenate(sv[i:i + 4096]) for i in range(0, len(sv), 4096))
    dense.write_sentences(tmp_dir, precision, dim, n_sent, chain(kept_sv, new_sv))
    lexical.save(tmp_dir / "lexical")
    manifest.update(format_version=FORMAT_VERSION, package_version=__version__, faiss=plan,
                    sentence_vectors=precision, section_text=packing)
    manifest["counts"] = {"articles": kept.articles + len(content.articles),
                          "sections": kept.sections + sum(len(a.sections) for a in content.articles),
                          "chunks": n, "tokens": int(rows[:, 4].sum()) if n else 0,
                          "sentences": n_sent}
    # Sizes of the written files, checked on opening: a truncated file is refused at once.
    manifest["files"] = {p.relative_to(tmp_dir).as_posix(): p.stat().st_size
                         for p in sorted(tmp_dir.rglob("*")) if p.is_file()}
    write_json(tmp_dir / "manifest.json", manifest)
    fsync_tree(tmp_dir)


@dataclass
class _Kept:
    """What was copied from the previous build, numbered from 0 in the new one."""

    rows: np.ndarray  # (n, 5) rows.npy entries, renumbered
    old_rows: np.ndarray  # their rows in the previous build
    remap: np.ndarray | None  # previous row -> new row, -1 when dropped
    sentence_mask: np.ndarray | None  # previous sentence rows kept
    articles: int = 0
    sections: int = 0

    @classmethod
    def empty(cls) -> "_Kept":
        return cls(np.zeros((0, len(ROW_COLUMNS)), np.int32), np.zeros(0, np.int64), None, None)


_COPY_SQL = """
INSERT INTO articles SELECT row_number() OVER (ORDER BY a.ord) - 1, a.id, a.source, a.title,
    a.sha256, {stat} FROM old.articles a JOIN keep k ON k.id = a.id;
CREATE TEMP TABLE smap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
INSERT INTO smap SELECT id, row_number() OVER (ORDER BY id) - 1 FROM old.sections
    WHERE article_id IN (SELECT id FROM keep);
INSERT INTO sections SELECT m.new, s.article_id, s.ord, s.heading_path, {text}, s.page, s.start
    FROM old.sections s JOIN smap m ON m.old = s.id;
CREATE TEMP TABLE cmap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL, shift INTEGER NOT NULL);
INSERT INTO cmap SELECT row, row_number() OVER (ORDER BY row) - 1,
    sum(sent_hi - sent_lo) OVER (ORDER BY row) - (sent_hi - sent_lo) - sent_lo
    FROM old.chunk_rows WHERE article_id IN (SELECT id FROM keep);
INSERT INTO chunk_rows SELECT m.new, c.id, c.article_id, sm.new, c.section_ord, c.start, c.end,
    c.page, c.ntokens, c.sent_lo + m.shift, c.sent_hi + m.shift
    FROM old.chunk_rows c JOIN cmap m ON m.old = c.row JOIN smap sm ON sm.old = c.section_id;
INSERT INTO sentences SELECT s.row + m.shift, m.new, s.start, s.end
    FROM old.sentences s JOIN cmap m ON m.old = s.chunk_row;
"""


def stat_columns(manifest: dict, prefix: str = "") -> str:
    """The articles columns holding each file's size and times, or NULLs for a format 3 build,
    which recorded none."""
    if manifest.get("format_version") == 3:
        return "NULL, NULL, NULL"
    return ", ".join(prefix + c for c in ("size", "mtime_ns", "ctime_ns"))


def _attach_kept(db: sqlite3.Connection, base, keep: Sequence[str]):
    """Attach the previous build's database and name the kept articles in it: their previous
    ords, and which previous chunk rows are theirs."""
    db.execute("ATTACH DATABASE ? AS old", (str(base.path / "meta.sqlite"),))
    db.execute("CREATE TEMP TABLE keep (id TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO keep VALUES (?)", ((k,) for k in keep))
    db.commit()
    old_ords = np.array([r[0] for r in db.execute(
        "SELECT ord FROM old.articles WHERE id IN (SELECT id FROM keep) ORDER BY ord")], np.int64)
    return old_ords, np.isin(np.asarray(base.rows)[:, 0], old_ords)


def _copy_kept(db: sqlite3.Connection, base, old_ords: np.ndarray, mask: np.ndarray,
               repack: bool) -> _Kept:
    """Copy the kept articles' rows from the attached previous database, renumbered densely in
    their previous order, and work out the same renumbering for rows.npy and the vectors.
    `repack`: the section text changes between text and compressed on the way."""
    db.executescript("BEGIN;" + _COPY_SQL.format(text="repack(s.text)" if repack else "s.text",
                                                 stat=stat_columns(base.manifest, "a."))
                     + "COMMIT;")
    smap = np.array(db.execute("SELECT old, new FROM smap").fetchall(), np.int64).reshape(-1, 2)
    db.execute("DROP TABLE temp.smap")
    db.execute("DROP TABLE temp.cmap")
    db.execute("DROP TABLE temp.keep")
    db.execute("DETACH DATABASE old")
    old = np.asarray(base.rows)
    kept = old[mask].astype(np.int64)
    art_map = np.full(int(old[:, 0].max(initial=-1)) + 1, -1, np.int64)
    art_map[old_ords] = np.arange(len(old_ords))
    sec_map = np.full(int(smap[:, 0].max(initial=-1)) + 1, -1, np.int64)
    sec_map[smap[:, 0]] = smap[:, 1]
    counts = kept[:, 3] - kept[:, 2]
    lo = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(kept) else counts
    rows = np.stack([art_map[kept[:, 0]], sec_map[kept[:, 1]], lo, lo + counts, kept[:, 4]], 1)
    old_rows = np.flatnonzero(mask)
    remap = np.full(len(old), -1, np.int64)
    remap[old_rows] = np.arange(len(old_rows))
    sentence_mask = np.repeat(mask, old[:, 3] - old[:, 2])
    return _Kept(rows.reshape(-1, len(ROW_COLUMNS)), old_rows, remap, sentence_mask,
                 len(old_ords), len(smap))


def _insert_new(db: sqlite3.Connection, content: BuildContent, kept: _Kept,
                packing: str) -> np.ndarray:
    """Insert the new articles after the kept ones; their rows.npy entries."""
    art_ord, section_id = kept.articles, kept.sections
    row = len(kept.rows)
    sent_row = int(kept.rows[-1, 3]) if len(kept.rows) else 0
    out = []
    arts: list = []
    secs: list = []
    chunk_rows: list = []
    sent_rows: list = []
    for art, chunks in zip(content.articles, content.chunks):
        arts.append((art_ord, art.id, art.source, art.title, art.sha256,
                     *content.stats.get(art.source, (None, None, None))))
        first = section_id
        secs.extend((first + i, art.id, i, json.dumps(list(s.heading_path), ensure_ascii=False),
                     dense.pack_text(s.text) if packing == "zlib" else s.text, s.page,
                     s.start) for i, s in enumerate(art.sections))
        section_id += len(art.sections)
        for c in chunks:
            if art.sections[c.section_index].text[c.start:c.end] != c.text:
                raise ValueError(f"chunk {c.id} of {art.source} is not a slice of its section")
            lo = sent_row
            for s, e in c.sentences:
                sent_rows.append((sent_row, row, s, e))
                sent_row += 1
            chunk_rows.append((row, c.id, art.id, first + c.section_index, c.section_index,
                               c.start, c.end, c.page, c.ntokens, lo, sent_row))
            out.append((art_ord, first + c.section_index, lo, sent_row, c.ntokens))
            row += 1
        art_ord += 1
        if len(chunk_rows) >= 20_000:
            _flush(db, arts, secs, chunk_rows, sent_rows)
    _flush(db, arts, secs, chunk_rows, sent_rows)
    return np.array(out, np.int64).reshape(-1, len(ROW_COLUMNS))


def _flush(db, arts: list, secs: list, chunk_rows: list, sent_rows: list) -> None:
    for sql, batch in (("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)", arts),
                       ("INSERT INTO sections VALUES (?,?,?,?,?,?,?)", secs),
                       ("INSERT INTO chunk_rows VALUES (?,?,?,?,?,?,?,?,?,?,?)", chunk_rows),
                       ("INSERT INTO sentences VALUES (?,?,?,?)", sent_rows)):
        db.executemany(sql, batch)
        batch.clear()
