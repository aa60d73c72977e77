"""The index folder's layout and its atomic switch.

Layout::

    index/CURRENT                 name of the current build (switched by one rename)
    index/builds/<name>/          one immutable build (see snapshot.py for its files)
    index/builds/<name>.partial/  a build being written

A build folder is complete before CURRENT names it, so a reader never sees half a build, and a
failed build leaves the previous one current.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

from ..errors import IndexNotBuilt


def builds_dir(index_dir: Path) -> Path:
    return Path(index_dir) / "builds"


def current_name(index_dir: Path) -> str | None:
    """The current build's folder name; None when CURRENT is missing or unusable (then the
    index counts as not built, and the next build replaces the pointer)."""
    try:
        name = (Path(index_dir) / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not name or name in (".", "..") or "/" in name or "\x00" in name or name.startswith("."):
        return None
    return name


def current_build_dir(index_dir: Path) -> Path:
    name = current_name(index_dir)
    if not name or not (builds_dir(index_dir) / name).is_dir():
        raise IndexNotBuilt(index_dir)
    return builds_dir(index_dir) / name


def new_build_dir(index_dir: Path) -> Path:
    root = builds_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = root / f"{stamp}-{os.getpid()}-{os.urandom(3).hex()}.partial"
    path.mkdir()
    return path


# Test-only: ASSISTANT_TEST_CRASH_AT=<point> makes the build SIGKILL itself at that moment of
# publishing (tests/test_crash_points.py); unset in normal use.
CRASH_POINTS = ("before-publish", "after-rename", "before-pointer", "after-pointer")


def crash_point(name: str) -> None:
    if os.environ.get("ASSISTANT_TEST_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def publish(index_dir: Path, tmp_dir: Path, keep: int = 2) -> Path:
    """Make a finished build current: rename its folder, then switch CURRENT by rename."""
    crash_point("before-publish")
    final = tmp_dir.with_suffix("")
    os.replace(tmp_dir, final)
    crash_point("after-rename")
    pointer = Path(index_dir) / f".CURRENT.{os.getpid()}.tmp"
    pointer.write_text(final.name + "\n")
    _fsync_file(pointer)
    crash_point("before-pointer")
    os.replace(pointer, Path(index_dir) / "CURRENT")
    crash_point("after-pointer")
    _fsync_dir(Path(index_dir))
    collect_garbage(index_dir, keep)
    return final


def collect_garbage(index_dir: Path, keep: int = 2, exclusive: bool = False) -> None:
    """Remove old builds (keeping `keep` besides the current) and partial leftovers: those of
    dead processes or, when the caller holds the index's build lock (`exclusive`: no other build
    can be writing), all but this process's own. (Process ids are reused, so a leftover's id
    may belong to a live process by now.)"""
    root = builds_dir(index_dir)
    if not root.is_dir():
        return
    current = current_name(index_dir)
    finished = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")
                      and p.name != current)
    for old in finished[: max(0, len(finished) - keep)]:
        shutil.rmtree(old, ignore_errors=True)

    def leftover(pid: str) -> bool:
        if exclusive:
            return pid != str(os.getpid())
        return not (pid.isdigit() and _alive(int(pid)))

    for partial in root.glob("*.partial"):
        if leftover(partial.name.split("-")[1] if partial.name.count("-") >= 2 else ""):
            shutil.rmtree(partial, ignore_errors=True)
    for pointer in Path(index_dir).glob(".CURRENT.*.tmp"):  # a build killed while publishing
        if leftover(pointer.name.split(".")[2]):
            pointer.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        # Signal 0 only checks. No mutation here: a mutant sending a real signal would kill the
        # live process the tests name (the test runner's parent: mutmut's fork server).
        os.kill(pid, 0)  # pragma: no mutate
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False))


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync_file(path)
    except OSError:
        pass


def fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for f in files:
            _fsync_file(Path(dirpath) / f)
        _fsync_dir(Path(dirpath))


