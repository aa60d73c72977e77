"""PDF (via pypdf): text per page; the outline (bookmarks) gives the sections when the file has
one, else the plain-text heading rule; every section keeps its page."""

from __future__ import annotations

import re

from ..errors import UnreadableSource
from ..records import Section
from .common import SectionBuilder, add_by_heading_rule, clean_line
from .limits import DEFAULT_LIMITS, Limits, check_pdf


def parse(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, list[Section]]:
    import io
    import logging

    from pypdf import PdfReader

    # pypdf logs what it repairs in damaged files at ERROR level (many KB per file); the build
    # reports a skipped file in one line of its own.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - missing crypto backend, bad key, ...
                raise UnreadableSource(source, f"encrypted PDF, cannot open ({exc})") from None
            if not ok:
                raise UnreadableSource(source, "encrypted PDF (password required)")
        check_pdf(reader, source, limits)  # before pypdf flattens the page tree
        pages = [(_pdf_page_text(p)) for p in reader.pages]
    except UnreadableSource:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on damaged files
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise UnreadableSource(source, f"corrupt or unreadable PDF ({reason})") from None
    if not any(t.strip() for t in pages):
        raise UnreadableSource(source, "PDF has no extractable text (scanned images?)")
    title = ""
    try:
        meta_title = reader.metadata.get("/Title") if reader.metadata else None
        title = clean_line(str(meta_title)) if meta_title else ""
    except Exception:  # noqa: BLE001
        title = ""
    if title.lower() == "untitled":  # a generator's placeholder (reportlab's default)
        title = ""
    outline = _pdf_outline(reader)
    if outline:
        sections = _pdf_sections_from_outline(pages, outline)
    else:
        sections = _pdf_sections_from_text(pages)
    if not title:
        first = next((ln for t in pages for ln in t.split("\n") if ln.strip()), "")
        title = clean_line(first)[:120]
    return title, sections


def _pdf_page_text(page) -> str:
    try:
        text = page.extract_text() or ""
    except Exception:  # noqa: BLE001 - one bad page should not lose the document
        text = ""
    return text.replace("\x00", "")


def _pdf_outline(reader) -> list[tuple[int, str, int]]:
    """Flattened outline: (level, title, 0-based page), in document order."""
    out: list[tuple[int, str, int]] = []

    def walk(items, level):
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = clean_line(str(item.title))
            except Exception:  # noqa: BLE001
                continue
            if page is not None and page >= 0 and title:
                out.append((level, title, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # noqa: BLE001
        return []
    return out


def _join_pdf_lines(lines: list[str]) -> str:
    """PDF lines are layout lines: join wrapped lines, keep a break after finished sentences."""
    paras: list[str] = []
    buf: list[str] = []
    for line in lines:
        line = clean_line(line)
        if not line:
            if buf:
                paras.append(" ".join(buf))
                buf = []
            continue
        if buf and buf[-1].endswith("-") and line[:1].islower():
            buf[-1] = buf[-1][:-1] + line
            continue
        buf.append(line)
    if buf:
        paras.append(" ".join(buf))
    return "\n\n".join(paras)


def _pdf_sections_from_text(pages: list[str]) -> list[Section]:
    """The plain-text heading rule, page by page; a heading carries over page breaks."""
    b = SectionBuilder(_join_pdf_lines)
    for pno, text in enumerate(pages, start=1):
        lines = [x for x in (clean_line(ln) for ln in text.split("\n")) if x]
        b.page = pno
        add_by_heading_rule(b, lines)
        b.close()
    return b.sections


def _pdf_sections_from_outline(pages: list[str],
                               outline: list[tuple[int, str, int]]) -> list[Section]:
    # Where each outline entry starts: (page, line index), found by its title on its page.
    page_lines = [[x for x in (clean_line(ln) for ln in t.split("\n")) if x] for t in pages]
    starts: list[tuple[int, int, int, str]] = []  # page, line, level, title
    for level, title, page in outline:
        if page >= len(pages):
            continue
        lines = page_lines[page]
        line_no = 0
        key = re.sub(r"\s+", " ", title).lower()
        for i, ln in enumerate(lines):
            if ln.lower() == key or ln.lower().startswith(key):
                line_no = i
                break
        starts.append((page, line_no, level, title))
    starts.sort(key=lambda s: (s[0], s[1]))
    b = SectionBuilder()
    path: list[tuple[int, str]] = []
    bounds = starts + [(len(pages), 0, 0, "")]
    # Text before the first outline entry belongs to the lead section.
    first_page, first_line = (bounds[0][0], bounds[0][1])
    spans: list[tuple[tuple[str, ...], int, int, int, int, int]] = []
    spans.append(((), 0, 0, first_page, first_line, -1))
    for i, (page, line_no, level, title) in enumerate(starts):
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        nxt_page, nxt_line = bounds[i + 1][0], bounds[i + 1][1]
        spans.append((tuple(t for _, t in path), page, line_no, nxt_page, nxt_line, line_no))
    for heading, p0, l0, p1, l1, heading_line in spans:
        for pno in range(p0, min(p1, len(pages) - 1) + 1):
            lines = page_lines[pno]
            lo = l0 if pno == p0 else 0
            hi = l1 if pno == p1 else len(lines)
            chunk_lines = lines[lo:hi]
            if pno == p0 and heading_line >= 0 and chunk_lines and heading and \
                    chunk_lines[0].lower().startswith(heading[-1].lower()):
                rest = chunk_lines[0][len(heading[-1]):].strip()
                chunk_lines = ([rest] if rest else []) + chunk_lines[1:]
            b.add(heading, _join_pdf_lines(chunk_lines), pno + 1)
    return b.sections
