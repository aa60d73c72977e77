"""The wording promise: every text shown about an answer -- the abstention, the "may answer"
label, the notices, the LLM reader's fallbacks and declines -- says only that no passage *clearly*
answers, never that the articles lack the answer (devtools/wording.py holds the deny-list). The
texts are produced by the code paths that show them, and every string constant in the answer
package is scanned too, so a new text cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assistant.answer import extractive, llm, llm_outcomes
from assistant.answer.conversation import clean_question
from assistant.records import Answer
from devtools.fakes import FakeEmbedder
from devtools.wording import claims_in

ROOT = Path(__file__).resolve().parent.parent
FAKE = FakeEmbedder()
PASSAGE_TEXT = "The Quorvath bridge crosses the river Lenn. It was opened in 1987 by mayor Elisabeth Tran."


def encode(texts):
    return FAKE.encode_queries(list(texts))


@pytest.mark.parametrize("claim", [
    "but the articles do not cover this topic", "The articles contain no information on this.",
    "This is not in the articles.", "The collection lacks an answer.", "It is absent from them.",
    "The articles never mention it.", "There is nothing about this in the articles.",
    "The answer is not covered by the corpus.", "The articles don't contain it.",
    "No information was found.", "This is outside the scope of the articles.",
])
def test_the_deny_list_catches_claims_about_the_articles(claim):
    assert claims_in(claim), claim


@pytest.mark.parametrize("fine", [
    extractive.NO_CLEAR_ANSWER, extractive.POSSIBLE_LABEL,
    "The language model found no answer in the 5 closest passages it read.",
    "No passage clearly answers this question.",
])
def test_the_deny_list_lets_honest_wording_through(fine):
    assert claims_in(fine) == []


class Scripted:
    settings = llm.LLMSettings(url="http://scripted.invalid/v1")

    def __init__(self, text: str = "", fail: str = ""):
        self.text, self.fail = text, fail

    def stream(self, messages):
        if self.fail:
            raise llm.LLMUnavailable(self.fail)
        yield self.text


def _passages():
    from assistant.records import Chunk, Passage
    chunk = Chunk(id="c", article_id="a", section_index=0, heading_path=(), text=PASSAGE_TEXT,
                  start=0, end=len(PASSAGE_TEXT), sentences=((0, 43), (44, len(PASSAGE_TEXT))))
    return [Passage(chunk=chunk, article_title="Quorvath Bridge", source="q.txt", score=1.0)]


def _extractive(tier: str) -> Answer:
    passages = _passages()
    return Answer(question="q", text=extractive.NO_CLEAR_ANSWER if tier == "abstain" else "x",
                  citations=(), abstained=tier == "abstain", passages=tuple(passages), tier=tier)


def shown_texts() -> dict[str, str]:
    """Every text an answer can show, produced by the code that makes it."""
    out = {"abstain": extractive.compose("q", [], _passages(), 0.0).text,
           "may answer": extractive.POSSIBLE_LABEL,
           "llm declined (1 passage)": llm_outcomes.declined_text(1),
           "llm declined (5 passages)": llm_outcomes.declined_text(5)}
    for name, q in (("empty question", ""), ("long question", "why " * 5000)):
        out[name] = clean_question(q)[1]
    readers = {
        "decline": Scripted(llm.DECLINE), "empty reply": Scripted(""),
        "nothing verified": Scripted("The bridge cost 9,417 million dollars [1]."),
        "endpoint failure": Scripted(fail="the endpoint could not be reached"),
        "some dropped": Scripted("It was opened in 1987 by mayor Elisabeth Tran [1]. "
                                 "The bridge cost 9,417 million dollars [1]."),
    }
    for tier in ("answer", "possible", "abstain"):
        for name, reader in readers.items():
            for streaming in (False, True):
                reading = llm.read(reader, "q", _passages(), encode,
                                   on_text=(lambda _t: None) if streaming else None)
                a = llm.compose("q", reading, _passages(), "m", _extractive(tier))
                out[f"llm {name} ({tier})"] = a.notice + " " + (a.text if a.abstained else "")
                if reading.fallback:
                    out[f"llm {name} fallback"] = reading.fallback
    return out


def test_every_tier_and_fallback_text_was_produced():
    texts = shown_texts()
    assert texts["abstain"] == extractive.NO_CLEAR_ANSWER
    assert "may answer" in texts["may answer"].lower()
    assert texts["llm decline (answer)"].strip().startswith("The language model found no answer")
    for name in ("empty reply", "endpoint failure"):
        assert texts[f"llm {name} (answer)"].startswith("Showing the extractive answer"), name
    assert "could not be checked" in texts["llm nothing verified (answer)"]
    assert "left out" in texts["llm some dropped (answer)"]


@pytest.mark.parametrize("name", sorted(shown_texts()))
def test_no_shown_text_claims_the_articles_lack_the_answer(name):
    text = shown_texts()[name]
    assert claims_in(text) == [], f"{name}: {text!r}"


# Constants that are not shown to a user. Keep this short; each says why.
NOT_SHOWN = {
    ("llm.py", "SYSTEM_PROMPT"),  # the model's instructions: "If the passages do not contain..."
}


def _constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    hidden = {id(sub) for n in ast.walk(tree) if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name) and (path.name, t.id) in NOT_SHOWN
              for sub in ast.walk(n.value)}
    out = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in node.values)
            out.append((node.lineno, text))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            out.append((node.lineno, node.value))
    return out



def test_no_string_in_the_answer_package_claims_the_articles_lack_the_answer():
    found = []
    for path in sorted((ROOT / "assistant" / "answer").glob("*.py")):
        for line, text in _constants(path):
            found += [f"{path.name}:{line}: {c!r} in {text[:80]!r}" for c in claims_in(text)]
    assert found == []
