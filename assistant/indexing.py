"""`assistant build`: corpus folder -> a new index build, reusing what has not changed."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import lexical, store
from .chunking import chunk_article, embed_prefix
from .config import Settings
from .embedding import Embedder
from .errors import AssistantError, EmptyCorpus, UnreadableSource
from .loaders import SUPPORTED, load_article, sha256_file
from .records import Article, Chunk

SPLITTER = "blingfire-per-line"


@dataclass
class BuildReport:
    build_dir: Path | None
    articles: int = 0
    sections: int = 0
    chunks: int = 0
    tokens: int = 0  # word pieces of all chunks in the build
    embedded_chunks: int = 0
    embedded_tokens: int = 0  # fed to the model in this run (special tokens included)
    reused_files: int = 0
    parsed_files: int = 0
    removed_files: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    up_to_date: bool = False

    def summary(self) -> str:
        rate = ""
        if self.embedded_chunks:
            rate = (f"; embedded {self.embedded_chunks} chunks in {self.embed_seconds:.1f}s "
                    f"({self.embedded_chunks / self.seconds:.1f} chunks/s, "
                    f"{self.embedded_tokens / self.seconds:.0f} tokens/s over the whole build)")
        state = "index up to date, nothing to do" if self.up_to_date else f"built {self.build_dir}"
        return (f"{state}: {self.articles} articles, {self.sections} sections, {self.chunks} chunks, "
                f"{self.tokens} tokens; {self.parsed_files} files read, {self.reused_files} reused, "
                f"{self.removed_files} removed, {len(self.skipped)} skipped; {self.seconds:.1f}s{rate}")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextmanager
def build_lock(index_dir: Path, log: Callable[[str], None]):
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another build is running on this index; waiting for it to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def scan_corpus(corpus_dir: Path) -> tuple[list[tuple[Path, str]], list[dict]]:
    """Supported files under the corpus (relative paths, sorted) and those refused up front."""
    root = corpus_dir.resolve()
    found: list[tuple[Path, str]] = []
    refused: list[dict] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.suffix.lower() not in SUPPORTED:
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 in the name (or a folder's)
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                refused.append({"source": shown, "reason": "file name is not valid UTF-8; "
                                                           "rename the file"})
                continue
            if path.is_symlink():
                try:
                    target = path.resolve()
                except (OSError, RuntimeError):  # RuntimeError: a loop, on Python < 3.13
                    refused.append({"source": rel, "reason": "symbolic link loop"})
                    continue
                if not target.is_relative_to(root):
                    refused.append({"source": rel, "reason": "symbolic link leads outside the corpus"})
                    continue
                if not target.is_file():
                    refused.append({"source": rel, "reason": "broken symbolic link"})
                    continue
            elif not path.is_file():
                continue
            found.append((path, rel))
    return found, refused


def settings_fingerprint(settings: Settings, embedder: Embedder) -> dict:
    return {"model": {"name": embedder.name, "dim": embedder.dim},
            "chunking": {"chunk_tokens": settings.chunk_tokens, "overlap_sentences": 1,
                         "splitter": SPLITTER},
            "lexical": lexical.BM25_PARAMS}


def build(settings: Settings, full: bool = False, embedder: Embedder | None = None,
          log: Callable[[str], None] = _stderr, progress: bool | None = None,
          on_progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Build or update the index. `on_progress(done, total)` follows the embedding."""
    t0 = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    if not corpus_dir.is_dir():
        raise AssistantError(f"Corpus folder {corpus_dir} does not exist: create it and add articles.")
    embedder = embedder or Embedder.from_settings(settings)
    fingerprint = settings_fingerprint(settings, embedder)
    with build_lock(index_dir, log):
        # Leftovers of builds that were killed (their *.partial folders) go first, also when
        # this build turns out to have nothing to do. The lock is ours: no other build is
        # writing into this index.
        store.collect_garbage(index_dir, settings.keep_builds, exclusive=True)
        old_sources: dict[str, tuple[Article, list[Chunk]]] = {}
        old_vectors: dict[str, tuple] = {}
        old_manifest: dict = {}
        if not full and store.current_name(index_dir):
            try:
                old = store.Build(index_dir, embedder.name, embedder.dim, for_reuse=True)
                old_manifest = old.manifest
                if _vectors_reusable(old_manifest, fingerprint):
                    old_sources, old_vectors = old.reuse_cache()
                else:
                    log("model or chunking changed since the last build: rebuilding everything")
                old.close()
            except AssistantError as exc:
                log(f"previous index not reusable ({exc}); building from scratch")
                old_manifest = {}

        files, skipped = scan_corpus(corpus_dir)
        for item in skipped:
            log(f"skipped {item['source']}: {item['reason']}")
        report = BuildReport(None)
        articles: list[Article] = []
        chunks: list[list[Chunk]] = []
        sources: dict[str, str] = {}
        max_bytes = int(settings.max_file_mb * 1e6)
        for path, rel in files:
            try:
                size = path.stat().st_size
                if size > max_bytes:
                    raise UnreadableSource(rel, f"file too large ({size / 1e6:.1f} MB > limit "
                                                f"{settings.max_file_mb:g} MB)")
                sha = sha256_file(path)
                prev = old_sources.get(rel)
                if prev is not None and prev[0].sha256 == sha:
                    art, art_chunks = prev
                    report.reused_files += 1
                else:
                    art = load_article(path, rel, max_bytes, sha)
                    art_chunks = chunk_article(art, embedder.count_tokens, settings.chunk_tokens)
                    report.parsed_files += 1
            except UnreadableSource as exc:
                skipped.append({"source": rel, "reason": exc.reason})
                log(f"skipped {rel}: {exc.reason}")
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the build
                detail = " ".join(str(exc).split())[:100]
                reason = f"could not read ({type(exc).__name__}: {detail})"
                skipped.append({"source": rel, "reason": reason})
                log(f"skipped {rel}: {reason}")
                continue
            if not art_chunks:
                skipped.append({"source": rel, "reason": "no text to index"})
                log(f"skipped {rel}: no text to index")
                continue
            articles.append(art)
            chunks.append(art_chunks)
            sources[rel] = sha
        report.removed_files = len(set(old_sources) - set(sources))
        report.skipped = skipped
        if not articles:
            raise EmptyCorpus(corpus_dir, len(skipped))
        old_skipped = {(s["source"], s["reason"]) for s in old_manifest.get("skipped", [])}
        if (not full and old_manifest and old_manifest.get("sources") == sources
                and old_manifest.get("format_version") == store.FORMAT_VERSION
                and old_skipped == {(s["source"], s["reason"]) for s in skipped}
                and all(old_manifest.get(k) == v for k, v in fingerprint.items())):
            report.up_to_date = True
            _count(report, articles, chunks)
            report.build_dir = store.current_build_dir(index_dir)
            report.seconds = time.perf_counter() - t0
            return report

        _write_new_build(settings, embedder, fingerprint, articles, chunks, sources, skipped,
                         old_vectors, report, progress, on_progress,
                         reused_precision=old_manifest.get("precision", "fp32"))
        report.seconds = time.perf_counter() - t0
        return report


def _vectors_reusable(old_manifest: dict, fingerprint: dict) -> bool:
    """Vectors depend on the model and the chunking; the lexical index is rebuilt every time."""
    return all(old_manifest.get(k) == fingerprint[k] for k in ("model", "chunking"))


def build_articles(articles: list[Article], settings: Settings, embedder: Embedder | None = None,
                   progress: bool | None = None) -> BuildReport:
    """Index ready-made articles (evaluation sets) into settings.index_dir, reusing the vectors
    of chunks the current build there already has."""
    t0 = time.perf_counter()
    embedder = embedder or Embedder.from_settings(settings)
    fingerprint = settings_fingerprint(settings, embedder)
    index_dir = Path(settings.index_dir)
    chunks = [chunk_article(a, embedder.count_tokens, settings.chunk_tokens) for a in articles]
    report = BuildReport(None, parsed_files=len(articles))
    with build_lock(index_dir, _stderr):
        old_vectors: dict[str, tuple] = {}
        reused_precision = getattr(embedder, "precision", "fp32")
        if store.current_name(index_dir):
            try:
                old = store.Build(index_dir, embedder.name, embedder.dim, for_reuse=True)
                if _vectors_reusable(old.manifest, fingerprint):
                    old_vectors = old.reuse_cache()[1]
                    reused_precision = old.manifest.get("precision", "fp32")
                old.close()
            except AssistantError:
                pass
        _write_new_build(settings, embedder, fingerprint, articles, chunks,
                         {a.source: a.sha256 for a in articles}, [], old_vectors, report, progress,
                         reused_precision=reused_precision)
    report.seconds = time.perf_counter() - t0
    return report


def _write_new_build(settings, embedder, fingerprint, articles, chunks, sources, skipped,
                     old_vectors, report, progress, on_progress=None,
                     reused_precision: str = "fp32") -> None:
    index_dir = Path(settings.index_dir)
    corpus_dir = Path(settings.corpus_dir)
    # Embed what the previous build does not already have.
    flat: list[tuple[Article, Chunk]] = [(a, c) for a, cs in zip(articles, chunks) for c in cs]
    todo = [i for i, (_, c) in enumerate(flat) if c.id not in old_vectors]
    vectors = np.zeros((len(flat), embedder.dim), dtype=np.float32)
    sent_vecs: list[np.ndarray] = [None] * len(flat)  # type: ignore[list-item]
    for i, (_, c) in enumerate(flat):
        if c.id in old_vectors:
            vectors[i], sent_vecs[i] = old_vectors[c.id]
    if todo:
        texts, spans = [], []
        for i in todo:
            art, c = flat[i]
            prefix = embed_prefix(art.title, c.heading_path)
            texts.append(prefix + c.text)
            shift = len(prefix) - c.start
            spans.append([(s + shift, e + shift) for s, e in c.sentences])
        te = time.perf_counter()
        enc = embedder.encode_chunks(texts, spans, progress=progress, on_progress=on_progress)
        report.embed_seconds = time.perf_counter() - te
        vectors[todo] = enc.vectors
        for k, i in enumerate(todo):
            sent_vecs[i] = enc.sentence_vectors[k]
        report.embedded_chunks = len(todo)
        report.embedded_tokens = enc.tokens
    lex = lexical.build_index([embed_prefix(a.title, c.heading_path) + c.text for a, c in flat])
    # Sections in the order the store numbers them: each chunk is also scored by its section.
    section_lex = lexical.build_index([embed_prefix(a.title, s.heading_path) + s.text
                                       for a in articles for s in a.sections])
    _count(report, articles, chunks)
    # The precision the vectors were computed in. Vectors of either precision agree (cosine
    # >= 0.9999), so a change of precision reuses what is there and only says so here.
    precision = getattr(embedder, "precision", "fp32")
    if len(todo) < len(flat) and reused_precision != precision:
        precision = reused_precision if not todo else "mixed (bf16 and fp32)"
    manifest = {
        **fingerprint,
        "precision": precision,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus_dir": str(corpus_dir),
        "sources": sources,
        "skipped": skipped,
        "counts": {"articles": report.articles, "sections": report.sections,
                   "chunks": report.chunks, "tokens": report.tokens,
                   "sentences": sum(len(c.sentences) for _, c in flat)},
    }
    tmp = store.new_build_dir(index_dir)
    try:
        content = store.BuildContent(articles, chunks, vectors, sent_vecs)
        store.write_build(tmp, content, manifest, lex, section_lex)
        report.build_dir = store.publish(index_dir, tmp, settings.keep_builds)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise




def _count(report: BuildReport, articles: list[Article], chunks: list[list[Chunk]]) -> None:
    report.articles = len(articles)
    report.sections = sum(len(a.sections) for a in articles)
    report.chunks = sum(len(c) for c in chunks)
    report.tokens = sum(c.ntokens for cs in chunks for c in cs)
