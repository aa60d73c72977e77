"""The index folder's layout without a build (assistant/index/layout.py): build folder names,
which old builds and leftovers a build removes, and which it must leave alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from assistant.index import layout


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def finished(index_dir, *names):
    for name in names:
        (layout.builds_dir(index_dir) / name).mkdir(parents=True)


def names(index_dir) -> list[str]:
    return sorted(p.name for p in layout.builds_dir(index_dir).iterdir())


def test_a_new_build_folder_is_partial_and_named_by_time_and_process(tmp_path):
    path = layout.new_build_dir(tmp_path)
    assert path.parent == tmp_path / "builds" and path.is_dir()
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}-{os.getpid()}-[0-9a-f]{{6}}\.partial", path.name)
    assert layout.new_build_dir(tmp_path) != path  # two builds in one second differ


def test_old_builds_beyond_two_are_removed_never_the_current(tmp_path):
    finished(tmp_path, *(f"2026010{i}T000000-1-aaaaaa" for i in range(1, 7)))
    (tmp_path / "CURRENT").write_text("20260101T000000-1-aaaaaa\n")  # the oldest is current
    layout.collect_garbage(tmp_path)
    assert names(tmp_path) == ["20260101T000000-1-aaaaaa", "20260105T000000-1-aaaaaa",
                               "20260106T000000-1-aaaaaa"]
    layout.collect_garbage(tmp_path, keep=0)
    assert names(tmp_path) == ["20260101T000000-1-aaaaaa"]


def test_partial_builds_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    dead, live = dead_pid(), os.getppid()
    mine = f"20200101T000000-{os.getpid()}-cccccc.partial"  # older than every finished build
    finished(tmp_path, f"20200101T000000-{dead}-aaaaaa.partial",
             f"20200101T000000-{live}-bbbbbb.partial", mine, "odd.partial",
             *(f"2026010{i}T000000-1-aaaaaa" for i in range(1, 4)))
    (tmp_path / "CURRENT").write_text("20260103T000000-1-aaaaaa\n")
    for pid in (dead, live):
        (tmp_path / f".CURRENT.{pid}.tmp").write_text("x\n")
    layout.collect_garbage(tmp_path)
    # A partial build is never counted among the finished ones, and is kept while its process
    # lives (a concurrent build); a name without a process id is a leftover.
    assert names(tmp_path) == [f"20200101T000000-{live}-bbbbbb.partial", mine,
                               "20260101T000000-1-aaaaaa", "20260102T000000-1-aaaaaa",
                               "20260103T000000-1-aaaaaa"]
    assert sorted(p.name for p in tmp_path.glob(".CURRENT.*.tmp")) == [f".CURRENT.{live}.tmp"]
    # Holding the build lock, only this process's own partial build is left.
    layout.collect_garbage(tmp_path, exclusive=True)
    assert [n for n in names(tmp_path) if n.endswith(".partial")] == [mine]
    assert list(tmp_path.glob(".CURRENT.*.tmp")) == []


def test_no_builds_folder_is_nothing_to_do(tmp_path):
    layout.collect_garbage(tmp_path / "never-built")
    assert not (tmp_path / "never-built").exists()


def test_a_pointer_removed_by_another_build_meanwhile_is_no_error(tmp_path, monkeypatch):
    """Two builds collecting garbage at once: the leftover pointer one lists may be gone when it
    unlinks it."""
    from pathlib import Path

    gone = tmp_path / f".CURRENT.{dead_pid()}.tmp"  # listed, but already removed
    real_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: (
        iter([gone]) if pattern == ".CURRENT.*.tmp" else real_glob(self, pattern)))
    finished(tmp_path, "20260101T000000-1-aaaaaa")
    layout.collect_garbage(tmp_path)
    assert names(tmp_path) == ["20260101T000000-1-aaaaaa"]


def test_an_unusable_current_pointer_means_not_built(tmp_path):
    finished(tmp_path, "20260101T000000-1-aaaaaa")
    assert layout.current_name(tmp_path) is None  # no CURRENT yet
    for text in ("", "\n", ".", "..", "../elsewhere", "a/b", ".hidden", "a\x00b"):
        (tmp_path / "CURRENT").write_text(text)
        assert layout.current_name(tmp_path) is None, repr(text)
    (tmp_path / "CURRENT").write_bytes(b"\xff\xfe")
    assert layout.current_name(tmp_path) is None
    (tmp_path / "CURRENT").write_text(" 20260101T000000-1-aaaaaa\n")
    assert layout.current_name(tmp_path) == "20260101T000000-1-aaaaaa"
    assert layout.current_build_dir(tmp_path) == tmp_path / "builds" / "20260101T000000-1-aaaaaa"
