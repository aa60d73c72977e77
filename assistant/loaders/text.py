"""Plain text (.txt): the first non-empty line is the title (a repeated title line is one title);
a heading is a short line with no sentence-final punctuation followed by body text; text before
the first heading is the lead section."""

from __future__ import annotations

from ..records import Section
from .common import MAX_LABEL_CHARS, SectionBuilder, add_by_heading_rule, clean_line, decode_text


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
    add_by_heading_rule(b, body)
    b.close()
    return title, b.sections
