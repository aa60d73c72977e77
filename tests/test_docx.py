"""Word (.docx) articles: headings by style, the title, tables, damaged files, and section
citations end to end with the real model (the format added as one module + one table line)."""

from __future__ import annotations

from pathlib import Path

import docx  # noqa: E402 - a core dependency: missing, the tests fail rather than skip
import pytest

from assistant.config import Settings  # noqa: E402
from assistant.errors import UnreadableSource  # noqa: E402
from assistant.index.builder import build  # noqa: E402
from assistant.loaders import FORMATS, load_article, suffixes_text  # noqa: E402
from assistant.service import Assistant  # noqa: E402

pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def make_docx(path: Path, title_style: bool = True) -> Path:
    d = docx.Document()
    if title_style:
        d.add_paragraph("Harbour Renewal Plan", style="Title")
    else:
        d.core_properties.title = "Harbour Renewal Plan"
    d.add_paragraph("The city council approved a plan to renew the old harbour district.")
    d.add_heading("Budget", level=1)
    d.add_paragraph("The renewal will cost 48 million euros over six years.")
    d.add_heading("Funding sources", level=2)
    d.add_paragraph("Half of the money comes from a regional development fund.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Phase", "Start"
    table.cell(1, 0).text, table.cell(1, 1).text = "Quay walls", "2027"
    d.add_heading("Timeline", level=1)
    d.add_paragraph("Construction of the new ferry terminal begins in the spring of 2026.")
    d.save(path)
    return path


@pytest.mark.parametrize("title_style", [True, False])
def test_docx_sections_follow_heading_styles(tmp_path, title_style):
    art = load_article(make_docx(tmp_path / "harbour.docx", title_style), "harbour.docx")
    assert art.title == "Harbour Renewal Plan"
    paths = [s.heading_path for s in art.sections]
    assert paths == [(), ("Budget",), ("Budget", "Funding sources"), ("Timeline",)]
    assert "48 million euros" in art.sections[1].text
    assert "Quay walls | 2027" in art.sections[2].text  # table rows, cells joined
    body = "\n\n".join(s.text for s in art.sections)
    for s in art.sections:  # offsets locate each section in the body text
        assert body[s.start:s.start + len(s.text)] == s.text


def test_a_damaged_docx_is_one_clear_reason(tmp_path):
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 not really a zip archive" * 10)
    with pytest.raises(UnreadableSource, match="corrupt or unreadable Word file"):
        load_article(bad, "broken.docx")


def test_the_format_table_feeds_the_messages():
    assert ".docx" in FORMATS and FORMATS[".docx"].name == "Word"
    assert suffixes_text() == ".txt, .md, .html, .pdf or .docx"


def test_a_docx_article_gets_section_citations(tmp_path, embedder):
    corpus = tmp_path / "docx-corpus"
    corpus.mkdir()
    make_docx(corpus / "harbour.docx")
    s = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "docx-index")
    report = build(s, embedder=embedder, log=lambda m: None, progress=False)
    assert report.articles == 1 and not report.skipped
    a = Assistant.open(settings=s, embedder=embedder).ask("How much will the harbour renewal cost?")
    assert not a.abstained
    c = a.citations[0]
    assert c.source == "harbour.docx" and c.article == "Harbour Renewal Plan"
    assert c.section == "Budget" and "48 million euros" in c.quote
