"""The chat app through streamlit.testing (no browser): a real index over the seed article and a
hostile article, built once per module with the real model.

Questions relied on (chosen at run time from candidates, because answer calibration is still
moving): a seed question that answers (first of SEED_QUESTIONS that does), the hostile article's
"zephyrine" questions, and "Who won the 2022 World Cup?" for abstention.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.index.builder import build
from assistant.service import Assistant
from assistant.ui import support as ui
from devtools.page import page_strings
from devtools.ui_samples import (
    HOSTILE_QUESTIONS,
    HOSTILE_SOURCE,
    OFF_CORPUS,
    REPO,
    SEED,
    SEED_QUESTIONS,
    first_answering,
)

APP = str(REPO / "app.py")
TIMEOUT = 300  # seconds per script run: the first one loads the model on a busy machine

NEW_ARTICLE = """Quorvath Bridge
The Quorvath bridge over the river Lenn was opened in 1987 by mayor Elisabeth Tran. It is 840 meters long and carries a railway line.
Construction
The Quorvath bridge was built by the Halvorsen company over four years, with steel from Sweden.
"""
NEW_QUESTION = "Who opened the Quorvath bridge?"


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@dataclass
class Site:
    corpus: Path
    index: Path
    settings: Settings
    seed_id: str
    hostile_id: str
    seed_question: str
    seed_section: str
    hostile_questions: list[tuple[str, str]]


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder, app_index) -> Site:
    root = tmp_path_factory.mktemp("app")
    corpus = app_index.corpus
    settings = app_index.settings(data_dir=root / "data")
    assistant = Assistant.open(settings=settings, embedder=embedder)
    ids = {a.source: a.id for a in assistant.articles()}
    seed = first_answering(assistant, SEED_QUESTIONS)
    if seed is None:
        pytest.fail("none of SEED_QUESTIONS gets an answer citing its section with the current "
                    "answer calibration; add one that does")
    hostile = [qs for qs in HOSTILE_QUESTIONS if first_answering(assistant, [qs])]
    assert assistant.ask(OFF_CORPUS).abstained, "the off-corpus question should abstain"
    return Site(corpus, app_index.index, settings, ids[SEED.name], ids[HOSTILE_SOURCE],
                seed[0], seed[1], hostile)


@pytest.fixture
def env(site, tmp_path, monkeypatch) -> Site:
    """Point the app at the module's index (after conftest's autouse fixture set tmp paths)."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(site.corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(site.index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    return site


def start_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def html(at: AppTest) -> list[str]:
    return [h.value for h in at.html]


def last_answer(at: AppTest):
    return at.session_state["messages"][-1]["answer"]


def dialogs(at: AppTest) -> list:
    return [n for n in at._tree if getattr(n, "type", "") == "dialog"]


def rendered_text(at: AppTest) -> list[tuple[str, str, bool]]:
    """(kind, body, HTML allowed) of every element that renders text."""
    return page_strings(at)


# ------------------------------------------------------------------------------ answering

def test_answer_shows_linked_markers_and_its_source_section(env):
    at = ask(start_app(), env.seed_question)
    answer = last_answer(at)
    assert not answer.abstained and answer.citations
    bodies = html(at)
    answer_html = next(b for b in bodies if b.startswith('<div class="aa-answer">'))
    for c in answer.citations:
        assert f'>[{c.n}]</a>' in answer_html
        assert re.search(rf'class="aa-cite" href="#aa-\w+-{c.n}"', answer_html)
    sources = [b for b in bodies if b.startswith('<div class="aa-src"')]
    assert len(sources) == len(answer.citations)
    assert any(f"› {env.seed_section}" in s and '<span class="aa-badge">[' in s for s in sources)
    assert all('<mark class="aa-quote">' in s for s in sources)
    assert [b.label for b in at.button if b.key.startswith("open-")] == \
        [f"Open [{c.n}] in the article" for c in answer.citations]
    assert len(at.feedback) == 1 and not at.warning


def test_open_source_shows_article_with_cited_section(env):
    at = ask(start_app(), env.seed_question)
    c = last_answer(at).citations[0]
    at.button(key=next(b.key for b in at.button if b.key.startswith("open-"))).click().run()
    assert not at.exception
    assert len(dialogs(at)) == 1
    article = next(b for b in html(at) if b.startswith('<div class="aa-article">'))
    assert "Mexico and US Strengthen Cooperation on Cross-Border Crime</h3>" in article
    for heading in ("Details of the Joint Operations", "Context of the Partnership", "Conclusion"):
        assert f">{heading}</h4>" in article
    cited = article[article.index('id="aa-cited"'):]
    assert cited.split("</h4>")[0].endswith(c.section)
    assert '<mark class="aa-quote">' in cited
    # The dialog opens once; the next run (another question) closes it.
    ask(at, OFF_CORPUS)
    assert not dialogs(at)


def test_abstention_is_a_warning_with_the_closest_passages(env):
    at = ask(start_app(), OFF_CORPUS)
    answer = last_answer(at)
    assert answer.abstained
    assert len(at.warning) == 1 and "No passage clearly answers" in at.warning[0].value
    bodies = html(at)
    assert not any('class="aa-cite"' in b for b in bodies)
    near = [b for b in bodies if b.startswith('<div class="aa-src aa-near">')]
    assert len(near) == len(answer.passages) > 0
    for p, b in zip(answer.passages, near):
        assert p.section.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;") in b
    assert [b.label for b in at.button if b.key.startswith("open-")] == \
        ["Open in the article"] * len(answer.passages)
    assert len(at.feedback) == 1
    # Opening a closest passage shows its article with the passage's section marked.
    at.button(key=next(b.key for b in at.button if b.key.startswith("open-"))).click().run()
    assert len(dialogs(at)) == 1
    assert any('id="aa-cited"' in b for b in html(at))


def test_follow_up_passes_previous_questions_as_history(env):
    at = ask(start_app(), env.seed_question)
    ask(at, "And what about their commitment?")
    ask(at, OFF_CORPUS)
    msgs = at.session_state["messages"]
    assistant_msgs = [m for m in msgs if m["role"] == "assistant"]
    assert [m["history"] for m in assistant_msgs] == [
        [], [env.seed_question], [env.seed_question, "And what about their commitment?"]]
    assert len(at.chat_message) == 6


def test_new_chat_clears_the_conversation(env):
    at = ask(start_app(), env.seed_question)
    assert len(at.chat_message) == 2
    at.button(key="new_chat").click().run()
    assert len(at.chat_message) == 0 and at.session_state["messages"] == []
    assert at.download_button[0].proto.disabled


def test_article_filter_limits_the_sources(env):
    at = start_app()
    assert at.multiselect(key="filter").options  # labels shown for every article
    at.multiselect(key="filter").set_value([env.hostile_id]).run()
    ask(at, env.seed_question)
    answer = last_answer(at)
    used = {c.article_id for c in answer.citations} | {p.chunk.article_id for p in answer.passages}
    assert used <= {env.hostile_id}
    assert not any("mexico-us-cross-border" in b for b in html(at))
    assert any("Searching 1 chosen article" in c.value for c in at.caption)
    # and the other way round
    at.multiselect(key="filter").set_value([env.seed_id]).run()
    ask(at, HOSTILE_QUESTIONS[0][0])
    answer = last_answer(at)
    used = {c.article_id for c in answer.citations} | {p.chunk.article_id for p in answer.passages}
    assert used <= {env.seed_id}


def test_feedback_is_saved_in_the_app_database(env, tmp_path):
    from devtools.postgres import saved_feedback

    at = ask(start_app(), env.seed_question)
    answer = last_answer(at)
    at.feedback[0].set_value(1).run()
    lines = saved_feedback(tmp_path / "data")
    assert len(lines) == 1
    rec = lines[0]
    assert rec["rating"] == "up" and rec["question"] == env.seed_question
    assert rec["answer"] == answer.text and rec["time"]
    assert [c["section"] for c in rec["citations"]] == [c.section for c in answer.citations]
    assert any("feedback was saved" in c.value for c in at.caption)
    # Rating an abstention too, thumbs down: a second line.
    ask(at, OFF_CORPUS)
    at.feedback[1].set_value(0).run()
    lines = saved_feedback(tmp_path / "data")
    assert [x["rating"] for x in lines] == ["up", "down"] and lines[1]["abstained"] is True


def test_sidebar_shows_index_status_and_download(env):
    at = start_app()
    sidebar = " ".join(m.value for m in at.sidebar.markdown) + " ".join(
        c.value for c in at.sidebar.caption)
    assert "**2** articles" in sidebar and "sections" in sidebar and "chunks" in sidebar
    assert "all-MiniLM-L6-v2" in sidebar and "Last updated" in sidebar
    assert not at.sidebar.warning  # the corpus has not changed since the build
    assert at.slider(key="k").value == env.settings.top_k
    assert at.download_button[0].proto.disabled
    ask(at, env.seed_question)
    assert not at.download_button[0].proto.disabled


def test_k_slider_is_passed_to_the_search(env, monkeypatch):
    seen = {}
    original = Assistant.ask

    def spy(self, question, history=(), k=None, sources=None, **kwargs):
        seen.update(k=k, sources=sources, history=list(history))
        return original(self, question, history=history, k=k, sources=sources, **kwargs)

    monkeypatch.setattr(Assistant, "ask", spy)
    at = start_app()
    at.slider(key="k").set_value(2).run()
    ask(at, OFF_CORPUS)
    assert seen == {"k": 2, "sources": None, "history": []}
    assert len(last_answer(at).passages) <= 2


# ------------------------------------------------------------------------------ hostile text

def test_hostile_article_text_is_shown_as_text(env):
    at = start_app()
    ask(at, "<script>alert('q')</script> **zephyrine** [x](javascript:alert(1))?")
    for q, _ in env.hostile_questions:
        ask(at, q)
    # an abstention whose closest passages come from the hostile article
    at.multiselect(key="filter").set_value([env.hostile_id]).run()
    ask(at, OFF_CORPUS)
    # and the article view of the hostile article
    open_keys = [b.key for b in at.button if b.key.startswith("open-")]
    at.button(key=open_keys[-1]).click().run()
    assert not at.exception and dialogs(at)

    texts = rendered_text(at)
    shown = " ".join(body for _, body, _ in texts)
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in shown  # it is there, as text
    assert "&lt;iframe src=&quot;javascript:alert(2)&quot;&gt;" in shown
    for kind, body, allows_html in texts:
        if allows_html:
            assert not re.search(r"<(script|img|iframe|b>|i>)", body), (kind, body)
            assert not re.search(r"(href|src)\s*=\s*[\"']?javascript", body), (kind, body)
        else:  # Markdown: every "<", "[" and "*" from article or user text is escaped
            assert not re.search(r"(?<!\\)<script|(?<!\\)\[x(?<!\\)\]|(?<!\\)\*\*zeph", body), \
                (kind, body)
    # No label carries article text (labels render Markdown).
    assert all("zephyrine" not in b.label.lower() for b in at.button)
    # At least one hostile question is answered with a marker (the fixture found which).
    assert env.hostile_questions, "no hostile question answers with the current calibration"
    assert any('class="aa-cite"' in b and "zephyrine" in b for b in html(at))


# ------------------------------------------------------------------------------ index states

def test_no_index_page_builds_with_the_button(tmp_path, monkeypatch):
    corpus = tmp_path / "fresh-corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "fresh-index"))
    at = start_app()
    page = " ".join(m.value for m in at.markdown) + " ".join(i.value for i in at.info)
    assert "`assistant build`" in page and "`make run`" in page
    assert "There is no index yet" in page
    assert not at.chat_input
    assert any("1 article file(s)" in c.value for c in at.caption)
    at.button(key="build_index").click().run()
    assert not at.exception
    # The build ran with a progress bar, then the page reran into the chat.
    assert at.chat_input and not at.button(key="new_chat").disabled
    assert any("built" in s.value for s in at.success)
    assert any("**1** articles" in m.value for m in at.sidebar.markdown)
    ask(at, OFF_CORPUS)
    assert last_answer(at).abstained


def test_no_index_page_with_empty_corpus_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "none"))
    at = start_app()
    assert at.button(key="build_index").disabled
    assert any("Add .txt" in w.value for w in at.warning)


def test_a_rebuild_is_picked_up_without_restart(tmp_path, monkeypatch, embedder):
    corpus = tmp_path / "live-corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "live-index")
    build(settings, embedder=embedder, log=lambda m: None)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))
    at = ask(start_app(), NEW_QUESTION)
    # (the saved conversations' list names the question itself)
    assert not any("Quorvath" in b for b in html(at) if 'class="aa-convs"' not in b)
    assert any("**1** articles" in m.value for m in at.sidebar.markdown)

    (corpus / "quorvath-bridge.txt").write_text(NEW_ARTICLE)
    at.run()
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "out of date" in warning and "quorvath-bridge.txt" in warning
    assert any("assistant build" in c.value for c in at.sidebar.code)

    build(settings, embedder=embedder, log=lambda m: None)
    ask(at, NEW_QUESTION)  # same session, same process: the next question sees the new build
    answer = last_answer(at)
    assert any(p.article_title == "Quorvath Bridge" for p in answer.passages)
    assert any("Quorvath" in b for b in html(at))
    assert any("**2** articles" in m.value for m in at.sidebar.markdown)
    assert not at.sidebar.warning


def test_unusable_index_is_one_error_line(site, tmp_path, monkeypatch):
    index = tmp_path / "bad-index"
    shutil.copytree(site.index, index)
    build_dir = index / "builds" / (index / "CURRENT").read_text().strip()
    manifest = json.loads((build_dir / "manifest.json").read_text())
    manifest["format_version"] = 999
    (build_dir / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(site.corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    at = start_app()
    assert len(at.error) == 1 and "assistant build --full" in at.error[0].value
    assert "\n" not in at.error[0].value and not at.exception
    assert at.button(key="build_index")


def test_previous_format_is_updated_by_the_button_reusing_vectors(site, tmp_path, monkeypatch):
    """A format 3 index: one error line saying a plain build updates it; the button's build
    reuses every vector (a full rebuild would embed the whole corpus again)."""
    from devtools.index_db import as_format_3 as _as_format_3

    index = tmp_path / "old-index"
    shutil.copytree(site.index, index)
    _as_format_3(index)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(site.corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    at = start_app()
    assert len(at.error) == 1 and "update it with `assistant build`" in at.error[0].value
    assert "--full" not in at.error[0].value and not at.exception
    at.button(key="build_index").click().run()
    assert not at.exception and at.chat_input
    done = " ".join(x.value for x in at.success)
    assert "0 files read" in done and " reused" in done, done


def test_error_while_asking_is_one_line(env, monkeypatch):
    def fail(self, *args, **kwargs):
        raise AssistantError("The index is being replaced: try again in a moment.")

    monkeypatch.setattr(Assistant, "ask", fail)
    at = ask(start_app(), env.seed_question)
    assert [e.value for e in at.error] == ["The index is being replaced\\: try again in a moment."]
    assert not at.exception and len(at.chat_message) == 2


# ------------------------------------------------------------------------------ LLM reader

def test_llm_switch_streams_verified_text_and_can_be_turned_off(env, monkeypatch):
    """With an endpoint configured (a scripted OpenAI-compatible server on localhost): the sidebar
    has the switch, the answer is the model's verified sentence with its citation, an invented
    sentence never reaches the page, and switching off gives the extractive answer."""
    from devtools.llm_servers import ScriptedServer, citing

    script = citing("The Drug Enforcement Administration and Mexico's Federal Police lead the "
                    "coordinated efforts [{n}]. The task force has 12,345 agents [{n}].",
                    "Drug Enforcement Administration")
    with ScriptedServer(script) as srv:
        monkeypatch.setenv("ASSISTANT_LLM_URL", srv.base_url)
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "scripted-model")
        get_assistant_cache_clear()
        at = start_app()
        toggles = [t for t in at.toggle if t.key == "use_llm"]
        assert toggles and toggles[0].value is True
        at = ask(at, "Who will lead the coordinated efforts?")
        answer = last_answer(at)
        assert answer.mode == "llm" and "Federal Police" in answer.text
        page = " ".join(b for _, b, _ in rendered_text(at))
        assert "12,345" not in page
        assert "every sentence checked" in page and "left out" in page
        assert srv.requests and srv.requests[-1]["stream"] is True
        at.toggle(key="use_llm").set_value(False).run()
        at = ask(at, "Who will lead the coordinated efforts?")
        assert last_answer(at).mode == "extractive" and last_answer(at).llm is None
    get_assistant_cache_clear()


def test_llm_decline_is_no_clear_answer_with_openable_passages(env, monkeypatch):
    """The model reads the passages and declines: the page shows the "no clear answer" warning
    saying the model found no answer in the passages it read (not that the articles lack it),
    the closest passages each with its button, and no extractive answer; the sidebar says how
    sentences are checked."""
    from devtools.llm_servers import Reply, ScriptedServer

    with ScriptedServer(lambda body: Reply("NOT_IN_ARTICLES")) as srv:
        monkeypatch.setenv("ASSISTANT_LLM_URL", srv.base_url)
        monkeypatch.setenv("ASSISTANT_LLM_MODEL", "scripted-model")
        monkeypatch.setenv("ASSISTANT_LLM_VERIFY", "model")
        get_assistant_cache_clear()
        at = start_app()
        side = " ".join(c.value for c in at.sidebar.caption)
        assert "checked by the rules' gates and the model" in side
        at = ask(at, "Who will lead the coordinated efforts?")
        answer = last_answer(at)
        assert answer.mode == "llm" and answer.tier == "abstain" and answer.llm["declined"]
        assert len(at.warning) == 1
        warning = at.warning[0].value
        assert "language model found no answer in the 5 closest passages" in warning
        assert "not in the articles" not in warning.lower()
        bodies = html(at)
        assert not any('class="aa-cite"' in b for b in bodies)  # no extractive answer
        near = [b for b in bodies if b.startswith('<div class="aa-src aa-near">')]
        assert len(near) == len(answer.passages) > 0
        assert [b.label for b in at.button if b.key.startswith("open-")] == \
            ["Open in the article"] * len(answer.passages)
        page = " ".join(b for _, b, _ in rendered_text(at))
        assert "read by scripted-model" in page and "Showing the extractive answer" not in page
        at.button(key=next(b.key for b in at.button if b.key.startswith("open-"))).click().run()
        assert len(dialogs(at)) == 1 and any('id="aa-cited"' in b for b in html(at))
    get_assistant_cache_clear()


def get_assistant_cache_clear() -> None:
    """The app caches its Assistant per index folder across runs; the LLM settings are read
    when it is made."""
    import streamlit as st

    st.cache_resource.clear()


# ------------------------------------------------------------------------------ tiers and wording

@pytest.mark.parametrize("tier", ["answer", "possible", "abstain"])
def test_each_tier_shows_its_label_and_claims_nothing_about_the_articles(env, monkeypatch, tier):
    """The same question forced into each tier: "possible" shows the may-answer label and
    "may answer" beside the confidence; "abstain" shows the no-clear-answer text with the closest
    passages; "answer" shows neither. No notice, label or caption claims what the articles hold."""
    from assistant.answer import extractive
    from devtools.wording import claims_in

    monkeypatch.setattr(extractive, "tier_of", lambda conf, s: tier)
    at = ask(start_app(), env.seed_question)
    answer = last_answer(at)
    assert answer.tier == tier and answer.abstained == (tier == "abstain")
    warnings = [w.value for w in at.warning]
    captions = " ".join(c.value for c in at.caption)
    label = ui.escape_markdown(extractive.POSSIBLE_LABEL)
    if tier == "possible":
        assert label in warnings and "may answer" in captions
    else:
        assert label not in warnings and "may answer" not in captions
    if tier == "abstain":
        assert ui.escape_markdown(extractive.NO_CLEAR_ANSWER) in warnings
        assert any("Closest passages" in m.value for m in at.markdown)
    else:
        assert ui.escape_markdown(extractive.NO_CLEAR_ANSWER) not in warnings
        assert answer.citations and any('class="aa-cite"' in h for h in html(at))
    shown = " ".join(warnings + [captions] + [i.value for i in at.info])
    assert claims_in(shown.replace("\\", "")) == [], shown
