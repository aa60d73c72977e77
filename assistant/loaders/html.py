"""HTML (.html, .htm): `<h1>`..`<h6>` through a real parser (lxml via BeautifulSoup); script,
style, navigation and other page furniture are dropped; a page's single `<h1>` is its title."""

from __future__ import annotations

import re

from ..errors import UnreadableSource
from ..records import Section
from .common import clean_line, decode_text
from .markdown import build_sections


def parse(data: bytes, source: str) -> tuple[str, list[Section]]:
    return parse_html(decode_text(data, source), source)


def parse_html(text: str, source: str) -> tuple[str, list[Section]]:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(text, "lxml")
        title_tag = soup.find("title")
        title = clean_line(title_tag.get_text(" ")) if title_tag else ""
        flat = _html_flat_text(soup)
    except RecursionError:
        raise UnreadableSource(source, "HTML nested too deeply to parse") from None
    blocks: list[tuple[int, str] | str] = []
    for raw in flat.split("\n"):
        # Match the mark on the raw line: str.strip() treats "\x1e" as white space.
        m = _HEADING_MARK.match(raw)
        if m:
            blocks.append((int(m.group(1)), clean_line(m.group(2).replace(_MARK, ""))))
        else:
            line = clean_line(raw.replace(_MARK, ""))
            if line:
                blocks.append(line)
    headings = [b for b in blocks if isinstance(b, tuple)]
    h1s = [h for h in headings if h[0] == 1]
    if len(h1s) == 1 and headings[0] == h1s[0]:
        # The page's one <h1> is its title, not a section.
        title = title or h1s[0][1]
        if h1s[0][1] == title:
            blocks.remove(h1s[0])
    title = title or (headings[0][1] if headings else "")
    return title, build_sections(blocks)


_DROP_TAGS = ["script", "style", "nav", "noscript", "template", "iframe", "svg", "form",
              "button", "select", "header", "footer", "aside", "object", "embed", "canvas"]
_BLOCK_TAGS = ["p", "div", "li", "ul", "ol", "td", "th", "tr", "table", "pre", "blockquote",
               "dd", "dt", "dl", "figcaption", "section", "article", "main", "br", "hr",
               "address", "caption", "details", "summary"]
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_MARK = "\x1e"
_HEADING_MARK = re.compile(f"{_MARK}([1-6]){_MARK}(.*)")


_DROP_SET = frozenset(_DROP_TAGS + ["title", "head"])
_BLOCK_SET = frozenset(_BLOCK_TAGS)
_HEADING_SET = frozenset(_HEADINGS)
_CLOSE = object()


def _html_strings(node, drop=_DROP_SET):
    """The text strings under `node` (as Tag.get_text sees them), minus dropped elements.
    Iterative, so any nesting depth is fine."""
    from bs4 import CData, NavigableString

    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, NavigableString):
            if type(n) in (NavigableString, CData):  # not comments, doctypes, script text, ...
                yield str(n)
        elif n.name not in drop:
            stack.extend(reversed(n.contents))


def _html_flat_text(soup) -> str:
    """The page text with a line break around block elements and a marked line per heading,
    in one pass over the tree. (Editing the tree instead, with insert_before/append, costs
    time proportional to the nesting depth per edit: hours on 100,000 nested <div>s.)"""
    from bs4 import CData, NavigableString

    out: list[str] = []
    stack: list = [soup]
    while stack:
        n = stack.pop()
        if n is _CLOSE:
            out.append("\n")
        elif isinstance(n, NavigableString):
            if type(n) in (NavigableString, CData):
                out.append(str(n))
        elif n.name in _DROP_SET:
            continue
        elif n.name in _HEADING_SET:
            heading = clean_line(" ".join(_html_strings(n)))
            out.append(f"\n{_MARK}{n.name[1]}{_MARK}{heading}\n")
        else:
            if n.name in _BLOCK_SET:
                out.append("\n")
                stack.append(_CLOSE)
            stack.extend(reversed(n.contents))
    return "".join(out)
