"""`assistant watch` (assistant/ui/watcher.py): the index follows the corpus by itself.

In-process tests run the Watcher's loop in a thread with the real model and short test settings
(debounce and poll in fractions of a second); the signal and single-instance tests run the real
`assistant watch` command. Every wait is on a condition (CURRENT, the status file, an answer),
never a bare sleep taken as proof."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.index import layout
from assistant.service import Assistant, build_index
from assistant.ui.watcher import STATUS_FILE, Watcher, describe_changes, read_status
from devtools.ui_samples import REPO, SEED

PENGUIN = """Penguin Census Report
Emperor Colony Findings
The Antarctic survey counted 4,812 emperor penguins at the Halley Bay colony in 2023. The count was led by biologist Marta Quillon from the polar institute.
"""
PENGUIN_CHANGED = PENGUIN.replace("4,812", "7,305").replace("Marta Quillon", "Ravi Okonkwo")


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def wait_for(condition, timeout: float = 240.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Running:
    """A Watcher's loop in a background thread, stopped on exit."""

    def __init__(self, watcher: Watcher):
        self.watcher = watcher
        self.result: list = []
        self.thread = threading.Thread(target=lambda: self.result.append(watcher.run()),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self.watcher

    def __exit__(self, *exc):
        self.watcher.stop_requested = True
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


@pytest.fixture
def settings(corpus_dir, index_dir) -> Settings:
    (corpus_dir / SEED.name).write_bytes(SEED.read_bytes())
    return Settings().replace(corpus_dir=corpus_dir, index_dir=index_dir)


def real_build(embedder, calls: list | None = None):
    def run(settings, log):
        if calls is not None:
            calls.append(time.monotonic())
        return build_index(settings, embedder=embedder, log=log, progress=False)
    return run


def current(index_dir: Path) -> str | None:
    return layout.current_name(index_dir)


def test_new_changed_and_deleted_files_are_followed_and_answered(settings, embedder, index_dir,
                                                                corpus_dir):
    lines: list[str] = []
    watcher = Watcher(settings, debounce=0.3, poll=0.1, log=lines.append,
                      build=real_build(embedder))
    with Running(watcher):
        first = wait_for(lambda: current(index_dir), what="the first build (no index at start)")
        assistant = Assistant.open(settings=settings, embedder=embedder)

        (corpus_dir / "penguins.txt").write_text(PENGUIN, encoding="utf-8")
        second = wait_for(lambda: current(index_dir) not in (None, first) and current(index_dir),
                          what="a build with the new file")
        answer = assistant.ask("How many emperor penguins were counted at Halley Bay?")
        assert not answer.abstained
        assert answer.citations[0].source == "penguins.txt"
        assert "4,812" in answer.text

        (corpus_dir / "penguins.txt").write_text(PENGUIN_CHANGED, encoding="utf-8")
        wait_for(lambda: current(index_dir) not in (first, second), what="a build with the change")
        answer = assistant.ask("How many emperor penguins were counted at Halley Bay?")
        assert "7,305" in answer.text and "4,812" not in answer.text
        assert answer.citations[0].source == "penguins.txt"

        third = current(index_dir)
        (corpus_dir / "penguins.txt").unlink()
        wait_for(lambda: current(index_dir) != third, what="a build without the deleted file")
        assert [a.source for a in assistant.articles()] == [SEED.name]
        status = wait_for(lambda: (s := read_status(index_dir)) and s.state == "idle" and s,
                          what="the watcher idle again")
        assert status.running and "1 removed (penguins.txt)" in status.last_build["line"]
    assert read_status(index_dir).state == "stopped" and not read_status(index_dir).running
    built = [line for line in lines if line.startswith("watch: built")]
    assert len(built) == 4, lines  # start-up, added, changed, removed: one line each
    assert "1 added (penguins.txt)" in built[1] and "1 changed (penguins.txt)" in built[2]


def test_a_copy_in_progress_is_not_indexed_half_written(settings, embedder, index_dir, corpus_dir):
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    calls: list[float] = []
    sizes: list[int] = []
    target = corpus_dir / "growing.txt"
    body = [PENGUIN] + [f"Paragraph {i} of the slowly copied report says the tally rose by {i}."
                        "\n" for i in range(12)]

    def build(s, log):
        sizes.append(target.stat().st_size if target.exists() else -1)
        return real_build(embedder, calls)(s, log)

    watcher = Watcher(settings, debounce=1.0, poll=0.1, log=lambda m: None, build=build)
    with Running(watcher):
        wait_for(lambda: read_status(index_dir) and read_status(index_dir).state == "idle",
                 what="the watcher started")
        with open(target, "w", encoding="utf-8") as fh:  # a copy slower than the poll
            for part in body:
                fh.write(part)
                fh.flush()
                time.sleep(0.4)  # pacing the writer (shorter than the debounce), not a proof
        wait_for(lambda: calls, what="the build after the copy")
        wait_for(lambda: read_status(index_dir).state == "idle", what="the build finished")
    full = len("".join(body).encode())
    assert sizes and all(size == full for size in sizes), (sizes, full)
    text = " ".join(s.text for s in Assistant.open(settings=settings, embedder=embedder)
                    .article(next(a.id for a in Assistant.open(settings=settings, embedder=embedder)
                                  .articles() if a.source == "growing.txt"))[1])
    assert "Paragraph 11" in text


def test_a_failing_file_does_not_stop_the_others(settings, embedder, index_dir, corpus_dir):
    from devtools.samples_pdf import make_corrupt_pdf

    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    lines: list[str] = []
    watcher = Watcher(settings, debounce=0.3, poll=0.1, log=lines.append,
                      build=real_build(embedder))
    with Running(watcher):
        wait_for(lambda: read_status(index_dir) and read_status(index_dir).state == "idle",
                 what="the watcher started")
        before = current(index_dir)
        (corpus_dir / "broken.pdf").write_bytes(make_corrupt_pdf())
        (corpus_dir / "penguins.txt").write_text(PENGUIN, encoding="utf-8")
        wait_for(lambda: current(index_dir) != before, what="a build")
        wait_for(lambda: read_status(index_dir).state == "idle", what="the watcher idle")
    sources = {a.source for a in Assistant.open(settings=settings, embedder=embedder).articles()}
    assert sources == {SEED.name, "penguins.txt"}
    line = next(line for line in lines if "penguins.txt" in line and "built" in line)
    assert "skipped 1: broken.pdf: " in line


def test_a_failed_build_keeps_the_old_one_and_is_retried_with_the_reason_recorded(
        settings, embedder, index_dir, corpus_dir):
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    before = current(index_dir)
    calls: list[float] = []

    def flaky(s, log):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real_build(embedder)(s, log)

    lines: list[str] = []
    watcher = Watcher(settings, debounce=0.2, poll=0.1, log=lines.append, build=flaky,
                      backoff=0.5)
    with Running(watcher):
        wait_for(lambda: read_status(index_dir) and read_status(index_dir).state == "idle",
                 what="the watcher started")
        (corpus_dir / "penguins.txt").write_text(PENGUIN, encoding="utf-8")
        failed = wait_for(lambda: (s := read_status(index_dir)) and s.state == "failed" and s,
                          what="the failure recorded")
        assert "No space left on device" in failed.error["reason"]
        assert failed.error["retry_at"] is None or failed.error["retry_at"] > failed.error["at"]
        assert current(index_dir) == before  # the old build keeps serving
        wait_for(lambda: current(index_dir) != before, what="the retry's build")
        ok = wait_for(lambda: (s := read_status(index_dir)) and s.state == "idle" and s,
                      what="idle after the retry")
        assert ok.error is None
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.5  # retried after the backoff
    assert any("retrying in" in line for line in lines)


def test_two_watchers_refuse_to_run_at_once(settings, index_dir):
    first = Watcher(settings, log=lambda m: None)
    first.acquire()
    try:
        with pytest.raises(AssistantError, match="Another watcher .* already running"):
            Watcher(settings, log=lambda m: None).acquire()
        proc = subprocess.run([sys.executable, "-m", "assistant.cli", "watch", "--index",
                               str(index_dir), "--corpus", str(settings.corpus_dir)],
                              capture_output=True, text=True, timeout=120, env=_env(), cwd=REPO,
                              check=False)
        assert proc.returncode == 2
        assert f"Another watcher (pid {os.getpid()})" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        first.release()
    second = Watcher(settings, log=lambda m: None)
    second.acquire()  # free again once the first let go
    second.release()


def test_describe_changes_names_added_changed_removed():
    before = [("a.txt", 1, 1, 1), ("b.txt", 2, 2, 2), ("c.txt", 3, 3, 3)]
    after = [("a.txt", 1, 1, 1), ("b.txt", 5, 9, 9), ("d.txt", 4, 4, 4)]
    assert describe_changes(before, after) == "1 added, 1 changed, 1 removed (d.txt, b.txt, c.txt)"
    assert describe_changes(after, after) == "no file changes"


def test_status_file_from_a_dead_watcher_is_not_running(index_dir):
    (index_dir / STATUS_FILE).write_text(json.dumps(
        {"state": "building", "heartbeat": time.time() - 3600, "poll": 2}))
    status = read_status(index_dir)
    assert status.state == "building" and not status.running and not status.updating
    (index_dir / STATUS_FILE).write_text("{not json")
    assert read_status(index_dir) is None


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}


@pytest.mark.slow
def test_sigterm_during_a_build_leaves_current_serving_and_the_next_start_succeeds(
        settings, embedder, index_dir, corpus_dir):
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    before = current(index_dir)
    for i in range(40):  # enough text that the build is still running when the signal comes
        (corpus_dir / f"report-{i:02d}.txt").write_text(
            PENGUIN.replace("4,812", str(1000 + i)) * 3, encoding="utf-8")
    cmd = [sys.executable, "-m", "assistant.cli", "watch", "--debounce", "0.2", "--poll", "0.1"]
    proc = subprocess.Popen(cmd, env=_env(), cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (s := read_status(index_dir)) and s.state == "building",
                 what="the watcher building")
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=120)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped during a build; it was not published" in err
    assert current(index_dir) == before
    assert not list(layout.builds_dir(index_dir).glob("*.partial"))
    assert read_status(index_dir).state == "stopped"
    Assistant.open(settings=settings, embedder=embedder).ask("Who will lead the efforts?")

    proc = subprocess.Popen(cmd, env=_env(), cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: current(index_dir) != before, what="the next start's build")
        wait_for(lambda: read_status(index_dir).state == "idle", what="idle after the build")
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "watch: built" in err and "40 added" in err
    assert len(Assistant.open(settings=settings, embedder=embedder).articles()) == 41


def test_a_long_build_keeps_the_heartbeat_and_waits_for_a_manual_build(
        settings, embedder, index_dir, corpus_dir, monkeypatch):
    """The watcher's build takes the index's build lock: while another build (here: the lock
    held as `assistant build` holds it) runs, it waits, says so, and still shows as running."""
    from assistant.index.scan import build_lock
    from assistant.ui import watcher as watcher_module

    monkeypatch.setattr(watcher_module, "HEARTBEAT_SECONDS", 0.2)
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    before = current(index_dir)
    lines: list[str] = []
    watcher = Watcher(settings, debounce=0.2, poll=0.1, log=lines.append,
                      build=real_build(embedder))
    with Running(watcher):
        wait_for(lambda: read_status(index_dir) and read_status(index_dir).state == "idle",
                 what="the watcher started")
        with build_lock(index_dir, lambda m: None):  # a manual build in progress
            (corpus_dir / "penguins.txt").write_text(PENGUIN, encoding="utf-8")
            wait_for(lambda: any("another build is running" in line for line in lines),
                     what="the watcher waiting for the lock")
            first = read_status(index_dir)
            assert first.state == "building" and first.running
            beat = json.loads((index_dir / STATUS_FILE).read_text())["heartbeat"]
            wait_for(lambda: json.loads((index_dir / STATUS_FILE).read_text())["heartbeat"] > beat,
                     what="a heartbeat during the build")
            assert current(index_dir) == before  # nothing published while the lock is held
        wait_for(lambda: current(index_dir) != before, what="the build after the lock")
