"""`Assistant`: the one object the app and the CLI talk to. Opens the current build, follows
rebuilds (a new build is picked up by the next question, never half-written), answers questions.
Safe to share between threads."""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from . import answering, lexical, store
from .config import Settings
from .embedding import Embedder
from .errors import AssistantError
from .records import Answer, Passage, Section
from .retrieval import DEFAULT_FUSION, Fusion, Retriever

MAX_QUESTION_CHARS = 1000
REFUSED_RETRY_SECONDS = 10.0  # a build that failed to open is tried again after this long
# Words that point back into the conversation ("Who will lead them?").
_FOLLOWUP_WORDS = {"he", "she", "it", "they", "them", "their", "theirs", "its", "his", "her",
                   "hers", "him", "this", "that", "these", "those", "there", "such"}


def clean_question(question: str) -> tuple[str, str]:
    """Strip control characters and cap the length. Returns (question, notice for the user)."""
    q = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(question or ""))
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        return "", "Please type a question."
    if len(q) > MAX_QUESTION_CHARS:
        return q[:MAX_QUESTION_CHARS], (f"Your question was {len(q):,} characters long; "
                                        f"only the first {MAX_QUESTION_CHARS:,} were used.")
    return q, ""


def is_followup(question: str) -> bool:
    words = re.findall(r"[a-z']+", question.lower())
    content = lexical.tokenize([question], query=True)[0]
    return len(content) <= 2 or any(w in _FOLLOWUP_WORDS for w in words) or \
        bool(re.match(r"^(and|also|what about|how about)\b", question.lower()))


class _Loaded:
    """A build with what is derived from it, swapped as one reference."""

    def __init__(self, build: store.Build, fusion: Fusion):
        self.build = build
        self.retriever = Retriever(build, fusion)
        self.idf = lexical.idf_table(build.lexical)


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

    def status(self) -> dict:
        b = self.build
        return {"build": b.name, "built_at": b.manifest.get("built_at"),
                "counts": b.manifest.get("counts", {}), "model": b.manifest.get("model", {}),
                "skipped": b.skipped(), "sources": b.sources(),
                # Builds made before precision was recorded were all float32.
                "precision": b.manifest.get("precision", "fp32"),
                "query_precision": getattr(self.embedder, "precision", "fp32"),
                "reload_error": self.reload_error}

    def articles(self) -> list[dict]:
        return sorted(self.build.articles.values(), key=lambda a: (a["title"].lower(), a["source"]))

    def article(self, article_id: str) -> tuple[dict, list[Section]]:
        return self.build.article(article_id)

    def encode(self, texts: Sequence[str]):
        with self._encode_lock:
            return self.embedder.encode_queries(texts)

    # ---------------------------------------------------------------- asking
    def query_for(self, question: str, history: Sequence = ()) -> str:
        """The retrieval query: a follow-up question is read together with the previous one."""
        previous = _last_question(history)
        if previous and is_followup(question):
            return f"{previous} {question}"
        return question

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
            return Answer(str(question or ""), notice, (), True, 0.0, (), {}, "", notice)
        query = self.query_for(q, history)
        vecs = self.encode([q, query] if query != q else [q])
        answer = self.answer_with(q, vecs[0], query, vecs[-1], k, sources, notice, t0)
        use_llm = self.llm_configured if llm is None else llm
        if not use_llm or not answer.passages:
            return answer
        previous = _last_question(history) if query != q else ""
        return self.read_with_llm(answer, previous, on_text)

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
        return self._search(self.current(), query, self.encode([query])[0],
                            k or self.settings.top_k, sources)

    @staticmethod
    def _search(loaded: _Loaded, query: str, vec, k: int, sources) -> list[Passage]:
        ranked = loaded.retriever.search(vec, lexical.tokenize([query], query=True)[0], k=k,
                                         sources=sources)
        return loaded.retriever.passages(ranked)

    def answer_with(self, q: str, qvec, query: str, rvec, k: int | None = None,
                    sources: Iterable[str] | None = None, notice: str = "",
                    t0: float | None = None, loaded: "_Loaded | None" = None) -> Answer:
        """Answer from precomputed question vectors (`qvec` for the question itself, `rvec` for
        the retrieval query); evaluation batches the encoding and calls this directly."""
        t0 = time.perf_counter() if t0 is None else t0
        loaded = loaded or self.current()
        k = k or self.settings.top_k
        s = self.answer_settings
        passages = self._search(loaded, query, rvec, max(k, s.passages_considered), sources)
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


def _last_question(history: Sequence) -> str:
    """The last non-empty question asked before, or ""."""
    return next((h for h in reversed(_history_questions(history)) if h), "")


def _history_questions(history: Sequence) -> list[str]:
    """History items may be plain questions or chat turns {"role": ..., "content": ...}."""
    out = []
    for h in history or ():
        if isinstance(h, str):
            out.append(clean_question(h)[0])
        elif isinstance(h, dict) and h.get("role", "user") == "user":
            out.append(clean_question(h.get("content", ""))[0])
    return out
