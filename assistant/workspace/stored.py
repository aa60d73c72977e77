"""Answers as JSON and back: what a saved message and a share snapshot keep, enough to show the
answer again exactly (markers, sources with quotes, the closest passages of an abstention)."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..records import Answer, Chunk, Citation, Passage

FORMAT = 1


def answer_to_json(answer: Answer) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "question": answer.question,
        "text": answer.text,
        "abstained": answer.abstained,
        "tier": answer.tier,
        "mode": answer.mode,
        "confidence": float(answer.confidence),
        "build_id": answer.build_id,
        "notice": answer.notice,
        "llm": answer.llm,
        "citations": [dataclasses.asdict(c) for c in answer.citations],
        "passages": [_passage_json(p) for p in answer.passages],
    }


def _passage_json(p: Passage) -> dict[str, Any]:
    chunk = dataclasses.asdict(p.chunk)
    return {"chunk": chunk, "article_title": p.article_title, "source": p.source,
            "score": float(p.score)}


def answer_from_json(d: dict[str, Any]) -> Answer:
    """Raises ValueError (or KeyError/TypeError) for a record that is not a saved answer."""
    cites = tuple(Citation(**{**c, "heading_path": tuple(c.get("heading_path") or ())})
                  for c in d.get("citations") or ())
    passages = []
    for p in d.get("passages") or ():
        ch = dict(p["chunk"])
        ch["heading_path"] = tuple(ch.get("heading_path") or ())
        ch["sentences"] = tuple(tuple(s) for s in ch.get("sentences") or ())
        passages.append(Passage(chunk=Chunk(**ch), article_title=p["article_title"],
                                source=p["source"], score=float(p.get("score", 0.0))))
    return Answer(question=d["question"], text=d["text"], citations=cites,
                  abstained=bool(d["abstained"]), confidence=float(d.get("confidence", 0.0)),
                  passages=tuple(passages), build_id=d.get("build_id", ""),
                  notice=d.get("notice", ""), tier=d.get("tier", ""),
                  mode=d.get("mode", "extractive"), llm=d.get("llm"))


def citations_json(answer: Answer) -> list[dict[str, Any]]:
    """The citations column: what a person reads (and what a report query wants)."""
    return [{**c.to_json(), "article_id": c.article_id, "section_index": c.section_index,
             "quote_start": c.quote_start, "quote_end": c.quote_end} for c in answer.citations]
