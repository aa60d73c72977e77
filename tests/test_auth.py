"""Sign-in without a browser: the allow-list, the reading of [auth], the start-up decisions
(assistant/ui/auth.py), `make run`'s check, and the app's gate through streamlit.testing.

The end-to-end flows against a real OpenID Connect provider are in tests/test_auth_browser.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from assistant.errors import SettingError
from assistant.ui import auth
from assistant.ui.auth import AllowList, AuthConfig, parse_allow_list
from devtools.page import page_text as _page_text
from devtools.ui_samples import REPO

APP = str(REPO / "app.py")
SECRET = "s" * 40
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": SECRET,
        "client_id": "app", "client_secret": "shh",
        "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}
SEED_TITLE = "Mexico and US Strengthen Cooperation"


@pytest.fixture(autouse=True)
def no_auth_env(monkeypatch):
    for name in (auth.ALLOWED_ENV, auth.REQUIRE_ENV):
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------------ allow-list

def test_allow_list_parses_addresses_and_domains_with_any_separator():
    allow = parse_allow_list("@Example.org, alice@partner.com;bob@x.io\n @b.net", "X")
    assert allow.domains == {"example.org", "b.net"}
    assert allow.addresses == {"alice@partner.com", "bob@x.io"}
    assert parse_allow_list(["@a.org", "c@d.org, e@f.org"], "X") == AllowList(
        frozenset({"c@d.org", "e@f.org"}), frozenset({"a.org"}))
    assert not parse_allow_list("", "X") and not parse_allow_list(None, "X")
    assert not parse_allow_list(" , ", "X")


@pytest.mark.parametrize("bad", ["bob", "@", "a@b@c", "alice@", "@a@b", "*"])
def test_allow_list_bad_entry_is_one_line_naming_the_source(bad):
    with pytest.raises(SettingError) as err:
        parse_allow_list(f"@ok.org, {bad}", "ASSISTANT_ALLOWED_USERS")
    msg = str(err.value)
    assert msg.startswith("ASSISTANT_ALLOWED_USERS: ") and repr(bad.lower()) in msg
    assert "\n" not in msg
    with pytest.raises(SettingError):
        parse_allow_list([3], "X")


def test_allow_list_matching():
    allow = parse_allow_list("@example.org, alice@partner.com", "X")
    assert allow.permits("bob@example.org") and allow.permits("  BOB@Example.ORG ")
    assert allow.permits("alice@partner.com")
    assert not allow.permits("carol@partner.com")
    assert not allow.permits("bob@sub.example.org")  # a domain is that domain only
    assert not allow.permits("bob@example.org.evil.com")
    assert not allow.permits("example.org") and not allow.permits(None) and not allow.permits("")
    assert AllowList().permits("anyone@anywhere.com") and AllowList().permits(None)
    assert allow.describe() == "@example.org, alice@partner.com"


def test_identity_uses_only_a_verified_address():
    who = auth.identity({"email": "Alice@Example.org", "email_verified": True, "sub": "42",
                         "name": "Alice"})
    assert (who.email, who.sub, who.name, who.label) == ("alice@example.org", "42", "Alice",
                                                         "alice@example.org")
    # Only the JSON value true vouches for the address: a missing claim, 0, "no", "true" do not.
    for claims in ({}, {"email_verified": 0}, {"email_verified": "no"},
                   {"email_verified": "true"}, {"email_verified": 1}):
        assert auth.identity({"email": "a@b.org", "sub": "1", **claims}).email is None, claims
    # A provider that never sends the claim (Entra ID) is believed only when the administrator
    # says so for that provider (trust_unverified_email = true): matched by the token's issuer.
    entra = {"email": "a@b.org", "sub": "1", "iss": "https://login.example.com/tenant/v2.0"}
    assert auth.identity(entra).email is None
    assert auth.identity(entra, ("https://login.example.com/tenant/v2.0",)).email == "a@b.org"
    assert auth.identity({**entra, "email_verified": False},
                         ("https://login.example.com/tenant/v2.0",)).email is None
    assert auth.identity({**entra, "iss": "https://elsewhere.example.com"},
                         ("https://login.example.com/tenant/v2.0",)).email is None
    for flag in (False, "false"):
        unverified = auth.identity({"email": "ceo@example.org", "email_verified": flag,
                                    "sub": "u-7"})
        assert unverified.email is None and unverified.label == "sub:u-7"
    assert auth.identity({}).label == "unknown user"


# ------------------------------------------------------------------------------ [auth]

def test_no_auth_section_is_not_configured():
    config = auth.read_config({}, {})
    assert config == AuthConfig() and not config.ready


def test_complete_default_provider():
    config = auth.read_config({"auth": AUTH}, {})
    assert config.ready and config.providers == ("",) and config.problem is None


def test_named_providers():
    secrets = {"auth": {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET,
                        "microsoft": {k: AUTH[k] for k in auth.PROVIDER_KEYS},
                        "okta": {k: AUTH[k] for k in auth.PROVIDER_KEYS}}}
    assert auth.read_config(secrets, {}).providers == ("microsoft", "okta")


@pytest.mark.parametrize("change, words", [
    ({"cookie_secret": None}, "lacks cookie_secret"),
    ({"redirect_uri": None, "cookie_secret": None}, "lacks redirect_uri, cookie_secret"),
    ({"redirect_uri": "http://localhost:8501/"}, "ending in /oauth2callback"),
    ({"redirect_uri": "localhost:8501/oauth2callback"}, "absolute address"),
    ({"cookie_secret": "short"}, "shorter than 32"),
    ({"client_secret": None}, "[auth] lacks client_secret"),
    ({"server_metadata_url": "idp.example.org/.well-known"}, "absolute http(s) URL"),
    ({"client_id": None, "client_secret": None, "server_metadata_url": None},
     "names no identity provider"),
])
def test_auth_that_cannot_work_is_a_problem(change, words):
    section = {k: v for k, v in {**AUTH, **change}.items() if v is not None}
    config = auth.read_config({"auth": section}, {})
    assert config.configured and not config.ready and words in config.problem
    ok, line = auth.startup_check(config, "localhost")
    assert not ok and line.startswith("Sign-in is configured but cannot work") and words in line


def test_named_provider_problems():
    base = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET}
    bad_name = {**base, "my_idp": {k: AUTH[k] for k in auth.PROVIDER_KEYS}}
    assert "'_'" in auth.read_config({"auth": bad_name}, {}).problem
    partial = {**base, "okta": {"client_id": "x"}}
    assert "[auth.okta] lacks client_secret, server_metadata_url" in \
        auth.read_config({"auth": partial}, {}).problem
    assert "must be a section" in auth.read_config({"auth": "yes"}, {}).problem


def test_allow_list_from_environment_and_secrets_together():
    secrets = {"auth": AUTH, "assistant": {"allowed_users": ["bob@partner.com", "@b.org"]}}
    config = auth.read_config(secrets, {auth.ALLOWED_ENV: "@example.org"})
    assert config.allow.domains == {"example.org", "b.org"}
    assert config.allow.addresses == {"bob@partner.com"}
    with pytest.raises(SettingError, match=r"\[assistant\] allowed_users in secrets.toml"):
        auth.read_config({"assistant": {"allowed_users": "bob"}}, {})


def test_require_flag_values():
    for value in ("1", "true", "YES", "on"):
        assert auth.read_config({}, {auth.REQUIRE_ENV: value}).require
    for value in ("", "0", "false", "no", "off"):
        assert not auth.read_config({}, {auth.REQUIRE_ENV: value}).require
    with pytest.raises(SettingError, match="ASSISTANT_REQUIRE_AUTH='maybe'"):
        auth.read_config({}, {auth.REQUIRE_ENV: "maybe"})


# ------------------------------------------------------------------------------ decisions

@pytest.mark.parametrize("host, loopback", [
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.3.2.1", True),
    ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False), ("", False),
    (None, False), ("192.168.1.5", False), ("example.org", False), ("10.0.0.1", False)])
def test_is_loopback(host, loopback):
    assert auth.is_loopback(host) is loopback


def test_startup_check_without_auth():
    open_ = auth.read_config({}, {})
    assert auth.startup_check(open_, "localhost") == (True, None)
    ok, line = auth.startup_check(open_, "0.0.0.0")
    assert ok and line.startswith("Warning: sign-in is not configured and the app listens on "
                                  "0.0.0.0") and "[auth]" in line and "README" in line
    assert "every network interface" in auth.startup_check(open_, None)[1]
    ok, line = auth.startup_check(auth.read_config({}, {auth.REQUIRE_ENV: "1"}), "localhost")
    assert not ok and line.startswith("ASSISTANT_REQUIRE_AUTH=1 but sign-in is not configured")
    ok, line = auth.startup_check(auth.read_config({}, {auth.ALLOWED_ENV: "@a.org"}), "localhost")
    assert not ok and "allow-list is set" in line
    for _, text in (auth.startup_check(open_, "0.0.0.0"),):
        assert "\n" not in text


def test_startup_check_with_auth():
    ok, line = auth.startup_check(auth.read_config({"auth": AUTH}, {}), "0.0.0.0")
    assert ok and "without an allow-list" in line
    config = auth.read_config({"auth": AUTH}, {auth.ALLOWED_ENV: "@a.org", auth.REQUIRE_ENV: "1"})
    assert auth.startup_check(config, "0.0.0.0") == (True, "Sign-in is on; allowed: @a.org.")


def test_decide():
    configured = auth.read_config({"auth": AUTH}, {auth.ALLOWED_ENV: "@example.org"})
    assert auth.decide(auth.read_config({}, {}), {"email": "x@y.z"}, "localhost").kind == "open"
    assert auth.decide(auth.read_config({}, {auth.REQUIRE_ENV: "1"}), None).kind == "closed"
    assert auth.decide(configured, None).kind == "sign_in"
    assert auth.decide(configured, {"is_logged_in": False}).kind == "sign_in"
    # claims without is_logged_in=True (what st.user holds outside a sign-in) are not a user
    assert auth.decide(configured, {"email": "bob@example.org"}).kind == "sign_in"
    allowed = auth.decide(configured, {"is_logged_in": True, "email": "bob@example.org", "email_verified": True})
    assert allowed.kind == "allowed" and allowed.user.label == "bob@example.org"
    refused = auth.decide(configured, {"is_logged_in": True, "email": "eve@other.org", "email_verified": True})
    assert refused.kind == "refused" and "eve@other.org" in refused.message
    unverified = auth.decide(configured, {"is_logged_in": True, "email": "bob@example.org",
                                          "email_verified": False, "sub": "9"})
    assert unverified.kind == "refused" and "without a verified e-mail" in unverified.message
    # Per provider, the administrator may trust addresses sent without email_verified.
    missing = {"is_logged_in": True, "email": "bob@example.org", "iss": "https://idp.example.org"}
    assert auth.decide(configured, missing).kind == "refused"
    trusting = auth.read_config({"auth": {**AUTH, "trust_unverified_email": True}},
                                {auth.ALLOWED_ENV: "@example.org"})
    assert trusting.trusted_issuers == ("https://idp.example.org",)
    assert auth.decide(trusting, missing).kind == "allowed"
    anyone = auth.read_config({"auth": AUTH}, {})
    assert auth.decide(anyone, {"is_logged_in": True, "sub": "9"}).kind == "allowed"


def test_the_words_people_read_are_exact():
    """The refusal, the warning and the set-up problems, word for word (they are what an
    administrator or a refused user acts on)."""
    configured = auth.read_config({"auth": AUTH}, {auth.ALLOWED_ENV: "@example.org"})
    refused = auth.decide(configured, {"is_logged_in": True, "email": "eve@other.org",
                                       "email_verified": True})
    assert refused.message == (
        "You are signed in as eve@other.org, which may not use the Article Assistant. Ask its "
        "administrator to add you, or sign out and sign in with another account.")
    nobody = auth.decide(configured, {"is_logged_in": True, "sub": "9"})
    assert nobody.kind == "refused" and nobody.message.startswith(
        "You are signed in as an account without a verified e-mail address, which may not use")
    open_ = auth.read_config({}, {})
    assert auth.startup_check(open_, None)[1] == (
        "Warning: sign-in is not configured and the app listens on every network interface: "
        "anyone who can reach it can read every article and the feedback. Configure sign-in in "
        ".streamlit/secrets.toml ([auth]; see the README, section Sign-in), or bind to "
        "localhost.")


@pytest.mark.parametrize("change, problem", [
    # http:// is allowed (a provider on the same machine), and a query after the callback path.
    ({"server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration"}, None),
    ({"redirect_uri": "http://localhost:8501/oauth2callback?next=1"}, None),
    ({"server_metadata_url": "ftp://idp.example.org/x"},
     "server_metadata_url of [auth] must be an absolute http(s) URL"),
    ({"redirect_uri": "http://localhost:8501/callback?x=/oauth2callback"},
     "redirect_uri must be the app's absolute address ending in /oauth2callback, e.g. "
     "http://localhost:8501/oauth2callback"),
    ({"client_id": ""}, "[auth] lacks client_id"),
])
def test_auth_section_problems(change, problem):
    assert auth.read_config({"auth": {**AUTH, **change}}, {}).problem == problem


def test_require_is_kept_whatever_the_auth_section_holds():
    env = {auth.REQUIRE_ENV: "yes"}
    for secrets in ({}, {"auth": "yes"}, {"auth": AUTH}, {"auth": {**AUTH, "client_id": ""}}):
        assert auth.read_config(secrets, env).require is True
        assert auth.read_config(secrets, {}).require is False
    broken = auth.read_config({"auth": "yes"}, env)
    assert auth.startup_check(broken, "localhost") == (False, (
        "Sign-in is configured but cannot work: auth in secrets.toml must be a section ([auth]) "
        "(.streamlit/secrets.toml; see the README, section Sign-in)."))


def test_client_kwargs_is_not_a_provider():
    """[auth.client_kwargs] passes options to the provider; it is never a provider itself, even
    when it holds provider-like keys."""
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    kwargs = {"client_id": "x", "client_secret": "y", "server_metadata_url": "https://a.org/m"}
    config = auth.read_config({"auth": {**shared, "client_kwargs": kwargs}}, {})
    assert config.problem == ("[auth] names no identity provider: add client_id, client_secret "
                              "and server_metadata_url")
    config = auth.read_config({"auth": {**AUTH, "client_kwargs": {"prompt": "login"},
                                        "work": kwargs}}, {})
    assert config.problem is None and config.providers == ("", "work")


# ------------------------------------------------------------------------------ make run's check

def run_check(tmp_path, *args, env=None):
    full = {k: v for k, v in os.environ.items() if k not in (auth.ALLOWED_ENV, auth.REQUIRE_ENV)}
    full.update(env or {}, HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "assistant.cli", "check-auth", *args], cwd=tmp_path,
                          env=full, capture_output=True, text=True, timeout=60)


def test_check_reads_streamlits_secrets_locations(tmp_path):
    (tmp_path / ".streamlit").mkdir()
    files = auth.default_secrets_files(tmp_path)
    assert files[-1] == tmp_path / ".streamlit" / "secrets.toml"
    files[-1].write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    secrets = auth.load_secrets([tmp_path / "missing.toml", files[-1]])
    assert secrets == {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback"}}
    bad = tmp_path / "bad.toml"
    bad.write_text("[auth\n")
    with pytest.raises(SettingError, match="not valid TOML"):
        auth.load_secrets([bad])


@pytest.mark.heavy
def test_check_refuses_require_auth_without_auth_in_one_line(tmp_path):
    done = run_check(tmp_path, "--host", "localhost", env={auth.REQUIRE_ENV: "1"})
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Refusing to start: ASSISTANT_REQUIRE_AUTH=1 but sign-in is not configured")


@pytest.mark.heavy
def test_check_warns_on_network_address_and_passes_localhost(tmp_path):
    done = run_check(tmp_path, "--host", "0.0.0.0")
    assert done.returncode == 0 and done.stderr.startswith("Warning: sign-in is not configured")
    assert len(done.stderr.strip().splitlines()) == 1
    quiet = run_check(tmp_path, "--host", "localhost")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


@pytest.mark.heavy
def test_check_accepts_working_auth_and_refuses_broken(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in AUTH.items()))
    done = run_check(tmp_path, "--host", "0.0.0.0", "--secrets", str(good),
                     env={auth.REQUIRE_ENV: "1", auth.ALLOWED_ENV: "@example.org"})
    assert done.returncode == 0 and done.stderr.strip() == "Sign-in is on; allowed: @example.org."
    # Found in the working directory's .streamlit/, as `streamlit run` would.
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(good.read_text().replace(SECRET, "x"))
    done = run_check(tmp_path, "--host", "localhost")
    assert done.returncode == 2 and "cookie_secret is shorter" in done.stderr
    done = run_check(tmp_path, env={auth.ALLOWED_ENV: "bob"})
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "'bob'" in done.stderr


def test_check_in_process_codes_and_lines(tmp_path, monkeypatch, capsys):
    """`check` itself (the subprocess tests above cover the CLI): its exit codes, and that its
    one line goes to stderr, never stdout."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert auth.check() == 0  # no secrets anywhere, localhost by default: quiet
    assert capsys.readouterr() == ("", "")
    assert auth.check("0.0.0.0") == 0
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("Warning: sign-in is not configured and the app listens "
                                        "on 0.0.0.0") and err.count("\n") == 1
    monkeypatch.setenv(auth.REQUIRE_ENV, "1")
    assert auth.check("localhost") == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("Refusing to start: ASSISTANT_REQUIRE_AUTH=1 but sign-in "
                                        "is not configured") and err.count("\n") == 1
    good = tmp_path / "good.toml"
    good.write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in AUTH.items()))
    monkeypatch.setenv(auth.ALLOWED_ENV, "@example.org")
    assert auth.check("0.0.0.0", secrets=[good]) == 0
    assert capsys.readouterr() == ("", "Sign-in is on; allowed: @example.org.\n")
    # The default files are read when none are given: the working directory's .streamlit/.
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(good.read_text())
    assert auth.check("0.0.0.0") == 0
    assert capsys.readouterr().err == "Sign-in is on; allowed: @example.org.\n"
    bad = tmp_path / "bad.toml"
    bad.write_text("[auth\n")
    assert auth.check("localhost", secrets=[bad]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"Refusing to start: {bad} is not valid TOML")


def test_secrets_files_are_streamlits_and_read_as_utf8(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert auth.default_secrets_files(tmp_path / "cwd") == [
        tmp_path / "home" / ".streamlit" / "secrets.toml",
        tmp_path / "cwd" / ".streamlit" / "secrets.toml"]
    monkeypatch.chdir(tmp_path)
    assert auth.default_secrets_files()[-1] == tmp_path / ".streamlit" / "secrets.toml"
    # Non-ASCII values survive (read as UTF-8, as Streamlit reads them).
    f = tmp_path / "s.toml"
    f.write_bytes('[assistant]\nname = "Zoë ☃"\n'.encode())
    assert auth.load_secrets([f]) == {"assistant": {"name": "Zoë ☃"}}
    # Later files replace earlier top-level keys; a missing file is skipped.
    g = tmp_path / "g.toml"
    g.write_text('[assistant]\nname = "B"\n[auth]\nx = 1\n')
    assert auth.load_secrets([f, tmp_path / "none.toml", g]) == {"assistant": {"name": "B"},
                                                                 "auth": {"x": 1}}
    unreadable = tmp_path / "dir.toml"
    unreadable.mkdir()  # reading a directory is an OSError other than FileNotFoundError
    with pytest.raises(SettingError) as err:
        auth.load_secrets([unreadable])
    assert str(err.value).startswith(f"{unreadable} cannot be read (") and "None" not in str(
        err.value)


@pytest.mark.heavy
def test_make_run_checks_sign_in_before_anything_else(tmp_path):
    """`make run` refuses with one line of ours (plus make's own error line) before it builds
    or serves anything."""
    if (REPO / ".streamlit" / "secrets.toml").exists():
        pytest.skip("this checkout has its own .streamlit/secrets.toml")
    env = {k: v for k, v in os.environ.items() if k not in (auth.ALLOWED_ENV,)}
    env.update({auth.REQUIRE_ENV: "1", "HOME": str(tmp_path),
                "ASSISTANT_INDEX_DIR": str(tmp_path / "never-built")})
    done = subprocess.run(["make", "-s", "-o", ".venv/.installed", "run", "HOST=127.0.0.1",
                           "PORT=1"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0, done.stdout + done.stderr
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert len(ours) == 1 and ours[0].startswith(
        "Refusing to start: ASSISTANT_REQUIRE_AUTH=1 but sign-in is not configured"), done.stderr
    assert not (tmp_path / "never-built").exists()  # nothing was built
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed", "run",
                           "HOST=0.0.0.0"],
                          cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    assert plan.splitlines()[0].endswith("assistant check-auth --host 0.0.0.0")


# ------------------------------------------------------------------------------ the app's gate

def app_with(secrets: dict | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    # A non-empty dict replaces the secrets files (this checkout's or ~/.streamlit's) for the run.
    at.secrets = secrets if secrets is not None else {"unrelated": "x"}
    if user is not None:
        at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    return _page_text(at, ("body", "label", "placeholder"))


def assert_nothing_of_the_articles(at: AppTest) -> None:
    assert not at.chat_input and not at.sidebar.children
    text = page_text(at)
    for word in ("article file", "articles ·", "chunks", SEED_TITLE, "Build the index"):
        assert word not in text, word


@pytest.mark.heavy
def test_signed_out_visitor_sees_only_the_sign_in_page(tmp_path, monkeypatch):
    from devtools.ui_samples import make_corpus

    make_corpus(tmp_path / "articles")  # something to leak, if the gate leaked
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "articles"))
    at = app_with({"auth": AUTH}, {"is_logged_in": False})
    assert [t.value for t in at.title] == ["Article Assistant"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert_nothing_of_the_articles(at)


@pytest.mark.heavy
def test_one_sign_in_button_per_named_provider():
    section = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": SECRET,
               "google": {k: AUTH[k] for k in auth.PROVIDER_KEYS},
               "microsoft": {k: AUTH[k] for k in auth.PROVIDER_KEYS}}
    at = app_with({"auth": section}, {"is_logged_in": False})
    assert [b.label for b in at.button] == ["Sign in with Google", "Sign in with Microsoft"]


@pytest.mark.heavy
def test_user_outside_the_allow_list_is_refused(monkeypatch, caplog):
    monkeypatch.setenv(auth.ALLOWED_ENV, "@example.org, alice@partner.com")
    at = app_with({"auth": AUTH}, {"is_logged_in": True, "email": "eve@other.org", "email_verified": True})
    assert "refused eve@other.org: not on the allow-list" in caplog.text
    assert len(at.error) == 1 and "eve@other.org" in at.error[0].value.replace("\u2060", "")
    assert "may not use" in at.error[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert_nothing_of_the_articles(at)


@pytest.mark.heavy
def test_require_auth_without_auth_serves_one_line_only(monkeypatch):
    monkeypatch.setenv(auth.REQUIRE_ENV, "1")
    at = app_with()
    assert len(at.error) == 1 and "ASSISTANT\\_REQUIRE\\_AUTH=1" in at.error[0].value
    assert not at.button
    assert_nothing_of_the_articles(at)


@pytest.mark.heavy
def test_broken_auth_or_bad_allow_list_closes_the_app(monkeypatch):
    at = app_with({"auth": {**AUTH, "cookie_secret": "x"}}, {"is_logged_in": True,
                                                            "email": "bob@example.org"})
    assert len(at.error) == 1 and "cannot work" in at.error[0].value
    assert_nothing_of_the_articles(at)
    monkeypatch.setenv(auth.ALLOWED_ENV, "bob")
    at = app_with({"auth": AUTH}, {"is_logged_in": True, "email": "bob@example.org", "email_verified": True})
    assert len(at.error) == 1 and "neither an e-mail address" in at.error[0].value
    assert_nothing_of_the_articles(at)


@pytest.mark.heavy
def test_open_app_on_a_network_address_prints_the_warning(capfd, monkeypatch):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option",
                        lambda key: "192.0.2.7" if key == "server.address" else real(key))
    at = app_with()
    assert "Warning: sign-in is not configured and the app listens on 192.0.2.7" in \
        capfd.readouterr().err
    assert any(c.value.startswith("Sign-in is not configured") for c in at.sidebar.caption)


# ------------------------------------------------------------------------------ signed in, with an index

@pytest.fixture(scope="module")
def indexed(seed_index, embedder):
    from assistant.service import Assistant
    from devtools.ui_samples import SEED_QUESTIONS, first_answering

    seed = first_answering(Assistant.open(settings=seed_index.settings(), embedder=embedder),
                           SEED_QUESTIONS)
    assert seed is not None
    return seed_index.corpus, seed_index.index, seed[0]


@pytest.mark.heavy
@pytest.mark.parametrize("signed_in", [True, False], ids=["allowed", "no-auth"])
def test_feedback_line_names_the_signed_in_user(indexed, tmp_path, monkeypatch, signed_in):
    corpus, index, question = indexed
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    if signed_in:
        monkeypatch.setenv(auth.ALLOWED_ENV, "@example.org")
        at = app_with({"auth": AUTH}, {"is_logged_in": True, "email": "Bob@Example.org",
                                       "email_verified": True, "sub": "b-1"})
        sidebar = " ".join(c.value for c in at.sidebar.caption)
        assert "Signed in as bob@example.org" in sidebar.replace("\u2060", "")
        assert "Sign out" in [b.label for b in at.sidebar.button]
    else:
        at = app_with()
        assert any(c.value.startswith("Sign-in is not configured")
                   for c in at.sidebar.caption)
        assert "Sign out" not in [b.label for b in at.button]
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    at.feedback[0].set_value(1).run()
    from devtools.postgres import saved_feedback

    rec = saved_feedback(tmp_path / "data")[0]
    assert rec["question"] == question and rec["rating"] == "up"
    assert rec["user"] == ("bob@example.org" if signed_in else None)
