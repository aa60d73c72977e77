"""Plain text (.txt): the first non-empty line is the title (a repeated title line is one title);
a heading is a short line with no sentence-final punctuation followed by body text; text before
the first heading is the lead section."""

from __future__ import annotations

from ..records import Section
from .common import MAX_LABEL_CHARS, SectionBuilder, clean_line, decode_text, is_heading_line


def parse(data: bytes, source: str) -> tuple[str, list[Section]]:
    return parse_plain_text(decode_text(data, source))


def parse_plain_text(text: str) -> tuple[str, list[Section]]:
    lines = [clean_line(x) for x in text.split("\n")]
    lines = [x for x in lines if x]
    if not lines:
        return "", []
    title = lines[0]
    body = lines[1:]
    if len(title) > MAX_LABEL_CHARS:  # a paragraph, not a title: keep it as text
        title, body = "", lines
    while body and title and body[0] == title:  # a repeated title line is one title
        body = body[1:]
    b = SectionBuilder()
    for i, line in enumerate(body):
        prev = body[i - 1] if i > 0 else None
        nxt = body[i + 1] if i + 1 < len(body) else None
        if is_heading_line(line, prev, nxt):
            b.heading(1, line)
        else:
            b.line(line)
    b.close()
    return title, b.sections
