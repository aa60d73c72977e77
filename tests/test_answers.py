"""Answers over the seed article with the real model: right sections, honest abstention,
follow-ups, and citation integrity."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.config import Settings
from assistant.index.builder import build
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
DETAILS = "Details of the Joint Operations"
CONTEXT = "Context of the Partnership"
CHALLENGES = "Challenges Ahead"
IMPACTS = "Impacts on Local Communities"
CONCLUSION = "Conclusion"
TITLE = "Mexico and US Strengthen Cooperation on Cross-Border Crime"

# (question, the section its answer is in, a phrase the answer must contain)
SEED_QUESTIONS = [
    ("Who will lead the coordinated efforts?", DETAILS, "Drug Enforcement Administration"),
    ("How many drug overdose deaths were recorded in the U.S.?", CONTEXT, "110,000"),
    ("Which synthetic opioid is a primary driver of the crisis?", CONTEXT, "fentanyl"),
    ("What did Alejandro Mayorkas say about the partnership?", DETAILS, "Mayorkas"),
    ("What do the new operations include?", DETAILS, "intelligence sharing"),
    ("What has López Obrador acknowledged?", CONTEXT, "complexity"),
    pytest.param("What preventative measures will the efforts prioritize?", CONTEXT,
                 "Community outreach", marks=pytest.mark.xfail(
                     reason="known limit: the answer is in the sentence after the one that "
                            "restates the question, which scores below the keep ratio",
                     strict=False)),
    ("What does the Mexican government continue to grapple with?", CHALLENGES, "corruption"),
    ("What do experts warn about the joint operations?", CHALLENGES, "Experts warn"),
    ("How have local communities reacted to the joint operations?", IMPACTS, "cautious optimism"),
    ("What is Maria Gonzalez concerned about?", IMPACTS, "militarization"),
    ("What will be essential to the success of these operations?", CONCLUSION, "transparency"),
]

OFF_CORPUS = [
    "Who won the 2022 World Cup?",
    "What is the boiling point of water at sea level?",
    "How do I bake sourdough bread?",
    "What is the capital of Australia?",
    "When was the Eiffel Tower built?",
]


@pytest.fixture(scope="module")
def seed_assistant(seed_index, embedder):
    return Assistant.open(settings=seed_index.settings(), embedder=embedder)


@pytest.mark.parametrize("question,section,phrase", SEED_QUESTIONS)
def test_seed_question_cites_the_right_section(seed_assistant, question, section, phrase):
    answer = seed_assistant.ask(question)
    assert not answer.abstained, (question, answer.confidence, answer.features)
    assert answer.citations[0].section == section
    assert phrase.lower() in answer.text.lower()


def test_lead_section_is_named_by_the_article_title(seed_assistant):
    answer = seed_assistant.ask("What new joint operations were unveiled to target drug trafficking "
                                "and human smuggling?")
    assert not answer.abstained
    lead = [c for c in answer.citations if not c.heading_path]
    assert lead, [c.section for c in answer.citations]  # the lead answers this one
    for c in lead:
        assert c.section == TITLE


@pytest.mark.parametrize("question", OFF_CORPUS)
def test_off_corpus_questions_abstain(seed_assistant, question):
    answer = seed_assistant.ask(question)
    assert answer.abstained, (question, answer.confidence, answer.features)
    assert answer.citations == ()
    assert answer.tier == "abstain"
    assert "No passage clearly answers" in answer.text
    # An abstention never claims the articles lack the answer.
    assert not re.search(r"do(es)? not (say|contain|mention)|no information", answer.text, re.I)
    assert answer.passages, "an abstention still offers the closest passages"
    assert not re.search(r"\[\d+\]", answer.text)


FOLLOW_UPS = [
    ("What joint operations did Mexico and the US announce?", "Who will lead them?",
     "Drug Enforcement Administration"),
    ("What did experts warn about the joint operations?", "Which analyst said that?", "Aizpuru"),
    ("How have local communities reacted to the joint operations?", "What do residents hope for?",
     "safer neighborhoods"),
    ("What is driving the opioid crisis in the U.S.?", "How many deaths were recorded?", "110,000"),
]


@pytest.mark.heavy
@pytest.mark.parametrize("first,follow,phrase", FOLLOW_UPS)
def test_follow_up_uses_history(seed_assistant, first, follow, phrase):
    answer = seed_assistant.ask(follow, history=[first])
    assert not answer.abstained, (follow, answer.confidence, answer.features)
    assert phrase.lower() in answer.text.lower()


def test_follow_up_is_read_with_the_previous_question(seed_assistant):
    previous = ["What joint operations did Mexico and the US announce?"]
    assert seed_assistant.query_for("Who will lead them?", previous) == \
        "What joint operations did Mexico and the US announce? Who will lead them?"
    # A self-contained question is not mixed with the conversation.
    assert seed_assistant.query_for("How many overdose deaths were recorded in the U.S. "
                                    "from March 2021 to March 2022?", previous).startswith("How many")
    # Chat turns are accepted as well as plain questions.
    turns = [{"role": "user", "content": previous[0]}, {"role": "assistant", "content": "..."}]
    assert seed_assistant.query_for("Who will lead them?", turns).startswith(previous[0])


def _check_integrity(assistant, answer):
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(markers) == set(numbers)
    for c in answer.citations:
        assert c.quote and c.quote in c.passage
        assert c.quote in answer.text
        _, sections = assistant.article(c.article_id)
        section_text = sections[c.section_index].text
        assert section_text[c.quote_start:c.quote_end] == c.quote
        assert c.passage in section_text
    if answer.abstained:
        assert not markers and not answer.citations


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(
    "DEA police fentanyl border Laredo corruption reform community trafficking opioid Mexico "
    "operations smuggling Mayorkas experts who what how many when lead militarization".split()),
    min_size=1, max_size=7))
@pytest.mark.heavy
def test_citation_integrity_property(seed_assistant, words):
    question = " ".join(words) + "?"
    _check_integrity(seed_assistant, seed_assistant.ask(question))


@pytest.mark.parametrize("question", [q.values[0] if hasattr(q, "values") else q[0]
                                      for q in SEED_QUESTIONS] + OFF_CORPUS)
def test_citation_integrity_on_question_set(seed_assistant, question):
    _check_integrity(seed_assistant, seed_assistant.ask(question))


@pytest.mark.heavy
def test_sources_filter_limits_the_search(seed_assistant, tmp_path, embedder):
    answer = seed_assistant.ask("Who will lead the coordinated efforts?", sources=["no-such-article.txt"])
    assert answer.citations == () and answer.passages == ()
    # Two articles: the filter must keep the one that would otherwise answer out.
    corpus = tmp_path / "two"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "bridge.txt").write_text("Quorvath Bridge\n\nThe Quorvath bridge over the river Lenn "
                                       "was opened in 1987 by mayor Elisabeth Tran.\n")
    s = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "two-index")
    build(s, embedder=embedder, log=lambda m: None)
    two = Assistant.open(settings=s, embedder=embedder)
    q = "Who opened the Quorvath bridge?"
    assert two.ask(q).citations[0].source == "bridge.txt"
    only_seed = two.ask(q, sources=[SEED.name])
    assert only_seed.passages and {p.source for p in only_seed.passages} == {SEED.name}
    assert all(c.source == SEED.name for c in only_seed.citations)


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_questions_get_a_clear_reply(seed_assistant, question):
    answer = seed_assistant.ask(question)
    assert answer.abstained and answer.notice == "Please type a question."


@pytest.mark.heavy
def test_huge_question_is_cut_with_a_notice(seed_assistant):
    answer = seed_assistant.ask("Who will lead the coordinated efforts? " * 3000)
    assert "characters long" in answer.notice
    _check_integrity(seed_assistant, answer)


@pytest.mark.heavy
def test_json_output_shape(seed_assistant, capsys, monkeypatch):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_assistant.index_dir))
    assert main(["ask", "Who will lead the coordinated efforts?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"question", "answer", "abstained", "tier", "notice", "confidence", "mode",
                        "llm", "citations", "closest", "timings_ms"}
    assert out["notice"] == ""  # an English question: no language notice
    assert out["mode"] == "extractive" and out["llm"] is None and out["tier"] == "answer"
    assert set(out["timings_ms"]) == {"retrieve", "answer", "total"}
    c = out["citations"][0]
    assert set(c) == {"n", "article", "section", "page", "source", "quote", "passage", "score"}
    assert c["n"] == 1 and c["section"] == DETAILS and c["source"] == SEED.name and c["page"] is None
    assert c["quote"] in c["passage"]


def test_ask_without_index_is_one_clear_line(tmp_path, capsys):
    from assistant.cli import main

    assert main(["ask", "anything", "--index", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "assistant build" in err[0]


def test_ask_with_mismatched_index_is_one_clear_line(seed_assistant, tmp_path, capsys):
    from assistant.cli import main
    from assistant.index import layout

    index = tmp_path / "damaged-copy"
    shutil.copytree(seed_assistant.index_dir, index)
    manifest_path = layout.current_build_dir(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"]["name"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    assert main(["ask", "anything", "--index", str(index)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rebuild" in err[0]
