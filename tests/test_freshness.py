"""Freshness shown (assistant/ui/freshness.py and the app's sidebar): last updated, the watcher's
state, "Updating…" instead of the stale warning while the watcher works, and *Update now* for
administrators, one background build at a time."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from assistant.index.builder import build
from assistant.ui import freshness
from assistant.ui.auth import Access, Identity
from assistant.ui.watcher import STATUS_FILE, WatchStatus
from devtools.ui_samples import REPO, SEED

NEW_ARTICLE = """Quorvath Bridge
The Quorvath bridge over the river Lenn was opened in 1987 by mayor Elisabeth Tran. It is 840 meters long and carries a railway line.
"""


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def wait_for(condition, timeout: float = 300.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def user(email):
    return Access("allowed", user=Identity(email=email, sub="s", name="n"))


def test_who_may_update():
    assert freshness.may_update(Access("open"))
    assert not freshness.may_update(None)
    secrets = {"assistant": {"admins": ["Boss@Example.org"]}}
    assert freshness.may_update(user("boss@example.org"), secrets, environ={})
    assert not freshness.may_update(user("staff@example.org"), secrets, environ={})
    assert freshness.may_update(user("ops@example.org"), {}, environ={"ASSISTANT_ADMINS":
                                                                     "a@x.org, ops@example.org"})
    assert not freshness.may_update(Access("allowed", user=Identity(None, "s", "n")), secrets,
                                    environ={"ASSISTANT_ADMINS": ""})
    assert not freshness.may_update(Access("sign_in"), secrets, environ={})


def test_watch_line_says_what_the_watcher_does():
    now = time.time()
    assert "not running" in freshness.watch_line(WatchStatus("idle", running=False))
    assert "assistant watch" in freshness.watch_line(None)
    assert "updating the index (1 added (a.txt))" in freshness.watch_line(
        WatchStatus("building", running=True, pending="1 added (a.txt)"))
    failed = freshness.watch_line(WatchStatus("failed", running=True, error={
        "at": now, "reason": "disk full", "retry_at": now + 40}))
    assert "failed (disk full)" in failed and "previous build keeps serving" in failed
    assert freshness.built_ago("2026-01-01T00:00:00Z", now=1767225600 + 300) == \
        "2026-01-01 00:00 UTC (5 min ago)"
    assert freshness.built_ago(None) == "?"


def test_update_now_runs_one_build_at_a_time(corpus_dir, index_dir, embedder):
    shutil.copy(SEED, corpus_dir / SEED.name)
    settings = Settings().replace(corpus_dir=corpus_dir, index_dir=index_dir)
    build(settings, embedder=embedder, log=lambda m: None)
    before = (index_dir / "CURRENT").read_text()
    (corpus_dir / "quorvath-bridge.txt").write_text(NEW_ARTICLE)
    updater = freshness.UpdateNow(settings)
    assert updater.start()
    assert not updater.start()  # a second press (another session) while it runs
    wait_for(lambda: not updater.state.running, what="the background build")
    assert updater.state.error == "" and "2 articles" in updater.state.result
    assert (index_dir / "CURRENT").read_text() != before


def start_app() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    return at


def test_sidebar_says_updating_while_the_watcher_works_and_offers_update_now_otherwise(
        corpus_dir, index_dir, embedder):
    shutil.copy(SEED, corpus_dir / SEED.name)
    settings = Settings().replace(corpus_dir=corpus_dir, index_dir=index_dir)
    build(settings, embedder=embedder, log=lambda m: None)
    (corpus_dir / "quorvath-bridge.txt").write_text(NEW_ARTICLE)
    (index_dir / STATUS_FILE).write_text(json.dumps(
        {"state": "building", "heartbeat": time.time() + 3600, "poll": 2, "pid": 1,
         "pending": "1 added (quorvath-bridge.txt)"}))
    at = start_app()
    infos = " ".join(i.value for i in at.sidebar.info)
    assert "Updating…" in infos and "quorvath-bridge.txt" in infos
    assert not at.sidebar.warning
    assert any("Last updated:" in c.value for c in at.sidebar.caption)

    (index_dir / STATUS_FILE).unlink()  # no watcher: the stale warning and, sign-in off, the button
    at.run()
    assert "out of date" in " ".join(w.value for w in at.sidebar.warning)
    before = (index_dir / "CURRENT").read_text()
    at.button(key="update_now").click().run()
    wait_for(lambda: (index_dir / "CURRENT").read_text() != before, what="the Update now build")
    wait_for(lambda: not at.run().sidebar.warning and
             any("**2** articles" in m.value for m in at.sidebar.markdown), what="the new build shown")
