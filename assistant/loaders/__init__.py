"""One corpus file -> Article(title, sections). Bad input raises UnreadableSource with a reason.

One module per format, each with `parse(data: bytes, source) -> (title, sections)`, and one table
(`FORMATS`) from file suffix to that module: the build, its error messages and the app's texts all
read it. A new format is one module plus one line here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnreadableSource
from ..records import Article, Section, content_id
from . import docx, html, markdown, pdf, text
from .common import clean_section, decode_text, is_heading_line, label, title_from_name


@dataclass(frozen=True)
class Format:
    name: str
    parse: Callable[[bytes, str], tuple[str, list[Section]]]


FORMATS: dict[str, Format] = {
    ".txt": Format("plain text", text.parse),
    ".md": Format("Markdown", markdown.parse),
    ".markdown": Format("Markdown", markdown.parse),
    ".html": Format("HTML", html.parse),
    ".htm": Format("HTML", html.parse),
    ".pdf": Format("PDF", pdf.parse),
    ".docx": Format("Word", docx.parse),
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
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_article(path: Path, source: str, max_bytes: int | None = None,
                 sha256: str = "") -> Article:
    """Read one file. `source` is its path relative to the corpus folder."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableSource(source, f"unsupported file type {path.suffix or '(none)'}")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise UnreadableSource(
            source, f"file too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB)")
    if size == 0:
        raise UnreadableSource(source, "empty file")
    data = path.read_bytes()
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    title, sections = fmt.parse(data, source)
    sections = [clean_section(s) for s in sections if s.text.strip()]
    if not sections:
        raise UnreadableSource(source, "no text to index" if title else "empty file")
    title = label(title or title_from_name(path))
    return Article(id=content_id(source), title=title, source=source, sections=tuple(sections),
                   sha256=sha256)


__all__ = ["FORMATS", "SUPPORTED", "Format", "decode_text", "is_heading_line", "load_article",
           "sha256_file", "suffixes_text"]
