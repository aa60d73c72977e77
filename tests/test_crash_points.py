"""Publishing a build is crash-safe at every named moment, and CURRENT is only ever switched by
rename. ASSISTANT_TEST_CRASH_AT=<point> (assistant/index/layout.py) makes the build SIGKILL itself
there; after each crash the index opens and serves the previous build (killed before the switch)
or the new one (after it) whole, and the next build succeeds and clears the leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.index import layout
from assistant.index.builder import build
from assistant.index.snapshot import Snapshot
from devtools.fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent
FAKE = FakeEmbedder()
ARTICLE = "{title}\n{title} is a town by the sea. Its pier is {n} meters long. Ferries stop there.\n"
# Build with the fake embedder in a child process: the build, not the model, is under test here.
DRIVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from assistant.config import Settings
    from assistant.index.builder import build
    from devtools.fakes import FakeEmbedder
    s = Settings().replace(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]))
    build(s, embedder=FakeEmbedder(), log=lambda _m: None)
""")


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def write_article(corpus: Path, n: int) -> None:
    (corpus / f"town-{n}.txt").write_text(ARTICLE.format(title=f"Town{n}", n=100 + n))


def serving(index: Path) -> tuple[str, set[str]]:
    """(build name, article files) of what the index serves, opened through the index package."""
    snap = Snapshot(index, FAKE.name, FAKE.dim)
    try:
        return snap.name, set(snap.sources())
    finally:
        snap.close()


def leftovers(index: Path) -> list[str]:
    return sorted([p.name for p in (index / "builds").glob("*.partial")]
                  + [p.name for p in index.glob(".CURRENT.*.tmp")])


def run_crashing(cmd: list[str], point: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ASSISTANT_TEST_CRASH_AT=point, PYTHONPATH=str(REPO),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def crash_and_recover(tmp_path: Path, point: str, cmd_for) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir(exist_ok=True)
    for n in (1, 2):
        write_article(corpus, n)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=FAKE, log=lambda _m: None)
    before = serving(index)
    assert before[1] == {"town-1.txt", "town-2.txt"}

    write_article(corpus, 3)
    done = run_crashing(cmd_for(corpus, index), point)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])

    name, files = serving(index)  # opens, whole (manifest, counts and files checked)
    if point == "after-pointer":
        assert name != before[0] and files == {"town-1.txt", "town-2.txt", "town-3.txt"}
    else:
        assert (name, files) == before
    assert layout.current_name(index) == name

    write_article(corpus, 4)
    report = build(settings, embedder=FAKE, log=lambda _m: None)
    assert report.build_dir is not None
    assert serving(index)[1] == {f"town-{n}.txt" for n in (1, 2, 3, 4)}
    assert leftovers(index) == []


@pytest.mark.parametrize("point", layout.CRASH_POINTS)
def test_a_build_killed_while_publishing_leaves_a_whole_index(tmp_path, point):
    crash_and_recover(tmp_path, point,
                      lambda corpus, index: [sys.executable, "-c", DRIVER, str(corpus), str(index)])


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before-pointer", "after-pointer"])
def test_the_cli_build_killed_while_publishing_leaves_a_whole_index(tmp_path, point, embedder):
    """The same through `assistant build` with the real model (the index then holds its vectors,
    so it is opened with the model's name)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir(exist_ok=True)
    for n in (1, 2):
        write_article(corpus, n)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=lambda _m: None)
    before = layout.current_name(index)
    write_article(corpus, 3)
    done = run_crashing([sys.executable, "-m", "assistant.cli", "build", "--corpus", str(corpus),
                         "--index", str(index)], point)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])
    snap = Snapshot(index, embedder.name, embedder.dim)
    try:
        assert (snap.name == before) == (point != "after-pointer")
        assert len(snap.sources()) == (3 if point == "after-pointer" else 2)
    finally:
        snap.close()
    write_article(corpus, 4)
    build(settings, embedder=embedder, log=lambda _m: None)
    assert leftovers(index) == []


# ------------------------------------------------------------------------------ audit hook

_WRITES: list[tuple[str, object, object]] | None = None  # recording while not None


def _is_write(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(ch in mode for ch in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_TRUNC
                                                    | os.O_APPEND | os.O_CREAT))


def _hook(event: str, args: tuple) -> None:
    if _WRITES is not None and event == "open" and args and isinstance(args[0], (str, Path)):
        mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, None)
        if _is_write(mode, flags):
            _WRITES.append((str(args[0]), mode, flags))


sys.addaudithook(_hook)  # audit hooks cannot be removed: it records only inside `recording`


@pytest.fixture
def recording():
    global _WRITES
    _WRITES = []
    try:
        yield _WRITES
    finally:
        _WRITES = None


def test_current_is_never_opened_for_writing(tmp_path, recording):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir(exist_ok=True)
    write_article(corpus, 1)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=FAKE, log=lambda _m: None)
    write_article(corpus, 2)
    build(settings, embedder=FAKE, log=lambda _m: None)
    written = [Path(p).name for p, _, _ in recording]
    # The hook sees the build's writes, the pointer's temp file among them ...
    assert sum(n.startswith(".CURRENT.") and n.endswith(".tmp") for n in written) == 2
    # ... and never CURRENT itself: it only ever changes by rename.
    assert "CURRENT" not in written
    assert layout.current_name(index) is not None
