"""Word (.docx, via python-docx): paragraphs styled "Heading 1".."Heading 9" are the sections'
headings, a "Title" paragraph (or the document's title property) the article's title; tables are
read row by row, cells joined by " | ". Body text in document order."""

from __future__ import annotations

import io
import re

from ..errors import UnreadableSource
from ..records import Section
from .common import SectionBuilder, clean_line
from .limits import DEFAULT_LIMITS, Limits, check_docx, check_docx_elements

_HEADING_STYLE = re.compile(r"^heading ([1-9])$", re.I)


def parse(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, list[Section]]:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError:  # pragma: no cover - a core dependency
        raise UnreadableSource(
            source, "reading .docx needs python-docx: pip install python-docx") from None
    check_docx(data, source, limits)  # before python-docx decompresses anything
    try:
        document = docx.Document(io.BytesIO(data))
        title = clean_line(document.core_properties.title or "")
        b = SectionBuilder()
        body = document.element.body
        check_docx_elements(len(body), source, limits)
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                title = _paragraph(Paragraph(child, document), b, title)
            elif tag == "tbl":
                for row in Table(child, document).rows:
                    cells = list(dict.fromkeys(clean_line(c.text) for c in row.cells))
                    line = " | ".join(c for c in cells if c)
                    if line:
                        b.line(line)
        b.close()
    except UnreadableSource:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or non-Word file raises many types
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise UnreadableSource(source, f"corrupt or unreadable Word file ({reason})") from None
    return title, b.sections


def _paragraph(p, b: SectionBuilder, title: str) -> str:
    """Add one paragraph to the builder; returns the article title (this one, if it is the
    first "Title" paragraph and no title is known yet)."""
    text = clean_line(p.text)
    if not text:
        return title
    style = (p.style.name if p.style is not None else "") or ""
    if style.lower() == "title" and not title:
        return text
    m = _HEADING_STYLE.match(style)
    if m:
        b.heading(int(m.group(1)), text)
    else:
        b.line(text)
    return title
