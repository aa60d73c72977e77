"""Hostile names: a file called `<img src=x onerror=alert(1)>".txt` whose title and headings hold
`"`, `<` and `&` reaches every place that shows it (source card, closest passage, answer marker
tooltip, article view, export) as literal text: parsed back, the HTML has only the app's own tags
and attributes, and the text and the title= attribute read exactly the hostile names. (A one-line
bug such as `c.source` instead of `html_text(c.source)` in the source card fails here; the app and
browser tests carry the same names through the real page, see devtools/ui_samples.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from assistant.records import Answer, ArticleInfo, Chunk, Citation, Passage
from assistant.ui import support as ui
from devtools.ui_samples import HOSTILE_FILE

TITLE = 'The "Quorvath" <b>bridge</b> & its <img src=y onerror=alert(2)> builders'
SECTION = 'Costs & "overruns" <script>alert(3)</script>'
BODY = "The Quorvath bridge cost 80 million <i>kroner</i> & was opened in 1987."
# The tags and attributes the app itself writes.
APP_TAGS = {"div", "span", "a", "mark", "br", "h3", "h4", "h5", "h6", "details", "summary"}
APP_ATTRS = {"class", "id", "href", "title"}


class Page(HTMLParser):
    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)

    @property
    def plain(self) -> str:
        return "".join(self.text)


def check(markup: str, *literal: str) -> Page:
    page = Page(markup)
    assert set(page.tags) <= APP_TAGS, set(page.tags) - APP_TAGS
    assert {a for a, _ in page.attrs} <= APP_ATTRS, page.attrs
    assert not any(v and "javascript" in v.lower() for _, v in page.attrs)
    for text in literal:
        assert text in page.plain, (text, page.plain)
    return page


def citation(n: int = 1) -> Citation:
    return Citation(n=n, article=TITLE, section=SECTION, heading_path=(SECTION,), source=HOSTILE_FILE,
                    passage=BODY, quote=BODY[:40], quote_start=0, quote_end=40, article_id="a1",
                    section_index=1)


def passage() -> Passage:
    chunk = Chunk(id="c1", article_id="a1", section_index=1, heading_path=(SECTION,), text=BODY,
                  start=0, end=len(BODY), sentences=((0, len(BODY)),))
    return Passage(chunk=chunk, article_title=TITLE, source=HOSTILE_FILE, score=1.0)


def test_the_hostile_file_name_is_hostile():
    assert "<img" in HOSTILE_FILE and '"' in HOSTILE_FILE and HOSTILE_FILE.endswith(".txt")


def test_source_card_shows_the_file_title_and_section_as_text():
    check(ui.source_html(citation(), 'aa-"x'), HOSTILE_FILE, TITLE, SECTION, BODY[:40])


def test_closest_passage_shows_the_file_title_and_section_as_text():
    check(ui.passage_html(passage(), 1), HOSTILE_FILE, TITLE, SECTION, BODY)


def test_marker_tooltip_keeps_a_quote_inside_the_title_attribute():
    answer = Answer(question="q", text="It cost 80 million kroner [1].", citations=(citation(),),
                    abstained=False, tier="answer")
    page = check(ui.answer_html(answer, "aa-1"), "It cost 80 million kroner")
    titles = [v for a, v in page.attrs if a == "title"]
    assert titles == [ui.citation_label(citation())]
    assert TITLE in titles[0] and SECTION in titles[0]


def test_article_view_shows_the_file_title_and_headings_as_text():
    sections = [SimpleNamespace(heading_path=(), text="Intro & <u>more</u>.", page=None),
                SimpleNamespace(heading_path=(SECTION,), text=BODY, page=None)]
    target = ui.Target.of_citation(citation())
    markup, found = ui.article_html(ArticleInfo(id="a1", source=HOSTILE_FILE, title=TITLE),
                                    sections, target)
    assert found
    check(markup, HOSTILE_FILE, TITLE, SECTION, "Intro & <u>more</u>.")


@pytest.mark.parametrize("tier", ["answer", "possible", "abstain"])
def test_export_escapes_the_file_title_and_section(tier):
    if tier == "abstain":
        answer = Answer(question="q", text="No passage clearly answers this question.",
                        citations=(), abstained=True, passages=(passage(),), tier="abstain")
    else:
        answer = Answer(question="q", text="It cost 80 million kroner [1].",
                        citations=(citation(),), abstained=False, tier=tier)
    md = ui.conversation_markdown([('Who built the "<b>bridge</b>"?', answer)], "now")
    # every "<" is escaped: Markdown renders no HTML from it
    assert not re.search(r"(?<!\\)<", md), md
    assert ui.escape_markdown(HOSTILE_FILE) in md
    assert ui.escape_markdown(ui.source_label(TITLE, SECTION)) in md
