"""What every format's loader shares: labels, decoding, line cleaning, the plain-text heading
rule, and the one section builder (headings and body lines in document order -> Sections)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..errors import UnreadableSource
from ..records import Section
from ..safe_text import strip_controls, strip_controls_line

_FINAL_PUNCT = tuple(".!?:;,\"'”’)]…»-–—")
_MAX_HEADING_WORDS = 12
# A line ending in one of these is a sentence cut by a line break, not a heading.
_CONNECTORS = {"a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "as",
               "with", "by", "from", "that", "which", "who", "is", "are", "was", "were", "his",
               "her", "its", "their", "our", "my", "your", "this", "these", "than", "into"}
_MAX_HEADING_CHARS = 100
# Titles and headings are labels (shown, and put before every chunk of their section for
# embedding and BM25); a pathological one, like a whole page inside an <h2>, is cut to this.
MAX_LABEL_CHARS = 200


def title_from_name(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip() or path.name


def label(text: str) -> str:
    text = _no_surrogates(strip_controls_line(text))
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1].rstrip() + "…"


def _no_surrogates(text: str) -> str:
    """Lone surrogates (from a PDF's broken character map, say) cannot be stored as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def clean_section(s: Section) -> Section:
    """Labels cut, control characters removed (after every loader has decoded its entities and
    escapes: "&#27;" in HTML is a real ESC only then), lone surrogates replaced."""
    heading_path = tuple(label(h) for h in s.heading_path)
    text = _no_surrogates(strip_controls(s.text))
    if text == s.text:
        text = s.text
    if heading_path == s.heading_path and text is s.text:
        return s
    return Section(heading_path, text, s.page, s.start)


# ---------------------------------------------------------------- text decoding

# Control characters (Unicode category Cc: C0, DEL, C1) except tab and line feed.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def decode_text(data: bytes, source: str) -> str:
    utf16 = None if data.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_without_bom(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableSource(source, "invalid UTF-16 text") from None
    elif utf16:
        try:
            text = data[: len(data) // 2 * 2].decode(utf16)
        except UnicodeDecodeError:
            raise UnreadableSource(source, "invalid UTF-16 text") from None
    else:
        if _looks_binary(data):
            raise UnreadableSource(source, "binary content, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Windows-1252 is a superset of Latin-1's printable range; bytes it leaves
            # undefined fall back to Latin-1 so nothing is lost.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise UnreadableSource(source, "empty file (only white space)")
    return text


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like mostly-ASCII UTF-16 written without
    a byte order mark (a zero byte in every other position), else None."""
    sample = data[:8192]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.7 * len(odd) and even.count(0) <= 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.7 * len(even) and odd.count(0) <= 0.05 * len(odd):
        return "utf-16-be"
    return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > max(8, len(sample) // 20)


def clean_line(line: str) -> str:
    # Line breaks too: titles and headings from HTML or PDF metadata may span lines.
    return re.sub(r"[ \t\r\n\u00a0]+", " ", line).strip()


def paragraphs_text(lines: list[str]) -> str:
    """Body lines -> section text: one paragraph per line, paragraphs separated by a blank line."""
    return "\n\n".join(line for line in (clean_line(x) for x in lines) if line)


def is_heading_line(line: str, prev: str | None, nxt: str | None) -> bool:
    """The plain-text heading rule: a short line without sentence-final punctuation that comes
    after a finished paragraph (or at the start) and is followed by longer body text."""
    line = clean_line(line)
    if not line or nxt is None:
        return False
    words = line.split()
    if len(words) > _MAX_HEADING_WORDS or len(line) > _MAX_HEADING_CHARS:
        return False
    if line.endswith(_FINAL_PUNCT) or line.startswith(("-", "*", "•", "\"", "“", "'", "(")):
        return False
    if not (line[0].isupper() or line[0].isdigit()) or not re.search(r"[^\W\d_]{2}", line):
        return False
    if words[-1].lower() in _CONNECTORS:
        return False
    if prev is not None and not clean_line(prev).endswith(tuple(".!?\"'”’)…:")):
        return False
    nxt = clean_line(nxt)
    return not (len(nxt) <= len(line) or not nxt.endswith(tuple(".!?\"'”’)…")) or nxt[0].islower())



class SectionBuilder:
    """Headings and body lines in document order -> Sections. A heading of level n closes the
    section before it and replaces the headings of level >= n in the path; body lines are joined
    by `join` when the section closes (empty bodies make no section). Offsets count the article's
    body text as its sections joined by a blank line. `page` (PDF) is stamped on what closes."""

    def __init__(self, join: Callable[[list[str]], str] | None = None):
        self.join = join or paragraphs_text
        self.sections: list[Section] = []
        self.path: list[tuple[int, str]] = []
        self.lines: list[str] = []
        self.offset = 0
        self.page: int | None = None

    def heading(self, level: int, text: str) -> None:
        self.close()
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        if text:
            self.path.append((level, text))

    def line(self, text: str) -> None:
        self.lines.append(text)

    def close(self) -> None:
        """End the current section (at a heading, a page end or the end of the document)."""
        body = self.join(self.lines) if self.lines else ""
        self.lines = []
        self.add(tuple(h for _, h in self.path), body, self.page)

    def add(self, heading_path: tuple[str, ...], body: str, page: int | None = None) -> None:
        if body:
            self.sections.append(Section(heading_path, body, page, self.offset))
            self.offset += len(body) + 2


def add_by_heading_rule(b: SectionBuilder, lines: list[str]) -> None:
    """Feed non-empty lines to `b`, each line the plain-text rule calls a heading as a level-1
    heading (plain text, and PDFs without an outline)."""
    for i, line in enumerate(lines):
        prev = lines[i - 1] if i > 0 else None
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if is_heading_line(line, prev, nxt):
            b.heading(1, line)
        else:
            b.line(line)
