"""`Assistant`: the one object the app, the CLI and the evaluation talk to. Opens the current
build, follows rebuilds (index/live.py: a new build is picked up by the next question, never
half-written), answers questions (answer/: retrieve, then read), says the index's status. Safe to
share between threads.

Before there is an Assistant (no index yet, or a damaged one) the same callers use this module's
functions: `index_state`, `index_status`, `corpus_files`, `build_index`, `make_embedder`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .access import AccessDenied, Scope
from .answer import extractive, language
from .answer.conversation import clean_question, last_question, query_for
from .answer.pipeline import Pipeline
from .answer.readers import MODES, Mode, ReadContext
from .config import Settings
from .embedding import Embedder, Encoder
from .index import builder, live, status
from .loaders import suffixes_text
from .records import Answer, ArticleInfo, IndexState, IndexStatus, Passage, Section
from .retrieval import DEFAULT_FUSION, Fusion

POSSIBLE_LABEL = extractive.POSSIBLE_LABEL


def make_embedder(settings: Settings) -> Embedder:
    """The model as the settings ask for it (threads, batch size, precision)."""
    return Embedder.from_settings(settings)


def ray_embedder(settings: Settings, address: str | None = None, **kwargs):
    """The model on a Ray cluster (`build --ray`): an embedder for `build_index` that writes the
    same build. Needs the [ray] extra; without it, an AssistantError with the install line."""
    from .distributed import RayEmbedder

    return RayEmbedder.from_settings(settings, address=address, **kwargs)


def build_index(settings: Settings, *, articles=None, full: bool = False,
                embedder: Encoder | None = None, **kwargs):
    """Build or update the index from the corpus folder, or from ready-made `articles`
    (evaluation sets). Returns the BuildReport."""
    if articles is not None:
        return builder.build_articles(articles, settings, embedder, **kwargs)
    return builder.build(settings, full=full, embedder=embedder, **kwargs)


def index_state(settings: Settings, **kwargs) -> IndexState:
    """Is there a usable index, and is it current with the corpus (see index/status.py)."""
    return status.index_state(settings, **kwargs)


def index_status(settings: Settings) -> IndexStatus:
    """The current build's description, without opening it."""
    return status.index_status(settings)


def corpus_files(corpus_dir: Path | str) -> tuple[list[tuple[Path, str]], list[dict]]:
    """The articles a build would read, and the files it would skip (with reasons)."""
    return status.corpus_files(corpus_dir)


def supported_formats() -> str:
    """The article formats, as the app says them ("Markdown, ... or PDF")."""
    return suffixes_text()


class Assistant:
    def __init__(self, settings: Settings, embedder: Encoder | None = None,
                 fusion: Fusion = DEFAULT_FUSION,
                 answer_settings: extractive.AnswerSettings = extractive.DEFAULT_ANSWER_SETTINGS):
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.embedder = embedder or Embedder.from_settings(settings)
        self.fusion = fusion
        self.answer_settings = answer_settings
        self._lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._live = live.LiveIndex(
            self.index_dir, self.embedder.name, self.embedder.dim,
            lambda snap: Pipeline(snap, self.fusion, self.answer_settings, settings.top_k))
        self._modes: dict[str, Mode] = {}

    @classmethod
    def open(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             **kwargs) -> Assistant:
        settings = settings or Settings()
        if index_dir is not None:
            settings = settings.replace(index_dir=Path(index_dir))
        return cls(settings, **kwargs)

    # ---------------------------------------------------------------- the current build
    def current(self) -> Pipeline:
        """The build to answer from (its pipeline): a newer build once CURRENT names one."""
        return self._live.current()[1]

    @property
    def build_name(self) -> str:
        return self.current().snapshot.name

    @property
    def reload_error(self) -> str:
        """Why the newest build was refused ("" when it serves)."""
        return self._live.reload_error

    def status(self) -> IndexStatus:
        b = self.current().snapshot
        # The per-file records are in the build's database, not its manifest.json.
        manifest = {**b.manifest, "skipped": b.skipped()}  # no per-file hashes: nobody shows them
        return IndexStatus.of_manifest(b.name, manifest, reload_error=self.reload_error,
                                       query_precision=self.embedder.precision)

    def articles(self, scope: Scope | None = None) -> list[ArticleInfo]:
        """The articles of the current build (only those `scope` may read, when given)."""
        return sorted((ArticleInfo(**a) for a in self.current().snapshot.articles.values()
                       if scope is None or scope.permits_source(a["source"])),
                      key=lambda a: (a.title.lower(), a.source))

    def article(self, article_id: str, scope: Scope | None = None
                ) -> tuple[ArticleInfo, list[Section]]:
        """An article and its sections; KeyError when the current build does not have it,
        AccessDenied when `scope` may not read its collection."""
        snap = self.current().snapshot
        if scope is not None and not scope.permits_source(snap.articles[article_id]["source"]):
            raise AccessDenied("This article is in a collection you may not read.")
        art, sections = snap.article(article_id)
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

    def mode(self, name: str) -> Mode:
        """The reader of an answer mode (made once; see answer/readers.py)."""
        if name not in self._modes:
            with self._lock:
                if name not in self._modes:
                    self._modes[name] = MODES[name](self.settings)
        return self._modes[name]

    def ask(self, question: str, history: Sequence = (), k: int | None = None,
            sources: Iterable[str] | None = None, llm: bool | None = None,
            on_text: Callable[[str], None] | None = None, scope: Scope | None = None) -> Answer:
        """Answer a question. `llm`: None uses the LLM reader when an endpoint is configured,
        True/False force it on/off. `on_text(verified_text_so_far)` follows the LLM's answer
        as its sentences pass verification. `scope`: the collections the asker may read
        (assistant/access.py); retrieval scores no other row, so nothing else reaches the
        answer, its closest passages or the LLM."""
        t0 = time.perf_counter()
        q, notice = clean_question(question)
        if not q:
            return Answer(question=str(question or ""), text=notice, citations=(), abstained=True,
                          notice=notice)
        query = self.query_for(q, history)
        vecs = self.encode([q, query] if query != q else [q])
        answer = self.current().answer(q, vecs[0], query, vecs[-1], k, sources, notice, t0,
                                       scope=scope)
        use_llm = self.llm_configured if llm is None else llm
        if not use_llm or not answer.passages:
            return language.add_notice(answer, q)
        previous = last_question(history) if query != q else ""
        read = self.mode("llm")(answer, ReadContext(previous, on_text, self.encode))
        return language.add_notice(read, q)

    def retrieve_passages(self, question: str, history: Sequence = (), k: int | None = None,
                          sources: Iterable[str] | None = None,
                          scope: Scope | None = None) -> list[Passage]:
        """Ranked passages for a question in its conversation (no answer composed)."""
        query = self.query_for(clean_question(question)[0], history)
        return self.search(query, k=k, sources=sources, scope=scope)

    def search(self, query: str, k: int | None = None, sources: Iterable[str] | None = None,
               vector=None, scope: Scope | None = None) -> list[Passage]:
        """Ranked passages for a retrieval query (its vector, when already encoded)."""
        vec = self.encode([query])[0] if vector is None else vector
        return self.current().search(query, vec, k, sources, scope)
