"""API tokens in the app's sidebar (streamlit.testing): a signed-in user makes a token, sees it
once, and revokes it; an admin sees and revokes everyone's; without sign-in there is no section.
Also: `assistant serve` without the api extra says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.api.access import ApiError, Gate
from assistant.api.settings import ApiSettings
from assistant.api.token_db import DbTokenStore
from assistant.api.tokens import looks_like_token
from assistant.ui import auth
from devtools.ui_samples import REPO

APP = str(REPO / "app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 40,
        "client_id": "app", "client_secret": "shh",
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.fixture
def site(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(seed_index.corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_index.index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    for name in (auth.ALLOWED_ENV, auth.REQUIRE_ENV, "ASSISTANT_ADMINS"):
        monkeypatch.delenv(name, raising=False)
    return DbTokenStore.in_data_dir(tmp_path / "data")


def signed_in(email: str, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets = {"auth": AUTH, **(secrets or {})}
    at.user = {"is_logged_in": True, "email": email, "email_verified": True, "sub": email}
    at.run()
    assert not at.exception, at.exception
    return at


def tokens_section(at: AppTest):
    return next(e for e in at.sidebar.expander if e.label == "API tokens")


def test_a_signed_in_user_makes_sees_once_and_revokes_a_token(site):
    at = signed_in("bob@example.org")
    section = tokens_section(at)
    section.text_input(key="api_token_name").set_value("slack <b>bot</b>")
    section.button(key="api_token_create").click().run()
    assert not at.exception, at.exception
    shown = [c.value for c in at.sidebar.code]
    assert len(shown) == 1 and looks_like_token(shown[0])
    secret = shown[0]
    info = site.lookup(secret)
    assert info.user == "bob@example.org" and info.name == "slack <b>bot</b>" and info.active
    db = Path(site.holder.get().where)  # the app database: the token's hash only
    assert secret.encode() not in b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert Gate(site, ApiSettings()).check(f"Bearer {secret}", "10.0.0.1").user == \
        "bob@example.org"
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "slack \\<b\\>bot\\</b\\>" in captions  # the name is shown as text
    at.run()  # any rerun: the token is not shown again
    assert not at.sidebar.code
    tokens_section(at).button(key=f"api_token_revoke_{info.id}").click().run()
    assert not site.lookup(secret).active
    with pytest.raises(ApiError, match="revoked"):
        Gate(site, ApiSettings()).check(f"Bearer {secret}", "10.0.0.1")


def test_an_admin_sees_and_revokes_everyones_tokens(site):
    _, carol = site.create("carol@example.org", "carol's script")
    at = signed_in("bob@example.org")
    assert f"api_token_revoke_{carol.id}" not in [b.key for b in at.sidebar.button]
    boss = signed_in("boss@example.org", {"assistant": {"admins": ["boss@example.org"]}})
    # Addresses are shown with an invisible word joiner before the "@" (no autolink).
    assert "carol@example.org" in " ".join(c.value for c in boss.sidebar.caption).replace(
        "\u2060", "")
    tokens_section(boss).button(key=f"api_token_revoke_{carol.id}").click().run()
    revoked = site.list("carol@example.org")[0]
    assert not revoked.active and revoked.revoked_by == "boss@example.org"


def test_no_token_section_without_sign_in(site):
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets = {"unrelated": "x"}
    at.run()
    assert not at.exception, at.exception
    assert not [e for e in at.sidebar.expander if e.label == "API tokens"]


def test_serve_without_the_api_extra_says_what_to_install(monkeypatch, capsys):
    import sys

    from assistant.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "pip install '.[api]'" in err and len(err.strip().splitlines()) == 1


def test_serve_without_an_index_is_one_line(tmp_path, capsys):
    pytest.importorskip("uvicorn")
    from assistant.cli import main

    assert main(["serve", "--port", "0", "--index", str(tmp_path / "none"),
                 "--secrets", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "assistant build" in err and len(err.splitlines()) == 1


def test_token_cli_for_scripts(tmp_path):
    import os
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant.cli", "token", *args,
                               "--data", str(tmp_path / "data")], capture_output=True,
                              text=True, timeout=120, cwd=tmp_path, check=False,
                              env={**os.environ, "PYTHONPATH": str(REPO)})

    made = run("create", "--user", "Dana@Example.org", "--name", "nightly report",
               "--secrets", str(tmp_path / "none.toml"))
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()  # the token alone on stdout, for `TOKEN=$(assistant token ...)`
    assert looks_like_token(secret) and "shown once" in made.stderr
    info = DbTokenStore.in_data_dir(tmp_path / "data").lookup(secret)
    listed = run("list")
    assert info.id in listed.stdout and "dana@example.org" in listed.stdout
    assert secret not in listed.stdout and "active" in listed.stdout
    assert run("revoke", info.id).returncode == 0
    assert "revoked" in run("list").stdout
    missing = run("revoke", "nope")
    assert missing.returncode == 2 and "No token with id 'nope'" in missing.stderr


def test_the_access_rules_admin_sees_everyones_tokens_and_the_named_admin_reviews(
        site, tmp_path, monkeypatch):
    """One list of administrators: named only in access.toml, the chief sees Carol's token;
    named only in secrets.toml, Bob gets the review page (tests/test_admins.py: the rules)."""
    rules = tmp_path / "access.toml"
    rules.write_text('default = "allow"\nadmins = ["chief@example.org"]\n', encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_ACCESS", str(rules))
    _, carol = site.create("carol@example.org", "carol's script")
    chief = signed_in("chief@example.org")
    assert chief.session_state["is_admin"]
    assert f"api_token_revoke_{carol.id}" in [b.key for b in tokens_section(chief).button]
    bob = signed_in("bob@example.org", {"assistant": {"admins": ["bob@example.org"]}})
    assert bob.session_state["is_admin"] and bob.session_state["may_update"]
    assert f"api_token_revoke_{carol.id}" in [b.key for b in tokens_section(bob).button]
    staff = signed_in("staff@example.org")
    assert not staff.session_state["is_admin"]
    assert f"api_token_revoke_{carol.id}" not in [b.key for b in staff.sidebar.button]
