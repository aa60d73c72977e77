"""Figures and names at the edges the mutation run found."""

from __future__ import annotations

import pytest

from assistant.answer.verify import VerifySettings, check
from devtools.fakes import FakeEmbedder

FAKE = FakeEmbedder()

NORMANS = ("The Normans were the people who in the 10th and 11th centuries gave their name to "
           "Normandy, a region in France. They were descended from Norse raiders and pirates "
           "from Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear "
           "fealty to King Charles III of West Francia. The distinct cultural and ethnic "
           "identity of the Normans emerged initially in the first half of the 10th century.")


def enc(texts):
    return FAKE.encode_queries(list(texts))


def supports(claim: str, passage: str, **kw):
    """Figures and names only: no similarity or overlap threshold."""
    return check(claim, passage, enc, settings=VerifySettings(min_similarity=-1, min_overlap=0,
                                                              **kw))


# ----------------------------------------------------------------------------- figures

@pytest.mark.parametrize("claim, passage", [
    ("The 2004's budget rose sharply.", "In 2004 the budget rose sharply."),  # possessive year
    ("The wall was 5m high.", "The wall was 5 metres high."),  # "5m" may be metres
    ("The council spent $5 million on it.", "The council spent $5 m on it."),  # "$5 m": million
    ("The race drew 5,000 runners.", "The race drew 5k runners."),
    ("Later the two countries signed the pact.", "Both countries signed the pact."),  # "both"
    ("In 1990 these two countries signed.", "In 1990 both countries signed."),
])
def test_figures_that_match_at_the_edges(claim, passage):
    s = supports(claim, passage)
    assert s.ok, s.reason


@pytest.mark.parametrize("claim, passage, missing", [
    # A scaled figure is not its bare number: "5 million" is not "5".
    ("The town had 5 million residents.", "The town had 5 residents.", "5 million"),
    ("The town had 5,000 residents.", "The town had 5 residents.", "5,000"),
    # "5 m" and "5 k" (spaced, no currency) are metres and kilometres, not millions, thousands.
    ("The wall cost 5 million.", "The wall was 5 m high.", "5 million"),
    ("The race drew 5,000 runners.", "The race was 5 k long.", "5,000"),
    # "two" after something other than "the", "these", "those" is a count.
    ("Two countries signed the pact.", "Both countries signed the pact.", "Two"),
])
def test_figures_that_do_not_match_at_the_edges(claim, passage, missing):
    s = supports(claim, passage)
    assert not s.ok
    assert f'"{missing}"' in s.reason and "not in the passage" in s.reason


# ----------------------------------------------------------------------------- names

@pytest.mark.parametrize("claim", [
    "Undoubtedly the Normans gave their name to Normandy.",  # -ly adverb in no word list
    "Possibly the Normans came from Norway, Denmark and Iceland.",
    "Undoubtedly 3 ships came from Norway.",  # nothing but a figure after the adverb
    "Ruled by Rollo, the Normans swore fealty to King Charles III.",  # five-letter participle
    "The Normans gave their name to Normandy. Reportedly they came from Norway.",
    "The Normans gave their name to Normandy. Possibly they came from Norway.",
])
def test_ordinary_words_opening_a_sentence_are_not_names(claim):
    passage = NORMANS + " Three ships came from Norway."
    s = supports(claim, passage)
    assert s.ok, s.reason


@pytest.mark.parametrize("tail", ["", " ", "\n", "  \t"])
def test_trailing_whitespace_does_not_change_a_check(tail):
    """`check` takes the sentence as given: trailing whitespace does not make its first word a
    name."""
    s = supports("Reportedly the Normans came from Norway" + tail, NORMANS)
    assert s.ok, s.reason
    s = supports("Undoubtedly the Vikings came from Norway" + tail, NORMANS)
    assert not s.ok and '"Vikings"' in s.reason and '"Undoubtedly"' not in s.reason


def test_a_possessive_is_not_the_letter_s():
    """A one-letter name "S" is not supported by the "'s" of a possessive in the passage."""
    s = supports("Rollo's raiders came from Norway in the S fleet.",
                 "Rollo's raiders came from Norway in a fleet.")
    assert not s.ok and s.reason == 'the name "S" is not in the passage'
    assert supports("Rollo's raiders came from Norway in the S fleet.",
                    "Rollo's raiders came from Norway in the S fleet.").ok


def test_an_acronym_without_its_last_dot_is_the_acronym():
    passage = "The pact joined the US and Canada."
    assert supports("The pact joined the U.S. and Canada.", passage).ok
    s = supports("The pact joined the U.S and Canada.", passage)
    assert s.ok, s.reason
    assert not supports("The pact joined the U.K and Canada.", passage).ok


@pytest.mark.parametrize("claim", ["The two countries signed the pact.",
                                   "These two countries signed the pact.",
                                   "Later the two countries signed the pact."])
def test_the_two_at_the_start_of_a_sentence_is_both(claim):
    """"The two ..." opening a sentence is "both" too (it was checked case-sensitively)."""
    assert supports(claim, "Both countries signed the pact.").ok
