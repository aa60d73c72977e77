"""What the evaluations share: an index of ready-made articles kept between runs, the fixed
split of questions into a fitting and a reporting half, and the answer-containment test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..config import Settings
from ..records import Article, content_id
from ..service import build_index, index_state, make_embedder


def ensure_index(articles: list[Article], index_dir: Path, settings: Settings, embedder=None,
                 progress: bool | None = None) -> None:
    """Build an index of `articles` in index_dir unless a usable one of the same articles, made
    with the same chunking and precision, is there."""
    embedder = embedder or make_embedder(settings)
    settings = settings.replace(index_dir=Path(index_dir))
    sig = content_id(*(a.source + a.sha256 for a in articles), str(settings.chunk_tokens),
                     json.dumps(settings_of_lexical(), sort_keys=True),
                     embedder.precision)
    marker = Path(index_dir) / "EVAL_SIGNATURE"
    if marker.is_file() and marker.read_text() == sig and \
            index_state(settings, corpus=False).usable:
        return
    build_index(settings, articles=articles, embedder=embedder, progress=progress)
    marker.write_text(sig)


def settings_of_lexical() -> dict:
    """The BM25 parameters: a change of them needs a new evaluation index."""
    from ..index.lexical import BM25_PARAMS  # a tuned constant, not an index: below the facade

    return BM25_PARAMS


def half(qid: str) -> int:
    """A fixed split of the questions into a fitting half (0) and a reporting half (1)."""
    return hashlib.sha256(qid.encode()).digest()[0] & 1


def contains_answer(text: str, answers: list[str]) -> bool:
    t = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in t for a in answers if a.strip())
