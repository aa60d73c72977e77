"""Issue 27: hypothesis fuzzing of the hot paths, each example under a deadline: the verifier's
splitter (whole and streamed) and figure patterns, and the PDF and Word loaders on generated
zip and page-tree structures (refused with a reason or read, never hanging or crashing)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.answer.verify import figures, words
from assistant.answer.verify.claims import ClaimStream, is_declined, split_claims
from assistant.errors import UnreadableSource
from assistant.loaders import Limits, docx, pdf
from devtools.bombs import _pdf

FAST = settings(max_examples=150, deadline=timedelta(seconds=2),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

PIECES = ["a", "Dr", " ", "   ", ".", "!", "?", "…", "[1]", "[2, 3]", "[", "]", "1", "\n",
          "- ", "1. ", "e.g.", "U.S.", "Paris", "\r\n", "The", "”", ")", "**", "[passage 2]",
          "$5m", "42%", "A380", "-", "hundred ", "twenty-one", "1,000", "www.", "@", "\u2028"]
texts = st.lists(st.sampled_from(PIECES), max_size=300).map("".join) | st.text(max_size=2000)


@FAST
@given(texts, st.lists(st.integers(1, 40), min_size=1, max_size=20))
def test_streamed_claims_equal_the_whole_split(text, sizes):
    cs = ClaimStream()
    i = k = 0
    whole = split_claims(text)
    while i < len(text):
        n = sizes[k % len(sizes)]
        cs.feed(text[i:i + n])
        assert cs.claims[:cs.final] == whole[:cs.final]
        i, k = i + n, k + 1
    assert cs.close() == whole


@pytest.mark.heavy
@settings(max_examples=40, deadline=timedelta(seconds=3),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(PIECES), st.integers(2_000, 20_000), st.sampled_from(PIECES))
def test_long_runs_stay_fast(unit, repeat, tail):
    text = unit * repeat + tail
    split_claims(text)
    figures._figures(text, claim=True)
    figures._passage_keys(text)
    words._names(text, ())
    is_declined(text)


# ------------------------------------------------------------------------------ Word

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                  b'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
                  b'ContentType="application/xml"/></Types>')


@settings(max_examples=60, deadline=timedelta(seconds=5),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.sampled_from(["word/document.xml", "[Content_Types].xml",
                                           "_rels/.rels", "word/media/x.bin", "junk"]),
                          st.integers(0, 3_000_000), st.booleans()), max_size=6),
       st.integers(1, 500))
def test_generated_zips_are_read_or_refused(members, elements, ):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, size, xml in members:
            body = (b"<w:p/>" * (size // 6)) if xml else b"\0" * size
            z.writestr(name, body)
    limits = Limits(expanded_mb=2.0, elements=elements)
    try:
        docx.parse(buf.getvalue(), "f.docx", limits)
    except UnreadableSource as exc:
        assert exc.reason


# ------------------------------------------------------------------------------ PDF

_PAGE = (b"<< /Type /Page /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> "
         b"/Contents %d 0 R >>")


@settings(max_examples=80, deadline=timedelta(seconds=5),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.lists(st.integers(0, 7), max_size=40), min_size=1, max_size=6),
       st.integers(1, 50))
def test_generated_page_trees_are_read_or_refused(kids, max_pages):
    """Objects 1 catalog, 2 font, 3 content, 4 a page, 5.. page-tree nodes whose kids are
    drawn from the page (4), the nodes themselves (loops, repeats) and missing objects."""
    nodes = len(kids)
    objects = [b"<< /Type /Catalog /Pages 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length 52 >>\nstream\nBT /F1 12 Tf 72 700 Td (Harbour trade grew.) Tj ET\n"
               b"\nendstream", _PAGE % (2, 3)]
    for ks in kids:
        refs = " ".join(f"{4 + (k % (nodes + 2))} 0 R" for k in ks)
        objects.append(f"<< /Type /Pages /Kids [{refs}] /Count {len(ks)} >>".encode())
    try:
        pdf.parse(_pdf(objects), "f.pdf", Limits(pages=max_pages))
    except UnreadableSource as exc:
        assert exc.reason
