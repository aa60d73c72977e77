"""The chat app's plain logic: escaping, answer segments, quote highlighting, article view,
Markdown export, feedback log. Inline records, no model."""

from __future__ import annotations

import json
import re

import pytest

from assistant.records import Answer, ArticleInfo, Chunk, Citation, Passage, Section
from assistant.ui import feedback
from assistant.ui import support as ui

HOSTILE = ("<script>alert('x')</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
           "**bold** # heading `code` $x$ :red[red] & &lt;")


def citation(n=1, quote="The bridge opened in 1987.", passage=None, article="Bridges",
             section="History", page=None, start=10):
    passage = passage if passage is not None else f"Intro text. {quote} More text."
    return Citation(n=n, article=article, section=section, heading_path=(section,), page=page,
                    source="bridges.txt", passage=passage, quote=quote, quote_start=start,
                    quote_end=start + len(quote), score=1.0, article_id="a1", section_index=1,
                    chunk_id="c1")


def answer_of(*cits, text=None, abstained=False, passages=()):
    text = text if text is not None else " ".join(f"{c.quote} [{c.n}]" for c in cits)
    return Answer(question="When did the bridge open?", text=text, citations=tuple(cits),
                  abstained=abstained, confidence=0.8, passages=passages)


def passage(text="Closest passage text.", heading=("History",)):
    chunk = Chunk("c9", "a1", 1, heading, text, 0, len(text), ((0, len(text)),), None)
    return Passage(chunk, "Bridges", "bridges.txt", 0.5)


# ------------------------------------------------------------------------------ escaping

def test_html_text_escapes_markup_and_has_no_newline():
    out = ui.html_text(HOSTILE + "\n\npara two\r\nline")
    assert "<" not in out.replace("<br>", "")
    assert "&lt;script&gt;" in out and "&lt;img" in out
    assert "\n" not in out and "\r" not in out
    assert out.count("<br>") == 3


def test_escape_html_covers_attribute_quotes():
    assert ui.escape_html('a"b\'c') == "a&quot;b&#x27;c"


@pytest.mark.parametrize("text", [HOSTILE, "- item", "1. one", "2) two", "# h", "> q", "=== ",
                                  "+ x", "    code block", "a_b_c", "~~strike~~", "| a | b |"])
def test_escape_markdown_leaves_no_active_syntax(text):
    out = ui.escape_markdown(text)
    # every Markdown-active character is backslash-escaped
    for ch in "<>[]*`#$&_~|!:":
        assert re.search(rf"(?<!\\){re.escape(ch)}", out) is None, (ch, out)
    assert not re.match(r"^\s*([-+=]|\d+[.)])", out)
    assert not out.startswith(" ")


def test_escape_markdown_keeps_plain_text_readable():
    assert ui.escape_markdown("The U.S. DEA (and Mexico) will lead.") == \
        "The U.S. DEA (and Mexico) will lead."


def test_message_markdown_keeps_commands_as_code_and_escapes_the_rest():
    msg = "No index in /x/<b>_idx_: run `assistant build` (or `make run`) first."
    assert ui.message_markdown(msg) == \
        "No index in /x/\\<b\\>\\_idx\\_\\: run `assistant build` (or `make run`) first."


# ------------------------------------------------------------------------------ answers

def test_source_label_names_lead_section_by_title_and_adds_page():
    assert ui.source_label("Bridges", "History", 3) == "Bridges › History (p. 3)"
    assert ui.source_label("Bridges", "Bridges") == "Bridges"
    assert ui.source_label("Bridges", "") == "Bridges"


def test_answer_segments_come_from_citations_even_with_bracketed_numbers_in_quotes():
    c1 = citation(1, quote="See note [2] for details.")
    c2 = citation(2, quote="The bridge opened in 1987.")
    ans = answer_of(c1, c2)
    assert ui.answer_segments(ans) == [("See note [2] for details.", 1),
                                       ("The bridge opened in 1987.", 2)]


def test_answer_segments_parse_markers_and_ignore_out_of_range_numbers():
    c1 = citation(1)
    ans = answer_of(c1, text="First sentence [1] odd [7] tail")
    assert ui.answer_segments(ans) == [("First sentence", 1), ("odd [7] tail", None)]


def test_answer_html_links_each_marker_to_its_source():
    c1, c2 = citation(1), citation(2, quote="It is 840 m long.", section="Size")
    out = ui.answer_html(answer_of(c1, c2), "aa-m1")
    assert out.count('class="aa-cite"') == 2
    assert 'href="#aa-m1-1"' in out and 'href="#aa-m1-2"' in out
    assert 'title="Bridges › Size"' in out
    assert ui.source_html(c2, "aa-m1").startswith('<div class="aa-src" id="aa-m1-2">')


def test_hostile_answer_and_source_html_is_escaped():
    c = citation(1, quote=HOSTILE, article="<b>T</b>", section="<i>S</i>")
    for out in (ui.answer_html(answer_of(c), "m"), ui.source_html(c, "m")):
        assert "<script" not in out and "<img" not in out and "<b>" not in out and "<i>" not in out
        assert "&lt;script&gt;" in out


def test_highlight_escapes_pieces_separately():
    text = "a <b>bold</b> The quote <i>x</i>. tail <script>"
    quote = "The quote <i>x</i>."
    out = ui.highlight_html(text, ui.find_quote(text, quote))
    assert out == ("a &lt;b&gt;bold&lt;/b&gt; <mark class=\"aa-quote\">"
                   "The quote &lt;i&gt;x&lt;/i&gt;."
                   "</mark> tail &lt;script&gt;")


def test_find_quote_prefers_matching_offsets_then_searches():
    text = "One. Two. One."
    assert ui.find_quote(text, "One.", 10, 14) == (10, 14)
    assert ui.find_quote(text, "One.", 3, 7) == (0, 4)  # stale offsets
    assert ui.find_quote(text, "Three.") is None
    assert ui.find_quote(text, "") is None


def test_citation_passage_highlights_the_quote():
    c = citation(1)
    assert '<mark class="aa-quote">The bridge opened in 1987.</mark>' in ui.citation_passage_html(c)


def test_passage_html_is_escaped():
    out = ui.passage_html(passage(HOSTILE), 1)
    assert "<script" not in out and "&lt;script&gt;" in out and "Bridges › History" in out


# ------------------------------------------------------------------------------ article view

def test_article_html_marks_the_cited_section_and_folds_earlier_ones():
    sections = [Section((), "Lead <script>x</script>."),
                Section(("History",), "Built. The bridge opened in 1987. Done."),
                Section(("Size",), "It is long.")]
    target = ui.Target("a1", 1, 7, 33, "The bridge opened in 1987.", "[1] Bridges › History")
    out, found = ui.article_html(ArticleInfo(id="b", title="Bridges <b>", source="b.txt"), sections,
                                 target)
    assert found
    assert ('<details class="aa-earlier"><summary>1 earlier section(s): Introduction'
            '</summary>') in out
    assert out.index("</details>") < out.index('id="aa-cited"')
    assert '<mark class="aa-quote">The bridge opened in 1987.</mark>' in out
    assert "History</h4>" in out and "Size</h4>" in out
    assert "<script" not in out and "<b>" not in out


def test_article_html_without_matching_quote_still_marks_section():
    sections = [Section(("Only",), "Text changed since.")]
    out, found = ui.article_html(ArticleInfo(id="t", title="T", source="t.txt"), sections,
                                 ui.Target("a1", 0, 0, 5, "Old words."))
    assert not found and 'id="aa-cited"' in out and "<details" not in out


def test_targets_of_citation_and_passage():
    c = citation(2)
    t = ui.Target.of_citation(c)
    assert (t.article_id, t.section_index, t.start, t.end, t.text) == \
        ("a1", 1, c.quote_start, c.quote_end, c.quote)
    assert t.label == "[2] Bridges › History"
    p = passage("Some text.")
    tp = ui.Target.of_passage(p)
    assert (tp.start, tp.end, tp.text) == (0, 10, "Some text.")


# ------------------------------------------------------------------------------ export

def test_conversation_markdown_has_answers_markers_and_sources():
    c1 = citation(1, quote="The bridge opened in 1987 <script>.", page=4)
    ans = answer_of(c1)
    abst = Answer(question="Who won the cup?", text="No passage clearly answers this question.",
                  citations=(), abstained=True, confidence=0.1, passages=(passage(),))
    md = ui.conversation_markdown([("When did the bridge open?", ans), ("Who won the cup?", abst)],
                                  exported_at="X")
    assert md.startswith("# Article Assistant conversation\n\nExported X\n")
    assert "## 1. When did the bridge open?" in md
    assert "The bridge opened in 1987 \\<script\\>. \\[1\\]" in md
    assert "\\[1\\] Bridges › History (p. 4)" in md
    assert "> The bridge opened in 1987 \\<script\\>." in md
    assert "File: bridges.txt" in md
    assert "## 2. Who won the cup?" in md and "Closest passages:" in md
    assert "- Bridges › History (bridges.txt)" in md


# ------------------------------------------------------------------------------ feedback

def test_feedback_lines_are_appended_as_json(tmp_path):
    ans = answer_of(citation(1))
    folder = tmp_path / "new" / "data"
    path = feedback.append_feedback(folder, feedback.feedback_record(ans, "up", ["earlier?"], when="T"))
    feedback.append_feedback(folder, feedback.feedback_record(
        Answer(question="q2", text="No passage clearly answers this question.", citations=(),
               abstained=True, confidence=0.1, passages=(passage(),)), "down"))
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert path == folder / "feedback.jsonl"
    assert lines[0]["time"] == "T" and lines[0]["rating"] == "up"
    assert lines[0]["question"] == ans.question and lines[0]["answer"] == ans.text
    assert lines[0]["citations"][0]["quote"] == "The bridge opened in 1987."
    assert lines[0]["history"] == ["earlier?"]
    assert lines[1]["rating"] == "down" and lines[1]["abstained"] is True
    assert lines[1]["closest"][0]["section"] == "History"
