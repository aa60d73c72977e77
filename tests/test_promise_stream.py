"""The streaming promise, without a model or a server: whatever pieces the endpoint's text arrives
in, every `on_text` payload holds only sentences that passed verification, and the final text is
what a one-shot verification of the whole answer keeps. (A one-line bug that streams the raw
model text -- `on_text("".join(parts))` -- fails here.)"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.answer import llm, verify
from assistant.records import Chunk, Passage
from devtools.fakes import FakeEmbedder

BRIDGE = ("The Quorvath bridge crosses the river Lenn. It was opened in 1987 by mayor Elisabeth "
          "Tran. The bridge is 840 meters long. Trains cross it every hour.")
PORT = ("The port of Hallenby handles grain and timber. Its new quay was finished in 2004. "
        "Ferries leave for the islands twice a day.")
INVENTED = "9,417"  # a figure in no passage
# Two supported sentences around an invented figure, citing both passages.
RAW = ("It was opened in 1987 by mayor Elisabeth Tran [1]. "
       f"The bridge cost {INVENTED} million dollars to build [1]. "
       "Its new quay was finished in 2004 [2]. "
       "Trains cross it every hour [1].")
FAKE = FakeEmbedder()
QUESTION = "When was the bridge opened?"


def encode(texts):
    return FAKE.encode_queries(list(texts))


def _spans(text: str) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for m in re.finditer(r"[.!?](\s|$)", text):
        out.append((start, m.start() + 1))
        start = m.end()
    return tuple(out)


def _passage(text: str, title: str) -> Passage:
    chunk = Chunk(id="c-" + title, article_id="a-" + title, section_index=0, heading_path=(),
                  text=text, start=0, end=len(text), sentences=_spans(text))
    return Passage(chunk=chunk, article_title=title, source=f"{title}.txt", score=1.0)


PASSAGES = [_passage(BRIDGE, "Quorvath Bridge"), _passage(PORT, "Hallenby Port")]


class ScriptedReader:
    """Stands in for llm.Reader: streams a fixed text in the given pieces."""

    settings = llm.LLMSettings(url="http://scripted.invalid/v1")

    def __init__(self, pieces: list[str]):
        self.pieces = pieces

    def stream(self, messages):
        yield from self.pieces


def _pieces(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(text))), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def one_shot() -> list[str]:
    v = verify.verify(RAW, [p.chunk.text for p in PASSAGES], encode,
                      [llm._relative_spans(p) for p in PASSAGES], question=QUESTION)
    return [llm._render(k) for k in v.kept]


def _check(pieces: list[str]) -> None:
    payloads: list[str] = []
    reading = llm.read(ScriptedReader(pieces), QUESTION, PASSAGES, encode,
                       on_text=payloads.append)
    kept = one_shot()
    assert reading.shown == kept
    assert payloads, "nothing was streamed"
    assert payloads[-1] == " ".join(kept)
    for i, shown in enumerate(payloads):
        assert INVENTED not in shown, f"payload {i} holds the invented figure: {shown!r}"
        # Each payload is the verified sentences so far, in order: a prefix of the final text.
        _sentences_in(shown, kept)


def _sentences_in(shown: str, kept: list[str]) -> int:
    for n in range(len(kept), 0, -1):
        if shown == " ".join(kept[:n]):
            return n
    raise AssertionError(f"payload is not a prefix of the verified sentences: {shown!r}")


def test_the_fixture_answer_mixes_kept_and_dropped_sentences():
    kept = one_shot()
    # Three supported sentences from two passages are kept; the invented figure is not.
    assert len(kept) == 3 and not any(INVENTED in k for k in kept)
    assert any("[2]" in k for k in kept) and any("[1]" in k for k in kept)


def test_streamed_word_by_word_only_verified_text_is_shown():
    _check(re.findall(r"\S+\s*", RAW))


def test_streamed_character_by_character_only_verified_text_is_shown():
    _check(list(RAW))


def test_streamed_in_one_piece_only_verified_text_is_shown():
    _check([RAW])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(RAW) - 1), max_size=25))
def test_any_split_of_the_stream_shows_only_verified_text(cuts):
    _check(_pieces(RAW, cuts))


def test_payloads_grow_one_verified_sentence_at_a_time():
    payloads: list[str] = []
    llm.read(ScriptedReader(re.findall(r"\S+\s*", RAW)), QUESTION, PASSAGES, encode,
             on_text=payloads.append)
    kept = one_shot()
    assert payloads == [" ".join(kept[:n]) for n in range(1, len(kept) + 1)]
