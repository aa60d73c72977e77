"""Markdown (.md, .markdown): ATX headings `#`..`######` (not inside code fences); a single
leading `# Title` is the article title."""

from __future__ import annotations

import re

from ..records import Section
from .common import SectionBuilder, clean_line, decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")



def parse(data: bytes, source: str) -> tuple[str, list[Section]]:
    return parse_markdown(decode_text(data, source))


def parse_markdown(text: str) -> tuple[str, list[Section]]:
    blocks: list[tuple[int, str] | str] = []  # (level, heading) or a body line
    in_fence = False
    for raw in text.split("\n"):
        if _FENCE.match(raw):
            in_fence = not in_fence
            blocks.append(raw.rstrip())
            continue
        m = None if in_fence else _ATX.match(raw)
        if m:
            blocks.append((len(m.group(1)), clean_line(m.group(2))))
        else:
            blocks.append(raw.rstrip())
    headings = [b for b in blocks if isinstance(b, tuple)]
    title = ""
    top_levels = [lvl for lvl, _ in headings]
    first_is_title = bool(headings) and headings[0][0] == 1 and top_levels.count(1) == 1 and \
        not any(isinstance(b, str) and b.strip() for b in blocks[: blocks.index(headings[0])])
    if first_is_title:
        title = headings[0][1]
        blocks.remove(headings[0])
    b = build_sections(blocks, _markdown_body)
    if not title:
        title = headings[0][1] if headings else ""
        if not title:
            for line in text.split("\n"):
                if line.strip():
                    title = clean_line(line.lstrip("#>*- "))[:120]
                    break
    return title, b


def build_sections(blocks, join=None) -> list[Section]:
    """Blocks in document order, each a (level, heading) or a body line -> Sections."""
    b = SectionBuilder(join)
    for block in blocks:
        if isinstance(block, tuple):
            b.heading(*block)
        else:
            b.line(block)
    b.close()
    return b.sections


def _markdown_body(lines: list[str]) -> str:
    """Paragraphs (blank-line separated) become one line each; list items stay lines."""
    paras: list[str] = []
    buf: list[str] = []
    for line in lines + [""]:
        stripped = line.strip()
        if not stripped:
            if buf:
                paras.append(" ".join(buf))
                buf = []
            continue
        if re.match(r"^([-*+]|\d+[.)])\s", stripped) and buf:
            paras.append(" ".join(buf))
            buf = []
        buf.append(clean_line(stripped))
    return "\n\n".join(p for p in paras if p)
