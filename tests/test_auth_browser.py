"""Sign-in end to end: headless Chromium, `streamlit run app.py` with an [auth] section, and a real
OpenID Connect provider on localhost (oidc-provider-mock: discovery, authorization code flow with
nonce, signed ID tokens, end-session endpoint; clients must register, so the app's client id,
secret and redirect URI are checked).

The secrets file lives in a temporary folder and reaches Streamlit through `--secrets.files`;
nothing is written to the repository's .streamlit/.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from assistant.service import Assistant
from devtools.ports import free_port
from devtools.signin import assert_no_article_content, http_json, oidc_provider, shot
from devtools.streamlit_server import (
    CHROMIUM,
    PLACEHOLDER,
    StreamlitServer,
    ask_in_page,
    chromium,
)
from devtools.ui_samples import SEED_QUESTIONS, first_answering

pytestmark = pytest.mark.browser

ANSWER_TIMEOUT_MS = 180_000  # the first question may wait for the model on a busy machine
ALLOWED = "@example.org, alice@partner.com"
USERS = {  # sub -> claims the provider puts in the ID token
    "alice-1": {"email": "alice@example.org", "email_verified": True, "name": "Alice"},
    "eve-2": {"email": "eve@other.org", "email_verified": True, "name": "Eve"},
}

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `make chromium` "
                "(apt-get install chromium); browser tests skipped", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402


@pytest.fixture(scope="module")
def provider():
    """The identity provider, on a free loopback port in a thread of this process."""
    with oidc_provider(USERS) as url:
        yield url


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder, provider, seed_index):
    root = tmp_path_factory.mktemp("auth-browser")
    corpus = seed_index.corpus
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
    server = StreamlitServer(corpus, settings.index_dir, settings.data_dir,
                             root / "streamlit.log", port=port,
                             env={"ASSISTANT_ALLOWED_USERS": ALLOWED},
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
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def open_sign_in_page(page, site):
    page.goto(site["url"])
    button = page.get_by_role("button", name="Sign in")
    button.wait_for()
    return button


def sign_in(page, site, sub: str) -> None:
    open_sign_in_page(page, site).click()
    page.wait_for_url(re.compile(re.escape(site["provider"]) + r"/oauth2/authorize\?"))
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(site["url"]) + r"/?$"))







def ask(page, question: str):
    return ask_in_page(page, question, ANSWER_TIMEOUT_MS)


def test_signed_out_visitor_sees_only_sign_in_which_leads_to_the_provider(page, site):
    button = open_sign_in_page(page, site)
    expect(page.get_by_role("heading", name="Article Assistant")).to_be_visible()
    assert_no_article_content(page)
    shot(page, "sign-in.png")
    button.click()
    page.wait_for_url(re.compile(re.escape(site["provider"]) + r"/oauth2/authorize\?"))
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    assert "redirect_uri=" + re.escape(site["url"]).replace("\\", "") in page.url.replace(
        "%3A", ":").replace("%2F", "/")


def test_allowed_user_signs_in_asks_and_is_named_in_feedback(page, site):
    sign_in(page, site, "alice-1")
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=ANSWER_TIMEOUT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    # The account lines come last in the sidebar, after the index status (model loading).
    # Addresses are shown with an invisible word joiner before the "@" (never an autolink).
    expect(sidebar).to_contain_text("Signed in as alice\u2060@example.org",
                                    timeout=ANSWER_TIMEOUT_MS)
    expect(sidebar.get_by_role("button", name="Sign out")).to_be_visible()
    reply = ask(page, site["question"])
    expect(reply.locator(".aa-answer")).to_be_visible()
    expect(reply.locator("a.aa-cite").first).to_have_text("[1]")
    reply.get_by_role("radio", name="Thumbs up").click()
    expect(reply).to_contain_text("feedback was saved")
    shot(page, "signed-in.png")
    from devtools.postgres import saved_feedback

    lines = saved_feedback(site["data"])
    mine = [x for x in lines if x["question"] == site["question"] and x["rating"] == "up"]
    assert mine and mine[-1]["user"] == "alice@example.org"


def test_user_outside_the_allow_list_is_refused(page, site):
    sign_in(page, site, "eve-2")
    alert = page.get_by_test_id("stAlert")
    expect(alert).to_contain_text("eve\u2060@other.org")  # the joiner: never an autolink
    expect(alert).to_contain_text("may not use the Article Assistant")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_article_content(page)
    assert "refused eve@other.org: not on the allow-list" in site["log"].read_text()
    shot(page, "refused.png")


def test_sign_out_returns_to_the_sign_in_page(page, site):
    sign_in(page, site, "alice-1")
    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    # The provider's end-session page (RP-initiated logout), then back to the app.
    page.wait_for_url(re.compile(re.escape(site["provider"]) + r"/oauth2/end_session"))
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert_no_article_content(page)
    page.reload()  # the identity cookie is gone, not just this session's state
    page.get_by_role("button", name="Sign in").wait_for()
    assert_no_article_content(page)


def test_require_auth_without_auth_serves_nothing_but_one_line(tmp_path, browser):
    """Started directly (not through `make run`, whose check refuses before the server starts:
    see test_auth.py), the app still does not run open: one line on the page and the console."""
    server = StreamlitServer(tmp_path / "corpus", tmp_path / "index", tmp_path / "data",
                             tmp_path / "streamlit.log", env={"ASSISTANT_REQUIRE_AUTH": "1"},
                             args=["--secrets.files", str(tmp_path / "no-secrets.toml")])
    try:
        server.wait_healthy(timeout=180)
        context = browser.new_context()
        page = context.new_page()
        page.goto(server.url)
        alert = page.get_by_test_id("stAlert")
        expect(alert).to_contain_text("ASSISTANT_REQUIRE_AUTH=1 but sign-in is not configured",
                                      timeout=60_000)
        assert alert.inner_text().strip().count("\n") == 0
        assert_no_article_content(page)
        context.close()
        log = server.log_path.read_text()
        refusals = [x for x in log.splitlines() if x.startswith("Refusing to serve:")]
        assert len(refusals) == 1 and "ASSISTANT_REQUIRE_AUTH=1" in refusals[0]
    finally:
        server.stop()
