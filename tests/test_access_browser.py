"""Collections end to end: headless Chromium, `streamlit run app.py` signed in through a real
OpenID Connect provider (oidc-provider-mock), access rules in ASSISTANT_ACCESS and a scripted
OpenAI-compatible LLM endpoint. Bob reads sports/, Alice politics/ (which holds the best answer),
the chief is an administrator. Bob's question, article filter and Markdown export show nothing of
politics/, and the LLM endpoint receives no politics passage; the review page is refused to him
by URL and not listed; the chief sees all, reviews Bob's thumbs-down and exports it as an
evaluation question that `assistant eval questions` then scores."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest

from assistant.index.builder import build
from devtools.access_corpus import QUESTION, RULES, SECRET, make_access_corpus
from devtools.postgres import saved_feedback
from devtools.signin import http_json, oidc_provider
from devtools.streamlit_server import (
    CHROMIUM,
    PLACEHOLDER,
    StreamlitServer,
    ask_in_page,
    chromium,
    free_port,
)

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT_MS = 180_000
USERS = {
    "bob-1": {"email": "bob@example.org", "email_verified": True, "name": "Bob"},
    "chief-2": {"email": "chief@example.org", "email_verified": True, "name": "Chief"},
    "dan-3": {"email": "dan@example.org", "email_verified": True, "name": "Dan",
              "groups": ["politics-desk"]},
}

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing; browser tests skipped", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def provider():
    with oidc_provider(USERS) as url:
        yield url


@pytest.fixture(scope="module")
def llm():
    from devtools.llm_servers import Reply, ScriptedServer

    with ScriptedServer(lambda body: Reply("The budget figure is given in the passage [1].")
                        ) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder, provider, llm):
    from assistant.config import Settings

    root = tmp_path_factory.mktemp("access-browser")
    settings = Settings().replace(corpus_dir=make_access_corpus(root / "corpus"),
                                  index_dir=root / "index", data_dir=root / "data")
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    rules = root / "access.toml"
    rules.write_text(RULES, encoding="utf-8")
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
    server = StreamlitServer(settings.corpus_dir, settings.index_dir, settings.data_dir,
                             root / "streamlit.log", port=port,
                             env={"ASSISTANT_ALLOWED_USERS": "@example.org",
                                  "ASSISTANT_ACCESS": str(rules),
                                  "ASSISTANT_LLM_URL": llm.base_url,
                                  "ASSISTANT_LLM_MODEL": llm.model},
                             args=["--secrets.files", str(secrets_file)])
    try:
        server.wait_healthy(timeout=180)
        yield {"url": server.url, "provider": provider, "data": settings.data_dir,
               "index": settings.index_dir, "rules": rules, "log": server.log_path}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    yield from chromium()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def sign_in(page, site, sub: str) -> None:
    page.goto(site["url"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(site["provider"]) + r"/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(site["url"]) + r"/?$"))
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as",
                                                              timeout=ANSWER_TIMEOUT_MS)



def ask(page, question: str):
    return ask_in_page(page, question, ANSWER_TIMEOUT_MS)


def sent_to_llm(llm) -> str:
    return json.dumps(llm.requests, ensure_ascii=False)


def test_bob_gets_nothing_of_politics(page, site, llm):
    sign_in(page, site, "bob-1")
    before = len(llm.requests)
    reply = ask(page, QUESTION)
    body = page.locator("body").inner_text()
    assert SECRET not in body and "42 billion" not in body and "politics/" not in body
    expect(reply).to_contain_text("sports/stadium.txt")
    sent = json.dumps(llm.requests[before:], ensure_ascii=False)
    assert llm.requests[before:] and "stadium" in sent and SECRET not in sent
    # The article filter lists only his collection.
    sidebar = page.get_by_test_id("stSidebar")
    find = sidebar.get_by_placeholder("Words of a title or file name")
    find.fill("budget")
    find.press("Enter")
    page.wait_for_timeout(1500)
    assert "Embargoed harbour budget" not in page.locator("body").inner_text()
    find.fill("")
    find.press("Enter")
    page.wait_for_timeout(1000)
    sidebar.get_by_test_id("stMultiSelect").click()
    listbox = page.get_by_role("listbox")
    listbox.wait_for()
    listed = listbox.get_by_role("option").all_inner_texts()
    assert any("Stadium finances" in o for o in listed)
    assert not any("Embargoed" in o or "politics" in o for o in listed)
    page.keyboard.press("Escape")
    # The Markdown export.
    with page.expect_download() as info:
        sidebar.get_by_role("button", name="Download as Markdown").click()
    text = Path(info.value.path()).read_text()
    assert "stadium" in text.lower() and SECRET not in text and "politics" not in text
    # A thumbs-down with what was wrong, for the chief's review below.
    thumbs_down(reply)


WRONG = "the figure is in the politics memo"


def thumbs_down(reply) -> None:
    reply.get_by_role("radio", name="Thumbs down").click()
    expect(reply).to_contain_text("feedback was saved")
    reply.get_by_text("What was wrong? (optional)").click()
    reply.get_by_label("Tell us more (optional)").fill(WRONG)
    reply.get_by_role("button", name="Send").click()
    expect(reply).to_contain_text("Noted what was wrong")


@pytest.fixture
def bobs_feedback(browser, site):
    """Bob's thumbs-down on QUESTION, left in the browser by his test or, when the chief's test
    runs first (random order), here."""
    if any(WRONG in json.dumps(r) for r in saved_feedback(site["data"])):
        return
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_in(page, site, "bob-1")
        thumbs_down(ask(page, QUESTION))
    finally:
        context.close()


def test_review_page_refused_to_bob_by_url_and_not_listed(page, site):
    sign_in(page, site, "bob-1")
    assert page.get_by_test_id("stSidebarNav").get_by_text("Feedback review").count() == 0
    page.goto(site["url"] + "/feedback-review")
    expect(page.get_by_test_id("stAlert")).to_contain_text("for administrators",
                                                           timeout=ANSWER_TIMEOUT_MS)
    body = page.locator("body").inner_text()
    assert WRONG not in body and "Export" not in body


def test_group_claim_opens_politics(page, site):
    sign_in(page, site, "dan-3")
    reply = ask(page, QUESTION)
    expect(reply).to_contain_text("politics/budget-")


def test_chief_sees_all_and_exports_feedback_as_questions(bobs_feedback, page, site, llm,
                                                          tmp_path):
    sign_in(page, site, "chief-2")
    before = len(llm.requests)
    reply = ask(page, QUESTION)
    expect(reply).to_contain_text("politics/budget-")
    assert SECRET in json.dumps(llm.requests[before:], ensure_ascii=False)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Feedback review").click()
    expect(page.get_by_role("heading", name="Feedback review")).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text(WRONG)
    expect(main).to_contain_text(re.compile(r"bob\W?@example\.org"))  # (@ kept unlinked)
    expect(main).to_contain_text(QUESTION)
    main.get_by_role("checkbox", name="Select").first.check(force=True)
    button = page.get_by_role("button", name="Export 1 selected as evaluation questions")
    expect(button).to_be_enabled()
    with page.expect_download() as info:
        button.click()
    exported = tmp_path / "questions.jsonl"
    exported.write_text(Path(info.value.path()).read_text())
    lines = [json.loads(x) for x in exported.read_text().splitlines()]
    assert lines == [{"question": QUESTION, "answerable": True}]
    from assistant.cli import main

    assert main(["eval", "questions", str(exported), "--index", str(site["index"]),
                 "--no-llm", "--json"]) == 0


def test_share_link_of_a_politics_answer_is_withheld_from_bob(browser, page, site):
    sign_in(page, site, "chief-2")
    reply = ask(page, QUESTION)
    expect(reply).to_contain_text("politics/budget-")
    reply.get_by_role("button", name="Share").click()
    code = reply.get_by_test_id("stCode")
    expect(code).to_contain_text("?share=")
    link = code.inner_text().strip()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        bob = context.new_page()
        bob.set_default_timeout(60_000)
        sign_in(bob, site, "bob-1")
        bob.goto(link)
        expect(bob.get_by_role("heading", name="Shared answer")).to_be_visible(
            timeout=ANSWER_TIMEOUT_MS)
        expect(bob.get_by_test_id("stMain")).to_contain_text("Withheld")
        body = bob.locator("body").inner_text()
        assert SECRET not in body and "42 billion" not in body and "politics/" not in body
        assert bob.locator(".aa-answer").count() == 0
    finally:
        context.close()
