"""What evaluation asks of an Assistant beyond the app's questions: many single questions with
batched encoding, and ranked article sources per retrieval mode."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ..answer.conversation import clean_question
from ..records import Answer
from ..retrieval import Retriever, rank_documents
from ..service import Assistant
from ..text import tokenize


def ask_many(assistant: Assistant, questions: Sequence[str], k: int | None = None,
             batch: int = 256) -> list[Answer]:
    """Answer many single questions (no history, no LLM) with batched encoding, all from
    the same build: what evaluation runs."""
    out: list[Answer] = []
    for i in range(0, len(questions), batch):
        qs = [clean_question(q)[0] or q for q in questions[i:i + batch]]
        vecs = assistant.encode(qs)
        pipeline = assistant.current()
        out += [pipeline.answer(q, v, q, v, k=k) for q, v in zip(qs, vecs)]
    return out


def rank_sources(assistant: Assistant, questions: Sequence[str], k: int = 100, chunks: int = 300,
                 modes: Sequence[str] = ("hybrid",)) -> dict[str, list[dict[str, float]]]:
    """Per mode (hybrid, dense or lexical) and question, its `k` best article sources scored
    by their best chunk among the `chunks` best: retrieval evaluation. The questions are
    encoded once for all modes."""
    retriever = Retriever(assistant.current().snapshot, dataclasses.replace(
        assistant.fusion, candidates=max(assistant.fusion.candidates, chunks)))
    qvecs = assistant.encode(list(questions))
    qtoks = tokenize(list(questions), query=True)
    return {mode: rank_documents(retriever, qvecs, qtoks, k, chunks, mode) for mode in modes}
