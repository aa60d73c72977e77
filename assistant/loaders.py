"""One corpus file -> Article(title, sections). Bad input raises UnreadableSource with a reason."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import UnreadableSource
from .records import Article, Section, content_id

SUPPORTED = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html",
             ".htm": "html", ".pdf": "pdf"}

_FINAL_PUNCT = tuple(".!?:;,\"'”’)]…»-–—")
_MAX_HEADING_WORDS = 12
# A line ending in one of these is a sentence cut by a line break, not a heading.
_CONNECTORS = {"a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "as",
               "with", "by", "from", "that", "which", "who", "is", "are", "was", "were", "his",
               "her", "its", "their", "our", "my", "your", "this", "these", "than", "into"}
_MAX_HEADING_CHARS = 100
# Titles and headings are labels (shown, and put before every chunk of their section for
# embedding and BM25); a pathological one, like a whole page inside an <h2>, is cut to this.
_MAX_LABEL_CHARS = 200


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_article(path: Path, source: str, max_bytes: int | None = None, sha256: str = "") -> Article:
    """Read one file. `source` is its path relative to the corpus folder."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise UnreadableSource(source, f"unsupported file type {path.suffix or '(none)'}")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise UnreadableSource(
            source, f"file too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB)")
    if size == 0:
        raise UnreadableSource(source, "empty file")
    data = path.read_bytes()
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        title, sections = parse_pdf(data, source)
    else:
        text = decode_text(data, source)
        if kind == "markdown":
            title, sections = parse_markdown(text)
        elif kind == "html":
            title, sections = parse_html(text, source)
        else:
            title, sections = parse_plain_text(text)
    sections = [_clean_section(s) for s in sections if s.text.strip()]
    if not sections:
        raise UnreadableSource(source, "no text to index" if title else "empty file")
    title = _label(title or _title_from_name(path))
    return Article(id=content_id(source), title=title, source=source, sections=tuple(sections),
                   sha256=sha256)


def _title_from_name(path: Path) -> str:
    return re.sub(r"[_-]+", " ", path.stem).strip() or path.name


def _label(text: str) -> str:
    text = _no_surrogates(text)
    return text if len(text) <= _MAX_LABEL_CHARS else text[: _MAX_LABEL_CHARS - 1].rstrip() + "…"


def _no_surrogates(text: str) -> str:
    """Lone surrogates (from a PDF's broken character map, say) cannot be stored as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _clean_section(s: Section) -> Section:
    heading_path = tuple(_label(h) for h in s.heading_path)
    text = _no_surrogates(s.text)
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


def _clean_line(line: str) -> str:
    # Line breaks too: titles and headings from HTML or PDF metadata may span lines.
    return re.sub(r"[ \t\r\n\u00a0]+", " ", line).strip()


def _paragraphs_text(lines: list[str]) -> str:
    """Body lines -> section text: one paragraph per line, paragraphs separated by a blank line."""
    return "\n\n".join(line for line in (_clean_line(x) for x in lines) if line)


# ---------------------------------------------------------------- plain text

def is_heading_line(line: str, prev: str | None, nxt: str | None) -> bool:
    """The plain-text heading rule: a short line without sentence-final punctuation that comes
    after a finished paragraph (or at the start) and is followed by longer body text."""
    line = _clean_line(line)
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
    if prev is not None and not _clean_line(prev).endswith(tuple(".!?\"'”’)…:")):
        return False
    nxt = _clean_line(nxt)
    if len(nxt) <= len(line) or not nxt.endswith(tuple(".!?\"'”’)…")) or nxt[0].islower():
        return False
    return True


def parse_plain_text(text: str) -> tuple[str, list[Section]]:
    lines = [_clean_line(x) for x in text.split("\n")]
    lines = [x for x in lines if x]
    if not lines:
        return "", []
    title = lines[0]
    body = lines[1:]
    if len(title) > _MAX_LABEL_CHARS:  # a paragraph, not a title: keep it as text
        title, body = "", lines
    while body and title and body[0] == title:  # a repeated title line is one title
        body = body[1:]
    sections: list[Section] = []
    heading: tuple[str, ...] = ()
    current: list[str] = []
    offset = 0

    def flush():
        nonlocal offset
        if current:
            body_text = _paragraphs_text(current)
            sections.append(Section(heading, body_text, None, offset))
            offset += len(body_text) + 2

    for i, line in enumerate(body):
        prev = body[i - 1] if i > 0 else None
        nxt = body[i + 1] if i + 1 < len(body) else None
        if is_heading_line(line, prev, nxt):
            flush()
            current = []
            heading = (line,)
        else:
            current.append(line)
    flush()
    return title, sections


# ---------------------------------------------------------------- markdown

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


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
            blocks.append((len(m.group(1)), _clean_line(m.group(2))))
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
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    current: list[str] = []
    offset = 0

    def flush():
        nonlocal offset
        body_text = _markdown_body(current)
        if body_text:
            sections.append(Section(tuple(h for _, h in path), body_text, None, offset))
            offset += len(body_text) + 2

    for b in blocks:
        if isinstance(b, tuple):
            flush()
            current = []
            level, heading = b
            while path and path[-1][0] >= level:
                path.pop()
            if heading:
                path.append((level, heading))
        else:
            current.append(b)
    flush()
    if not title:
        title = headings[0][1] if headings else ""
        if not title:
            for line in text.split("\n"):
                if line.strip():
                    title = _clean_line(line.lstrip("#>*- "))[:120]
                    break
    return title, sections


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
        buf.append(_clean_line(stripped))
    return "\n\n".join(p for p in paras if p)


# ---------------------------------------------------------------- HTML

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
            heading = _clean_line(" ".join(_html_strings(n)))
            out.append(f"\n{_MARK}{n.name[1]}{_MARK}{heading}\n")
        else:
            if n.name in _BLOCK_SET:
                out.append("\n")
                stack.append(_CLOSE)
            stack.extend(reversed(n.contents))
    return "".join(out)


def parse_html(text: str, source: str) -> tuple[str, list[Section]]:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(text, "lxml")
        title_tag = soup.find("title")
        title = _clean_line(title_tag.get_text(" ")) if title_tag else ""
        flat = _html_flat_text(soup)
    except RecursionError:
        raise UnreadableSource(source, "HTML nested too deeply to parse") from None
    blocks: list[tuple[int, str] | str] = []
    for raw in flat.split("\n"):
        # Match the mark on the raw line: str.strip() treats "\x1e" as white space.
        m = _HEADING_MARK.match(raw)
        if m:
            blocks.append((int(m.group(1)), _clean_line(m.group(2).replace(_MARK, ""))))
        else:
            line = _clean_line(raw.replace(_MARK, ""))
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
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    current: list[str] = []
    offset = 0

    def flush():
        nonlocal offset
        body_text = _paragraphs_text(current)
        if body_text:
            sections.append(Section(tuple(h for _, h in path), body_text, None, offset))
            offset += len(body_text) + 2

    for b in blocks:
        if isinstance(b, tuple):
            flush()
            current = []
            while path and path[-1][0] >= b[0]:
                path.pop()
            if b[1]:
                path.append(b)
        else:
            current.append(b)
    flush()
    return title, sections


# ---------------------------------------------------------------- PDF

def parse_pdf(data: bytes, source: str) -> tuple[str, list[Section]]:
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
        meta_title = (reader.metadata or {}).get("/Title")
        title = _clean_line(str(meta_title)) if meta_title else ""
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
        title = _clean_line(first)[:120]
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
                title = _clean_line(str(item.title))
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
        line = _clean_line(line)
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
    sections: list[Section] = []
    heading: tuple[str, ...] = ()
    offset = 0
    for pno, text in enumerate(pages, start=1):
        lines = [x for x in (_clean_line(ln) for ln in text.split("\n")) if x]
        current: list[str] = []

        def flush():
            nonlocal offset
            body = _join_pdf_lines(current)
            if body:
                sections.append(Section(heading, body, pno, offset))
                offset += len(body) + 2

        for i, line in enumerate(lines):
            prev = lines[i - 1] if i > 0 else None
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if is_heading_line(line, prev, nxt):
                flush()
                current = []
                heading = (line,)
            else:
                current.append(line)
        flush()
    return sections


def _pdf_sections_from_outline(pages: list[str], outline: list[tuple[int, str, int]]) -> list[Section]:
    # Where each outline entry starts: (page, line index), found by its title on its page.
    page_lines = [[x for x in (_clean_line(ln) for ln in t.split("\n")) if x] for t in pages]
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
    sections: list[Section] = []
    offset = 0
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
            body = _join_pdf_lines(chunk_lines)
            if body:
                sections.append(Section(heading, body, pno + 1, offset))
                offset += len(body) + 2
    return sections
