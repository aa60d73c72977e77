"""What a build reports, the lock that serialises builds of one index, and the scan of the
corpus folder for the files a build reads."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..loaders import SUPPORTED
from ..safe_text import strip_controls


@dataclass
class BuildReport:
    build_dir: Path | None
    articles: int = 0
    sections: int = 0
    chunks: int = 0
    tokens: int = 0  # word pieces of all chunks in the build
    embedded_chunks: int = 0
    embedded_tokens: int = 0  # fed to the model in this run (special tokens included)
    reused_files: int = 0
    parsed_files: int = 0
    removed_files: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    lexical_seconds: float = 0.0  # the BM25 index: kept entries re-scored, new text tokenized
    write_seconds: float = 0.0  # the build folder: database, vectors, indexes, fsync
    up_to_date: bool = False

    def summary(self) -> str:
        rate = ""
        if self.embedded_chunks:
            rate = (f"; embedded {self.embedded_chunks} chunks in {self.embed_seconds:.1f}s "
                    f"({self.embedded_chunks / self.seconds:.1f} chunks/s, "
                    f"{self.embedded_tokens / self.seconds:.0f} tokens/s over the whole build)")
        state = "index up to date, nothing to do" if self.up_to_date else f"built {self.build_dir}"
        return (f"{state}: {self.articles} articles, {self.sections} sections, {self.chunks} chunks, "
                f"{self.tokens} tokens; {self.parsed_files} files read, {self.reused_files} reused, "
                f"{self.removed_files} removed, {len(self.skipped)} skipped; {self.seconds:.1f}s{rate}")


def _stderr(msg: str) -> None:
    print(strip_controls(msg), file=sys.stderr, flush=True)  # file names are untrusted


class ReadProgress:
    """Progress of reading the corpus files, in the build's log: a line every `every` seconds
    (files read so far, and the one being read), and one for each file that took longer than
    `slow` seconds, so a slow or stuck file is named while the build runs (10 s each: a small
    corpus builds without a line)."""

    def __init__(self, total: int, log: Callable[[str], None], every: float = 10.0,
                 slow: float = 10.0):
        self.total, self.log, self.every, self.slow = total, log, every, slow
        self.count = 0
        self.t0 = self.last = time.monotonic()
        self.current: tuple[str, float] | None = None

    def start(self, rel: str) -> None:
        now = time.monotonic()
        self._finish(now)
        if now - self.last >= self.every:
            self.log(f"reading files: {self.count:,} of {self.total:,} ({now - self.t0:.0f} s), "
                     f"now {rel}")
            self.last = now
        self.current = (rel, now)

    def _finish(self, now: float) -> None:
        if self.current is not None:
            rel, t = self.current
            self.count += 1
            if now - t >= self.slow:
                self.log(f"read {rel} in {now - t:.1f} s")
        self.current = None

    def skipped(self) -> None:
        """The current file was skipped (and its line, with the reason, logged already)."""
        if self.current is not None:
            self.count += 1
            self.current = None

    def done(self) -> None:
        self._finish(time.monotonic())


@contextmanager
def build_lock(index_dir: Path, log: Callable[[str], None]):
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another build is running on this index; waiting for it to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


RACY_NS = 2_000_000_000  # FAT keeps times to 2 s; most file systems to a few milliseconds


def stat_trusted_before(manifest: dict) -> int:
    """Files modified before this time (ns) are taken as unchanged when their size and time are
    the ones recorded; later ones (modified while or just before the build read them) are read
    again. 0 when the build recorded no time."""
    started = manifest.get("scan_started_ns")
    return started - RACY_NS if isinstance(started, int) else 0


def file_sig(st: os.stat_result) -> tuple[int, int, int]:
    """What a build records of a file to know it unchanged later: size, modification time and
    inode change time (the last catches a file replaced by one with the same size and an old
    modification time, as `cp -p`, `rsync -t` or `tar` leave it)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def same_stat(recorded, sig: tuple[int, int, int], trusted_before: int) -> bool:
    """Is a file's signature the recorded one, and old enough to trust?"""
    recorded = tuple(recorded or ())
    return (len(recorded) == 3 and None not in recorded and recorded == tuple(sig)
            and max(sig[1], sig[2]) < trusted_before)


def scan_corpus(corpus_dir: Path) -> tuple[list[tuple[Path, str]], list[dict]]:
    """Supported files under the corpus (relative paths, sorted) and those refused up front."""
    root = Path(corpus_dir).resolve()
    found, refused, _ = scan_corpus_stats(root)
    return [(root / rel, rel) for rel, *_ in found], refused


def scan_corpus_stats(corpus_dir: Path) -> tuple[list[tuple[str, int, int, int]], list[dict],
                                                 dict[str, int]]:
    """scan_corpus as (relative name, size, mtime_ns, ctime_ns) per file (of the target, for a
    link), with the modification time of every folder visited, read before it was listed. One
    os.scandir per folder and one stat per file (bench_scale's app phase times it)."""
    root = Path(corpus_dir).resolve()
    found: list[tuple[str, int, int, int]] = []
    refused: list[dict] = []
    folders: dict[str, int] = {}

    stack = [(str(root), "")]  # depth first, each folder's files before its subfolders
    while stack:
        folder, prefix = stack.pop()
        try:
            folders[folder] = os.stat(folder).st_mtime_ns
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder is left out, as os.walk does
        subfolders = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():  # links to folders are not followed
                    subfolders.append(entry)
                continue
            rel = prefix + name
            if os.path.splitext(name)[1].lower() not in SUPPORTED:
                continue
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8 in the name (or a folder's)
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                refused.append({"source": shown, "reason": "file name is not valid UTF-8; "
                                                           "rename the file"})
                continue
            if entry.is_symlink():
                try:
                    target = Path(entry.path).resolve()
                except (OSError, RuntimeError):  # RuntimeError: a loop, on Python < 3.13
                    refused.append({"source": rel, "reason": "symbolic link loop"})
                    continue
                if not target.is_relative_to(root):
                    refused.append({"source": rel, "reason": "symbolic link leads outside the corpus"})
                    continue
                if not target.is_file():
                    refused.append({"source": rel, "reason": "broken symbolic link"})
                    continue
            elif not entry.is_file(follow_symlinks=False):
                continue
            try:
                st = entry.stat()
            except OSError:  # gone since the folder was listed
                continue
            found.append((rel, *file_sig(st)))
        stack.extend((e.path, prefix + e.name + "/") for e in reversed(subfolders))
    return found, refused, folders
