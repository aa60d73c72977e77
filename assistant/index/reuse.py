"""What the next build reads from the previous one: its file records, the vectors of changed
files' unchanged chunks, and what the lexical index is updated from."""

from __future__ import annotations

import json
from typing import Iterable

import numpy as np

from . import lexical
from ..errors import IndexMismatch
from ..text import embed_prefix
from .dense import unpack_text as _text


def file_records(snap) -> dict[str, tuple[str, str, int | None, int | None]]:
    """{source: (article id, sha256, size, mtime_ns, ctime_ns)} of the indexed files (no
    size and times in a format 3 build)."""
    from .writer import stat_columns

    return {r[1]: (r[0], *r[2:]) for r in snap.db.execute(
        f"SELECT id, source, sha256, {stat_columns(snap.manifest)} FROM articles")}


def vectors_of(snap, article_ids: Iterable[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{chunk id: (vector, sentence vectors)} of these articles' chunks (a changed file
    whose chunks partly stayed the same)."""
    out = {}
    for aid in article_ids:
        for row, cid, lo, hi in snap.db.execute(
                "SELECT row, id, sent_lo, sent_hi FROM chunk_rows WHERE article_id = ?", (aid,)):
            vec = snap.dense.vectors(np.array([row], np.int64))[0]
            out[cid] = (vec, np.asarray(snap.sentence_vectors[lo:hi], dtype=np.float32))
    return out


def lexical_postings(snap) -> "lexical.Postings | None":
    """The stored lexical entries an update starts from; None for a format 3 build."""
    try:
        params = snap.manifest.get("lexical")  # what its scores were computed with
        return lexical.Postings.load(snap.path / "lexical", snap.n_chunks,
                                     params if isinstance(params, dict) else None)
    except (OSError, ValueError, IndexError, TypeError) as exc:
        raise IndexMismatch(snap.index_dir, "the lexical index is missing or damaged") from exc


def section_mask(snap, keep: set[str]) -> np.ndarray:
    """Per section id: does it belong to one of the articles `keep`."""
    n = int(snap.db.execute("SELECT coalesce(max(id), -1) + 1 FROM sections").fetchone()[0])
    mask = np.zeros(n, bool)
    mask[[i for i, aid in snap.db.execute("SELECT id, article_id FROM sections")
          if aid in keep]] = True
    return mask


def chunk_texts(snap, article_ids: Iterable[str] | None = None) -> list[str]:
    """What the lexical index reads for each chunk (title, headings, text), in row order;
    only the chunks of `article_ids` when given."""
    sql = ("SELECT a.title, s.heading_path, s.text, c.start, c.end FROM chunk_rows c "
           "JOIN sections s ON s.id = c.section_id JOIN articles a ON a.id = c.article_id")
    if article_ids is None:
        found = snap.db.execute(sql + " ORDER BY c.row").fetchall()
    else:
        found = [r for aid in article_ids for r in snap.db.execute(
            sql + " WHERE c.article_id = ? ORDER BY c.row", (aid,))]
    return [_lexical_text(t, hp, text, s, e) for t, hp, text, s, e in found]


def lexical_texts(snap, keep: set[str]) -> tuple[list[str], list[str]]:
    """What the lexical index reads for the kept articles' chunks, in row order, and for
    their sections, in id order (one pass over each table, however many are kept)."""
    titles = {i: t for i, t in snap.db.execute("SELECT id, title FROM articles")
              if i in keep}
    chunks = [_lexical_text(titles[aid], hp, text, s, e) for aid, hp, text, s, e in
              snap.db.execute("SELECT c.article_id, s.heading_path, s.text, c.start, c.end "
                              "FROM chunk_rows c JOIN sections s ON s.id = c.section_id "
                              "ORDER BY c.row") if aid in titles]
    sections = [_lexical_text(titles[aid], hp, text) for aid, hp, text in
                snap.db.execute("SELECT article_id, heading_path, text FROM sections "
                                "ORDER BY id") if aid in titles]
    return chunks, sections


def _lexical_text(title: str, heading_path: str, text, start: int = 0,
                  end: int | None = None) -> str:
    """A stored section (or the slice of it that is a chunk) as the lexical index reads it."""
    return embed_prefix(title, tuple(json.loads(heading_path))) + _text(text)[start:end]
