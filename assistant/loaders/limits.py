"""Limits on what one corpus file may cost to read. The size limit on disk (ASSISTANT_MAX_FILE_MB)
says nothing about what a compressed format expands to: a 714 KB .docx can hold 200 MB of XML, a
137 KB PDF 200 pages that each re-read one huge compressed stream, a 4.5 KB PDF a page tree that
lists one page 99,225 times. These checks run before the expensive parsing and refuse such a
file with a reason; a per-file time and memory budget (loaders/isolate.py) catches the rest.

Every limit is a setting (assistant/config.py, README "Limits")."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from ..errors import UnreadableSource


@dataclass(frozen=True)
class Limits:
    expanded_mb: float = 100.0  # .docx: zip members uncompressed; PDF: page content decoded
    pages: int = 5000  # PDF pages
    elements: int = 100_000  # .docx paragraphs and tables; zip members
    seconds: float = 60.0  # per .pdf/.docx file, in the parse worker (0: no worker)
    memory_mb: int = 2048  # address space of the parse worker

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(expanded_mb=settings.max_expanded_mb, pages=settings.max_pages,
                   elements=settings.max_elements, seconds=settings.parse_seconds,
                   memory_mb=settings.parse_memory_mb)

    @property
    def expanded_bytes(self) -> int:
        return int(self.expanded_mb * 1e6)


DEFAULT_LIMITS = Limits()


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


# ----------------------------------------------------------------------------- Word

def check_docx(data: bytes, source: str, limits: Limits) -> None:
    """Refuse a .docx whose zip members, by the sizes the archive declares, expand beyond the
    limit (or that has too many members). Python's zipfile stops reading a member at its
    declared size, so the declared sizes bound what parsing can decompress."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise UnreadableSource(source, f"corrupt or unreadable Word file ({exc})") from None
    if len(infos) > limits.elements:
        raise UnreadableSource(source, f"Word file has {len(infos):,} parts (limit "
                                       f"{limits.elements:,}; ASSISTANT_MAX_ELEMENTS)")
    total = sum(max(0, i.file_size) for i in infos)
    if total > limits.expanded_bytes:
        raise UnreadableSource(source, f"Word file expands to {_mb(total)} (limit "
                                       f"{limits.expanded_mb:g} MB; ASSISTANT_MAX_EXPANDED_MB)")


def check_docx_elements(count: int, source: str, limits: Limits) -> None:
    if count > limits.elements:
        raise UnreadableSource(source, f"Word file has {count:,} paragraphs and tables (limit "
                                       f"{limits.elements:,}; ASSISTANT_MAX_ELEMENTS)")


# ----------------------------------------------------------------------------- PDF

def check_pdf(reader, source: str, limits: Limits) -> None:
    """Walk the page tree without pypdf's flattening: refuse a tree that visits a node twice (a
    page listed again and again, or a loop) or holds more pages than the limit; then refuse a
    document whose pages' content streams, decoded and counted once per page that uses them,
    exceed the expanded-size limit (pages sharing one huge stream)."""
    from pypdf.generic import IndirectObject

    try:
        root = reader.trailer["/Root"].get_object()
        pages_node = root["/Pages"]
    except Exception as exc:
        raise UnreadableSource(source, f"corrupt or unreadable PDF (no page tree: {exc})") from None
    seen: set[tuple[int, int]] = set()
    leaves: list = []
    stack = [pages_node]
    while stack:
        ref = stack.pop()
        if isinstance(ref, IndirectObject):
            key = (ref.idnum, ref.generation)
            if key in seen:
                raise UnreadableSource(source, "PDF page tree lists the same page or node more "
                                               "than once (a decompression bomb or a loop)")
            seen.add(key)
        node = ref.get_object() if hasattr(ref, "get_object") else ref
        if node is None or not hasattr(node, "get"):
            continue
        kids = node.get("/Kids")
        if kids is not None and node.get("/Type") != "/Page":
            kids = kids.get_object() if hasattr(kids, "get_object") else kids
            stack.extend(reversed(list(kids)))
        else:
            leaves.append(node)
            if len(leaves) > limits.pages:
                raise UnreadableSource(source, f"PDF has more than {limits.pages:,} pages "
                                               "(ASSISTANT_MAX_PAGES)")
    total = 0
    for node in leaves:
        total += _content_bytes(node.get("/Contents"))
        if total > limits.expanded_bytes:
            raise UnreadableSource(source, f"PDF page content expands to more than "
                                           f"{limits.expanded_mb:g} MB (ASSISTANT_MAX_EXPANDED_MB)")


def _content_bytes(contents) -> int:
    """Decoded length of a page's /Contents (a stream or an array of streams). pypdf keeps a
    stream's decoded data, so a stream shared by many pages is decoded once but counted for
    each page: that is what text extraction would read."""
    if contents is None:
        return 0
    obj = contents.get_object() if hasattr(contents, "get_object") else contents
    items = obj if isinstance(obj, list) else [obj]
    n = 0
    for item in items:
        item = item.get_object() if hasattr(item, "get_object") else item
        get_data = getattr(item, "get_data", None)
        if get_data is None:
            continue
        try:
            n += len(get_data())
        except Exception:
            continue
    return n
