"""A sentence joining facts from two cited passages (assistant/answer/verify/joint.py), with the
real model: kept with both citations when together they support it, each quoting its own span;
dropped when the union lacks a figure or a name, or the sentence reverses what they say."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answer import verify as V
from assistant.answer.verify.joint import joint_support

SPENT = "The council spent $5 million on the new bridge in 1998. Local papers praised the design."
OPENED = "The bridge was designed by Maria Lopez. It opened to traffic in 2001 after long delays."
STEAM = ("A steam engine is a heat engine that performs mechanical work using steam as its "
         "working fluid.")
JOINED = "The council spent $5 million on the bridge, which opened to traffic in 2001"

pytestmark = pytest.mark.heavy  # the real model


@pytest.fixture(scope="module")
def encode(embedder):
    return embedder.encode_queries


def test_a_joined_sentence_is_kept_with_both_citations_quoting_their_spans(encode):
    for cited in ("[1][2]", "[1][2][3]"):
        v = V.verify(f"{JOINED} {cited}.", [SPENT, OPENED, STEAM], encode)
        assert not v.dropped and len(v.kept) == 1
        claim, supports = v.kept[0]
        # The passage that gives none of its words is not kept as a citation.
        assert sorted(supports) == [1, 2]
        assert all(s.ok and s.reason == "" for s in supports.values())
        assert "$5 million" in SPENT[slice(*supports[1].span)]
        assert "2001" in OPENED[slice(*supports[2].span)]
        # Each passage's own similarity, and the overlap of the joined spans.
        assert supports[1].similarity > supports[2].similarity > 0.3
        assert supports[1].overlap == supports[2].overlap == 1.0
        # A kept citation is not also reported as removed (each alone fell short).
        removed = [n for _, n, _ in v.removed_citations]
        assert removed == ([3] if cited == "[1][2][3]" else [])


def test_each_passage_alone_does_not_support_it(encode):
    """So the sentence above was kept by the joint check, not by one passage."""
    for passage in (SPENT, OPENED):
        v = V.verify(f"{JOINED} [1].", [passage], encode)
        assert not v.kept and v.dropped


@pytest.mark.parametrize("answer, why", [
    ("The council spent $7 million on the bridge, which opened to traffic in 2001 [1][2].",
     '"$7 million"'),
    ("The council spent $5 million on the bridge, which opened to traffic in 2003 [1][2].",
     '"2003"'),
    ("The council spent $5 million on the bridge, which John Smith opened in 2001 [1][2].",
     '"John" and "Smith"'),
])
def test_a_figure_or_name_in_neither_passage_drops_it(encode, answer, why):
    v = V.verify(answer, [SPENT, OPENED], encode)
    assert not v.kept and len(v.dropped) == 1 and why in v.dropped[0][1]


@pytest.mark.parametrize("answer", [
    "The council spent $5 million on the bridge, which did not open to traffic in 2001 [1][2].",
    "The council spent $5 million on the bridge, which closed to traffic in 2001 [1][2].",
    "The council did not spend $5 million on the bridge that opened to traffic in 2001 [1][2].",
])
def test_a_reversal_of_the_joined_spans_drops_it(encode, answer):
    assert not V.verify(answer, [SPENT, OPENED], encode).kept
    # Only the polarity check stops it: without it the sentence would pass.
    lax = replace(V.DEFAULT_VERIFY_SETTINGS, polarity=False)
    assert V.verify(answer, [SPENT, OPENED], encode, settings=lax).kept


def test_joint_support_needs_two_passages_with_spans(encode):
    prepared = {n: V._prepare(t, tuple(V.candidate_spans(t, None)))
                for n, t in ((1, SPENT), (2, OPENED))}
    vecs = {n: encode([p.text[a:b] for a, b in p.spans]) for n, p in prepared.items()}
    claim_vec = encode([JOINED])[0]
    terms = V._claim_terms([JOINED])[0]
    both = joint_support(JOINED, terms, claim_vec, prepared, vecs, V.DEFAULT_VERIFY_SETTINGS)
    assert sorted(both) == [1, 2]
    one = {1: prepared[1]}
    assert joint_support(JOINED, terms, claim_vec, one, vecs, V.DEFAULT_VERIFY_SETTINGS) == {}
    # A passage without spans does not count towards the two.
    empty = {1: prepared[1], 2: V._prepare("", ())}
    assert joint_support(JOINED, terms, claim_vec, empty, {1: vecs[1], 2: vecs[2][:0]},
                         V.DEFAULT_VERIFY_SETTINGS) == {}
