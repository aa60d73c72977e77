"""The assistant stays up and loses nothing: damaged indexes, killed builds, rebuilds while
serving, hostile questions, and (slow) 20 concurrent chat sessions against the running app.

The fault injections and the load driver are shared with the benchmarks (devtools/reliability_cases.py,
devtools/load_client.py, benchmarks/bench_reliability.py), which record the same figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.answer.conversation import clean_question
from assistant.config import Settings
from assistant.index import layout
from assistant.index.builder import build
from assistant.service import Assistant
from devtools.page import page_strings
from devtools.reliability_cases import (
    DAMAGES,
    HOSTILE_QUESTIONS,
    REPO,
    SEED,
    OpenAudit,
    allowed_roots,
    check_damage_case,
    damage_index,
    kill_trials,
    real_named_fake_embedder,
    rebuild_while_serving,
    write_town_corpus,
)

APP = str(REPO / "app.py")
TIMEOUT = 300


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def quiet(_msg: str) -> None:
    pass


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory):
    """The seed article and a few towns, indexed with the fast fake embedder under the real
    model's name (so the app and the CLI accept the index without loading the model)."""
    root = tmp_path_factory.mktemp("fake-site")
    corpus = root / "corpus"
    write_town_corpus(corpus, 3)
    s = Settings().replace(corpus_dir=corpus, index_dir=root / "index")
    build(s, embedder=real_named_fake_embedder(), log=quiet)
    return {"corpus": corpus, "index": root / "index"}


@pytest.fixture(scope="module")
def real_site(tmp_path_factory, embedder):
    """The seed article indexed with the real model."""
    root = tmp_path_factory.mktemp("real-site")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    s = Settings().replace(corpus_dir=corpus, index_dir=root / "index", data_dir=root / "data")
    build(s, embedder=embedder, log=quiet)
    return {"corpus": corpus, "index": root / "index", "data": root / "data", "settings": s}


def _app_env(monkeypatch, corpus: Path, index: Path, data: Path) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))


def _texts(at: AppTest) -> list[str]:
    return [text for _, text, _ in page_strings(at, ("body", "message", "value"))]


# ------------------------------------------------------------------------------ damaged index

@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_index_is_refused_with_one_rebuild_message(fake_site, tmp_path, damage):
    """snapshot.Snapshot raises IndexMismatch, `assistant ask` exits 2 with one line saying to rebuild,
    and the next `assistant build` repairs the index."""
    result = check_damage_case(fake_site["index"], tmp_path / "case", damage, fake_site["corpus"])
    assert not result["problems"], result
    assert "rebuild it with `assistant build --full`" in result["cli_stderr"]


@pytest.mark.parametrize("damage", ["vectors.faiss truncated", "meta.sqlite corrupt (random bytes)",
                                    "sentences.npy truncated", "manifest for another model",
                                    "lexical folder missing"])
def test_app_shows_one_rebuild_message_for_a_damaged_index(fake_site, tmp_path, monkeypatch,
                                                           damage):
    damage_index(fake_site["index"], tmp_path / "damaged-index", damage)
    _app_env(monkeypatch, fake_site["corpus"], tmp_path / "damaged-index", tmp_path / "data")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for _ in range(3):  # the same single message on every run: no crash, no loop
        at.run()
        assert not at.exception, at.exception
        assert len(at.error) == 1, [e.value for e in at.error]
        message = at.error[0].value
        assert "cannot be used" in message and "assistant build \\-\\-full" in message.replace(
            "`assistant build --full`", "assistant build \\-\\-full")
        assert "\n" not in message
        assert not any("Traceback" in t for t in _texts(at))
    if at.chat_input:  # typing a question changes nothing: the same one message
        at.chat_input[0].set_value("Who will lead the coordinated efforts?").run()
        assert not at.exception and len(at.error) == 1


def test_a_damaged_new_build_keeps_the_old_one_serving(fake_site, tmp_path):
    """A build that cannot be opened becomes CURRENT under a running Assistant: it keeps
    answering from the build it has and says why, without retrying on every question."""
    index = tmp_path / "copied-index"
    shutil.copytree(fake_site["index"], index)
    emb = real_named_fake_embedder()
    a = Assistant.open(settings=Settings().replace(index_dir=index), embedder=emb)
    old = a.build_name
    good = layout.current_build_dir(index)
    bad = good.parent / (good.name + "-damaged")
    shutil.copytree(good, bad)
    DAMAGES["vectors.faiss truncated"](bad)
    (index / "CURRENT").write_text(bad.name + "\n")
    answers = [a.ask("How many residents does Quillhaven1 have?") for _ in range(3)]
    assert {x.build_id for x in answers} == {old}
    assert "vectors.faiss" in a.reload_error and "rebuild" in a.reload_error


# ------------------------------------------------------------------------------ killed builds

def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_next_build_removes_leftovers_of_killed_builds_even_with_nothing_to_do(
        fake_site, tmp_path):
    index = tmp_path / "copied-index"
    shutil.copytree(fake_site["index"], index)
    builds = index / "builds"
    dead = _dead_pid()
    killed = builds / f"20260101T000000-{dead}-abcdef.partial"
    (killed / "lexical").mkdir(parents=True)
    (killed / "meta.sqlite").write_bytes(b"half")
    pointer = index / f".CURRENT.{dead}.tmp"
    pointer.write_text("whatever\n")
    # A leftover whose process id now belongs to a live process (ids are reused).
    reused = builds / f"20260101T000000-{os.getppid()}-abcdef.partial"
    reused.mkdir()
    # Without the build lock, only the dead process's leftovers are certain garbage.
    layout.collect_garbage(index)
    assert not killed.exists() and not pointer.exists() and reused.exists()
    killed.mkdir()
    # A build holds the lock: nothing else can be writing, so every leftover goes, also when
    # the build has nothing to do.
    s = Settings().replace(corpus_dir=fake_site["corpus"], index_dir=index)
    report = build(s, embedder=real_named_fake_embedder(), log=quiet)
    assert report.up_to_date
    assert not killed.exists() and not reused.exists()
    assert [p.name for p in builds.iterdir()] == [layout.current_name(index)]


# ------------------------------------------------------------------------------ questions

def test_hostile_questions_get_a_clear_reply_and_open_nothing_outside(real_site, embedder):
    a = Assistant.open(settings=real_site["settings"], embedder=embedder)
    a.ask("warm up")
    roots = allowed_roots(real_site["index"], real_site["corpus"])
    for q in HOSTILE_QUESTIONS:
        with OpenAudit() as audit:
            ans = a.ask(q, history=[q])
        assert ans.build_id == a.build_name or (ans.notice and not ans.build_id), q
        if not clean_question(q)[0]:
            assert ans.notice == "Please type a question.", (q, ans.notice)
        if len(q) > 1000:
            assert "characters long" in ans.notice and "first 1,000" in ans.notice
        if ans.notice != "Please type a question.":
            assert ans.text and (ans.citations or ans.abstained)
        if clean_question(q)[0]:  # the audit sees reads: every question checks CURRENT
            assert any(path.endswith("CURRENT") for _, path in audit.paths), audit.paths
        outside = audit.outside(roots)
        assert not outside, (q, outside)
        assert not any("passwd" in p or "shadow" in p or ".ssh" in p or "environ" in p
                       for _, p in audit.paths), (q, audit.paths)


def test_hostile_questions_in_the_app(real_site, tmp_path, monkeypatch):
    _app_env(monkeypatch, real_site["corpus"], real_site["index"], tmp_path / "data")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.chat_input[0].set_value("warm up").run()  # loads the model: not audited
    # The sign-in gate asks Streamlit for its secrets on every run; Streamlit looks for
    # secrets.toml in the home and working folders (configuration, not user input).
    roots = allowed_roots(real_site["index"], real_site["corpus"], tmp_path / "data",
                          REPO / "app.py", REPO / "assistant", Path.home() / ".streamlit",
                          Path.cwd() / ".streamlit")
    asked = ["", "   \n\t  ", "\x00\x01\x02\x1b\x7f\u200b", "\x1b[31mred\x07", "x" * 100_000,
             "../../etc/passwd",
             "/etc/passwd", "file:///etc/shadow", "$(cat /etc/passwd)", "<script>alert(1)</script>",
             "'; DROP TABLE chunks; --"]
    for _i, q in enumerate(asked):
        with OpenAudit() as audit:
            at.chat_input[0].set_value(q).run()
        assert not at.exception, (q, at.exception)
        assert not at.error, (q, [e.value for e in at.error])
        msg = at.session_state["messages"][-1]
        assert "answer" in msg, (q, msg)
        ans = msg["answer"]
        if not clean_question(q)[0]:
            assert [x.value for x in at.info][-1] == "Please type a question."
        elif len(q) > 1000:
            assert any("characters long" in x.value for x in at.info)
        else:
            assert ans.citations or ans.abstained
        assert any(path.endswith("CURRENT") for _, path in audit.paths), audit.paths
        assert not audit.outside(roots), (q, audit.outside(roots))
    assert len(at.chat_message) == 2 * (len(asked) + 1)


# ------------------------------------------------------------------------------ slow: faults

@pytest.mark.slow
def test_rebuilds_while_serving_lose_no_question(tmp_path, embedder):
    """Four threads ask through one Assistant while three rebuilds complete (one full, two
    incremental with files added, changed and removed)."""
    r = rebuild_while_serving(tmp_path, embedder, threads=4)
    assert r["rebuilds"] == 3
    assert r["failed"] == 0, r["errors"]
    assert r["inconsistent"] == 0, r["problems"]
    assert r["questions"] >= 40
    assert len(r["answers_per_build"]) >= 3, r["answers_per_build"]  # served across rebuilds
    assert "duskmoth" in r["final_answer"]


@pytest.mark.slow
def test_builds_killed_at_random_moments_leave_a_working_index(tmp_path, embedder):
    r = kill_trials(tmp_path, embedder, trials=6)
    assert not r["problems"], r["problems"]
    assert r["killed"] >= 5
    assert r["phases"]["writing"] >= 1, r["phases"]  # kills landed while writing, too
    assert r["leftovers_cleaned"] >= 1  # and their *.partial folders were removed


# ------------------------------------------------------------------------------ slow: load

@pytest.mark.slow
@pytest.mark.browser
def test_twenty_concurrent_sessions_for_two_minutes(tmp_path):
    from devtools import load_client

    browsers = 2 if Path(load_client.CHROMIUM).exists() else 0
    r = load_client.run_load(tmp_path / "load", sessions=20, duration_s=120, ramp_s=10,
                            timeout_s=180, new_chat_every=8, browser_sessions=browsers,
                            echo=quiet)
    assert r["server_alive_at_end"]
    assert r["failed"] == 0, r["failures"]
    assert r["sessions_that_asked"] == 20
    assert r["questions"] >= 60, r["per_session_questions"]
    m = r["memory"]
    assert m["growth"] is not None and m["growth"] < 0.10, {k: v for k, v in m.items()
                                                             if k != "samples"}
    if browsers:
        assert r["latency_by_kind_s"]["browser"]["n"] >= browsers
