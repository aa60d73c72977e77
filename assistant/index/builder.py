"""`assistant build`: corpus folder -> a new index build, reusing what has not changed."""

from __future__ import annotations

import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np

from . import format, layout, lexical, reuse, snapshot, writer
from ..chunking import chunk_article
from ..text import embed_prefix
from ..config import Settings
from ..embedding import Embedder, Encoder
from ..errors import AssistantError, EmptyCorpus, UnreadableSource
from .scan import (BuildReport, ReadProgress, _stderr, build_lock, file_sig, same_stat, scan_corpus,
                   stat_trusted_before)
from ..loaders import Limits, ParseWorker, load_article, sha256_file, suffixes_text
from ..records import Article, Chunk

SPLITTER = "blingfire-per-line"


def settings_fingerprint(settings: Settings, embedder: Encoder) -> dict:
    return {"model": {"name": embedder.name, "dim": embedder.dim},
            "chunking": {"chunk_tokens": settings.chunk_tokens, "overlap_sentences": 1,
                         "splitter": SPLITTER},
            "lexical": lexical.BM25_PARAMS}


def build(settings: Settings, full: bool = False, embedder: Encoder | None = None,
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
        layout.collect_garbage(index_dir, settings.keep_builds, exclusive=True)
        with _previous(index_dir, embedder, fingerprint, log, full) as old:
            plan = _Plan(old)
            files, skipped = scan_corpus(corpus_dir)
            for item in skipped:
                log(f"skipped {item['source']}: {item['reason']}")
            report = BuildReport(None)
            max_bytes = int(settings.max_file_mb * 1e6)
            limits = Limits.from_settings(settings)
            root = Path(corpus_dir).resolve()
            worker = ParseWorker(limits) if limits.seconds > 0 else None
            progress_log = ReadProgress(len(files), log)
            for path, rel in files:
                progress_log.start(rel)
                try:
                    st = path.stat()
                    if st.st_size > max_bytes:
                        raise UnreadableSource(rel, f"file too large ({st.st_size / 1e6:.1f} MB > "
                                                    f"limit {settings.max_file_mb:g} MB)")
                    if plan.keep_if_same_stat(rel, st) or plan.keep_if_unchanged(
                            rel, sha := sha256_file(path), st):
                        report.reused_files += 1
                        continue
                    art = load_article(path, rel, max_bytes, sha, root=root, limits=limits,
                                       worker=worker)
                    art_chunks = chunk_article(art, embedder.count_tokens, settings.chunk_tokens)
                    report.parsed_files += 1
                except UnreadableSource as exc:
                    skipped.append({"source": rel, "reason": exc.reason})
                    log(f"skipped {rel}: {exc.reason}")
                    progress_log.skipped()
                    continue
                except Exception as exc:  # noqa: BLE001 - one bad file never stops the build
                    detail = " ".join(str(exc).split())[:100]
                    reason = f"could not read ({type(exc).__name__}: {detail})"
                    skipped.append({"source": rel, "reason": reason})
                    log(f"skipped {rel}: {reason}")
                    progress_log.skipped()
                    continue
                if not art_chunks:
                    skipped.append({"source": rel, "reason": "no text to index"})
                    log(f"skipped {rel}: no text to index")
                    progress_log.skipped()
                    continue
                plan.add(art, art_chunks, st)
            progress_log.done()
            if worker is not None:
                worker.close()
            report.removed_files = len(set(plan.old_files) - set(plan.sources))
            report.skipped = skipped
            if not plan.sources:
                raise EmptyCorpus(corpus_dir, len(skipped), suffixes_text())
            if not full and plan.up_to_date(skipped, fingerprint):
                report.up_to_date = True
                _count(report, old.manifest.get("counts", {}))
                report.build_dir = old.path
                report.seconds = time.perf_counter() - t0
                return report
            _write_new_build(settings, embedder, fingerprint, plan, skipped, report, progress,
                             on_progress)
        report.seconds = time.perf_counter() - t0
        return report


class _Plan:
    """What the next build consists of: articles kept whole from the previous build (same file,
    same sha256) and new or changed articles, with the files they came from."""

    def __init__(self, old: "snapshot.Snapshot | None"):
        self.old = old
        self.old_files = reuse.file_records(old) if old is not None else {}
        self.keep: list[str] = []  # article ids in the previous build
        self.articles: list[Article] = []
        self.chunks: list[list[Chunk]] = []
        self.sources: dict[str, str] = {}
        self.stats: dict[str, tuple[int, int, int]] = {}  # to record: new files, touched ones
        self.scan_started_ns = time.time_ns()
        self._trusted_before = stat_trusted_before(old.manifest if old is not None else {})

    def keep_if_same_stat(self, rel: str, st) -> bool:
        """Keep a file whose size and modification time are those recorded (not read)."""
        prev = self.old_files.get(rel)
        if prev is None or not same_stat(prev[2:], file_sig(st), self._trusted_before):
            return False
        self.keep.append(prev[0])
        self.sources[rel] = prev[1]
        return True

    def keep_if_unchanged(self, rel: str, sha: str, st=None) -> bool:
        prev = self.old_files.get(rel)
        if prev is None or prev[1] != sha:
            return False
        self.keep.append(prev[0])
        self.sources[rel] = sha
        if st is not None and tuple(prev[2:]) != file_sig(st):
            self.stats[rel] = file_sig(st)  # touched, same content: recorded anew
        return True

    def add(self, art: Article, chunks: list[Chunk], st=None) -> None:
        """A new or changed file (callers keep unchanged ones with keep_if_unchanged)."""
        self.articles.append(art)
        self.chunks.append(chunks)
        self.sources[art.source] = art.sha256
        if st is not None:
            self.stats[art.source] = file_sig(st)

    def up_to_date(self, skipped: list[dict], fingerprint: dict) -> bool:
        old = self.old
        if old is None or self.articles or len(self.keep) != len(self.old_files) or self.stats:
            return False  # (touched files: a new build records their times, not to read them again)
        return (old.manifest.get("format_version") == format.FORMAT_VERSION
                and {(s["source"], s["reason"]) for s in old.skipped()}
                == {(s["source"], s["reason"]) for s in skipped}
                and all(old.manifest.get(k) == v for k, v in fingerprint.items()))

    def changed_vectors(self) -> dict[str, tuple]:
        """Vectors of the previous build's chunks in files that changed: an edit to one section
        leaves the other sections' chunks (same ids) as they were."""
        if self.old is None:
            return {}
        ids = [self.old_files[a.source][0] for a in self.articles if a.source in self.old_files]
        return reuse.vectors_of(self.old, ids)


@contextmanager
def _previous(index_dir: Path, embedder: Encoder, fingerprint: dict, log, full: bool):
    """The current build, opened to copy from, when its vectors can be reused; else None."""
    old = None
    if not full and layout.current_name(index_dir):
        try:
            old = snapshot.Snapshot(index_dir, embedder.name, embedder.dim, for_reuse=True)
            if not _vectors_reusable(old.manifest, fingerprint):
                log("model or chunking changed since the last build: rebuilding everything")
                old.close()
                old = None
        except AssistantError as exc:
            log(f"previous index not reusable ({exc}); building from scratch")
    try:
        yield old
    finally:
        if old is not None:
            old.close()


def _vectors_reusable(old_manifest: dict, fingerprint: dict) -> bool:
    """Vectors depend on the model and the chunking; the lexical index is updated every time."""
    return all(old_manifest.get(k) == fingerprint[k] for k in ("model", "chunking"))


def build_articles(articles: list[Article], settings: Settings, embedder: Encoder | None = None,
                   progress: bool | None = None) -> BuildReport:
    """Index ready-made articles (evaluation sets) into settings.index_dir, reusing the vectors
    of chunks the current build there already has."""
    t0 = time.perf_counter()
    embedder = embedder or Embedder.from_settings(settings)
    fingerprint = settings_fingerprint(settings, embedder)
    index_dir = Path(settings.index_dir)
    report = BuildReport(None, parsed_files=len(articles))
    with build_lock(index_dir, _stderr), \
            _previous(index_dir, embedder, fingerprint, lambda _m: None, False) as old:
        plan = _Plan(old)
        for a in articles:
            if not plan.keep_if_unchanged(a.source, a.sha256):
                plan.add(a, chunk_article(a, embedder.count_tokens, settings.chunk_tokens))
        _write_new_build(settings, embedder, fingerprint, plan, [], report, progress)
    report.seconds = time.perf_counter() - t0
    return report


def _write_new_build(settings, embedder, fingerprint, plan: _Plan, skipped, report, progress,
                     on_progress=None) -> None:
    index_dir = Path(settings.index_dir)
    # Embed what the previous build does not already have.
    old_vectors = plan.changed_vectors()
    flat: list[tuple[Article, Chunk]] = [(a, c) for a, cs in zip(plan.articles, plan.chunks)
                                         for c in cs]
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
    tl = time.perf_counter()
    lex = _lexical_index(plan, flat)
    report.lexical_seconds = time.perf_counter() - tl
    # The precision the vectors were computed in. Vectors of either precision agree (cosine
    # >= 0.9999), so a change of precision reuses what is there and only says so here.
    precision = embedder.precision
    reused_precision = plan.old.manifest.get("precision", "fp32") if plan.old else precision
    if (plan.keep or len(todo) < len(flat)) and reused_precision != precision:
        precision = reused_precision if not todo else "mixed (bf16 and fp32)"
    manifest = {
        **fingerprint,
        "precision": precision,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus_dir": str(Path(settings.corpus_dir)),
        "scan_started_ns": plan.scan_started_ns,
    }
    tmp = layout.new_build_dir(index_dir)
    tw = time.perf_counter()
    try:
        content = writer.BuildContent(plan.articles, plan.chunks, vectors, sent_vecs, skipped,
                                     plan.old, plan.keep, plan.stats)
        writer.write_build(tmp, content, manifest, lex)
        report.build_dir = layout.publish(index_dir, tmp, settings.keep_builds)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.write_seconds = time.perf_counter() - tw
    _count(report, manifest["counts"])


def _lexical_index(plan: _Plan, flat: list[tuple[Article, Chunk]]) -> lexical.LexicalIndex:
    """The next build's lexical index: the kept articles' sections, in the order the store
    copies them, then the new ones. From the previous build's stored entries when it has them
    (only new and removed text is tokenized), else from the kept articles' text."""
    old, keep = plan.old, set(plan.keep)
    try:
        postings = reuse.lexical_postings(old) if old is not None else None
    except AssistantError:  # damaged: the kept articles' text is still there
        postings = None
    if postings is not None:
        removed = {r[0] for r in plan.old_files.values()} - keep
        lex = lexical.LexicalIndex(postings, reuse.section_mask(old, keep), reuse.chunk_texts(old, removed))
    else:
        lex = lexical.LexicalIndex()
        if keep:
            kept_chunks, kept_sections = reuse.lexical_texts(old, keep)
            lex.add_sections(kept_sections)
            lex.add_chunks(kept_chunks)
    lex.add_sections([embed_prefix(a.title, s.heading_path) + s.text
                      for a in plan.articles for s in a.sections])
    lex.add_chunks([embed_prefix(a.title, c.heading_path) + c.text for a, c in flat])
    return lex


def _count(report: BuildReport, counts: dict) -> None:
    report.articles = counts.get("articles", 0)
    report.sections = counts.get("sections", 0)
    report.chunks = counts.get("chunks", 0)
    report.tokens = counts.get("tokens", 0)
