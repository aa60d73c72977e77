"""Sign-in helpers of the browser tests: a real OpenID Connect provider (oidc-provider-mock) on a
loopback port of this process, its admin calls, and what a signed-out page must not show."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from devtools.streamlit_server import PLACEHOLDER
from devtools.ui_samples import REPO

ARTIFACTS = REPO / "artifacts"  # screenshots (git-ignored)
SEED_TITLE = "Mexico and US Strengthen Cooperation"


def http_json(method: str, url: str, body: dict) -> dict | None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
    return json.loads(text) if text else None


@contextmanager
def oidc_provider(users: Mapping[str, dict]) -> Iterator[str]:
    """The identity provider (clients must register, nonces required) on port 0 of 127.0.0.1, in
    a thread; `users` (sub -> ID token claims) are created. Yields its URL."""
    import oidc_provider_mock
    import werkzeug.serving

    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        for sub, claims in users.items():
            http_json("PUT", f"{url}/users/{sub}", claims)
        yield url
    finally:
        server.shutdown()
        thread.join(10)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def assert_no_article_content(page) -> None:
    page.wait_for_timeout(500)  # let a late element (it must not come) render
    body = page.locator("body").inner_text()
    for word in (SEED_TITLE, "articles ·", "chunks", "article file", "Only these articles"):
        assert word not in body, word
    assert page.get_by_placeholder(PLACEHOLDER).count() == 0
    assert page.get_by_test_id("stChatInput").count() == 0
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.count() == 0 or sidebar.inner_text().strip() == ""
