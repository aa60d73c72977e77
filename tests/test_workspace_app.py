"""The workspace in the chat page through streamlit.testing (no browser; the real model over the
seed article): answers saved as they come, the conversation reopened from its ?c= link with the
follow-up context, history search, Share and the read-only ?share= view, feedback in the
database, and a damaged database that leaves the chat answering."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from assistant.service import Assistant
from assistant.workspace import Workspace, database_url, shares
from assistant.workspace import conversations as cv
from assistant.workspace import feedback as fb
from devtools.ui_samples import REPO, SEED_QUESTIONS, first_answering

APP = str(REPO / "app.py")
TIMEOUT = 300
FOLLOW_UP = "Who will lead them?"


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.fixture(scope="module")
def seed(seed_index, embedder):
    found = first_answering(Assistant.open(settings=seed_index.settings(), embedder=embedder),
                            SEED_QUESTIONS)
    if found is None:
        pytest.fail("none of SEED_QUESTIONS gets an answer")
    return found[0]


@pytest.fixture
def env(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_index.corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_index.index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ASSISTANT_DATABASE_URL", raising=False)
    return tmp_path / "data"


def start(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def workspace() -> Workspace:
    return Workspace.open(url=database_url(Settings()))


def texts(at: AppTest) -> str:
    return " ".join(str(getattr(e, "value", "")) for e in
                    [*at.markdown, *at.caption, *at.warning, *at.error, *at.info])


def test_answers_are_saved_and_reopened_from_the_link_with_the_follow_up_context(env, seed):
    at = ask(start(), seed)
    cid = at.session_state["conversation_id"]
    assert at.query_params["c"] in (cid, [cid])
    listed = next(h.value for h in at.html if 'class="aa-convs"' in h.value)
    assert f'<a href="?c={cid}" target="_self" class="aa-conv-open" aria-current="page">' \
        f"{seed}</a>" in listed
    assert any("Sign-in is not configured: conversations are kept for one local user" in c.value
               for c in at.sidebar.caption)
    ws = workspace()
    saved = cv.get_conversation(ws, "local", cid)[1]
    assert [t.question for t in saved] == [seed]
    # A new browser tab (a reload): the link reopens it, and a follow-up reads the first question.
    again = start({"c": cid})
    assert [m.get("content") for m in again.session_state["messages"]
            if m["role"] == "user"] == [seed]
    ask(again, FOLLOW_UP)
    last = again.session_state["messages"][-1]
    assert last["history"] == [seed]
    assert again.session_state["conversation_id"] == cid
    assert [t.question for t in cv.get_conversation(ws, "local", cid)[1]] == [seed, FOLLOW_UP]
    assert cv.get_conversation(ws, "local", cid)[1][1].history == (seed,)
    ws.close()


def test_new_chat_starts_a_new_conversation_and_search_opens_the_old_one(env, seed):
    at = ask(start(), seed)
    first = at.session_state["conversation_id"]
    at.button(key="new_chat").click().run()
    assert "conversation_id" not in at.session_state and at.session_state["messages"] == []
    ask(at, "What is the weather on Mars?")
    assert at.session_state["conversation_id"] != first
    word = next(w for w in seed.split() if len(w) > 5).strip("?").upper()
    at.text_input(key="history_query").set_value(word).run()
    hits = [b for b in at.sidebar.button if (b.key or "").startswith("hit-")]
    assert hits, word
    hits[0].click().run()
    assert at.session_state["conversation_id"] == first
    assert any("Found by your search." in c.value for c in at.caption)


def test_rename_and_delete_with_confirmation(env, seed):
    at = ask(start(), seed)
    cid = at.session_state["conversation_id"]
    at.text_input(key=f"title-{cid}").set_value("Border crime notes").run()
    assert any(f'c={cid}" target="_self" class="aa-conv-open" aria-current="page">Border crime '
               'notes</a>' in h.value for h in at.html)
    at.button(key="delete").click().run()
    assert any("for good" in w.value for w in at.sidebar.warning)
    at.button(key="delete-no").click().run()
    assert cv.get_conversation(workspace(), "local", cid) is not None
    at.button(key="delete").click().run()
    at.button(key="delete-yes").click().run()
    assert cv.get_conversation(workspace(), "local", cid) is None
    assert at.session_state["messages"] == [] and not at.query_params.get("c")


def test_unknown_conversation_link_says_so(env):
    at = start({"c": "0123456789abcdef0123456789abcdef"})
    assert "No conversation of yours has this link." in texts(at)


def test_share_opens_a_read_only_view_until_revoked(env, seed):
    at = ask(start(), seed)
    share = next(b for b in at.button if (b.key or "").startswith("share-"))
    share.click().run()
    link = at.session_state["messages"][-1]["share_link"]
    token = link.split("share=")[1]
    assert any(token in c.value for c in at.code)
    ws = workspace()
    assert shares.open_share(ws, token).status == "ok"
    view = start({"share": token})
    assert any(t.value == "Shared answer" for t in view.title)
    assert "Shared by local" in texts(view)
    bodies = [h.value for h in view.html]
    assert any(b.startswith('<div class="aa-answer">') for b in bodies)
    assert any(b.startswith('<div class="aa-src"') for b in bodies)
    assert view.chat_input.len == 0  # read-only: no question box
    opener = next(b for b in view.button if (b.key or "").startswith("shared-open-"))
    opener.click().run()
    assert not view.exception
    at.run()  # the sharer's page lists the share; revoke it there
    next(b for b in at.sidebar.button if (b.key or "").startswith("revoke-")).click().run()
    assert shares.open_share(ws, token).status == "revoked"
    refused = start({"share": token})
    assert "This link was revoked" in texts(refused)
    assert not any(h.value.startswith('<div class="aa-answer">') for h in refused.html)
    bad = start({"share": "nonsense"})
    assert "does not open a shared answer" in texts(bad)
    ws.close()


def test_feedback_goes_to_the_database_with_its_message(env, seed):
    at = ask(start(), seed)
    at.feedback[0].set_value(1).run()
    assert any("feedback was saved" in c.value for c in at.caption)
    rows = fb.list_feedback(workspace())
    assert [(r["question"], r["rating"], r["user"]) for r in rows] == [(seed, "up", None)]
    assert not (env / "feedback.jsonl").exists()


def test_damaged_database_is_one_line_and_the_chat_still_answers(env, seed):
    env.mkdir(parents=True, exist_ok=True)
    damaged = b"not a database " * 500
    (env / "assistant.db").write_bytes(damaged)
    at = ask(start(), seed)
    answer = at.session_state["messages"][-1]
    assert "answer" in answer and not answer["answer"].abstained
    assert "not saved" in answer["save_error"] and "damaged" in answer["save_error"]
    assert "\n" not in answer["save_error"]
    assert any("Conversations are not saved now" in w.value for w in at.sidebar.warning)
    assert (env / "assistant.db").read_bytes() == damaged


def test_wrong_database_url_is_one_line_and_the_chat_still_answers(env, seed, monkeypatch):
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", "postgresql://me:secret@127.0.0.1:1/none")
    at = ask(start(), seed)
    msg = at.session_state["messages"][-1]
    assert not msg["answer"].abstained
    assert "could not be opened" in msg["save_error"] and "secret" not in msg["save_error"]
