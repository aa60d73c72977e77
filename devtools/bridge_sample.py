"""A hand-made passage about the Quorvath bridge, its vocabulary and sentence vectors: the
fixture of the extractive answer's unit tests (tests/test_answering_unit.py and
tests/test_extractive_edges.py). Model-free: the vectors are set by hand so that which sentence
points the way of the question is known."""

from __future__ import annotations

import re

import numpy as np

from assistant.index.lexical import Idf
from assistant.records import Chunk, Passage

TEXT = ("The Quorvath bridge crosses the river Lenn. It was opened in 1987 by mayor Elisabeth "
        "Tran. The bridge is 840 meters long. Trains cross it every hour.")
QUESTION = "When was the Quorvath bridge opened?"  # stemmed: quorvath, bridg, open


def spans(text: str, offset: int = 0) -> tuple[tuple[int, int], ...]:
    """The sentence spans of `text` (split after . ! ?), shifted by `offset`."""
    out, start = [], 0
    for m in re.finditer(r"[.!?](\s|$)", text):
        out.append((offset + start, offset + m.start() + 1))
        start = m.end()
    return tuple(out)


def passage(text: str = TEXT, title: str = "Quorvath Bridge", score: float = 1.0,
            start: int = 0, heading_path: tuple[str, ...] = (),
            sentences: tuple[tuple[int, int], ...] | None = None,
            rows: tuple[int, int] | None = None) -> Passage:
    """A chunk of section 0 of article "a-<title>", `start` characters into the section; its
    sentences are rows [0, n) of the sentence vectors unless `rows` says otherwise."""
    sentences = spans(text, start) if sentences is None else sentences
    chunk = Chunk(id=f"c-{title}-{start}", article_id="a-" + title, section_index=0,
                  heading_path=heading_path, text=text, start=start, end=start + len(text),
                  sentences=sentences)
    return Passage(chunk=chunk, article_title=title, source=f"{title}.txt", score=score,
                   dense=score, sentence_rows=rows or (0, len(sentences)))


def unit(*xs: float) -> np.ndarray:
    """A unit vector of 8 dimensions starting with `xs`."""
    v = np.zeros(8, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


IDF = Idf.of({t: 2.0 for t in (
    "quorvath", "bridg", "cross", "river", "lenn", "open", "1987", "mayor", "elisabeth", "tran",
    "840", "meter", "long", "train", "everi", "hour")})
QVEC = unit(1, 0, 0)
# Sentence vectors: the "opened" sentence (the second) points the way of the question.
SENTS = np.stack([unit(0.3, 1, 0), unit(1, 0.1, 0), unit(0, 0, 1), unit(0, 1, 1)])
