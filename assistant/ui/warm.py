"""Warm start: what the app loads for its first visitor (the model, the current build, the
article list, the first corpus walk and its out-of-date check), loaded before the server
reports healthy.

Streamlit has no start-up hook, and an HTTP request does not run the script (only a browser
session over the websocket does). So `make run` starts the server through `app_server.py`,
which calls `preload` in the server's own process and only then starts Streamlit in it; the
app's cached loaders (`st.cache_resource`) take the objects from here instead of loading them.
The health endpoint therefore answers only once everything is loaded. No Streamlit here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..config import Settings

_ready: dict[tuple, object] = {}
_lock = threading.Lock()


def take(kind: str, *key) -> object | None:
    """A preloaded object ("embedder", "assistant", "catalog", "watch"), or None."""
    with _lock:
        return _ready.get((kind, *key))


def preload(settings: Settings, log: Callable[[str], None] = lambda line: None) -> dict:
    """Load everything the first page needs, keyed as the app asks for it. Returns the seconds
    each step took. Raises AssistantError when there is no usable index (the app then shows its
    build page, which needs nothing preloaded)."""
    from .. import service
    from .catalog import ArticleCatalog
    from .watch import CorpusWatch

    times: dict[str, float] = {}
    t = time.perf_counter()
    index = service.index_state(settings, corpus=False)
    if index.problem is not None:
        raise index.problem
    # The app's model: one thread for questions unless ASSISTANT_THREADS says otherwise.
    threads = settings.threads or 1
    embedder = service.make_embedder(settings.replace(threads=threads))
    assistant = service.Assistant.open(settings=settings, embedder=embedder)
    assistant.encode(["warm up"])
    assistant.ask("warm up the answer path")  # first-call costs of retrieval and answering
    times["model_and_index"] = time.perf_counter() - t
    t = time.perf_counter()
    catalog = ArticleCatalog(assistant.articles())
    times["articles"] = time.perf_counter() - t
    t = time.perf_counter()
    watch = CorpusWatch(str(settings.corpus_dir))
    try:
        watch.digest()
        service.index_state(settings, scanned=watch.files)  # reads what changed, warms the OS cache
    except OSError as exc:
        log(f"warm-up: the corpus folder cannot be read ({exc})")
    times["corpus_walk"] = time.perf_counter() - t
    index_dir, corpus_dir = str(settings.index_dir), str(settings.corpus_dir)
    with _lock:
        _ready[("embedder", threads, settings.batch_size, settings.precision)] = embedder
        _ready[("assistant", index_dir)] = assistant
        _ready[("catalog", index_dir, assistant.build_name)] = catalog
        _ready[("watch", corpus_dir)] = watch
    log("warm-up: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    return times
