"""Answers made by hand for the workspace tests (SQLite and PostgreSQL alike): one with a
citation quoting an accented section, an abstention, and an uncited "may answer"."""

from __future__ import annotations

from assistant.records import Answer, Chunk, Citation, Passage

SECTION = "The Café Olé opened in Zürich in 1901. It serves coffee to 300 guests a day."
QUOTE = "The Café Olé opened in Zürich in 1901."


def make_answer(question: str = "When did the café open?", text: str | None = None,
                abstained: bool = False) -> Answer:
    chunk = Chunk(id="c1", article_id="art1", section_index=0, heading_path=("History",),
                  text=SECTION, start=0, end=len(SECTION), sentences=((0, len(QUOTE)),))
    passage = Passage(chunk=chunk, article_title="Café Olé", source="cafe.txt", score=0.7)
    if abstained:
        return Answer(question=question, text="No passage clearly answers this.", citations=(),
                      abstained=True, passages=(passage,), build_id="b1")
    cite = Citation.quoting(1, passage, 0, len(QUOTE), 0.9)
    return Answer(question=question, text=text or f"{QUOTE} [1]", citations=(cite,),
                  abstained=False, confidence=0.8, build_id="b1")


def other_answer(question: str, text: str) -> Answer:
    return Answer(question=question, text=text, citations=(), abstained=False, tier="possible")
