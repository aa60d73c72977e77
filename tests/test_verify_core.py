"""verify()'s bookkeeping at the edges the mutation run found: the clause pieces a sentence is
compared with, the sentences whose words count, the reasons and quotes of a failed check, the
joint check's gates (figures, names, the question's words) and the model check's verdicts. Unit
tests with the fake encoder; where the fake's similarity would decide, the similarity threshold
is lowered so that only the rule under test does."""

from __future__ import annotations

from assistant.answer import verify as V
from assistant.answer.verify import VerifySettings, candidate_spans, check
from assistant.answer.verify.model_check import parse_verdicts
from devtools.fakes import FakeEmbedder

FAKE = FakeEmbedder()


def enc(texts):
    return FAKE.encode_queries(list(texts))


def run(answer, passages, **kw):
    return V.verify(answer, passages, enc, **kw)


def kept_texts(v) -> list[str]:
    return [c.text for c, _ in v.kept]


# The fake's similarity is a bag of hashed words: not a meaning. Rules other than meaning decide.
ANY_MEANING = VerifySettings(min_similarity=-1)

MONEY = ("The council spent $5 million on the new bridge in 1998. About 42 per cent of the "
         "1,000 residents opposed it. Three ships were lost in the nineteenth century.")
HARBOUR = ("The harbour was dredged by the navy. Merchants built warehouses along the quay. "
           "The old lighthouse guided ships into the bay. Fishermen sold herring at the market. "
           "A storm wrecked the pier in winter.")
SPENT = "The council spent $5 million on the new bridge in 1998. Local papers praised the design."
OPENED = ("European Union funds paid for the rest. The bridge opened to traffic in 2001. "
          "About 42 residents opposed it.")


# ----------------------------------------------------------------------------- spans

def test_clause_pieces_of_four_words_or_more_are_spans():
    """A long sentence is also compared clause by clause: the part before ", which" and the part
    from "which" on, each when it has at least 4 words, quoted without the trailing stop."""
    passage = ("The bridge was finished in 1998, which pleased the local council. "
               "The tower was finished, which pleased everyone. Traffic grew fast.")
    spans = candidate_spans(passage)
    texts = [passage[a:b] for a, b in spans]
    assert texts == [
        "The bridge was finished in 1998, which pleased the local council.",
        "The tower was finished, which pleased everyone.",
        "Traffic grew fast.",
        "The bridge was finished in 1998, which pleased the local council. The tower was "
        "finished, which pleased everyone.",
        "The tower was finished, which pleased everyone. Traffic grew fast.",
        "The bridge was finished in 1998",  # head, 6 words
        "which pleased the local council",  # tail, 5 words
        "The tower was finished",  # head, exactly 4 words; the tail has 3
    ]
    assert all(a < b for a, b in spans)


def test_a_sentence_saying_one_clause_quotes_that_clause():
    passage = "The bridge was finished in 1998, which pleased the local council. Traffic grew."
    s = check("The bridge was finished in 1998.", passage, enc)
    assert s.ok and passage[slice(*s.span)] == "The bridge was finished in 1998"


# ----------------------------------------------------------------------------- words near the span

def test_words_count_in_the_spans_touching_the_best_one_on_either_side_alike():
    """The content words are looked for in the best span and the spans touching it (a pair of
    sentences that ends or starts next to it): as far before it as after it."""
    # Best: "The old lighthouse ..."; "navy" is two sentences before, "storm" two after.
    before = check("The old lighthouse guided navy ships into the bay.", HARBOUR, enc)
    after = check("The old lighthouse guided storm ships into the bay.", HARBOUR, enc)
    for s in (before, after):
        assert HARBOUR[slice(*s.span)] == "The old lighthouse guided ships into the bay."
        assert s.overlap == 1.0
    # "herring" is three sentences after "The harbour was dredged ...": out of reach.
    far = check("The harbour was dredged by the navy for herring.", HARBOUR, enc)
    assert HARBOUR[slice(*far.span)] == "The harbour was dredged by the navy."
    assert far.overlap == 0.75  # harbour, dredged, navy of harbour, dredged, navy, herring


def test_without_the_window_only_the_best_span_counts():
    claim = "The old lighthouse guided herring ships into the bay."  # "herring": next sentence
    assert check(claim, HARBOUR, enc).overlap == 1.0
    narrow = check(claim, HARBOUR, enc, settings=VerifySettings(window=False))
    assert HARBOUR[slice(*narrow.span)] == "The old lighthouse guided ships into the bay."
    assert narrow.overlap == 5 / 6  # old, lighthouse, guided, ships, bay; not herring


def test_a_number_written_with_or_without_separators_is_one_word():
    for claim in ("About 42 per cent of the 1000 residents opposed it.",
                  "About 42 per cent of the 1,000 residents opposed it."):
        s = check(claim, MONEY, enc)
        assert s.ok and s.overlap == 1.0, s


# ----------------------------------------------------------------------------- reasons and quotes

def test_an_empty_passage_quotes_nothing():
    s = check("The council spent $5 million on the new bridge.", "  \n", enc)
    assert not s.ok and s.reason == "the passage is empty"
    assert s.span == (0, 0)


def test_the_reason_names_one_missing_name_in_the_singular():
    s = check("Obama said the council spent $5 million on the new bridge in 1998.", MONEY, enc)
    assert s.reason == 'the name "Obama" is not in the passage'


# ----------------------------------------------------------------------------- joint support

def test_a_percentage_joined_from_two_passages_needs_a_percentage():
    """The joint check holds the sentence's figures to the claim's keys: "42 per cent" is not
    supported by "42 residents", though "42 residents" is."""
    ok = ("The council spent $5 million on the bridge, which opened to traffic in 2001, when 42 "
          "residents opposed it [1][2].")
    v = run(ok, [SPENT, OPENED], settings=ANY_MEANING)
    assert [sorted(s) for _, s in v.kept] == [[1, 2]], v.dropped
    bad = ("The council spent $5 million on the bridge, which opened to traffic in 2001, when 42 "
           "per cent opposed it [1][2].")
    v = run(bad, [SPENT, OPENED], settings=ANY_MEANING)
    assert not v.kept and len(v.dropped) == 1
    assert '"42 per cent"' in v.dropped[0][1]


def test_a_joined_sentence_may_name_what_the_second_passage_spells_out_first():
    """"EU" is spelled out as "European Union" at the very start of the second passage."""
    answer = ("The council spent $5 million on the bridge, which the EU helped to fund and which "
              "opened to traffic in 2001 [1][2].")
    v = run(answer, [SPENT, OPENED], settings=ANY_MEANING)
    assert [sorted(s) for _, s in v.kept] == [[1, 2]], v.dropped


def test_a_joined_sentence_does_not_count_the_words_the_question_brings():
    answer = ("The municipal finance committee spent $5 million on the bridge, which opened to "
              "traffic in 2001 [1][2].")
    question = "How much did the municipal finance committee spend on the bridge?"
    v = run(answer, [SPENT, OPENED], settings=ANY_MEANING, question=question)
    assert [sorted(s) for _, s in v.kept] == [[1, 2]], v.dropped
    # Without the question, "municipal", "finance" and "committee" are missing words.
    v = run(answer, [SPENT, OPENED], settings=ANY_MEANING)
    assert not v.kept


# ----------------------------------------------------------------------------- model check

def test_a_sentence_judged_twice_is_unsupported_and_later_verdicts_still_count():
    reply = ('{"verdicts": [{"sentence": 1, "supported": true}, {"sentence": 1, "supported": '
             'true}, {"sentence": 2, "supported": true}, {"sentence": 3, "supported": false}]}')
    assert parse_verdicts(reply, 3) == ([False, True, False], "")


def test_an_acronym_is_not_spelled_out_across_two_passages():
    """One passage ending "... the European" and the next starting "Union ..." do not spell out
    "EU" between them."""
    first = "The council spent $5 million on the bridge with help from the European"
    second = "Union leaders saw it open to traffic in 2001."
    answer = "The council spent $5 million on the bridge that the EU saw open in 2001 [1][2]."
    v = run(answer, [first, second], settings=ANY_MEANING)
    assert not v.kept and '"EU"' in v.dropped[0][1]
