"""Sample files for loader, build and fuzz tests: PDFs good and bad (made with reportlab/pypdf)
and binary junk. Shared by the tests (through conftest) and the reliability benchmark."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np


def make_pdf(pages: Sequence[Sequence[str]], outline: Sequence[tuple[int, str, int]] = (),
             title: str | None = None) -> bytes:
    """A text PDF: `pages` is a list of pages, each a list of lines. `outline` entries are
    (0-based page, title, level starting at 0) and become bookmarks in the PDF outline."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    if title:
        c.setTitle(title)
    for pno, lines in enumerate(pages):
        y = 720
        for line in lines:
            c.drawString(72, y, line)
            y -= 16
        for k, (opage, otitle, level) in enumerate(outline):
            if opage == pno:
                key = f"bm{k}"
                c.bookmarkPage(key)
                c.addOutlineEntry(otitle, key, level=level)
        c.showPage()
    c.save()
    return buf.getvalue()


def make_encrypted_pdf(password: str = "secret") -> bytes:
    """A text PDF that needs a user password to open (RC4, no extra crypto package needed)."""
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf([["Secret Report", "This text is locked behind a password. Nobody reads it."]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_corrupt_pdf() -> bytes:
    """A PDF header followed by garbage: no xref, no objects."""
    rng = np.random.default_rng(7)
    return b"%PDF-1.4\n" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()


def make_truncated_pdf() -> bytes:
    good = make_pdf([["Truncated", "This document was cut in half while being copied."]] * 2)
    return good[: len(good) // 2]


def make_textless_pdf() -> bytes:
    """One page with a filled rectangle and no text at all (like a scanned image)."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 200, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def binary_bytes(n: int = 4096, seed: int = 3) -> bytes:
    """Random bytes that are surely not text (NULs included)."""
    rng = np.random.default_rng(seed)
    data = bytearray(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    data[10:20] = b"\x00" * 10
    return bytes(data)
