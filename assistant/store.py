"""The index folder: write a build, make it current atomically, open it and check it.

Layout::

    index/CURRENT                 name of the current build (switched by one rename)
    index/builds/<name>/          manifest.json, vectors.faiss, sentences.npy, meta.sqlite,
                                  lexical/ (BM25 over chunks), lexical_sections/ (BM25 over sections)

A build folder is complete before CURRENT names it, so a reader never sees half a build, and a
failed build leaves the previous one current.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from . import __version__
from .errors import IndexMismatch, IndexNotBuilt
from .records import Article, Chunk, Section

FORMAT_VERSION = 2  # 2: adds lexical_sections/
REUSABLE_FORMATS = (1, 2)  # builds whose chunks and vectors a new build may reuse
FLAT_LIMIT = 200_000  # above this many chunks an HNSW index replaces the exact one

SCHEMA = """
CREATE TABLE articles (id TEXT PRIMARY KEY, source TEXT UNIQUE NOT NULL, title TEXT NOT NULL,
                       sha256 TEXT NOT NULL);
CREATE TABLE sections (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, ord INTEGER NOT NULL,
                       heading_path TEXT NOT NULL, text TEXT NOT NULL, page INTEGER,
                       start INTEGER NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, id TEXT NOT NULL, article_id TEXT NOT NULL,
                     section_id INTEGER NOT NULL, section_ord INTEGER NOT NULL,
                     start INTEGER NOT NULL, end INTEGER NOT NULL, page INTEGER,
                     ntokens INTEGER NOT NULL, sent_lo INTEGER NOT NULL, sent_hi INTEGER NOT NULL,
                     text TEXT NOT NULL);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, chunk_row INTEGER NOT NULL,
                        start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE INDEX sections_article ON sections(article_id, ord);
CREATE INDEX chunks_article ON chunks(article_id);
"""


def builds_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "builds"


def current_name(index_dir: Path) -> str | None:
    """The current build's folder name; None when CURRENT is missing or unusable (then the
    index counts as not built, and the next build replaces the pointer)."""
    try:
        name = (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name or name in (".", "..") or "/" in name or "\x00" in name or name.startswith("."):
        return None
    return name


def current_build_dir(index_dir: Path) -> Path:
    name = current_name(index_dir)
    if not name or not (builds_dir(index_dir) / name).is_dir():
        raise IndexNotBuilt(index_dir)
    return builds_dir(index_dir) / name


def read_manifest(build_dir: Path) -> dict:
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


def check_manifest(manifest: dict, index_dir: Path, model_name: str, dim: int,
                   formats: tuple[int, ...] = (FORMAT_VERSION,)) -> None:
    version = manifest.get("format_version")
    if version not in formats:
        reason = f"format version {version}, this program reads {FORMAT_VERSION}"
        if version in REUSABLE_FORMATS:  # an older format the next build upgrades cheaply
            raise IndexMismatch(index_dir, reason,
                                "run `assistant build` to upgrade it (its vectors are reused)")
        raise IndexMismatch(index_dir, reason)
    model = manifest.get("model", {})
    if not isinstance(model, dict):
        model = {}
    if model.get("name") != model_name or model.get("dim") != dim:
        raise IndexMismatch(index_dir, f"built with model {model.get('name')} ({model.get('dim')}-d), "
                                       f"this program uses {model_name} ({dim}-d)")


# ---------------------------------------------------------------------------------- writing

@dataclass
class BuildContent:
    articles: list[Article]
    chunks: list[list[Chunk]]  # per article
    vectors: np.ndarray  # (n_chunks, d) in article/chunk order
    sentence_vectors: list[np.ndarray]  # per chunk


def new_build_dir(index_dir: Path) -> Path:
    root = builds_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = root / f"{stamp}-{os.getpid()}-{os.urandom(3).hex()}.partial"
    path.mkdir()
    return path


def write_build(tmp_dir: Path, content: BuildContent, manifest: dict, lexical,
                section_lexical) -> None:
    """Write all files of a build into tmp_dir (not yet current). `lexical` indexes the chunks
    in row order, `section_lexical` the sections in the order they are numbered here."""
    import faiss

    db = sqlite3.connect(tmp_dir / "meta.sqlite")
    db.executescript(SCHEMA)
    section_id = 0
    row = 0
    sent_row = 0
    with db:
        for art, chunks in zip(content.articles, content.chunks):
            db.execute("INSERT INTO articles VALUES (?,?,?,?)", (art.id, art.source, art.title, art.sha256))
            first_section = section_id
            db.executemany("INSERT INTO sections VALUES (?,?,?,?,?,?,?)", [
                (first_section + i, art.id, i, json.dumps(list(s.heading_path), ensure_ascii=False),
                 s.text, s.page, s.start) for i, s in enumerate(art.sections)])
            section_id += len(art.sections)
            chunk_rows = []
            sent_rows = []
            for c in chunks:
                chunk_rows.append((row, c.id, art.id, first_section + c.section_index, c.section_index,
                                   c.start, c.end, c.page, c.ntokens, sent_row,
                                   sent_row + len(c.sentences), c.text))
                for s, e in c.sentences:
                    sent_rows.append((sent_row, row, s, e))
                    sent_row += 1
                row += 1
            db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", chunk_rows)
            db.executemany("INSERT INTO sentences VALUES (?,?,?,?)", sent_rows)
    db.close()
    vectors = np.ascontiguousarray(content.vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) > FLAT_LIMIT:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        manifest["faiss"] = {"type": "HNSWFlat", "M": 32, "efSearch": 128}
    else:
        index = faiss.IndexFlatIP(dim)
        manifest["faiss"] = {"type": "FlatIP"}
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(tmp_dir / "vectors.faiss"))
    sv = [s for s in content.sentence_vectors if len(s)]
    sent = np.concatenate(sv).astype(np.float16) if sv else np.zeros((0, dim), np.float16)
    np.save(tmp_dir / "sentences.npy", sent)
    lexical.save(str(tmp_dir / "lexical"))
    section_lexical.save(str(tmp_dir / "lexical_sections"))
    manifest["format_version"] = FORMAT_VERSION
    manifest["package_version"] = __version__
    # Sizes of the written files, checked on opening: a truncated file is refused at once.
    manifest["files"] = {p.relative_to(tmp_dir).as_posix(): p.stat().st_size
                         for p in sorted(tmp_dir.rglob("*")) if p.is_file()}
    _write_json(tmp_dir / "manifest.json", manifest)
    _fsync_tree(tmp_dir)


def publish(index_dir: Path, tmp_dir: Path, keep: int = 2) -> Path:
    """Make a finished build current: rename its folder, then switch CURRENT by rename."""
    final = tmp_dir.with_suffix("")
    os.replace(tmp_dir, final)
    pointer = Path(index_dir) / f".CURRENT.{os.getpid()}.tmp"
    pointer.write_text(final.name + "\n")
    _fsync_file(pointer)
    os.replace(pointer, Path(index_dir) / "CURRENT")
    _fsync_dir(Path(index_dir))
    collect_garbage(index_dir, keep)
    return final


def collect_garbage(index_dir: Path, keep: int = 2, exclusive: bool = False) -> None:
    """Remove old builds (keeping `keep` besides the current) and partial leftovers: those of
    dead processes or, when the caller holds the index's build lock (`exclusive`: no other build
    can be writing), all but this process's own. (Process ids are reused, so a leftover's id
    may belong to a live process by now.)"""
    root = builds_dir(index_dir)
    if not root.is_dir():
        return
    current = current_name(index_dir)
    finished = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")
                      and p.name != current)
    for old in finished[: max(0, len(finished) - keep)]:
        shutil.rmtree(old, ignore_errors=True)

    def leftover(pid: str) -> bool:
        if exclusive:
            return pid != str(os.getpid())
        return not (pid.isdigit() and _alive(int(pid)))

    for partial in root.glob("*.partial"):
        if leftover(partial.name.split("-")[1] if partial.name.count("-") >= 2 else ""):
            shutil.rmtree(partial, ignore_errors=True)
    for pointer in Path(index_dir).glob(".CURRENT.*.tmp"):  # a build killed while publishing
        if leftover(pointer.name.split(".")[2]):
            pointer.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync_file(path)
    except OSError:
        pass


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for f in files:
            _fsync_file(Path(dirpath) / f)
        _fsync_dir(Path(dirpath))


# ---------------------------------------------------------------------------------- reading

class Build:
    """One opened, immutable build. Thread-safe: each thread gets its own SQLite connection."""

    def __init__(self, index_dir: Path, model_name: str, dim: int, for_reuse: bool = False):
        """Open the current build. `for_reuse`: only to read its chunks and vectors for the
        next build, which also accepts older formats (REUSABLE_FORMATS) and skips the files a
        search needs but reuse does not."""
        import bm25s
        import faiss

        self.index_dir = Path(index_dir)
        self.path = current_build_dir(index_dir)
        self.name = self.path.name
        self.manifest = read_manifest(self.path)
        check_manifest(self.manifest, self.index_dir, model_name, dim,
                       REUSABLE_FORMATS if for_reuse else (FORMAT_VERSION,))
        self._check_files()
        try:
            self.faiss = faiss.read_index(str(self.path / "vectors.faiss"))
        except Exception as exc:  # noqa: BLE001 - faiss raises RuntimeError with C++ text
            raise IndexMismatch(self.index_dir, "vectors.faiss is missing or damaged") from exc
        if isinstance(self.faiss, faiss.IndexHNSW):
            self.faiss.hnsw.efSearch = int(self.manifest["faiss"].get("efSearch", 128))
        try:
            self.sentence_vectors = np.load(self.path / "sentences.npy", mmap_mode="r")
        except Exception as exc:  # noqa: BLE001
            raise IndexMismatch(self.index_dir, "sentences.npy is missing or damaged") from exc
        try:
            self.lexical = bm25s.BM25.load(str(self.path / "lexical"), load_corpus=False)
        except Exception as exc:  # noqa: BLE001
            raise IndexMismatch(self.index_dir, "the lexical index is missing or damaged") from exc
        self.section_lexical = None
        if not for_reuse:
            try:
                self.section_lexical = bm25s.BM25.load(str(self.path / "lexical_sections"),
                                                       load_corpus=False)
            except Exception as exc:  # noqa: BLE001
                raise IndexMismatch(self.index_dir,
                                    "the section lexical index is missing or damaged") from exc
        self._local = threading.local()
        db_path = self.path / "meta.sqlite"
        if not db_path.is_file() or db_path.stat().st_size == 0:
            raise IndexMismatch(self.index_dir, "meta.sqlite is missing")
        try:
            n_chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            n_sentences = self.db.execute("SELECT count(*) FROM sentences").fetchone()[0]
            n_sections = self.db.execute("SELECT count(*) FROM sections").fetchone()[0]
            arts = self.db.execute("SELECT id, source, title FROM articles ORDER BY source").fetchall()
            # chunk row -> article id, for filtering by article without a query.
            chunk_rows = self.db.execute("SELECT article_id, section_id FROM chunks ORDER BY row").fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexMismatch(self.index_dir, f"meta.sqlite is damaged ({exc})") from None
        if n_chunks != self.faiss.ntotal or n_chunks != self.lexical.scores["num_docs"]:
            raise IndexMismatch(self.index_dir, "vectors, lexical index and database disagree")
        if self.section_lexical is not None and n_sections != self.section_lexical.scores["num_docs"]:
            raise IndexMismatch(self.index_dir, "the section lexical index and database disagree")
        sv = self.sentence_vectors
        if sv.ndim != 2 or sv.shape[0] != n_sentences or (n_sentences and sv.shape[1] != dim):
            raise IndexMismatch(self.index_dir, "sentences.npy and the database disagree")
        self.n_chunks = n_chunks
        self.articles = {a[0]: {"id": a[0], "source": a[1], "title": a[2]} for a in arts}
        # chunk row -> article id (to filter by article) and -> section row (section-level BM25)
        self.chunk_article = np.array([r[0] for r in chunk_rows], dtype=object)
        self.chunk_section = np.array([r[1] for r in chunk_rows], dtype=np.int64)
        if len(self.chunk_section) and (self.chunk_section.min() < 0
                                        or self.chunk_section.max() >= n_sections):
            raise IndexMismatch(self.index_dir, "chunks name sections the database does not have")

    def _check_files(self) -> None:
        """Every file the manifest lists is there with its recorded size (builds before the
        sizes were recorded skip this)."""
        files = self.manifest.get("files")
        if not isinstance(files, dict):
            return
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
            uri = f"file:{self.path / 'meta.sqlite'}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def chunks(self, rows: Iterable[int]) -> dict[int, tuple[Chunk, dict]]:
        """Chunks by FAISS row, with their article record."""
        rows = [int(r) for r in rows]
        if not rows:
            return {}
        marks = ",".join("?" * len(rows))
        out = {}
        cur = self.db.execute(
            f"SELECT c.row, c.id, c.article_id, c.section_ord, c.start, c.end, c.page, c.ntokens, "
            f"c.sent_lo, c.sent_hi, c.text, s.heading_path FROM chunks c "
            f"JOIN sections s ON s.id = c.section_id WHERE c.row IN ({marks})", rows)
        fetched = cur.fetchall()
        sent_ranges = [(r[8], r[9]) for r in fetched]
        sents = {}
        if sent_ranges:
            lo = min(a for a, _ in sent_ranges)
            hi = max(b for _, b in sent_ranges)
            for srow, s, e in self.db.execute(
                    "SELECT row, start, end FROM sentences WHERE row >= ? AND row < ? AND chunk_row IN "
                    f"({marks})", [lo, hi, *rows]):
                sents[srow] = (s, e)
        for (row, cid, aid, sord, start, end, page, ntok, lo, hi, text, hp) in fetched:
            chunk = Chunk(id=cid, article_id=aid, section_index=sord,
                          heading_path=tuple(json.loads(hp)), text=text, start=start, end=end,
                          sentences=tuple(sents[i] for i in range(lo, hi)), page=page, ntokens=ntok)
            out[row] = (chunk, self.articles[aid], (lo, hi))
        return out

    def article(self, article_id: str) -> tuple[dict, list[Section]]:
        art = self.articles[article_id]
        rows = self.db.execute(
            "SELECT heading_path, text, page, start FROM sections WHERE article_id = ? ORDER BY ord",
            (article_id,)).fetchall()
        return art, [Section(tuple(json.loads(h)), t, p, s) for h, t, p, s in rows]

    def reuse_cache(self) -> tuple[dict[str, tuple[Article, list[Chunk]]], dict[str, tuple]]:
        """What the next build may reuse: {source: (article, chunks)} and
        {chunk id: (vector, sentence vectors)}."""
        sections: dict[str, list[Section]] = {}
        for aid, hp, text, page, start in self.db.execute(
                "SELECT article_id, heading_path, text, page, start FROM sections ORDER BY article_id, ord"):
            sections.setdefault(aid, []).append(Section(tuple(json.loads(hp)), text, page, start))
        arts: dict[str, tuple[Article, list[Chunk]]] = {}
        for aid, source, title, sha in self.db.execute("SELECT id, source, title, sha256 FROM articles"):
            arts[aid] = (Article(aid, title, source, tuple(sections.get(aid, ())), sha), [])
        sent = self.db.execute("SELECT start, end FROM sentences ORDER BY row").fetchall()
        all_sv = np.asarray(self.sentence_vectors, dtype=np.float32)
        vectors = self.faiss.reconstruct_n(0, self.faiss.ntotal) if self.faiss.ntotal else None
        by_id: dict[str, tuple] = {}
        for (row, cid, aid, sord, start, end, page, ntok, lo, hi, text, hp) in self.db.execute(
                "SELECT c.row, c.id, c.article_id, c.section_ord, c.start, c.end, c.page, c.ntokens, "
                "c.sent_lo, c.sent_hi, c.text, s.heading_path FROM chunks c "
                "JOIN sections s ON s.id = c.section_id ORDER BY c.row"):
            arts[aid][1].append(Chunk(cid, aid, sord, tuple(json.loads(hp)), text, start, end,
                                      tuple(sent[lo:hi]), page, ntok))
            by_id[cid] = (vectors[row], all_sv[lo:hi])
        return {a.source: (a, ch) for a, ch in arts.values()}, by_id

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
