"""The opened build: `Snapshot` checks that a build matches the code, the model and itself
(its files are described in format.py), then serves its records, vectors and lexical index.

Everything large is memory-mapped on opening, so opening costs the same for any size.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from . import dense, lexical, reuse
from .layout import current_build_dir
from ..errors import IndexMismatch
from ..records import Chunk, Section
from .dense import unpack_text as _text
from .format import (FORMAT_VERSION, REUSABLE_FORMATS, check_manifest, manifest_json, open_db,
                     skipped_files, source_records)

class Articles(Mapping):
    """Article records {id, source, title} by article id, read from SQLite when asked (a large
    archive's articles are not all held in memory)."""

    def __init__(self, build: "Snapshot"):
        self._build = build
        self._get = lru_cache(maxsize=65_536)(self._fetch)

    def _fetch(self, article_id: str) -> dict | None:
        row = self._build.db.execute("SELECT id, source, title FROM articles WHERE id = ?",
                                     (article_id,)).fetchone()
        return {"id": row[0], "source": row[1], "title": row[2]} if row else None

    def __getitem__(self, article_id: str) -> dict:
        art = self._get(article_id)
        if art is None:
            raise KeyError(article_id)
        return dict(art)

    def __iter__(self) -> Iterator[str]:
        return (r[0] for r in self._build.db.execute("SELECT id FROM articles ORDER BY ord"))

    def __len__(self) -> int:
        return self._build.n_articles

    def values(self):  # one query instead of one per article
        return [{"id": i, "source": s, "title": t} for i, s, t in self._build.db.execute(
            "SELECT id, source, title FROM articles ORDER BY ord")]


class Snapshot:
    """One opened, immutable build. Thread-safe: each thread gets its own SQLite connection."""

    def __init__(self, index_dir: Path, model_name: str, dim: int, for_reuse: bool = False):
        """Open the current build. `for_reuse`: only to copy from it into the next build, which
        also accepts the previous format (see REUSABLE_FORMATS)."""
        self.index_dir = Path(index_dir)
        self.path = current_build_dir(index_dir)
        self.name = self.path.name
        self.manifest = manifest_json(self.path)
        check_manifest(self.manifest, self.index_dir, model_name, dim,
                       REUSABLE_FORMATS if for_reuse else (FORMAT_VERSION,))
        self._check_files()
        self._local = threading.local()
        open_db(self.path / "meta.sqlite", self.index_dir).close()
        faiss_plan = self.manifest.get("faiss")
        plan: dict = faiss_plan if isinstance(faiss_plan, dict) else {}
        self.dense = self._load("vectors.faiss", lambda p: dense.FaissIndex.open(p, plan))
        self.sentence_vectors = self._load("sentences.npy", lambda p: dense.open_sentences(
            p.parent, self.manifest.get("sentence_vectors", "float16")))
        self.rows = self._load("rows.npy", lambda p: np.load(p, mmap_mode="r"))
        self.section_lexical = self.idf = self._chunk_lexical = None
        lexical_files = self.manifest.get("format_version") == FORMAT_VERSION  # not format 3's
        if lexical_files:  # also to reuse: a damaged file means building from scratch
            self.section_lexical = self._load("lexical", _bm25, "the lexical index")
            self._chunk_df, self._doclen = (
                self._load(f"lexical/{name}.npy", lambda p: np.load(p, mmap_mode="r"),
                           "the lexical index") for name in ("chunk_df", "doclen"))
        self._check_counts(dim)
        if self.section_lexical is not None:
            self.idf = lexical.Idf(self.section_lexical.vocab_dict, self._chunk_df, self.n_chunks)

    @property
    def lexical(self):
        """BM25 over the chunks themselves, for the non-default Fusion(lexical_level="chunk")
        (tuning): built in memory from the stored text on first use."""
        if self._chunk_lexical is None:
            self._chunk_lexical = lexical.build_index(reuse.chunk_texts(self))
        return self._chunk_lexical

    @lexical.setter
    def lexical(self, index) -> None:
        self._chunk_lexical = index

    def _load(self, rel: str, opener: Callable[[Path], object], what: str = ""):
        try:
            return opener(self.path / rel)
        except Exception as exc:  # noqa: BLE001 - faiss, numpy, bm25s raise many kinds
            raise IndexMismatch(self.index_dir, f"{what or rel} is missing or damaged") from exc

    def _check_counts(self, dim: int) -> None:
        try:
            (n_articles, n_sections, n_chunks, n_sentences), = self.db.execute(
                "SELECT (SELECT coalesce(max(ord), -1) + 1 FROM articles), "
                "(SELECT coalesce(max(id), -1) + 1 FROM sections), "
                "(SELECT coalesce(max(row), -1) + 1 FROM chunk_rows), "
                "(SELECT coalesce(max(row), -1) + 1 FROM sentences)").fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexMismatch(self.index_dir, f"meta.sqlite is damaged ({exc})") from None
        rows, sv = self.rows, self.sentence_vectors
        if rows.ndim != 2 or rows.shape != (n_chunks, 5):
            raise IndexMismatch(self.index_dir, "rows.npy and the database disagree")
        if n_chunks != self.dense.count:
            raise IndexMismatch(self.index_dir, "vectors and database disagree")
        lex = self.section_lexical
        if lex is not None and (not n_sections == lex.scores["num_docs"] == len(self._doclen)
                                or len(self._chunk_df) != len(lex.scores["indptr"]) - 1
                                or len(lex.scores["data"]) != len(lex.scores["indices"])):
            raise IndexMismatch(self.index_dir, "the lexical index and database disagree")
        if sv.ndim != 2 or sv.shape[0] != n_sentences or (n_sentences and sv.shape[1] != dim) \
                or (n_chunks and int(rows[-1, 3]) != n_sentences):
            raise IndexMismatch(self.index_dir, "sentences.npy and the database disagree")
        self.n_chunks, self.n_articles = n_chunks, n_articles
        self.articles = Articles(self)
        # chunk row -> article ord (to filter by article) and -> section row (section-level BM25)
        self.chunk_article_ord = np.ascontiguousarray(rows[:, 0])
        self.chunk_section = np.ascontiguousarray(rows[:, 1])
        for col, limit in ((self.chunk_article_ord, n_articles), (self.chunk_section, n_sections)):
            if n_chunks and (col.min() < 0 or col.max() >= limit):
                raise IndexMismatch(self.index_dir, "rows.npy names rows the database does not have")

    def _check_files(self) -> None:
        """Every file the manifest lists is there with its recorded size."""
        files = self.manifest.get("files")
        if not isinstance(files, dict):
            raise IndexMismatch(self.index_dir, "manifest.json lists no files")
        for rel, size in files.items():
            try:
                actual = (self.path / rel).stat().st_size
            except OSError:
                raise IndexMismatch(self.index_dir, f"{rel} is missing") from None
            if actual != size:
                raise IndexMismatch(self.index_dir, f"{rel} is damaged ({actual:,} bytes, "
                                                    f"{size:,} when written)")

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_db(self.path / "meta.sqlite", self.index_dir)
            self._local.conn = conn
        return conn

    @property
    def chunk_article(self) -> np.ndarray:
        """Article id of every chunk row (for evaluation; a query filter uses rows_for)."""
        ids = np.array([r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY ord")],
                       dtype=object)
        return ids[self.chunk_article_ord]

    def sentence_vectors_of(self, ranges: Iterable[tuple[int, int]]) -> list[np.ndarray]:
        """The sentence vectors (float32) of each row range [lo, hi) of the sentence matrix: a
        passage's `sentence_rows`."""
        return [np.asarray(self.sentence_vectors[lo:hi], dtype=np.float32) for lo, hi in ranges]

    def rows_for(self, sources: Iterable[str]) -> np.ndarray:
        """Chunk rows of the articles named by id or source path (indexed look-ups)."""
        wanted = list(dict.fromkeys(sources))
        rows: list[int] = []
        for i in range(0, len(wanted), 400):
            part = wanted[i:i + 400]
            marks = ",".join("?" * len(part))
            rows += [r[0] for r in self.db.execute(
                f"SELECT c.row FROM articles a JOIN chunk_rows c ON c.article_id = a.id "
                f"WHERE a.id IN ({marks}) OR a.source IN ({marks})", part + part)]
        return np.unique(np.asarray(rows, dtype=np.int64))

    def sources(self) -> dict[str, str]:
        return source_records(self.db)[0]

    def skipped(self) -> list[dict]:
        return skipped_files(self.db)

    def chunks(self, rows: Iterable[int]) -> dict[int, tuple[Chunk, dict, tuple[int, int]]]:
        """Chunks by FAISS row, with their article record and sentence rows."""
        rows = [int(r) for r in rows]
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        fetched = self.db.execute(
            f"SELECT c.row, c.id, c.article_id, c.section_ord, c.start, c.end, c.page, c.ntokens, "
            f"c.sent_lo, c.sent_hi, s.text, s.heading_path FROM chunk_rows c "
            f"JOIN sections s ON s.id = c.section_id WHERE c.row IN ({marks})", rows).fetchall()
        wanted = [i for r in fetched for i in range(r[8], r[9])]  # by primary key, not a scan
        sents: dict[int, tuple[int, int]] = {}
        for i in range(0, len(wanted), 900):
            part = wanted[i:i + 900]
            sents.update((r, (s, e)) for r, s, e in self.db.execute(
                f"SELECT row, start, end FROM sentences WHERE row IN ({','.join('?' * len(part))})",
                part))
        out = {}
        for (row, cid, aid, sord, start, end, page, ntok, lo, hi, text, hp) in fetched:
            chunk = Chunk(id=cid, article_id=aid, section_index=sord,
                          heading_path=tuple(json.loads(hp)), text=_text(text)[start:end], start=start,
                          end=end, sentences=tuple(sents[i] for i in range(lo, hi)), page=page,
                          ntokens=ntok)
            out[row] = (chunk, self.articles[aid], (lo, hi))
        return out

    def article(self, article_id: str) -> tuple[dict, list[Section]]:
        art = self.articles[article_id]
        rows = self.db.execute(
            "SELECT heading_path, text, page, start FROM sections WHERE article_id = ? ORDER BY ord",
            (article_id,)).fetchall()
        return art, [Section(tuple(json.loads(h)), _text(t), p, s) for h, t, p, s in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _bm25(path: Path):
    import bm25s

    return bm25s.BM25.load(str(path), load_corpus=False, mmap=True, show_progress=False)
