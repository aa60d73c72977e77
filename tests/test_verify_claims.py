"""Splitting a model's answer into sentences ("claims"), whole and streamed, and the polarity
(reversal) check, at the edges the mutation run (issue 26) found untested: initialisms, ranges in
markers, dotted runs too long for an abbreviation, sentences settling while the answer still
streams (bullets, a leading ellipsis, brackets that are no marker, the wait for a marker), the
streamed splitter staying linear, and which clauses of a passage a claim is compared with."""

from __future__ import annotations

import pytest

from assistant.answer.verify.claims import _MARKER_WAIT, Claim, ClaimStream, split_claims
from assistant.answer.verify.polarity import reversed_of


def streamed(text: str) -> ClaimStream:
    """A stream fed `text` in one piece, still open."""
    cs = ClaimStream()
    cs.feed(text)
    return cs


# ----------------------------------------------------------------------------- whole answers

@pytest.mark.parametrize("answer, expected", [
    ("The Hobbit was written by J.R.R. Tolkien in 1937 [1].",
     [("The Hobbit was written by J.R.R. Tolkien in 1937.", (1,))]),
    ("He moved to the U.S.A. Later he returned [1].",
     [("He moved to the U.S.A. Later he returned.", (1,))]),
])
def test_an_initialism_does_not_end_the_sentence(answer, expected):
    assert [(c.text, c.cited) for c in split_claims(answer)] == expected


def test_a_dotted_run_too_long_for_an_initialism_ends_the_sentence():
    answer = ("The password was spelt out as C.O.R.R.E.C.T.H.O.R.S.E.B.A.T.T.E.R.Y. "
              "It was never changed.")
    assert [c.text for c in split_claims(answer)] == [
        "The password was spelt out as C.O.R.R.E.C.T.H.O.R.S.E.B.A.T.T.E.R.Y.",
        "It was never changed."]


def test_a_reversed_or_implausibly_long_range_cites_its_two_ends():
    claims = split_claims("The war ended in 1763 [3-1]. It began in 1756 [1-40].")
    assert [c.cited for c in claims] == [(3, 1), (1, 40)]


# ----------------------------------------------------------------------------- streaming

def test_sentences_settle_while_the_answer_still_streams():
    cs = streamed("The war ended in 1763 [1]. It lasted seven years [2]. The")
    assert cs.claims == [Claim("The war ended in 1763.", (1,)),
                         Claim("It lasted seven years.", (2,))]
    assert cs.final == 1  # the last may still take a line of only markers


@pytest.mark.parametrize("bullet", ["- ", "* ", "1. ", "## "])
def test_a_streamed_list_item_settles_without_its_bullet(bullet):
    cs = streamed(bullet + "The war ended in 1763. It lasted seven years.")
    assert cs.claims == [Claim("The war ended in 1763.")]


def test_a_streamed_answer_opening_with_an_ellipsis_splits_as_the_whole():
    text = "... The war ended in 1763. It lasted seven years."
    cs = streamed(text)
    assert cs.claims == [Claim("The war ended in 1763.")]
    assert cs.close() == split_claims(text) == [Claim("The war ended in 1763."),
                                                Claim("It lasted seven years.")]


def test_a_bracket_that_is_no_marker_does_not_hold_the_sentence_back():
    text = "The war ended in 1763. [Article 2] It lasted seven years [Article 1]"
    cs = streamed(text)
    assert cs.claims == [Claim("The war ended in 1763.")]
    assert cs.close() == split_claims(text)


def test_white_space_after_a_sentence_end_waits_for_a_marker_only_so_long():
    sentence = "The war ended in 1763 [1]."
    assert streamed(sentence + " " * (_MARKER_WAIT - 1)).claims == []  # a marker may follow
    assert streamed(sentence + " " * _MARKER_WAIT).claims == [
        Claim("The war ended in 1763.", (1,))]


# ----------------------------------------------------------------------------- polarity

def test_an_opposite_is_reported_in_the_user_facing_words():
    assert reversed_of("The council rejected the plan.",
                       "The council approved the plan in 1998.") == (
        "it says the opposite of the passage")


def test_an_all_capitals_claim_is_checked_too():
    assert reversed_of("THE COUNCIL REJECTED THE PLAN",
                       "The council approved the plan in 1998.") == (
        "it says the opposite of the passage")


def test_a_claim_dropping_the_negation_of_a_clause_sharing_two_content_words():
    assert reversed_of("The bridge was finished in the spring.",
                       "The bridge was not finished by the deadline.") == (
        "it leaves out the passage's negation")


def test_a_negation_sharing_only_function_words_and_one_topic_says_nothing():
    assert reversed_of("The bridge was built in the spring.",
                       "The bridge was not finished by the deadline.") == ""
