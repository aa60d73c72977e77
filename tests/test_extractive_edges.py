"""The extractive answer at the edges the mutation run found."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.extractive import (
    answer_type,
    candidates,
    compose,
    has_type,
    question_terms,
    select,
)
from devtools.bridge_sample import IDF, QUESTION, QVEC, SENTS, TEXT, passage, spans, unit


@pytest.mark.parametrize("question,kind", [
    ("In 2005, how many people crossed the Quorvath bridge?", "number"),
    ("Tell me how much the bridge cost.", "number"),
    ("When is the bridge festival held?", "date"),
    ("And when did the bridge open?", "date"),
    ("The bridge opened in what year?", "date"),
    ("So when was it built?", "date"),
])
def test_the_kind_asked_for_is_found_anywhere_in_the_question(question, kind):
    assert answer_type(question) == kind


def test_a_number_question_wants_a_number_not_a_name():
    assert has_type("The bridge is 840 meters long.", "number")
    assert has_type("Hundreds cross it every day.", "number")
    assert not has_type("It crosses the river Lenn.", "number")  # a name is not a number


def test_question_words_the_articles_never_use_are_counted():
    weights, unknown = question_terms("When was the zyxq bridge opened?", IDF)
    assert weights == {"zyxq": 2.0, "bridg": 2.0, "open": 2.0}  # unknown words weigh the most
    assert unknown == pytest.approx(1 / 3)
    _, feats = candidates("When was the zyxq bridge opened?", QVEC, [passage()], [SENTS], IDF)
    assert feats["unknown_terms"] == pytest.approx(1 / 3)
    assert question_terms(QUESTION, IDF)[1] == 0.0
    assert question_terms("What was it?", IDF) == ({}, 0.0)


def test_a_question_without_content_words_overlaps_nothing():
    cands, feats = candidates("What was it?", QVEC, [passage()], [SENTS], IDF)
    assert len(cands) == 4
    assert all((c.overlap, c.with_prev, c.window) == (0.0, 0.0, 0.0) for c in cands)
    assert feats["best_sentence_overlap"] == 0.0 and feats["passage_overlap"] == 0.0


def test_each_candidate_records_the_words_of_its_neighbours():
    """The signals the sentence tuner (benchmarks/tune_sentences.py) reads off each candidate:
    the share of question words in the sentence, with the sentence before, with both
    neighbours, and the passage's score relative to the best. Neighbours stop at the chunk."""
    other = passage("The Quorvath bridge was opened in 1987. Trains cross it every hour.",
                    title="Other", score=0.5)
    cands, _ = candidates(QUESTION, QVEC, [passage(), other],
                          [SENTS, np.stack([unit(0, 0, 0, 1), unit(0, 0, 0, 0, 1)])], IDF)
    got = {(c.passage.article_title, c.text): (c.overlap, c.with_prev, c.window, c.passage_share)
           for c in cands}
    third, two = pytest.approx(1 / 3), pytest.approx(2 / 3)
    assert got == {
        ("Quorvath Bridge", "The Quorvath bridge crosses the river Lenn."): (two, two, 1.0, 1.0),
        ("Quorvath Bridge", "It was opened in 1987 by mayor Elisabeth Tran."):
            (third, 1.0, 1.0, 1.0),
        ("Quorvath Bridge", "The bridge is 840 meters long."): (third, two, two, 1.0),
        # The last sentence of a chunk: the next passage's words are not its neighbours'.
        ("Quorvath Bridge", "Trains cross it every hour."): (0.0, third, third, 1.0),
        ("Other", "The Quorvath bridge was opened in 1987."): (1.0, 1.0, 1.0, 0.5),
        ("Other", "Trains cross it every hour."): (0.0, 1.0, 1.0, 0.5),
    }


def test_neighbouring_chunks_share_a_sentence_once_and_keep_the_rest():
    """Chunks of one section overlap by a sentence: it is a candidate once, and the sentences
    after it in the second chunk are still candidates."""
    (a1, _), (a2, _), (a3, b3), (a4, _) = spans(TEXT)
    first = passage(TEXT[:b3])  # sentences 1-3
    second = passage(TEXT[a3:], start=a3, score=0.9)  # sentences 3-4
    assert first.chunk.sentences[-1] == second.chunk.sentences[0] == (a3, b3)
    cands, _ = candidates(QUESTION, QVEC, [first, second], [SENTS[:3], SENTS[2:]], IDF)
    assert sorted((c.start, c.text) for c in cands) == [
        (a1, "The Quorvath bridge crosses the river Lenn."),
        (a2, "It was opened in 1987 by mayor Elisabeth Tran."),
        (a3, "The bridge is 840 meters long."),
        (a4, "Trains cross it every hour.")]
    # The sentence after the shared one is quoted from the second chunk, at its section offset.
    last = next(c for c in cands if c.start == a4)
    assert last.passage is second
    answer = compose(QUESTION, [cands[0], last], [first, second], 0.9)
    assert answer.citations[1].quote == "Trains cross it every hour."
    assert (answer.citations[1].quote_start, answer.citations[1].quote_end) == (a4, len(TEXT))


def test_the_best_passage_covers_question_words_in_its_text_or_title():
    _, feats = candidates(QUESTION, QVEC, [passage()], [SENTS], IDF)
    assert feats["passage_overlap"] == 1.0 and feats["rarest_missing"] == 0.0
    # The text never names the bridge; the article title does.
    text = "The bridge crosses the river Lenn. It was opened in 1987."
    untitled = passage(text, title="Lenn crossings")
    _, feats = candidates(QUESTION, QVEC, [untitled], [SENTS[:2]], IDF)
    assert feats["passage_overlap"] == pytest.approx(2 / 3) and feats["rarest_missing"] == 1.0
    titled = passage(text, title="Quorvath Bridge")
    _, feats = candidates(QUESTION, QVEC, [titled], [SENTS[:2]], IDF)
    assert feats["passage_overlap"] == 1.0 and feats["rarest_missing"] == 0.0


def test_a_passage_without_sentences_gives_no_sentence_evidence():
    empty = passage(sentences=())
    cands, feats = candidates(QUESTION, QVEC, [empty], [np.zeros((0, 8), np.float32)], IDF)
    assert cands == [] and select(cands) == []
    assert feats["best_sentence_dense"] == 0.0 and feats["best_sentence_overlap"] == 0.0
    assert feats["type_found"] == 0.0  # a date question, and no sentence to hold a date
    assert compose(QUESTION, [], [empty], 0.9).tier == "abstain"


@pytest.mark.parametrize("question,text,found", [
    (QUESTION, TEXT, 1.0),
    # No date anywhere.
    (QUESTION, "The Quorvath bridge crosses the river Lenn. Trains cross it every hour.", 0.0),
    # A date, but in a sentence that shares no word with the question.
    (QUESTION, "The Quorvath bridge crosses the river Lenn. Work began in 1985.", 0.0),
    # A question that asks for no particular kind of thing.
    ("What crosses the Quorvath bridge?", "Trains cross the Quorvath bridge.", 1.0),
])
def test_type_found_needs_the_kind_asked_for_in_a_sentence_about_the_question(question, text,
                                                                               found):
    p = passage(text)
    vecs = np.stack([unit(1, i) for i in range(len(p.chunk.sentences))])
    _, feats = candidates(question, QVEC, [p], [vecs], IDF)
    assert feats["type_found"] == found


@pytest.mark.parametrize("before,found", [(4, 1.0), (5, 0.0)])
def test_type_found_looks_at_the_five_best_sentences_only(before, found):
    """The fitted abstention model was fitted on this definition: a sentence of the asked kind
    counts only among the five best sentences."""
    lead = ["The Quorvath bridge is old.", "The Quorvath bridge is wide.",
            "The Quorvath bridge is grey.", "The Quorvath bridge is busy.",
            "The Quorvath bridge is famous."][:before]
    p = passage(" ".join([*lead, "The bridge was opened in 1987."]))
    vecs = np.stack([*(unit(1, 0.1 * i) for i in range(before)), unit(-1, 1)])
    cands, feats = candidates(QUESTION, QVEC, [p], [vecs], IDF)
    assert [c.text for c in cands].index("The bridge was opened in 1987.") == before
    assert feats["type_found"] == found


def test_every_tier_carries_the_build_it_was_answered_from():
    p = passage()
    chosen = select(candidates(QUESTION, QVEC, [p], [SENTS], IDF)[0])
    for conf, tier in ((0.9, "answer"), (0.2, "possible"), (0.05, "abstain")):
        a = compose(QUESTION, chosen, [p], conf, build_id="b-2026-12-03")
        assert (a.tier, a.build_id) == (tier, "b-2026-12-03")
