"""The workspace end to end in headless Chromium, signed in through a real OpenID Connect provider
(oidc-provider-mock, as in test_auth_browser.py): save, reload and reopen; continue with a
follow-up; search finds a past answer; share, open as a second signed-in user, revoke, refused;
a signed-out visitor to a share link gets the sign-in page, then the answer; user A never reads
user B's conversations (sidebar, URL, search, share)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.workspace import Workspace
from assistant.workspace import conversations as cv
from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, chromium, free_port
from devtools.ui_samples import SEED_QUESTIONS, first_answering

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: `make chromium`; browser tests skipped",
                allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from devtools.signin import (  # noqa: E402
    assert_no_article_content,
    http_json,
    oidc_provider,
    shot,
)
from devtools.streamlit_server import ask_in_page  # noqa: E402

ANSWER_TIMEOUT_MS = 180_000  # the first question may wait for the model on a busy machine

USERS = {"alice-1": {"email": "alice@example.org", "email_verified": True, "name": "Alice"},
         "bob-3": {"email": "bob@example.org", "email_verified": True, "name": "Bob"}}
FOLLOW_UP = "Who will lead them?"


@pytest.fixture(scope="module")
def provider():
    with oidc_provider(USERS) as url:
        yield url


def ask(page, question: str):
    return ask_in_page(page, question, ANSWER_TIMEOUT_MS)


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder, provider, seed_index):
    for sub, claims in USERS.items():
        http_json("PUT", f"{provider}/users/{sub}", claims)
    root = tmp_path_factory.mktemp("workspace-browser")
    settings = seed_index.settings(data_dir=root / "data")
    seed = first_answering(Assistant.open(settings=settings, embedder=embedder), SEED_QUESTIONS)
    if seed is None:
        pytest.fail("none of SEED_QUESTIONS gets an answer with the current calibration")
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/oauth2callback"
    client = http_json("POST", f"{provider}/oauth2/clients", {"redirect_uris": [redirect]})
    secrets_file = root / "secrets" / "secrets.toml"
    secrets_file.parent.mkdir()
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{redirect}"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{client["client_id"]}"\n'
        f'client_secret = "{client["client_secret"]}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    server = StreamlitServer(seed_index.corpus, settings.index_dir, settings.data_dir,
                             root / "streamlit.log", port=port,
                             env={"ASSISTANT_ALLOWED_USERS": "@example.org"},
                             args=["--secrets.files", str(secrets_file)])
    try:
        server.wait_healthy(timeout=180)
        yield {"url": server.url, "provider": provider, "data": settings.data_dir,
               "question": seed[0], "log": server.log_path}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        return page

    yield make
    for c in contexts:
        c.close()


def conversations(sidebar):
    return sidebar.get_by_role("navigation", name="Your conversations")


def sign_in(page, site, sub: str, url: str | None = None) -> None:
    page.goto(url or site["url"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(site["provider"]) + r"/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(site["url"]) + r"/"))


def chat_ready(page) -> None:
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Your conversations",
                                                             timeout=ANSWER_TIMEOUT_MS)


def conversation_id(page) -> str:
    page.wait_for_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    return re.search(r"[?&]c=([0-9a-f]{32})", page.url).group(1)


def test_save_reload_reopen_and_continue_with_a_follow_up(new_page, site):
    page = new_page()
    sign_in(page, site, "alice-1")
    chat_ready(page)
    ask(page, site["question"])
    cid = conversation_id(page)
    sidebar = page.get_by_test_id("stSidebar")
    listed = conversations(sidebar).get_by_text(site["question"], exact=True)
    expect(listed.first).to_be_visible()
    page.reload()  # the tab's state is gone; the link and the database bring it back
    expect(page.get_by_test_id("stChatMessage").first).to_contain_text(site["question"],
                                                                       timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator(".aa-answer").first).to_be_visible()
    # Another tab: a new chat, then the conversation reopened from the sidebar.
    other = new_page()
    sign_in(other, site, "alice-1")
    chat_ready(other)
    conversations(other.get_by_test_id("stSidebar")).get_by_text(
        site["question"], exact=True).first.click()  # the newest: the one just asked in
    expect(other.locator(".aa-answer").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert conversation_id(other) == cid
    reply = ask(other, FOLLOW_UP)
    expect(reply.locator(".aa-answer, [data-testid='stAlert']").first).to_be_visible()
    shot(other, "workspace-continued.png")
    ws = Workspace.open(url=f"sqlite:///{site['data'] / 'assistant.db'}")
    turns = cv.get_conversation(ws, "alice@example.org", cid)[1]
    ws.close()
    assert [t.question for t in turns][-2:] == [site["question"], FOLLOW_UP]
    assert turns[-1].history[-1] == site["question"]  # the follow-up was read with it


def test_search_finds_a_past_answer_and_opens_it(new_page, site):
    page = new_page()
    sign_in(page, site, "alice-1")
    chat_ready(page)
    ask(page, site["question"])
    answer = page.locator(".aa-answer").last.inner_text()
    word = max(re.findall(r"[A-Za-z]{6,}", answer), key=len).upper()  # from the answer
    page.get_by_role("button", name="New chat").click()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    page.get_by_label("Search your conversations").fill(word)
    page.get_by_label("Search your conversations").press("Enter")
    hit = page.get_by_test_id("stSidebar").get_by_role("button", name=re.compile(
        re.escape(site["question"]) + " — ")).first
    hit.click()
    expect(page.get_by_text("Found by your search.")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    conversation_id(page)
    shot(page, "workspace-search.png")


def test_share_opens_for_a_second_user_until_revoked(new_page, site):
    alice = new_page()
    sign_in(alice, site, "alice-1")
    chat_ready(alice)
    reply = ask(alice, site["question"])
    reply.get_by_role("button", name="Share").click()
    code = reply.get_by_test_id("stCode")
    expect(code).to_contain_text("?share=")
    link = code.inner_text().strip()
    assert link.startswith(site["url"])
    bob = new_page()
    sign_in(bob, site, "bob-3")
    chat_ready(bob)
    bob.goto(link)
    expect(bob.get_by_role("heading", name="Shared answer")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    # The address is shown with an invisible word joiner before the "@" (no autolink).
    expect(bob.get_by_text("Shared by alice\u2060@example.org")).to_be_visible()
    expect(bob.locator(".aa-answer a.aa-cite").first).to_have_text("[1]")
    expect(bob.locator(".aa-src mark.aa-quote").first).to_be_visible()
    assert bob.get_by_placeholder(PLACEHOLDER).count() == 0  # read-only
    bob.get_by_role("button", name=re.compile(r"Open \[1\] in the article")).click()
    expect(bob.get_by_role("dialog")).to_be_visible()
    shot(bob, "workspace-shared.png")
    # Alice revokes it; Bob's next visit is refused.
    alice.reload()
    sidebar = alice.get_by_test_id("stSidebar")
    sidebar.get_by_text(re.compile(r"Your shared answers")).click()
    sidebar.get_by_role("button", name="Revoke").first.click()
    expect(sidebar).to_contain_text("revoked")
    bob.goto(link)
    expect(bob.get_by_text("This link was revoked")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert bob.locator(".aa-answer").count() == 0


def test_signed_out_visitor_to_a_share_link_signs_in_first(new_page, site):
    alice = new_page()
    sign_in(alice, site, "alice-1")
    chat_ready(alice)
    reply = ask(alice, site["question"])
    reply.get_by_role("button", name="Share").click()
    link = reply.get_by_test_id("stCode").inner_text().strip()
    visitor = new_page()
    visitor.goto(link)
    expect(visitor.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_article_content(visitor)
    assert visitor.locator(".aa-answer").count() == 0
    shot(visitor, "workspace-share-sign-in.png")
    sign_in(visitor, site, "bob-3", url=link)
    # Sign-in returns to the bare address; the tab goes on to the link.
    expect(visitor.get_by_role("heading", name="Shared answer")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    assert "share=" in visitor.url


def test_user_a_never_reads_user_b_conversations(new_page, site):
    alice = new_page()
    sign_in(alice, site, "alice-1")
    chat_ready(alice)
    alice.get_by_role("button", name="New chat").click()
    reply = ask(alice, site["question"])
    cid = conversation_id(alice)
    words = max(re.findall(r"[A-Za-z]{6,}", reply.locator(".aa-answer").inner_text()), key=len)
    bob = new_page()
    sign_in(bob, site, "bob-3")
    chat_ready(bob)
    sidebar = bob.get_by_test_id("stSidebar")
    assert sidebar.get_by_text(site["question"], exact=True).count() == 0  # sidebar
    bob.goto(f"{site['url']}/?c={cid}")  # URL
    expect(bob.get_by_text("No conversation of yours has this link.")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    assert bob.locator(".aa-answer").count() == 0
    bob.get_by_label("Search your conversations").fill(words)  # search
    bob.get_by_label("Search your conversations").press("Enter")
    expect(sidebar.get_by_text("No saved question or answer has these words.")).to_be_visible()
    # Share: Bob gets no Share of Alice's answer to click, and the database refuses it.
    ws = Workspace.open(url=f"sqlite:///{site['data'] / 'assistant.db'}")
    from assistant.workspace import shares

    mid = cv.get_conversation(ws, "alice@example.org", cid)[1][0].message_id
    with pytest.raises(KeyError):
        shares.create_share(ws, "bob@example.org", mid)
    ws.close()
    shot(bob, "workspace-other-user.png")
