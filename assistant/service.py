"""`Assistant`: the one object the app, the CLI and the evaluation talk to. Opens the current
build, follows rebuilds (a new build is picked up by the next question, never half-written),
answers questions. Safe to share between threads.

Before there is an Assistant (no index yet, or a damaged one) the same callers use this module's
functions: `index_state`, `index_status`, `corpus_files`, `build_index`, `make_embedder`. The app
also finds articles with `ArticleCatalog` and notices corpus changes with `CorpusWatch`."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import answering, language, lexical, store
from .config import Settings
from .conversation import clean_question, last_question, query_for  # noqa: F401 - re-exported
from .embedding import Embedder
from .errors import AssistantError
from .loaders import suffixes_text  # noqa: F401 - the supported formats, as the app says them
from .records import Answer, ArticleInfo, IndexStatus, Passage, Section
from .retrieval import DEFAULT_FUSION, Fusion, Retriever
from .state import corpus_files, index_state, index_status  # noqa: F401 - the facade's functions
from .catalog import ArticleCatalog  # noqa: F401 - the app's article filter
from .watch import CorpusWatch  # noqa: F401 - the app's stale check

REFUSED_RETRY_SECONDS = 10.0  # a build that failed to open is tried again after this long
POSSIBLE_LABEL = answering.POSSIBLE_LABEL


def make_embedder(settings: Settings) -> Embedder:
    """The model as the settings ask for it (threads, batch size, precision)."""
    return Embedder.from_settings(settings)


def ray_embedder(settings: Settings, address: str | None = None, **kwargs):
    """The model on a Ray cluster (`build --ray`): an embedder for `build_index` that writes the
    same build. Needs the [ray] extra; without it, an AssistantError with the install line."""
    from .distributed import RayEmbedder

    return RayEmbedder.from_settings(settings, address=address, **kwargs)


def build_index(settings: Settings, *, articles=None, full: bool = False,
                embedder: Embedder | None = None, **kwargs):
    """Build or update the index from the corpus folder, or from ready-made `articles`
    (evaluation sets). Returns the BuildReport."""
    from . import indexing

    if articles is not None:
        return indexing.build_articles(articles, settings, embedder, **kwargs)
    return indexing.build(settings, full=full, embedder=embedder, **kwargs)

class _Loaded:
    """A build with what is derived from it, swapped as one reference."""

    def __init__(self, build: store.Build, fusion: Fusion):
        self.build = build
        self.retriever = Retriever(build, fusion)
        self.idf = build.idf


class Assistant:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 fusion: Fusion = DEFAULT_FUSION,
                 answer_settings: answering.AnswerSettings = answering.DEFAULT_ANSWER_SETTINGS):
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.embedder = embedder or Embedder.from_settings(settings)
        self.fusion = fusion
        self.answer_settings = answer_settings
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._loaded = _Loaded(store.Build(self.index_dir, self.embedder.name, self.embedder.dim), fusion)
        self.reload_error: str = ""
        self._refused: tuple[str, float] = ("", 0.0)  # (build name, when it failed to open)
        self._reader = None

    @classmethod
    def open(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             **kwargs) -> "Assistant":
        settings = settings or Settings()
        if index_dir is not None:
            settings = settings.replace(index_dir=Path(index_dir))
        return cls(settings, **kwargs)

    # ---------------------------------------------------------------- the current build
    def current(self) -> _Loaded:
        """The build to answer from: switches to a newer build when CURRENT names one."""
        loaded = self._loaded
        name = store.current_name(self.index_dir)
        if name and name != loaded.build.name:
            with self._lock:
                loaded = self._loaded
                refused_name, refused_at = self._refused
                if name != loaded.build.name and not (
                        name == refused_name
                        and time.monotonic() - refused_at < REFUSED_RETRY_SECONDS):
                    try:
                        loaded = _Loaded(store.Build(self.index_dir, self.embedder.name,
                                                     self.embedder.dim), self.fusion)
                        self._loaded = loaded
                        self.reload_error = ""
                    except Exception as exc:  # noqa: BLE001
                        # Keep answering from the build we have; say why the new one is refused
                        # (and do not retry it on every question).
                        self.reload_error = str(exc) if isinstance(exc, AssistantError) else (
                            f"The new index build {name} could not be opened "
                            f"({type(exc).__name__}: {exc}); still answering from "
                            f"{loaded.build.name}.")
                        self._refused = (name, time.monotonic())
        return loaded

    @property
    def build(self) -> store.Build:
        return self.current().build

    def status(self) -> IndexStatus:
        b = self.build
        # The per-file records are in the build's database, not its manifest.json.
        manifest = {**b.manifest, "skipped": b.skipped()}  # no per-file hashes: nobody shows them
        return IndexStatus.of_manifest(b.name, manifest, reload_error=self.reload_error,
                                       query_precision=getattr(self.embedder, "precision", "fp32"))

    def articles(self) -> list[ArticleInfo]:
        return sorted((ArticleInfo(**a) for a in self.build.articles.values()),
                      key=lambda a: (a.title.lower(), a.source))

    def article(self, article_id: str) -> tuple[ArticleInfo, list[Section]]:
        """An article and its sections; KeyError when the current build does not have it."""
        art, sections = self.build.article(article_id)
        return ArticleInfo(**art), sections

    def encode(self, texts: Sequence[str]):
        with self._encode_lock:
            return self.embedder.encode_queries(texts)

    # ---------------------------------------------------------------- asking
    def query_for(self, question: str, history: Sequence = ()) -> str:
        return query_for(question, history)

    @property
    def llm_configured(self) -> bool:
        return bool(self.settings.llm_url)

    def reader(self):
        """The LLM reader for the configured endpoint (made once). Raises LLMUnavailable."""
        from . import llm

        if self._reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = llm.Reader(llm.LLMSettings.from_settings(self.settings))
        return self._reader

    def ask(self, question: str, history: Sequence = (), k: int | None = None,
            sources: Iterable[str] | None = None, llm: bool | None = None,
            on_text: Callable[[str], None] | None = None) -> Answer:
        """Answer a question. `llm`: None uses the LLM reader when an endpoint is configured,
        True/False force it on/off. `on_text(verified_text_so_far)` follows the LLM's answer
        as its sentences pass verification."""
        t0 = time.perf_counter()
        q, notice = clean_question(question)
        if not q:
            return Answer(question=str(question or ""), text=notice, citations=(), abstained=True,
                          notice=notice)
        query = self.query_for(q, history)
        vecs = self.encode([q, query] if query != q else [q])
        answer = self.answer_with(q, vecs[0], query, vecs[-1], k, sources, notice, t0)
        use_llm = self.llm_configured if llm is None else llm
        if not use_llm or not answer.passages:
            return language.add_notice(answer, q)
        previous = last_question(history) if query != q else ""
        return language.add_notice(self.read_with_llm(answer, previous, on_text), q)

    def read_with_llm(self, extractive: Answer, previous: str = "",
                      on_text: Callable[[str], None] | None = None) -> Answer:
        """The LLM reader's verified answer over the extractive answer's passages, or the
        extractive answer with the reason it is shown instead."""
        from . import llm

        try:
            reader = self.reader()
            model = reader.model
        except llm.LLMUnavailable as exc:
            reading = llm.Reading(fallback=str(exc).rstrip("."))
            return llm.compose(extractive.question, reading, (), self.settings.llm_model,
                               extractive)
        passages = extractive.passages[: reader.settings.passages]
        reading = llm.read(reader, extractive.question, passages, self.encode, previous, on_text)
        return llm.compose(extractive.question, reading, passages, model, extractive)

    def retrieve_passages(self, question: str, history: Sequence = (), k: int | None = None,
                          sources: Iterable[str] | None = None) -> list[Passage]:
        """Ranked passages for a question in its conversation (no answer composed)."""
        query = self.query_for(clean_question(question)[0], history)
        return self.search(query, k=k, sources=sources)

    def search(self, query: str, k: int | None = None, sources: Iterable[str] | None = None,
               vector=None, loaded: "_Loaded | None" = None) -> list[Passage]:
        """Ranked passages for a retrieval query (its vector, when already encoded)."""
        loaded = loaded or self.current()
        vec = self.encode([query])[0] if vector is None else vector
        ranked = loaded.retriever.search(vec, lexical.tokenize([query], query=True)[0],
                                         k=k or self.settings.top_k, sources=sources)
        return loaded.retriever.passages(ranked)

    def ask_many(self, questions: Sequence[str], k: int | None = None,
                 batch: int = 256) -> list[Answer]:
        """Answer many single questions (no history, no LLM) with batched encoding, all from
        the same build: what evaluation runs."""
        out: list[Answer] = []
        for i in range(0, len(questions), batch):
            qs = [clean_question(q)[0] or q for q in questions[i:i + batch]]
            with self._encode_lock:
                vecs = self.embedder.encode_queries(qs)
            loaded = self.current()
            out += [self.answer_with(q, v, q, v, k=k, loaded=loaded) for q, v in zip(qs, vecs)]
        return out

    def rank_sources(self, questions: Sequence[str], k: int = 100, chunks: int = 300,
                     modes: Sequence[str] = ("hybrid",)) -> dict[str, list[dict[str, float]]]:
        """Per mode (hybrid, dense or lexical) and question, its `k` best article sources scored
        by their best chunk among the `chunks` best: retrieval evaluation. The questions are
        encoded once for all modes."""
        from .retrieval import rank_documents

        retriever = Retriever(self.build, dataclasses.replace(
            self.fusion, candidates=max(self.fusion.candidates, chunks)))
        with self._encode_lock:
            qvecs = self.embedder.encode_queries(list(questions))
        qtoks = lexical.tokenize(list(questions), query=True)
        return {mode: rank_documents(retriever, qvecs, qtoks, k, chunks, mode) for mode in modes}

    def answer_with(self, q: str, qvec, query: str, rvec, k: int | None = None,
                    sources: Iterable[str] | None = None, notice: str = "",
                    t0: float | None = None, loaded: "_Loaded | None" = None) -> Answer:
        """Answer from precomputed question vectors (`qvec` for the question itself, `rvec` for
        the retrieval query); evaluation batches the encoding and calls this directly."""
        t0 = time.perf_counter() if t0 is None else t0
        loaded = loaded or self.current()
        k = k or self.settings.top_k
        s = self.answer_settings
        passages = self.search(query, max(k, s.passages_considered), sources, rvec, loaded)
        t1 = time.perf_counter()
        rows = [p.sentence_rows for p in passages[: s.passages_considered]]
        if query != q:  # a follow-up: judge sentences against the question in its context
            qvec = qvec + rvec
            qvec = qvec / max(float(np.linalg.norm(qvec)), 1e-9)
        cands, feats = answering.candidates(q, qvec, passages, loaded.build.sentence_vectors,
                                            rows, loaded.idf, s)
        if query != q:  # a follow-up: judge how known its words are in its context
            feats["unknown_terms"] = answering.question_terms(query, loaded.idf)[1]
        conf = answering.confidence(feats, s)
        chosen = answering.select(cands, s)
        t2 = time.perf_counter()
        timings = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000, "total": (t2 - t0) * 1000}
        if sources is not None and not passages:
            notice = notice or "None of the chosen articles has a passage for this question."
        return answering.compose(q, chosen, passages[:k], conf, s, timings, loaded.build.name,
                                 notice, feats)
