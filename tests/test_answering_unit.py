"""answer/extractive.py without the model: hand-made passages and sentence vectors. Sentence choice,
the confidence model, the three tiers and what each tier says."""

from __future__ import annotations

import dataclasses
import re

import pytest

from assistant.answer import extractive
from assistant.answer.extractive import (
    DEFAULT_ANSWER_SETTINGS,
    NO_CLEAR_ANSWER,
    candidates,
    compose,
    confidence,
    select,
    tier_of,
)
from assistant.records import Chunk
from devtools.bridge_sample import IDF, QVEC, SENTS, TEXT, passage


def test_the_sentence_that_answers_is_chosen_first():
    cands, feats = candidates("When was the Quorvath bridge opened?", QVEC, [passage()], [SENTS],
                              IDF)
    assert cands[0].text == "It was opened in 1987 by mayor Elisabeth Tran."
    assert cands[0].typed  # a date question and a sentence with a year
    assert set(feats) == set(extractive.FEATURES)
    assert feats["best_sentence_dense"] == pytest.approx(float(SENTS[1] @ QVEC))


def test_select_drops_near_duplicates_and_weak_sentences():
    cands, _ = candidates("When was the Quorvath bridge opened?", QVEC, [passage()], [SENTS],
                          IDF)
    s = dataclasses.replace(DEFAULT_ANSWER_SETTINGS, keep_ratio=0.0, duplicate_cos=0.99)
    assert len(select(cands, s)) == 3  # max_sentences
    dup = [dataclasses.replace(cands[0]), dataclasses.replace(cands[0], start=99)]
    assert len(select(dup, s)) == 1  # the same vector twice is one sentence
    strict = dataclasses.replace(DEFAULT_ANSWER_SETTINGS, keep_ratio=1.0)
    assert select(cands, strict) == [cands[0]]
    assert select([], DEFAULT_ANSWER_SETTINGS) == []


def test_confidence_rises_with_evidence():
    base = {"top_dense": 0.5, "best_sentence_dense": 0.5, "best_sentence_overlap": 0.5,
            "type_found": 1.0, "unknown_terms": 0.0, "passage_overlap": 0.5, "rarest_missing": 0.0}
    low = confidence({**base, "best_sentence_dense": 0.1})
    high = confidence({**base, "best_sentence_dense": 0.9})
    assert 0.0 < low < high < 1.0
    assert confidence({**base, "unknown_terms": 1.0}) < confidence(base)


@pytest.mark.parametrize("conf,tier", [(0.9, "answer"), (DEFAULT_ANSWER_SETTINGS.threshold, "answer"),
                                       (0.2, "possible"),
                                       (DEFAULT_ANSWER_SETTINGS.possible_threshold, "possible"),
                                       (0.1, "abstain"), (0.0, "abstain")])
def test_tiers_follow_the_two_thresholds(conf, tier):
    assert tier_of(conf, DEFAULT_ANSWER_SETTINGS) == tier


def test_each_tier_says_what_it_is_and_cites_only_when_shown():
    p = passage()
    cands, feats = candidates("When was the Quorvath bridge opened?", QVEC, [p], [SENTS], IDF)
    chosen = select(cands)
    for conf, tier in ((0.9, "answer"), (0.2, "possible"), (0.05, "abstain")):
        a = compose("When was it opened?", chosen, [p], conf, features=feats)
        assert a.tier == tier and a.abstained == (tier == "abstain")
        if tier == "abstain":
            assert a.text == NO_CLEAR_ANSWER and a.citations == () and a.passages == (p,)
            assert not re.search(r"do(es)? not (say|contain)", a.text)
            assert a.considered  # the sentences it would have shown are kept for evaluation
        else:
            assert a.text.startswith("It was opened in 1987 by mayor Elisabeth Tran. [1]")
            c = a.citations[0]
            assert c.n == 1 and c.quote == chosen[0].text and c.quote in c.passage
            assert TEXT[c.quote_start:c.quote_end] == c.quote
        assert a.to_json()["tier"] == tier
    assert compose("q", [], [p], 0.99).tier == "abstain"  # nothing to show


def test_the_json_record_of_each_tier_is_exact():
    """The record the CLI, the API and saved conversations carry: every key and value."""
    p = passage(score=0.876543)
    extra = [passage(TEXT + "  \n", title=f"Other {i}", score=0.5) for i in range(3)]
    cands, feats = candidates("When was the Quorvath bridge opened?", QVEC, [p], [SENTS], IDF,
                              DEFAULT_ANSWER_SETTINGS)
    chosen = select(cands)
    shown = dataclasses.replace(compose("When was it opened?", chosen, [p], 0.9, features=feats),
                                timings_ms={"retrieve": 1.23456, "answer": 2})
    record = shown.to_json()
    cite = shown.citations[0]
    assert record == {
        "question": "When was it opened?", "answer": shown.text, "abstained": False,
        "tier": "answer", "notice": "", "confidence": 0.9, "mode": "extractive", "llm": None,
        "citations": [{"n": 1, "article": "Quorvath Bridge", "section": cite.section,
                       "page": None, "source": "Quorvath Bridge.txt", "quote": cite.quote,
                       "passage": cite.passage, "score": round(cite.score, 4)}],
        "closest": [], "timings_ms": {"retrieve": 1.23, "answer": 2.0}}
    assert cite.quote == "It was opened in 1987 by mayor Elisabeth Tran."
    assert cite.score != round(cite.score, 4) != round(cite.score)  # the rounding shows
    none = compose("Who painted it?", [], [p, *extra], 0.123456)
    record = none.to_json()
    assert record["abstained"] is True and record["tier"] == "abstain"
    assert record["confidence"] == 0.1235 and record["citations"] == []
    # The three closest passages, stripped, with where they come from.
    assert record["closest"] == [
        {"article": "Quorvath Bridge", "section": p.section, "source": "Quorvath Bridge.txt",
         "passage": TEXT}] + [
        {"article": f"Other {i}", "section": extra[i].section, "source": f"Other {i}.txt",
         "passage": TEXT} for i in range(2)]
    assert record["timings_ms"] == {}


def test_index_status_reads_every_manifest_field():
    from assistant.records import IndexStatus

    manifest = {"built_at": "2026-12-03T10:00:00Z", "counts": {"articles": 2, "chunks": 5},
                "model": {"name": "m", "dim": 384}, "precision": "bf16",
                "skipped": [{"source": "bad.pdf", "reason": "encrypted"}]}
    status = IndexStatus.of_manifest("b1", manifest, query_precision="bf16", reload_error="x")
    assert status == IndexStatus(build="b1", built_at="2026-12-03T10:00:00Z",
                                 counts={"articles": 2, "chunks": 5},
                                 model={"name": "m", "dim": 384}, precision="bf16",
                                 skipped=({"source": "bad.pdf", "reason": "encrypted"},),
                                 query_precision="bf16", reload_error="x")
    # A manifest from before precision and skipped files were recorded: float32, none skipped.
    old = IndexStatus.of_manifest("b0", {"counts": None, "model": None, "skipped": None})
    assert (old.built_at, old.counts, old.model, old.precision, old.skipped) == (
        None, {}, {}, "fp32", ())


def test_records_check_themselves():
    from assistant.records import Article, Citation, Section, content_id

    # Lists become tuples (records are hashable and compared by value).
    section = Section(["Results", "2005"], "text")
    assert section.heading_path == ("Results", "2005")
    assert Article("a", "T", "t.txt", [section]).sections == (section,)
    for bad, why in ((lambda: Section((), "x", page=0), "page numbers start at 1"),
                     (lambda: Article("a", " ", "t.txt", ()), "t.txt: article without a title")):
        with pytest.raises(ValueError) as err:
            bad()
        assert str(err.value) == why
    c = dict(n=1, article="A", section="S", heading_path=(), source="a.txt", passage="abc",
             quote="b", quote_start=1, quote_end=2)
    assert Citation(**c).quote == "b"
    with pytest.raises(ValueError) as err:
        Citation(**{**c, "n": 0})
    assert str(err.value) == "citation numbers start at 1"
    with pytest.raises(ValueError) as err:
        Citation(**{**c, "quote": "z"})
    assert str(err.value) == "a quote must come from its passage"
    # Ids are stable, and a file name that is not valid UTF-8 (a lone surrogate from the file
    # system) still gets one.
    assert content_id("a", "b") == content_id("a", "b") != content_id("ab", "")
    assert len(content_id("bad\udc80name.txt")) == 24
    assert content_id("bad\udc80name.txt") != content_id("bad\udc81name.txt")


def test_chunks_and_answers_refuse_inconsistent_fields():
    from assistant.records import Answer

    ok = dict(id="c", article_id="a", section_index=0, heading_path=(), text="abc", start=5,
              end=8, sentences=((5, 8),))
    assert Chunk(**ok).end == 8  # offsets into the section: a chunk need not start at 0
    for change, why in (({"end": 9}, "chunk offsets do not match its text"),
                        ({"sentences": ((4, 8),)}, "sentence outside its chunk"),
                        ({"sentences": ((5, 9),)}, "sentence outside its chunk")):
        with pytest.raises(ValueError) as err:
            Chunk(**{**ok, **change})
        assert str(err.value) == why
    with pytest.raises(ValueError) as err:
        Answer(question="q", text="t", citations=(), abstained=False, mode="chat")
    assert str(err.value) == "mode must be 'extractive' or 'llm'"
