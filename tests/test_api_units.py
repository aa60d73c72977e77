"""The API's parts without a server: token records, rate limits, who gets in, the Markdown the
chat clients see."""

from __future__ import annotations

import json
import os
import stat
import threading
from types import SimpleNamespace

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.api.access import ApiError, Gate, bearer
from assistant.api.openai_face import md, pieces
from assistant.api.ratelimit import RateLimiter, retry_after
from assistant.api.settings import ApiSettings, read_admins
from assistant.api.token_db import DbTokenStore
from assistant.api.tokens import (
    PREFIX,
    FileTokenStore,
    TokenFileError,
    looks_like_token,
    revoke_as,
    token_hash,
    visible_tokens,
)
from assistant.errors import SettingError
from assistant.ui.auth import parse_allow_list


@pytest.fixture
def file_store(tmp_path):
    return FileTokenStore.in_data_dir(tmp_path / "data")


@pytest.fixture(params=["db", "file"])
def store(request, tmp_path):
    """The database store (the default everywhere) and the file store (kept for the one-time
    import) keep the same promises."""
    if request.param == "file":
        return FileTokenStore.in_data_dir(tmp_path / "data")
    return DbTokenStore.in_data_dir(tmp_path / "data")


# ------------------------------------------------------------------------------ tokens

def test_token_is_shown_once_and_only_its_hash_is_kept(file_store):
    secret, info = file_store.create("Alice@Example.org", "  my\tbot \x00 ")
    assert secret.startswith(PREFIX) and looks_like_token(secret) and len(secret) == 47
    raw = file_store.path.read_text()
    assert secret not in raw and secret[len(PREFIX):] not in raw
    assert token_hash(secret) in raw
    assert stat.S_IMODE(os.stat(file_store.path).st_mode) == 0o600
    assert info.user == "alice@example.org" and info.name == "my bot"
    assert file_store.lookup(secret) == info
    assert file_store.lookup(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert file_store.lookup("not a token") is None


def test_file_mode_is_restored_on_write(file_store):
    file_store.create("a@x.org", "one")
    os.chmod(file_store.path, 0o644)
    file_store.create("a@x.org", "two")
    assert stat.S_IMODE(os.stat(file_store.path).st_mode) == 0o600


def test_revoked_token_stays_on_record(store):
    secret, info = store.create("a@x.org", "bot")
    revoked = store.revoke(info.id, by="a@x.org")
    assert not revoked.active and revoked.revoked_by == "a@x.org"
    again = store.revoke(info.id, by="someone else")
    assert again.revoked_by == "a@x.org"  # the first revocation is the record
    assert store.lookup(secret).revoked == revoked.revoked
    with pytest.raises(KeyError):
        store.revoke("nope", by="x")


def test_another_store_on_the_same_file_sees_changes(file_store):
    """The server caches the file; a token made or revoked by the CLI or the app is seen."""
    server_view = FileTokenStore(file_store.path)
    assert server_view.list() == []
    secret, info = file_store.create("a@x.org", "bot")
    assert server_view.lookup(secret).active
    file_store.revoke(info.id, by="admin")
    assert not server_view.lookup(secret).active


def test_users_see_and_revoke_their_own_tokens_admins_all(store):
    _, a = store.create("a@x.org", "a's")
    _, b = store.create("b@x.org", "b's")
    assert [t.id for t in visible_tokens(store, "a@x.org")] == [a.id]
    assert {t.id for t in visible_tokens(store, "boss@x.org", admin=True)} == {a.id, b.id}
    with pytest.raises(KeyError):
        revoke_as(store, b.id, "a@x.org")  # not theirs: as if it did not exist
    assert store.list("b@x.org")[0].active
    assert not revoke_as(store, b.id, "boss@x.org", admin=True).active


def test_a_damaged_token_file_is_one_clear_line(file_store):
    file_store.path.parent.mkdir(parents=True, exist_ok=True)
    file_store.path.write_text("{not json")
    with pytest.raises(TokenFileError) as err:
        file_store.lookup(PREFIX + "a" * 43)
    assert str(file_store.path) in str(err.value) and "\n" not in str(err.value)


def test_an_unwritable_token_folder_is_one_clear_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(TokenFileError) as err:
        FileTokenStore.in_data_dir(tmp_path / "a-file" / "data").create("a@x.org", "bot")
    assert "Cannot write tokens" in str(err.value) and "\n" not in str(err.value)


def test_listing_never_carries_the_hash(store):
    store.create("a@x.org", "bot")
    assert "hash" not in json.dumps([t.public() for t in store.list()])


# ------------------------------------------------------------------------------ rate limits

def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    limiter = RateLimiter(rate_per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.take("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("t")
    assert wait == pytest.approx(1.0) and retry_after(wait) == "1"
    assert limiter.take("other") == 0.0  # buckets are per token
    now[0] += 0.5
    assert limiter.take("t") == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take("t") == 0.0
    now[0] += 100
    assert [limiter.take("t") for _ in range(4)][-1] > 0  # refills to the burst, not beyond


def test_rate_zero_turns_limits_off():
    limiter = RateLimiter(0, 1)
    assert all(limiter.take("t") == 0.0 for _ in range(1000))


# ------------------------------------------------------------------------------ the gate

def _gate(store, **api):
    return Gate(store, ApiSettings(**api), parse_allow_list("@x.org", "test"))


@pytest.mark.parametrize("header, expected", [
    (None, None), ("", None), ("Bearer abc", "abc"), ("bearer  abc ", "abc"),
    ("Basic abc", ""), ("Bearer", "")])
def test_bearer(header, expected):
    assert bearer(header) == expected


def test_gate_missing_bad_revoked_and_allowed(store):
    gate = _gate(store)
    secret, info = store.create("a@x.org", "bot")
    caller = gate.check(f"Bearer {secret}", "10.0.0.5")
    assert (caller.user, caller.token_id, caller.admin) == ("a@x.org", info.id, False)
    for header, code in [(None, "missing_token"), ("Token xyz", "malformed_authorization"),
                         (f"Bearer {PREFIX}{'b' * 43}", "invalid_token")]:
        with pytest.raises(ApiError) as err:
            gate.check(header, "127.0.0.1")
        assert err.value.status == 401 and err.value.code == code
        assert "\n" not in err.value.message and secret not in err.value.message
    store.revoke(info.id, by="a@x.org")
    with pytest.raises(ApiError) as err:
        gate.check(f"Bearer {secret}", "10.0.0.5")
    assert err.value.status == 401 and "revoked" in err.value.message


def test_a_token_acts_as_its_user_on_the_allow_list(store):
    gate = _gate(store)
    secret, _ = store.create("mallory@elsewhere.com", "bot")
    with pytest.raises(ApiError) as err:
        gate.check(f"Bearer {secret}", "10.0.0.5")
    assert err.value.status == 403 and "allow-list" in err.value.message


def test_open_mode_is_for_loopback_clients_only(store):
    gate = _gate(store, open_loopback=True)
    assert gate.check(None, "127.0.0.1").user is None
    assert gate.check("Bearer sk-anything", "::1").user is None  # clients that need a key
    for host, proxied in [("10.0.0.5", False), ("192.168.1.2", False), ("127.0.0.1", True)]:
        with pytest.raises(ApiError) as err:
            gate.check(None, host, proxied=proxied)
        assert err.value.status == 401
    with pytest.raises(ApiError):  # a token of ours is always checked
        gate.check(f"Bearer {PREFIX}{'c' * 43}", "127.0.0.1")
    with pytest.raises(ApiError):
        _gate(store).check(None, "127.0.0.1")  # not open unless asked


def test_gate_rate_limit_says_when_to_retry(store):
    gate = _gate(store, rate_per_minute=6, burst=2)
    secret, _ = store.create("a@x.org", "bot")
    gate.check(f"Bearer {secret}", "10.0.0.5")
    gate.check(f"Bearer {secret}", "10.0.0.5")
    with pytest.raises(ApiError) as err:
        gate.check(f"Bearer {secret}", "10.0.0.5")
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "10"


def test_admins_by_address(store):
    assert read_admins({"ASSISTANT_ADMINS": "Boss@x.org"},
                       {"assistant": {"admins": ["chief@x.org"]}}) == {"boss@x.org",
                                                                       "chief@x.org"}
    with pytest.raises(SettingError):
        read_admins({"ASSISTANT_ADMINS": "@x.org"}, {})
    gate = Gate(store, ApiSettings(admins=frozenset({"boss@x.org"})))
    secret, _ = store.create("boss@x.org", "admin bot")
    assert gate.check(f"Bearer {secret}", "10.0.0.5").admin


@pytest.mark.parametrize("env, problem", [
    ({"ASSISTANT_API_RATE": "fast"}, "ASSISTANT_API_RATE"),
    ({"ASSISTANT_API_OPEN": "maybe"}, "ASSISTANT_API_OPEN"),
    ({"ASSISTANT_API_BURST": "-1"}, "ASSISTANT_API_BURST")])
def test_bad_settings_are_one_line(env, problem):
    with pytest.raises(SettingError) as err:
        ApiSettings.from_env(env, {})
    assert problem in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------------------ Markdown

def test_markdown_shows_hostile_text_as_text():
    from markdown_it import MarkdownIt

    render = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "table",
                                                                 "strikethrough"])
    hostile = ("<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:x) "
               "![i](http://evil.com/p.png) https://evil.com/a www.evil.com mail@evil.com "
               "**b** `c` "
               "# h\n- item\n1. one | a | b |")
    html = render.render(md(hostile))
    for bad in ("<script", "<img", "<a ", "<strong", "<code", "<h1", "<li", "<table"):
        assert bad not in html, (bad, html)
    # Every word is still there, as text.
    for word in ("alert(1)", "click", "evil.com/a", "mail", "item"):
        assert word in html


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_stream_pieces_join_back_exactly(text):
    assert "".join(pieces(text)) == text


class _ReadingAssistant:
    """An assistant whose LLM reading sends a verified sentence every few milliseconds until
    told to stop (on_text raises): what deps.ask sees of a long reading."""

    llm_configured = True

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.finished = threading.Event()

    def ask(self, question, *, history, k, sources, llm, on_text, scope):
        self.calls += 1
        self.started.set()
        try:
            for n in range(2000):
                on_text(f"sentence {n}")
                threading.Event().wait(0.005)
            raise AssertionError("the reading was never told to stop")
        finally:
            self.finished.set()


def _chat_stream(assistant):
    from assistant.api.deps import Stats
    from assistant.api.openai_face import ChatRequest, stream

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(
        assistant=assistant, stats=Stats())), state=SimpleNamespace())
    body = ChatRequest(messages=[{"role": "user", "content": "Who leads the efforts?"}],
                       stream=True)
    return request.app.state.stats, stream(request, body, "chatcmpl-x", 0)


def test_a_client_gone_before_the_reading_starts_is_counted_once(monkeypatch):
    """The client leaves right after the role chunk, and the cancellation reaches the stream
    before the worker thread starts (anyio checks for it first): counted as cancelled once, and
    the question is never asked. (Once this counted nothing: the stream thought deps.ask would.)"""
    monkeypatch.delenv("ASSISTANT_ACCESS", raising=False)
    assistant = _ReadingAssistant()
    stats, chunks = _chat_stream(assistant)

    async def client_leaves():
        assert '"role": "assistant"' in await chunks.__anext__()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await chunks.__anext__()
        assert scope.cancelled_caught

    anyio.run(client_leaves)
    assert stats.as_dict() == {"answered": 0, "failed": 0, "cancelled": 1, "in_flight": 0}
    assert assistant.calls == 0


def test_a_client_gone_during_the_reading_stops_it_and_is_counted_once(monkeypatch):
    monkeypatch.delenv("ASSISTANT_ACCESS", raising=False)
    assistant = _ReadingAssistant()
    stats, chunks = _chat_stream(assistant)

    async def client_leaves():
        await chunks.__anext__()
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                async def leave_once_reading():
                    while not assistant.started.is_set():
                        await anyio.sleep(0.01)
                    scope.cancel()
                tg.start_soon(leave_once_reading)
                await chunks.__anext__()
        await chunks.aclose()

    anyio.run(client_leaves)
    assert assistant.finished.wait(30), "the reading went on after the client left"
    for _ in range(300):  # deps.ask counts as it unwinds on the worker thread
        if stats.as_dict()["in_flight"] == 0:
            break
        threading.Event().wait(0.01)
    assert stats.as_dict() == {"answered": 0, "failed": 0, "cancelled": 1, "in_flight": 0}
    assert assistant.calls == 1
