"""Loaders: one file -> Article(title, sections); bad input -> UnreadableSource with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_article
from assistant.errors import UnreadableSource
from assistant.loaders import load_article
from devtools.fakes import FakeEmbedder
from devtools.samples_pdf import (
    binary_bytes,
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_pdf,
    make_textless_pdf,
    make_truncated_pdf,
)

SEED_TITLE = "Mexico and US Strengthen Cooperation on Cross-Border Crime"
SEED_HEADINGS = [
    (),
    ("Details of the Joint Operations",),
    ("Context of the Partnership",),
    ("Challenges Ahead",),
    ("Impacts on Local Communities",),
    ("Conclusion",),
]


def load(path: Path, **kw):
    return load_article(path, path.name, **kw)


# ------------------------------------------------------------------------ the seed article

@pytest.fixture(scope="module")
def seed(seed_path):
    return load_article(seed_path, seed_path.name)


def test_seed_title_once(seed):
    assert seed.title == SEED_TITLE
    assert seed.source == "mexico-us-cross-border-crime-cooperation.txt"
    # The repeated title line is not body text, nor a heading.
    for sec in seed.sections:
        assert SEED_TITLE not in sec.text
        assert SEED_TITLE not in sec.heading_path


def test_seed_sections_in_order(seed):
    assert [s.heading_path for s in seed.sections] == SEED_HEADINGS


def test_seed_lead_section(seed):
    lead = seed.sections[0]
    assert lead.text.startswith("In a decisive move to address escalating cross-border crime")
    assert lead.text.endswith("transnational criminal organizations.")
    assert lead.start == 0


@pytest.mark.parametrize("index, phrase", [
    (1, "The U.S. Drug Enforcement Administration (DEA) and Mexico’s Federal Police will lead"),
    (1, "U.S. Secretary of Homeland Security Alejandro Mayorkas stated"),
    (2, "over 110,000 drug overdose deaths were recorded"),
    (2, "Andrés Manuel López Obrador"),
    (3, "grapple with corruption within its police and military ranks"),
    (3, "Dr. Laura Y. Aizpuru"),
    (4, "Community activist Maria Gonzalez from the border town of Laredo, Texas"),
    (5, "The world will be watching closely"),
])
def test_seed_phrase_in_its_own_section(seed, index, phrase):
    holders = [i for i, s in enumerate(seed.sections) if phrase in s.text]
    assert holders == [index]


def test_seed_paragraphs_and_no_headings_in_text(seed):
    details = seed.sections[1].text
    paragraphs = details.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The new operations include enhanced intelligence sharing")
    for sec in seed.sections:
        assert sec.text == sec.text.strip()
        assert "\n\n\n" not in sec.text
        for heading in SEED_HEADINGS[1:]:
            assert heading[0] not in sec.text.split("\n\n")  # no heading left as a paragraph
    # Offsets of the sections in the body text are increasing.
    starts = [s.start for s in seed.sections]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(s.page is None for s in seed.sections)


def test_ids_are_stable_and_content_derived(seed_path, tmp_path):
    a = load_article(seed_path, "x/seed.txt")
    b = load_article(seed_path, "x/seed.txt")
    c = load_article(seed_path, "y/seed.txt")
    assert a.id == b.id and a.id != c.id
    assert len(a.sha256) == 64


def test_plain_text_heading_rule(tmp_path):
    p = tmp_path / "note.txt"
    p.write_text(
        "Rivers of Europe\n\n"
        "Rivers shape the land. They carry water to the sea.\n"
        "The Danube\n"
        "The Danube flows through ten countries. It ends in the Black Sea.\n"
        "a line that starts in lower case\n"
        "and continues the paragraph without being a heading at all.\n")
    art = load(p)
    assert art.title == "Rivers of Europe"
    assert [s.heading_path for s in art.sections] == [(), ("The Danube",)]
    assert "a line that starts in lower case" in art.sections[1].text


# ------------------------------------------------------------------------ markdown

def test_markdown_headings_nest(tmp_path):
    p = tmp_path / "guide.md"
    p.write_text(
        "# The Guide\n\nIntro paragraph here.\n\n"
        "## Alpha\n\nAlpha text.\n\n"
        "### Beta\n\nBeta text.\n\n"
        "#### Gamma\n\nGamma text.\n\n"
        "## Delta\n\nDelta text.\n")
    art = load(p)
    assert art.title == "The Guide"
    got = {s.heading_path: s.text for s in art.sections}
    assert got == {
        (): "Intro paragraph here.",
        ("Alpha",): "Alpha text.",
        ("Alpha", "Beta"): "Beta text.",
        ("Alpha", "Beta", "Gamma"): "Gamma text.",
        ("Delta",): "Delta text.",
    }
    assert [s.heading_path for s in art.sections][-1] == ("Delta",)


def test_markdown_hash_in_fenced_code_is_not_a_heading(tmp_path):
    p = tmp_path / "code.md"
    p.write_text(
        "# Code Notes\n\n## Setup\n\nRun this script.\n\n"
        "```bash\n# install the package\npip install thing\n```\n\n"
        "~~~\n## not a heading either\n~~~\n\n"
        "More setup text.\n\n## Usage\n\nUse it.\n")
    art = load(p)
    paths = [s.heading_path for s in art.sections]
    assert paths == [("Setup",), ("Usage",)]
    setup = art.sections[0].text
    assert "# install the package" in setup
    assert "## not a heading either" in setup
    assert "More setup text." in setup


def test_markdown_without_h1_uses_first_heading_or_name(tmp_path):
    p = tmp_path / "plain-notes.md"
    p.write_text("Just a paragraph of notes without any heading at all.\n")
    art = load(p)
    assert art.title  # never empty
    assert art.sections[0].heading_path == ()
    assert art.sections[0].text == "Just a paragraph of notes without any heading at all."


# ------------------------------------------------------------------------ HTML

HTML = """<!doctype html>
<html><head><title>Harbour News</title>
<style>.styletoken { color: red }</style>
<script>var scripttoken = "should never be indexed";</script>
</head><body>
<nav><a href="/">navtoken home</a> <a href="/about">navtoken about</a></nav>
<h1>Harbour News</h1>
<p>The harbour reopened on Monday after repairs.</p>
<h2>Ships</h2>
<p>Three ships docked in the first hour.</p>
<script>console.log("inlinescripttoken")</script>
<h3>Cargo</h3>
<p>Most cargo was grain and timber.</p>
<h2>People</h2>
<p>Dock workers returned to full shifts.</p>
<style>p { margin: 0 } /* inlinestyletoken */</style>
</body></html>
"""


def test_html_headings_and_title(tmp_path):
    p = tmp_path / "harbour.html"
    p.write_text(HTML)
    art = load(p)
    assert art.title == "Harbour News"
    got = [(s.heading_path, s.text) for s in art.sections]
    assert got == [
        ((), "The harbour reopened on Monday after repairs."),
        (("Ships",), "Three ships docked in the first hour."),
        (("Ships", "Cargo"), "Most cargo was grain and timber."),
        (("People",), "Dock workers returned to full shifts."),
    ]


def test_html_drops_script_style_nav(tmp_path):
    p = tmp_path / "harbour.html"
    p.write_text(HTML)
    art = load(p)
    everything = " ".join([art.title, *(s.text for s in art.sections),
                           *(h for s in art.sections for h in s.heading_path)])
    for token in ("styletoken", "scripttoken", "navtoken", "inlinescripttoken", "inlinestyletoken",
                  "console.log", "color: red"):
        assert token not in everything


def test_html_all_heading_levels(tmp_path):
    body = "".join(f"<h{n}>Level {n}</h{n}><p>Text at level {n}.</p>" for n in range(1, 7))
    p = tmp_path / "levels.html"
    p.write_text(f"<html><head><title>Levels</title></head><body>{body}</body></html>")
    art = load(p)
    assert art.title == "Levels"
    paths = {s.text: s.heading_path for s in art.sections}
    for n in range(1, 7):
        assert paths[f"Text at level {n}."] == tuple(f"Level {k}" for k in range(1, n + 1))


def test_html_heading_spanning_lines_is_one_heading(tmp_path):
    p = tmp_path / "wrap.html"
    p.write_text("<html><head><title>Wrapped\n  title</title></head><body>"
                 "<h2>A heading that\n   wraps</h2><p>Body under it.</p></body></html>")
    art = load(p)
    assert art.title == "Wrapped title"
    assert [(s.heading_path, s.text) for s in art.sections] == [
        (("A heading that wraps",), "Body under it.")]


def test_html_title_falls_back_to_h1(tmp_path):
    p = tmp_path / "notitle.html"
    p.write_text("<html><body><h1>Only Heading</h1><p>Some body text here.</p></body></html>")
    art = load(p)
    assert art.title == "Only Heading"
    assert [(s.heading_path, s.text) for s in art.sections] == [((), "Some body text here.")]


# ------------------------------------------------------------------------ encodings

def test_cp1252_decodes_curly_quotes_and_accents(tmp_path):
    p = tmp_path / "cafe.txt"
    p.write_bytes(b"Caf\xe9 Notes\n\nShe said \x93hello\x94 to the caf\xe9 owner \x96 twice. "
                  b"It was \x85 fine.\n")
    art = load(p)
    assert art.title == "Café Notes"
    assert art.sections[0].text == "She said “hello” to the café owner – twice. It was … fine."


def test_latin1_decodes(tmp_path):
    p = tmp_path / "latin.md"
    p.write_bytes("# Naïve Title\n\nThe naïve résumé costs £5 ± ½ in Zürich.\n".encode("latin-1"))
    art = load(p)
    assert art.title == "Naïve Title"
    assert art.sections[0].text == "The naïve résumé costs £5 ± ½ in Zürich."


def test_utf8_bom_and_crlf(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes("\ufeffÉtude Title\r\n\r\nLe texte est là. Voilà.\r\n".encode("utf-8"))
    art = load(p)
    assert art.title == "Étude Title"
    assert art.sections[0].text == "Le texte est là. Voilà."


def test_utf16_with_bom(tmp_path):
    p = tmp_path / "wide.txt"
    p.write_bytes("Wide Title\n\nText in UTF-16 with ü.\n".encode("utf-16"))
    art = load(p)
    assert art.title == "Wide Title"
    assert art.sections[0].text == "Text in UTF-16 with ü."


# ------------------------------------------------------------------------ PDF

THREE_PAGES = [
    ["Rivers of the World", "Rivers carry water to the sea. They shape valleys over long times."],
    ["Flooding", "Floods happen when rain is heavy. The Danube flooded badly in 2002."],
    ["Bridges", "Bridges cross rivers. The Golden Gate Bridge opened in 1937."],
]


def test_pdf_pages_kept_on_sections_and_chunks(tmp_path):
    p = tmp_path / "rivers.pdf"
    p.write_bytes(make_pdf(THREE_PAGES))
    art = load(p)
    by_page = {}
    for s in art.sections:
        by_page.setdefault(s.page, []).append(s.text)
    assert sorted(by_page) == [1, 2, 3]
    assert any("Danube flooded" in t for t in by_page[2])
    assert any("Golden Gate" in t for t in by_page[3])
    assert not any("Danube" in t for t in by_page[1] + by_page[3])
    # Without metadata title or outline: first line is the title; short lines are headings.
    assert art.title == "Rivers of the World"
    assert [s.heading_path for s in art.sections][1:] == [("Flooding",), ("Bridges",)]
    chunks = chunk_article(art, FakeEmbedder().count_tokens)
    assert {c.page for c in chunks} == {1, 2, 3}
    for c in chunks:
        assert c.page == art.sections[c.section_index].page
    assert next(c for c in chunks if "Danube" in c.text).page == 2


def test_pdf_outline_gives_headings(tmp_path):
    pages = [
        ["Field Report", "Opening words come before any bookmark. They form the lead.",
         "Part One", "Part one text sits on the first page. It has two sentences."],
        ["Sub Part", "Nested text lives on page two. It belongs to the sub part."],
        ["Part Two", "Part two text is on page three. It closes the report."],
    ]
    outline = [(0, "Part One", 0), (1, "Sub Part", 1), (2, "Part Two", 0)]
    p = tmp_path / "report.pdf"
    p.write_bytes(make_pdf(pages, outline=outline, title="Field Report Title"))
    art = load(p)
    assert art.title == "Field Report Title"
    got = [(s.heading_path, s.page) for s in art.sections]
    assert got == [((), 1), (("Part One",), 1), (("Part One", "Sub Part"), 2), (("Part Two",), 3)]
    texts = {s.heading_path: s.text for s in art.sections}
    assert texts[("Part One",)] == "Part one text sits on the first page. It has two sentences."
    assert texts[("Part One", "Sub Part")] == (
        "Nested text lives on page two. It belongs to the sub part.")
    assert "Opening words come before any bookmark." in texts[()]
    # The heading line itself is not repeated in the body.
    assert not texts[("Part Two",)].startswith("Part Two")


def test_pdf_outline_titles_override_text_rule(tmp_path):
    # Outline names that differ from anything the plain-text rule would find.
    pages = [["Intro line that is long enough to be a body sentence here.", "alpha body text."],
             ["Second page text for the chapter. It ends here."]]
    outline = [(0, "Chapter Alpha", 0), (1, "Chapter Beta", 0)]
    p = tmp_path / "book.pdf"
    p.write_bytes(make_pdf(pages, outline=outline, title="Book"))
    art = load(p)
    assert {s.heading_path for s in art.sections} == {("Chapter Alpha",), ("Chapter Beta",)}
    assert [s.page for s in art.sections if s.heading_path == ("Chapter Beta",)] == [2]


# ------------------------------------------------------------------------ bad input

def _bad(tmp_path, name, data, **kw) -> UnreadableSource:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(UnreadableSource) as info:
        load(p, **kw)
    err = info.value
    assert err.source == name
    assert err.reason and isinstance(err.reason, str)
    assert name in str(err)
    return err


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.pdf"])
def test_empty_file(tmp_path, name):
    assert "empty" in _bad(tmp_path, name, b"").reason


@pytest.mark.parametrize("name", ["blank.txt", "blank.md", "blank.html"])
def test_whitespace_only_file(tmp_path, name):
    err = _bad(tmp_path, name, b"  \n\n\t \r\n   \n")
    assert "empty" in err.reason or "no text" in err.reason


def test_html_without_text(tmp_path):
    err = _bad(tmp_path, "shell.html",
               b"<html><head><script>var x=1;</script></head><body><nav>menu</nav></body></html>")
    assert "text" in err.reason or "empty" in err.reason


def test_binary_named_txt(tmp_path):
    assert "binary" in _bad(tmp_path, "blob.txt", binary_bytes()).reason


def test_corrupt_pdf(tmp_path):
    assert "corrupt" in _bad(tmp_path, "broken.pdf", make_corrupt_pdf()).reason


def test_truncated_pdf(tmp_path):
    assert "corrupt" in _bad(tmp_path, "half.pdf", make_truncated_pdf()).reason


def test_encrypted_pdf(tmp_path):
    assert "encrypted" in _bad(tmp_path, "locked.pdf", make_encrypted_pdf()).reason


def test_pdf_without_text(tmp_path):
    assert "no extractable text" in _bad(tmp_path, "scan.pdf", make_textless_pdf()).reason


def test_file_over_size_limit(tmp_path, seed_path):
    err = _bad(tmp_path, "big.txt", seed_path.read_bytes(), max_bytes=1000)
    assert "too large" in err.reason
    # The same file under the limit loads.
    assert load(tmp_path / "big.txt", max_bytes=10**6).title == SEED_TITLE


def test_unsupported_extension(tmp_path):
    assert "unsupported" in _bad(tmp_path, "data.csv", b"a,b\n1,2\n").reason


# ------------------------------------------------------------------------ robustness property

@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.one_of(
    st.binary(max_size=600),
    st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from([
        b"# ", b"## ", b"\n", b"\n\n", b"```", b"<h2>", b"</h2>", b"<p>", b"<script>", b"</script>",
        b"<title>", b"</title>", b"&#30;", b"\x1e", b"\x00", b"\xff\xfe", b"\xe9", b"\x93",
        b"Title",
        b"Body text. ", b"Short Heading", b"<nav>", b"<!--", b"-->", b"<![CDATA[", b"\r", b"\t",
        b"\xef\xbb\xbf", b"<h1>", b"</h1>", b"<div>" * 50,
    ]), max_size=40).map(b"".join),
), suffix=st.sampled_from([".txt", ".md", ".html"]))
@pytest.mark.heavy
def test_load_article_only_raises_unreadable_source(tmp_path, data, suffix):
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    try:
        art = load_article(p, p.name)
    except UnreadableSource as err:
        assert err.reason
        return
    assert art.title.strip()
    assert art.sections
    for sec in art.sections:
        assert sec.text.strip()
        assert sec.text == sec.text.strip()
        assert "\x00" not in sec.text
    # Whatever loads can be chunked.
    chunks = chunk_article(art, FakeEmbedder().count_tokens)
    assert chunks


_GOOD_PDF = make_pdf([["Harbour Report", "The harbour opened in spring. Boats came back."],
                      ["Fishing", "Boats landed cod and haddock. Prices fell."]],
                     outline=[(1, "Fishing", 0)], title="Harbour")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, len(_GOOD_PDF) - 1), st.integers(0, 255)),
                      min_size=1, max_size=12),
       cut=st.one_of(st.none(), st.integers(9, len(_GOOD_PDF))))
def test_damaged_pdf_only_raises_unreadable_source(tmp_path, edits, cut):
    data = bytearray(_GOOD_PDF)
    for pos, value in edits:
        data[pos] = value
    p = tmp_path / "damaged.pdf"
    p.write_bytes(bytes(data[:cut]))
    try:
        art = load_article(p, p.name)
    except UnreadableSource as err:
        assert err.reason
        return
    assert art.title.strip()
    for sec in art.sections:
        assert sec.text.strip() and sec.page in (1, 2)
