"""Issue 27: the security review's reproductions as tests (hostile files, a hostile or broken LLM
endpoint, output that leaks or links). Each fails without its fix."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.errors import UnreadableSource
from assistant.loaders import Limits, ParseWorker, load_article
from assistant.records import Answer
from assistant.safe_text import WORD_JOINER, neutralize_links, redact_url, redact_urls
from assistant.ui import feedback
from assistant.ui import support as ui
from devtools import bombs

REPO = Path(__file__).resolve().parent.parent
ESC = "\x1b"


# ------------------------------------------------------------------------------ output

def md_html(markdown: str) -> str:
    """What a GFM renderer with autolinks makes of `markdown` (markdown-it with linkify, which
    links at least what remark-gfm, Streamlit's renderer, links)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like")
    # linkify-it's fuzzy mode also links bare "evil.com" (GFM does not) and takes an invisible
    # joiner for a letter of an international domain name: GFM's rule for "www." is checked
    # on the text instead (it needs the four characters "www." in a row).
    md.linkify.set({"fuzzy_link": False})
    return md.render(markdown)


@pytest.mark.parametrize("text", [
    "![m](http://127.0.0.1:9/beacon.png)", "see http://evil.com/x now",
    "HTTPS://evil.com", "go to www.evil.com today", "write to boss@evil.com",
    ":red[alarm] **bold** <img src=x>", "mailto:boss@evil.com"])
def test_escaped_markdown_has_no_link_image_or_directive(text):
    html = md_html(ui.escape_markdown(text))
    assert "<a" not in html and "<img" not in html, html
    assert "www." not in html
    # The words are all there (the joiner is invisible), nothing interpreted.
    assert ui.escape_markdown(text).replace("\\", "").replace(WORD_JOINER, "") == text
    # Without the neutralising, the same escaped text links (the review's finding 8; markdown-it
    # leaves an escaped "http\\://" alone, remark-gfm does not: the browser test covers it).
    escaped_only = ui._MD_INLINE.sub(r"\\\1", text)
    if text.startswith("write to"):
        assert "<a" in md_html(escaped_only)


def test_neutralising_leaves_ordinary_text_alone():
    text = "In 1763 the U.S. paid $5m (e.g. 42% of it) to the town's 3 www-less ports."
    assert neutralize_links(text) == text


def test_export_and_streamed_text_do_not_link():
    answer = Answer(question="Who? www.q.com", text="Mail a@b.com or see http://x.com",
                    citations=(), abstained=True)
    doc = ui.conversation_markdown([("Who? www.q.com", answer)], exported_at="now")
    assert "<a" not in md_html(doc) and "www." not in doc


def test_credentials_are_removed_from_urls():
    assert redact_url("http://user:s3cret@10.0.0.5:8000/v1") == "http://10.0.0.5:8000/v1"
    assert redact_url("https://host/v1") == "https://host/v1"
    assert redact_url("http://token@host/v1?x=1") == "http://host/v1?x=1"
    line = "Connection error: http://user:s3cret@10.0.0.5:8000/v1/chat/completions failed"
    assert "s3cret" not in redact_urls(line) and "10.0.0.5:8000" in redact_urls(line)


def test_llm_failure_reason_does_not_carry_credentials():
    from assistant.answer.llm import _why

    exc = RuntimeError("cannot reach http://user:s3cret@10.0.0.5:8000/v1/chat/completions")
    assert "s3cret" not in _why(exc) and "10.0.0.5" in _why(exc)


@pytest.mark.heavy
def test_sidebar_endpoint_and_model_caption_in_the_app(monkeypatch, seed_index):
    """The app, run headless: the endpoint caption shows no credentials, and the model name
    (the endpoint's first /v1/models id) is escaped: no image, link or colour directive."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # an Assistant cached by an earlier app test has no endpoint

    from devtools.llm_servers import ScriptedServer, citing

    beacon = "m![m](http://127.0.0.1:9/beacon.png) www.evil.com :red[x]"
    with ScriptedServer(model=beacon) as srv:
        srv.respond(citing("The DEA and Mexico's Federal Police will lead the efforts [{n}].",
                           "Drug Enforcement Administration"))
        url = srv.base_url.replace("http://", "http://user:s3cret@")
        monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_index.corpus))
        monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_index.index))
        monkeypatch.setenv("ASSISTANT_LLM_URL", url)
        monkeypatch.delenv("ASSISTANT_LLM_MODEL", raising=False)
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        at.secrets = {"unrelated": "x"}
        at.run()
        assert not at.exception, at.exception
        sidebar = " ".join(c.value for c in at.sidebar.caption)
        assert "Endpoint:" in sidebar and "s3cret" not in sidebar
        # the user name of the URL's credentials (the sidebar also says "one local user")
        assert not re.search(r"\buser\W*(?::|@|\u2060)", sidebar), sidebar
        at.chat_input[0].set_value("Who is in charge of the joint efforts?").run()
        assert not at.exception, at.exception
        captions = [c.value for c in at.caption if "written by" in c.value]
        assert captions, [c.value for c in at.caption]
        html = md_html(captions[0])
        assert "<img" not in html and "<a" not in html, html
        assert ":red[" not in captions[0]  # the directive is escaped
        assert "beacon.png" in captions[0]  # shown as text


# ------------------------------------------------------------------------------ terminal escapes

def test_esc_in_html_entities_pdf_and_file_names_is_removed(tmp_path):
    from devtools.samples_pdf import make_pdf

    html = tmp_path / "page.html"
    html.write_text("<html><head><title>T&#27;]0;pwned&#7;</title></head><body>"
                    "<h2>Sec&#x1b;[2J</h2><p>Body &#27;[31mred&#155;2J text.</p></body></html>")
    art = load_article(html, "page.html")
    texts = [art.title] + [s.text for s in art.sections] + \
        [h for s in art.sections for h in s.heading_path]
    assert texts and not any(ESC in t or "\x9b" in t or "\x07" in t for t in texts), texts
    assert "Body [31mred" in art.sections[0].text  # &#155; is "›" in HTML5 (windows-1252)

    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(make_pdf([[f"Harbour{ESC}]0;x trade grew again this year.",
                               "The port handled more containers than before."]]))
    art = load_article(pdf, "doc.pdf")
    assert not any(ESC in s.text for s in art.sections)
    assert "trade grew" in art.sections[0].text

    named = tmp_path / f"evil{ESC}]0;title.txt"
    named.write_text("Harbour\n\nSome text about the harbour and its trade, which grew again.\n")
    art = load_article(named, named.name)
    assert ESC not in art.title


def test_section_offsets_stay_consistent_after_cleaning(tmp_path):
    p = tmp_path / "a.md"
    p.write_text("# One\n\nFirst &#27; part.\n\n# Two\n\nSecond part here.\n")
    art = load_article(p, "a.md")  # markdown keeps entities as text; no control chars appear
    body = "\n\n".join(s.text for s in art.sections)
    for s in art.sections:
        assert body[s.start:s.start + len(s.text)] == s.text


@pytest.mark.heavy
def test_cli_prints_nothing_raw(tmp_path, embedder):
    """`assistant build`, `status` and `ask` over a corpus whose file name, title and text
    carry terminal escapes: the output has no control character but the line feed."""

    corpus, index = tmp_path / "c", tmp_path / "i"
    corpus.mkdir()
    (corpus / f"harbour{ESC}[2J.html").write_text(
        "<html><head><title>Harbour &#27;]0;pwned&#7; report</title></head><body>"
        "<p>The harbour of Valencia handled 5 million containers &#27;[2J in 2019.</p>"
        "<p>Trade through the harbour grew again that year.</p></body></html>")
    (corpus / f"bad{ESC}]0;x.pdf").write_bytes(b"%PDF-1.4 not really")
    env = {**os.environ, "PYTHONPATH": str(REPO), "ASSISTANT_CORPUS_DIR": str(corpus),
           "ASSISTANT_INDEX_DIR": str(index)}
    outs = []
    for args in (["build"], ["status"], ["ask", "How many containers did Valencia handle?"]):
        r = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout + r.stderr)
    allowed = {"\n", "\t"}
    for out in outs:
        bad = {c for c in out if (ord(c) < 32 or 0x7f <= ord(c) <= 0x9f) and c not in allowed}
        assert not bad, (bad, out)
    assert "Valencia" in outs[2] and "bad" in outs[1]


# ------------------------------------------------------------------------------ symlinks

def test_a_link_swapped_after_the_scan_is_not_read(tmp_path):
    from assistant.index.scan import scan_corpus

    corpus = tmp_path / "bombs-corpus"
    corpus.mkdir()
    (corpus / "real.txt").write_text("Harbour\n\nHarbour trade grew again this year in the port.\n")
    secret = tmp_path / "secrets.toml"
    secret.write_text("cookie_secret = 'do-not-quote-me-anywhere-at-all'\n")
    (corpus / "link.txt").symlink_to(corpus / "real.txt")
    files, refused = scan_corpus(corpus)
    assert not refused and [rel for _, rel in files] == ["link.txt", "real.txt"]
    # The swap, between the scan's check and the read:
    (corpus / "link.txt").unlink()
    (corpus / "link.txt").symlink_to(secret)
    root = corpus.resolve()
    with pytest.raises(UnreadableSource, match="outside the corpus"):
        load_article(root / "link.txt", "link.txt", root=root)
    # A link that stays inside is read; a FIFO swapped in is refused without blocking.
    assert load_article(root / "real.txt", "real.txt", root=root).sections
    (corpus / "link.txt").unlink()
    os.mkfifo(corpus / "link.txt")
    with pytest.raises(UnreadableSource, match="not a regular file"):
        load_article(root / "link.txt", "link.txt", root=root)


# ------------------------------------------------------------------------------ bombs

@pytest.fixture(scope="module")
def bomb_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bombs")
    bombs.docx_bomb(d / "word-bomb.docx")
    bombs.pdf_shared_stream(d / "shared-stream.pdf")
    bombs.pdf_page_tree_repeat(d / "page-tree.pdf")
    return d


def test_the_review_bombs_are_small_on_disk(bomb_dir):
    assert (bomb_dir / "word-bomb.docx").stat().st_size < 1_000_000
    assert (bomb_dir / "shared-stream.pdf").stat().st_size < 200_000
    assert (bomb_dir / "page-tree.pdf").stat().st_size < 10_000


@pytest.mark.parametrize("name, reason", [
    ("word-bomb.docx", "expands to 201.4 MB"), ("shared-stream.pdf", "page content expands"),
    ("page-tree.pdf", "same page or node more than once")])
def test_bombs_are_refused_by_their_structure(bomb_dir, name, reason):
    with pytest.raises(UnreadableSource, match=reason):
        load_article(bomb_dir / name, name)


def test_limits_are_settings(bomb_dir, monkeypatch):
    from assistant.config import Settings

    monkeypatch.setenv("ASSISTANT_MAX_PAGES", "3")
    monkeypatch.setenv("ASSISTANT_MAX_EXPANDED_MB", "0.001")
    limits = Limits.from_settings(Settings())
    assert (limits.pages, limits.expanded_mb) == (3, 0.001)
    p = bomb_dir / "three.pdf"
    from devtools.samples_pdf import make_pdf

    p.write_bytes(make_pdf([["Harbour trade grew again this year."]] * 4))
    with pytest.raises(UnreadableSource, match="more than 3 pages"):
        load_article(p, "three.pdf", limits=Limits(pages=3))


@pytest.mark.heavy
def test_the_time_budget_skips_a_slow_file_and_the_worker_goes_on(bomb_dir):
    """With the size limits out of the way, the shared-stream PDF is slow (seconds a page):
    the worker is stopped at the budget, and the next file gets a new one."""
    from devtools.samples_pdf import make_pdf

    ok = bomb_dir / "ok.pdf"
    ok.write_bytes(make_pdf([["Harbour trade grew again this year.",
                              "The port handled more containers than before."]]))
    limits = Limits(expanded_mb=1e9, seconds=3)
    with ParseWorker(limits) as worker:
        t = time.monotonic()
        with pytest.raises(UnreadableSource, match="took longer than 3 s"):
            load_article(bomb_dir / "shared-stream.pdf", "s.pdf", limits=limits, worker=worker)
        assert time.monotonic() - t < 60
        art = load_article(ok, "ok.pdf", limits=limits, worker=worker)
        assert "containers" in art.sections[0].text


@pytest.mark.heavy
def test_the_memory_budget_skips_a_file_that_needs_too_much(bomb_dir):
    limits = Limits(expanded_mb=1e9, memory_mb=400)
    with ParseWorker(limits) as worker, pytest.raises(UnreadableSource):
        load_article(bomb_dir / "word-bomb.docx", "w.docx", limits=limits, worker=worker)


@pytest.mark.heavy
def test_a_build_over_all_the_bombs_skips_them_and_indexes_the_rest(bomb_dir, tmp_path,
                                                                    embedder):
    """The bar: the build finishes, `assistant status` lists each bomb with its reason, and the
    other files are indexed. The per-file progress log names what was read."""
    import shutil

    from assistant.config import Settings
    from assistant.index.builder import build
    from assistant.service import index_status

    corpus = tmp_path / "bombs-corpus"
    corpus.mkdir()
    for f in ("word-bomb.docx", "shared-stream.pdf", "page-tree.pdf"):
        shutil.copy(bomb_dir / f, corpus / f)
    (corpus / "harbour.txt").write_text("Harbour report\n\nTrade through the harbour of "
                                        "Valencia grew again in 2019.\n")
    (corpus / "mill.md").write_text("# Mill\n\nThe old mill by the river was rebuilt in 1905.\n")
    settings = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    lines: list[str] = []
    t = time.monotonic()
    report = build(settings, embedder=embedder, log=lines.append, progress=False)
    assert time.monotonic() - t < 300
    skipped = {s["source"]: s["reason"] for s in index_status(settings).skipped}
    assert set(skipped) == {"word-bomb.docx", "shared-stream.pdf", "page-tree.pdf"}, skipped
    assert "expands" in skipped["word-bomb.docx"] and "page tree" in skipped["page-tree.pdf"]
    assert report.parsed_files == 2
    assert all(any(f in line for line in lines) for f in skipped), lines


# ------------------------------------------------------------------------------ feedback

def test_feedback_of_megabyte_questions_stays_small_and_private(tmp_path):
    big = "Which harbour grew? " + "x" * 1_000_000
    answer = Answer(question=big, text="The harbour of Valencia [1].", citations=(),
                    abstained=True)
    history = [big] * 3 + ["Line\u2028break\u2029question?"] * 20
    rec = feedback.feedback_record(answer, "up", history, user="a@b.org")
    path = feedback.append_feedback(tmp_path, rec)
    data = path.read_bytes()
    assert len(data) < 20_000, len(data)
    assert len(rec["question"]) <= 1000 and len(rec["history"]) == feedback.FEEDBACK_HISTORY
    text = data.decode("utf-8")
    assert len(text.splitlines()) == 1  # U+2028/U+2029 escaped: no bogus records
    assert json.loads(text)["history"][-1] == "Line break question?" or \
        "\u2028" in json.loads(text)["history"][-1] or json.loads(text)["history"][-1]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_world_readable_feedback_file_is_made_private(tmp_path):
    p = tmp_path / feedback.FEEDBACK_FILE
    p.write_text("")
    p.chmod(0o644)
    feedback.append_feedback(tmp_path, {"x": "\u2028"})
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert p.read_text().splitlines() == ['{"x": "\\u2028"}']


def test_a_long_history_is_not_cleaned_whole_for_every_question():
    from assistant.answer.conversation import last_question

    history = ["What about the harbour?"] + ["y" * 1_000_000] * 20 + ["Where is it?"]
    t = time.perf_counter()
    assert last_question(history) == "Where is it?"
    assert time.perf_counter() - t < 1.0


def test_build_progress_names_files_as_they_are_read():
    from assistant.index.scan import ReadProgress

    lines: list[str] = []
    p = ReadProgress(3, lines.append, every=0.0, slow=0.0)
    p.start("a.pdf")
    p.start("b.docx")
    p.skipped()  # its own "skipped" line says why; no second line
    p.start("c.txt")
    p.done()
    assert lines[0].startswith("reading files: 0 of 3") and "a.pdf" in lines[0]
    assert "read a.pdf in" in lines[1] and not any("read b.docx" in x for x in lines)
    assert lines[-1].startswith("read c.txt in")


@pytest.mark.heavy
def test_the_apps_build_button_skips_the_bombs_too(bomb_dir, tmp_path, monkeypatch):
    """"Build the index now" runs the same build: the bombs are skipped with their reasons (in
    the sidebar's list of files not indexed) and the rest is answered from."""
    import shutil

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    corpus, index = tmp_path / "app-corpus", tmp_path / "app-index"
    corpus.mkdir()
    for f in ("word-bomb.docx", "shared-stream.pdf", "page-tree.pdf"):
        shutil.copy(bomb_dir / f, corpus / f)
    (corpus / "harbour.txt").write_text("Harbour report\n\nTrade through the harbour of "
                                        "Valencia grew again in 2019.\n")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    monkeypatch.delenv("ASSISTANT_LLM_URL", raising=False)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.secrets = {"unrelated": "x"}
    at.run()
    at.button(key="build_index").click().run()
    assert not at.exception, at.exception
    shown = " ".join(t.value for t in at.sidebar.text)
    for name in ("word-bomb.docx", "shared-stream.pdf", "page-tree.pdf"):
        assert name in shown, shown
    assert "expands" in shown and "page tree" in shown
