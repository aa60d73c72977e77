"""The sidebar's article filter in headless Chromium, over a synthetic archive of 3,000 articles
(devtools/synthetic_corpus.py; benchmarks/bench_filter.py measures the same at 100,000): only
the first matches reach the page, a title word typed finds the article, and a question asked with
that article chosen is answered from it alone."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.service import build_index
from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, chromium
from devtools.synthetic_corpus import PLANTED, TOPICS, StandInEmbedder, make_site

pytestmark = pytest.mark.browser

TIMEOUT_MS = 180_000  # the first page loads the model on a busy machine
ARTICLES = 3000

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `make chromium`", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def site_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("filter")
    corpus, index, _ = make_site(root, ARTICLES, log=lambda m: None)
    return corpus, index


@pytest.fixture(scope="module")
def site(site_paths):
    corpus, index = site_paths
    server = StreamlitServer(corpus, index, index.parent / "data", index.parent / "streamlit.log")
    try:
        server.wait_healthy(timeout=180)
        yield server.url
    finally:
        server.stop()


RECEIVED: list[bytes] = []  # the websocket frames the current page received


@pytest.fixture
def page(site):
    for browser in chromium():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        RECEIVED.clear()
        page.on("websocket", lambda ws: ws.on(
            "framereceived", lambda data: RECEIVED.append(
                data if isinstance(data, bytes) else data.encode())))
        page.goto(site)
        page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=TIMEOUT_MS)
        yield page
        context.close()


def sidebar(page):
    return page.get_by_test_id("stSidebar")


def find(page, words: str) -> None:
    """Type into the filter's search box and wait for the page to show the new matches."""
    box = sidebar(page).get_by_placeholder("Words of a title or file name")
    box.fill(words)
    box.press("Enter")
    expect(sidebar(page)).to_contain_text("matching article", timeout=TIMEOUT_MS)


def options(page) -> list[str]:
    """The options the multiselect offers (it is opened, read, and closed again)."""
    select = sidebar(page).get_by_test_id("stMultiSelect")
    select.locator("input").click()
    listbox = page.get_by_role("listbox")
    listbox.wait_for()
    texts = listbox.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return texts


def test_only_the_first_matches_are_sent_to_the_page(page):
    expect(sidebar(page)).to_contain_text(f"{ARTICLES:,} articles; the first 50 are listed",
                                          timeout=TIMEOUT_MS)
    listed = [o for o in options(page) if o != "Select all"]  # the list shows matches
    assert len(listed) >= 5 and all(o.endswith(".txt)") for o in listed), listed
    # What the server sent the page: the labels "Title (topic/YYYY/MM/file.txt)" of 50
    # articles, not of 3,000.
    sent = set(re.findall(rb"\((?:%s)/\d{4}/\d\d/[\w.-]+\.txt\)" % b"|".join(
        t.encode() for t in TOPICS), b"".join(RECEIVED)))
    assert len(sent) == 50, len(sent)


def ask(page, question: str, n: int):
    """Ask; the sources (files) of reply number n (0-based among the chat messages)."""
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(question)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(n)
    reply.locator('.aa-answer, [data-testid="stAlert"]').first.wait_for(timeout=TIMEOUT_MS)
    return reply, reply.locator(".aa-src-file").all_inner_texts()


def test_title_word_finds_the_article_and_the_question_answers_only_from_it(page):
    telescope, brewery = PLANTED[0][0], PLANTED[1][0]
    question = "Who bought the Quillmarsh brewery?"
    _, files = ask(page, question, 1)  # all articles: the brewery article answers
    assert brewery in files, files

    find(page, "zephyrine")  # lower case: the search ignores case
    expect(sidebar(page)).to_contain_text("1 matching article(s)")
    listed = options(page)
    assert len(listed) == 1 and telescope in listed[0] and "Zephyrine telescope" in listed[0]
    sidebar(page).get_by_test_id("stMultiSelect").locator("input").click()
    page.get_by_role("option", name="Zephyrine telescope").click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("Searching 1 chosen article(s) only")).to_be_visible(
        timeout=TIMEOUT_MS)
    # The chosen article stays chosen while the search moves on to other words.
    find(page, "quillmarsh brewery")
    expect(sidebar(page).get_by_test_id("stMultiSelect")).to_contain_text("Zephyrine telescope")

    # With the telescope article chosen, only it may be cited or listed.
    reply, files = ask(page, question, 3)
    assert files and all(f == telescope for f in files), files
    assert brewery not in reply.inner_text()


@pytest.fixture
def own_site(site_paths, tmp_path):
    """A copy of the archive and its index with a server of its own: the test that changes the
    corpus and rebuilds must not change what the other tests count, whatever their order."""
    corpus, index = (tmp_path / "own" / "corpus", tmp_path / "own" / "index")
    shutil.copytree(site_paths[0], corpus)
    shutil.copytree(site_paths[1], index)
    server = StreamlitServer(corpus, index, tmp_path / "own" / "data", tmp_path / "streamlit.log")
    try:
        server.wait_healthy(timeout=180)
        yield server.url, corpus, index
    finally:
        server.stop()


def test_sidebar_follows_a_corpus_change_and_a_rebuild_while_chatting(own_site):
    """Asking reruns only the chat; the sidebar is still redrawn once the corpus or the build
    changed, so the stale warning and the new counts show without a reload."""
    url, corpus, index = own_site
    for browser in chromium():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=TIMEOUT_MS)
        try:
            follow_changes(page, corpus, index)
        finally:
            context.close()


def follow_changes(page, corpus: Path, index: Path) -> None:
    expect(sidebar(page)).to_contain_text(f"{ARTICLES} articles", timeout=TIMEOUT_MS)
    (corpus / "science" / "new-comet.txt").write_text(
        "Comet Varluna seen from Oslo\n\nAmateur astronomers in Oslo saw comet Varluna.\n")
    ask(page, "Who saw comet Varluna?", 1)
    expect(sidebar(page)).to_contain_text("out of date", timeout=TIMEOUT_MS)
    expect(sidebar(page)).to_contain_text("new-comet.txt")
    build_index(Settings().replace(corpus_dir=corpus, index_dir=index),
                embedder=StandInEmbedder(), log=lambda m: None)
    reply, files = ask(page, "Who saw comet Varluna?", 3)
    assert "science/new-comet.txt" in files, files  # the new build answered
    expect(sidebar(page)).to_contain_text(f"{ARTICLES + 1} articles", timeout=TIMEOUT_MS)
    expect(sidebar(page)).not_to_contain_text("out of date")
