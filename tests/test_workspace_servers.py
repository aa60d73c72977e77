"""Several app servers, one database: two `streamlit run` processes share one real PostgreSQL
(Debian's postgresql 15, started in a temporary folder by devtools/postgres.py). A conversation
saved through one is listed and continued on the other, and a share link made on one opens on the
other. Driven in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.service import Assistant
from devtools import postgres
from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, chromium
from devtools.ui_samples import SEED_QUESTIONS, first_answering

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: `make chromium`", allow_module_level=True)
if postgres.available():
    pytest.skip(postgres.available(), allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from devtools.streamlit_server import ask_in_page  # noqa: E402

ANSWER_TIMEOUT_MS = 180_000  # the first question may wait for the model on a busy machine


def ask(page, question: str):
    return ask_in_page(page, question, ANSWER_TIMEOUT_MS)


@pytest.fixture(scope="module")
def servers(tmp_path_factory, embedder, seed_index):
    root = tmp_path_factory.mktemp("two-servers")
    settings = seed_index.settings()
    seed = first_answering(Assistant.open(settings=settings, embedder=embedder), SEED_QUESTIONS)
    if seed is None:
        pytest.fail("none of SEED_QUESTIONS gets an answer")
    with postgres.PostgresServer() as pg:
        env = {"ASSISTANT_DATABASE_URL": pg.url}
        # Each server its own data folder: nothing but the database is shared.
        started = [StreamlitServer(seed_index.corpus, seed_index.index, root / f"data{i}",
                                   root / f"streamlit{i}.log", env=env) for i in (1, 2)]
        try:
            for s in started:
                s.wait_healthy(timeout=180)
            yield started, seed[0]
        finally:
            for s in started:
                s.stop()
        for i in (1, 2):
            assert not (root / f"data{i}" / "assistant.db").exists()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


def conversations(sidebar):
    return sidebar.get_by_role("navigation", name="Your conversations")


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=ANSWER_TIMEOUT_MS)
    return page


def test_conversation_and_share_made_on_one_server_open_on_the_other(servers, browser):
    (one, two), question = servers
    first = open_page(browser, one.url)
    reply = ask(first, question)
    first.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    cid = re.search(r"c=([0-9a-f]{32})", first.url).group(1)
    reply.get_by_role("button", name="Share").click()
    link = reply.get_by_test_id("stCode").inner_text().strip()
    assert link.startswith(one.url + "/?share=")

    second = open_page(browser, two.url)
    sidebar = second.get_by_test_id("stSidebar")
    conversations(sidebar).get_by_text(question, exact=True).click(
        timeout=ANSWER_TIMEOUT_MS)
    expect(second.locator(".aa-answer").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert f"c={cid}" in second.url
    ask(second, "Who will lead them?")  # continued on the other server

    third = open_page(browser, f"{one.url}/?c={cid}")  # and seen back on the first
    expect(third.get_by_test_id("stChatMessage")).to_have_count(4, timeout=ANSWER_TIMEOUT_MS)

    shared = second.context.new_page()
    shared.goto(link.replace(one.url, two.url))
    expect(shared.get_by_role("heading", name="Shared answer")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    expect(shared.locator(".aa-answer a.aa-cite").first).to_have_text("[1]")
    for p in (first, second, third):
        p.context.close()
