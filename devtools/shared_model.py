"""One loaded model per process for the tests' session-wide `embedder` fixture.

A normal pytest run is one session per process, so this changes nothing there. `make mutants`
runs one pytest session per mutant, each forked from mutmut's fork server: the server imports
`devtools.mutmut_warm`, which loads the model here once, so no mutant pays for loading it.
"""
from __future__ import annotations

import os

_embedder = None


def embedder():
    """The real model (assistant.embedding.Embedder), loaded lazily and shared by the process.
    ASSISTANT_TEST_MODEL_THREADS sets its torch threads (0: all cores)."""
    global _embedder
    if _embedder is None:
        from assistant.embedding import Embedder

        _embedder = Embedder(threads=int(os.environ.get("ASSISTANT_TEST_MODEL_THREADS", "0")))
    return _embedder
