"""One corpus file -> Article(title, sections). Bad input raises UnreadableSource with a reason.

One module per format, each with `parse(data: bytes, source) -> (title, sections)`, and one table
(`FORMATS`) from file suffix to that module: the build, its error messages and the app's texts all
read it. A new format is one module plus one line here."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnreadableSource
from ..records import Article, Section, content_id
from . import docx, html, markdown, pdf, text
from .common import clean_section, decode_text, is_heading_line, label, title_from_name
from .isolate import ParseWorker
from .limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class Format:
    name: str
    parse: Callable[..., tuple[str, list[Section]]]
    # A compressed container: parse(data, source, limits), checked before it expands, and run
    # in the parse worker (isolate.py) during a build.
    bounded: bool = False


FORMATS: dict[str, Format] = {
    ".txt": Format("plain text", text.parse),
    ".md": Format("Markdown", markdown.parse),
    ".markdown": Format("Markdown", markdown.parse),
    ".html": Format("HTML", html.parse),
    ".htm": Format("HTML", html.parse),
    ".pdf": Format("PDF", pdf.parse, bounded=True),
    ".docx": Format("Word", docx.parse, bounded=True),
}
SUPPORTED = frozenset(FORMATS)


def suffixes_text() -> str:
    """'.txt, .md, .html, .pdf or .docx': the main suffix of each format, for messages."""
    first: dict[str, str] = {}
    for suffix, fmt in FORMATS.items():
        first.setdefault(fmt.name, suffix)
    main = list(first.values())
    return ", ".join(main[:-1]) + " or " + main[-1]


def sha256_file(path: Path) -> str:
    """The file's sha256. Opened without blocking and checked to be a regular file: a FIFO put
    in a file's place after the scan cannot stall the build."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a regular file")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_article(path: Path, source: str, max_bytes: int | None = None, sha256: str = "", *,
                 root: Path | None = None, limits: Limits = DEFAULT_LIMITS,
                 worker: ParseWorker | None = None) -> Article:
    """Read one file. `source` is its path relative to the corpus folder. With `root` (the
    corpus folder, resolved), the file is refused unless the object actually opened lies inside
    it. `worker` parses PDF and Word files in a child process under `limits`' time budget."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableSource(source, f"unsupported file type {path.suffix or '(none)'}")
    data = read_checked(path, source, root, max_bytes)
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    if fmt.bounded and worker is not None:
        title, sections = worker.parse(path.suffix.lower(), data, source)
    elif fmt.bounded:
        title, sections = fmt.parse(data, source, limits)
    else:
        title, sections = fmt.parse(data, source)
    del data
    cleaned, shift = [], 0
    for s in sections:
        c = clean_section(s)  # control characters go: the section's offset moves back
        if shift:
            c = Section(c.heading_path, c.text, c.page, max(0, c.start - shift))
        shift += len(s.text) - len(c.text)
        if c.text.strip():
            cleaned.append(c)
    if not cleaned:
        raise UnreadableSource(source, "no text to index" if title else "empty file")
    title = label(title or title_from_name(path))
    return Article(id=content_id(source), title=title, source=source, sections=tuple(cleaned),
                   sha256=sha256)


def _opened_path(fd: int) -> str | None:
    """Where the open file descriptor `fd` really is (Linux /proc), or None."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def read_checked(path: Path, source: str, root: Path | None = None,
                 max_bytes: int | None = None) -> bytes:
    """The file's bytes, read through one file descriptor that is checked itself: a regular
    file (a FIFO swapped in does not block: O_NONBLOCK), inside `root` when given, within
    `max_bytes`. The scan checked the path earlier; a link swapped since then is caught here,
    because the check and the read are the same open object."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableSource(source, f"cannot open ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableSource(source, "not a regular file")
        if root is not None:
            real = _opened_path(fd)
            if real is None:  # no /proc: the checked path must still be the opened file
                real = os.path.realpath(path)
                there = os.stat(real)
                if (there.st_dev, there.st_ino) != (st.st_dev, st.st_ino):
                    raise UnreadableSource(source, "file changed while it was opened")
            if not Path(real).is_relative_to(Path(root)):
                raise UnreadableSource(source, "symbolic link leads outside the corpus")
        size = st.st_size
        if max_bytes is not None and size > max_bytes:
            raise UnreadableSource(
                source, f"file too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB)")
        if size == 0:
            raise UnreadableSource(source, "empty file")
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as f:
            cap = max_bytes + 1 if max_bytes is not None else -1
            data = f.read(cap)
        if max_bytes is not None and len(data) > max_bytes:
            raise UnreadableSource(source, f"file too large (grew past the limit "
                                           f"{max_bytes / 1e6:.1f} MB while read)")
        if not data:
            raise UnreadableSource(source, "empty file")
        return data
    finally:
        os.close(fd)


__all__ = ["DEFAULT_LIMITS", "FORMATS", "SUPPORTED", "Format", "Limits", "ParseWorker",
           "decode_text", "is_heading_line", "load_article", "read_checked", "sha256_file",
           "suffixes_text"]
