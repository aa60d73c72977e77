"""The app database on SQLite (fast lane): migrations, conversations, history search, shares,
feedback import, two users kept apart on every path, and bad input (a damaged file,
wrong URLs, a server that is not there). The same behaviour on a real PostgreSQL is in
test_workspace_pg.py."""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.records import Section
from assistant.workspace import (
    DatabaseUnavailable,
    Workspace,
    WorkspaceHolder,
    database_url,
    db,
    search,
    shares,
)
from assistant.workspace import conversations as cv
from assistant.workspace import feedback as fb
from assistant.workspace.schema import metadata
from devtools.answer_samples import QUOTE, SECTION, make_answer, other_answer


@pytest.fixture
def ws(tmp_path):
    w = Workspace.open(url=f"sqlite:///{tmp_path / 'app.db'}")
    yield w
    w.close()


def test_default_database_is_a_sqlite_file_in_the_data_folder(isolated_paths, monkeypatch):
    monkeypatch.delenv("ASSISTANT_DATABASE_URL", raising=False)
    settings = Settings()
    assert database_url(settings) == f"sqlite:///{isolated_paths['data'].resolve()}/assistant.db"
    w = Workspace.open(settings)
    try:
        assert (isolated_paths["data"] / "assistant.db").exists()
        with w.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        w.close()
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", "postgresql://u:pw@db.example/x")
    assert Settings().database_url == "postgresql://u:pw@db.example/x"
    assert "pw" not in repr(Settings())


def test_migration_makes_the_tables_the_code_uses_and_is_applied_once(ws, tmp_path):
    inspector = sa.inspect(ws.engine)
    for table in metadata.sorted_tables:
        made = {c["name"] for c in inspector.get_columns(table.name)}
        assert made == {c.name for c in table.columns}, table.name
    with ws.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0002"
    cid, _ = cv.save_answer(ws, "alice", None, make_answer())
    again = Workspace.open(url=str(ws.url))  # a restart: nothing re-created, nothing lost
    assert [c.id for c in cv.list_conversations(again, "alice")] == [cid]
    again.close()


def test_conversation_is_saved_listed_newest_first_reopened_renamed_and_deleted(ws):
    first = make_answer("When did the café open?")
    cid, m1 = cv.save_answer(ws, "alice", None, first)
    follow = other_answer("Who founded it?", "Someone did.")
    cid2, m2 = cv.save_answer(ws, "alice", cid, follow, history=[first.question])
    assert cid2 == cid and m2 > m1
    later, _ = cv.save_answer(ws, "alice", None, other_answer("Another topic?", "Yes."))
    assert [c.id for c in cv.list_conversations(ws, "alice")] == [later, cid]
    cv.save_answer(ws, "alice", cid, other_answer("And then?", "Then."),
                   history=[first.question, follow.question])
    listed = cv.list_conversations(ws, "alice")
    assert [c.id for c in listed] == [cid, later]  # the one used last comes first
    assert listed[0].title == "When did the café open?"
    _, turns = cv.get_conversation(ws, "alice", cid)
    assert [t.question for t in turns] == [first.question, "Who founded it?", "And then?"]
    assert turns[0].answer == first  # citations with quotes and offsets come back whole
    assert turns[1].history == (first.question,)
    assert cv.rename(ws, "alice", cid, "  Café   history ") is True
    assert cv.get_conversation(ws, "alice", cid)[0].title == "Café history"
    assert cv.rename(ws, "alice", cid, "   ") is False
    assert cv.delete(ws, "alice", cid) is True
    assert cv.get_conversation(ws, "alice", cid) is None
    assert [c.id for c in cv.list_conversations(ws, "alice")] == [later]
    with ws.engine.connect() as conn:  # really deleted, search rows included
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM messages WHERE conversation_id = ?", (cid,)).scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM message_search").scalar() == 1


def test_abstention_is_saved_with_its_closest_passages(ws):
    cid, _ = cv.save_answer(ws, "alice", None, make_answer(abstained=True))
    turn = cv.get_conversation(ws, "alice", cid)[1][0]
    assert turn.answer.abstained and turn.answer.passages[0].chunk.text == SECTION


def test_long_first_question_makes_a_one_line_title():
    assert cv.title_of("a\nb  c") == "a b c"
    long = cv.title_of("word " * 100)
    assert len(long) == cv.TITLE_CHARS and long.endswith("…")


def test_one_user_never_reaches_another_users_conversations(ws):
    cid, mid = cv.save_answer(ws, "alice@example.org", None, make_answer())
    bob = "bob@example.org"
    assert cv.list_conversations(ws, bob) == []
    assert cv.get_conversation(ws, bob, cid) is None  # by id, as from a URL
    assert cv.get_message(ws, bob, mid) is None
    assert search.search(ws, bob, "café") == []
    assert cv.rename(ws, bob, cid, "mine now") is False
    assert cv.delete(ws, bob, cid) is False
    with pytest.raises(KeyError):
        shares.create_share(ws, bob, mid)
    # Bob's answer given Alice's conversation id starts a conversation of his own.
    bob_cid, _ = cv.save_answer(ws, bob, cid, other_answer("Bob's question?", "Bob's."))
    assert bob_cid != cid
    assert [t.question for t in cv.get_conversation(ws, "alice@example.org", cid)[1]] == [
        "When did the café open?"]
    token = shares.create_share(ws, "alice@example.org", mid)
    share_id = shares.list_shares(ws, "alice@example.org")[0].id
    assert shares.list_shares(ws, bob) == []
    assert shares.revoke(ws, bob, share_id) is False
    assert shares.open_share(ws, token).status == "ok"


def test_search_is_case_and_accent_insensitive_and_finds_word_starts(ws):
    cid, mid = cv.save_answer(ws, "alice", None, make_answer())
    cv.save_answer(ws, "alice", None, other_answer("Trains in Spain?", "Renfe runs them."))
    for query in ("zurich", "ZÜRICH", "cafe ole", "CAFÉ", "1901", "openED", "zur"):
        hits = search.search(ws, "alice", query)
        assert [h.message_id for h in hits] == [mid], query
        assert hits[0].conversation_id == cid
    assert search.search(ws, "alice", "zurich trains") == []  # every word must occur
    assert search.search(ws, "alice", "renfe")[0].question == "Trains in Spain?"
    assert search.search(ws, "alice", "\" OR * NEAR( -") == []  # FTS syntax is not passed on
    assert search.search(ws, "alice", "   ") == []
    assert "Zürich" in search.search(ws, "alice", "zurich")[0].snippet


def test_share_stores_only_the_token_hash_and_can_be_revoked(ws, tmp_path):
    _, mid = cv.save_answer(ws, "alice", None, make_answer())
    token = shares.create_share(ws, "alice", mid)
    assert len(token) >= 40
    opened = shares.open_share(ws, token)
    assert opened.status == "ok" and opened.sharer == "alice"
    assert opened.answer.citations[0].quote == QUOTE
    ws.engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("app.db*"))
    assert token.encode() not in raw
    assert shares.token_hash(token).encode() in raw
    assert shares.open_share(ws, token[:-1] + ("A" if token[-1] != "A" else "B")).status == \
        "unknown"
    assert shares.open_share(ws, "<script>").status == "unknown"
    assert shares.revoke(ws, "alice", shares.list_shares(ws, "alice")[0].id) is True
    assert shares.open_share(ws, token).status == "revoked"
    assert shares.list_shares(ws, "alice")[0].revoked is not None


def test_share_snapshot_outlives_the_conversation_rename_and_is_deleted_with_it(ws):
    cid, mid = cv.save_answer(ws, "alice", None, make_answer())
    token = shares.create_share(ws, "alice", mid)
    cv.rename(ws, "alice", cid, "renamed")
    assert shares.open_share(ws, token).answer.question == "When did the café open?"
    cv.delete(ws, "alice", cid)
    assert shares.open_share(ws, token).status == "unknown"


def test_freshness_says_which_cited_articles_changed_or_are_gone():
    answer = make_answer()

    def index(sections):
        def lookup(article_id):
            if sections is None:
                raise KeyError(article_id)
            return object(), [Section((), t) for t in sections]
        return lookup

    assert shares.freshness(answer, index([SECTION])) == {}
    assert shares.freshness(answer, index(["Intro.", SECTION])) == {}  # moved, words unchanged
    changed = SECTION.replace("1901", "1902")
    assert shares.freshness(answer, index([changed])) == {1: "changed"}
    assert shares.freshness(answer, index(None)) == {1: "gone"}


def test_feedback_is_stored_with_its_user_and_an_old_file_imported_once(ws, tmp_path):
    good = {"time": "2026-01-02T03:04:05Z", "user": "alice@example.org", "question": "q?",
            "answer": "a [1]", "rating": "up", "tier": "answer", "mode": "extractive",
            "citations": [], "build": "b1"}
    path = tmp_path / "feedback.jsonl"
    path.write_text(json.dumps(good) + "\n" + "{broken\n" + json.dumps(
        {**good, "user": None, "rating": "down"}) + "\n" + json.dumps({**good, "rating": "meh"})
        + "\n[1, 2]\n\n")
    n, problems = fb.import_jsonl(ws, path)
    assert n == 2
    assert len(problems) == 3 and all(p.startswith(f"{path}:") for p in problems)
    assert [p.split(":")[1] for p in problems] == ["2", "4", "5"]
    assert fb.import_jsonl(ws, path) == (0, [])  # once only
    assert path.exists()  # left in place
    _, mid = cv.save_answer(ws, "bob", None, make_answer())
    fb.record_feedback(ws, {**good, "user": "bob", "question": "b?"}, mid)
    assert [r["rating"] for r in fb.list_feedback(ws)] == ["up", "down", "up"]
    assert [r["question"] for r in fb.list_feedback(ws, "bob")] == ["b?"]
    assert fb.import_jsonl(ws, tmp_path / "missing.jsonl") == (0, [])
    with pytest.raises(ValueError):
        fb.record_feedback(ws, {**good, "rating": "sideways"})




def test_many_writers_at_once_lose_nothing(tmp_path):
    """Threads of one server and a second engine (another server process's view) writing at
    once: WAL and the busy timeout queue them; every answer is saved."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engines = [Workspace.open(url=url), Workspace.open(url=url)]
    errors: list[Exception] = []

    def writer(i: int) -> None:
        w = engines[i % 2]
        cid = None
        try:
            for j in range(15):
                cid, _ = cv.save_answer(w, f"user{i}", cid, other_answer(f"q{i}-{j}?", "a."))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engines[0].engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM messages").scalar() == 8 * 15
    for i in range(8):
        assert len(cv.get_conversation(engines[1], f"user{i}",
                                       cv.list_conversations(engines[1], f"user{i}")[0].id)[1]) == 15
    for w in engines:
        w.close()


# ------------------------------------------------------------------------------ bad input

def one_line(exc: Exception) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_damaged_database_file_is_one_line_and_left_untouched(tmp_path):
    path = tmp_path / "assistant.db"
    damaged = b"this is not a database, " * 400
    path.write_bytes(damaged)
    with pytest.raises(DatabaseUnavailable) as info:
        Workspace.open(url=f"sqlite:///{path}")
    line = one_line(info.value)
    assert str(path) in line and "damaged" in line and "backup" in line
    assert isinstance(info.value, AssistantError)
    assert path.read_bytes() == damaged


def test_damaged_after_start_is_one_line_per_write(tmp_path):
    path = tmp_path / "assistant.db"
    w = Workspace.open(url=f"sqlite:///{path}")
    cv.save_answer(w, "alice", None, make_answer())
    w.engine.dispose()
    for extra in tmp_path.glob("assistant.db-*"):
        extra.unlink()
    path.write_bytes(b"\0garbage" * 1000)
    with pytest.raises(DatabaseUnavailable) as info:
        cv.save_answer(w, "alice", None, make_answer())
    assert "damaged" in one_line(info.value)


@pytest.mark.parametrize("url, words", [
    ("not a url at all", "is not a database URL"),
    ("mysql://u:secret@localhost/db", "only sqlite:/// and postgresql://"),
    ("postgresql://u:secret@127.0.0.1:{port}/db", "could not be opened"),
])
def test_wrong_database_url_is_one_line_without_the_password(url, words):
    from devtools.streamlit_server import free_port

    url = url.format(port=free_port())  # nothing listens there
    with pytest.raises(DatabaseUnavailable) as info:
        Workspace.open(url=url)
    line = one_line(info.value)
    assert words in line and "secret" not in line


def test_holder_retries_a_database_that_was_down(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "RETRY_AFTER_S", 0.0)
    folder = tmp_path / "later"
    folder.write_text("a file where the data folder should be")
    holder = WorkspaceHolder(url=f"sqlite:///{folder}/assistant.db")
    with pytest.raises(DatabaseUnavailable):
        holder.get()
    folder.unlink()
    w = holder.get()  # the folder can be made now
    assert holder.get() is w
    w.close()


def test_redact_hides_passwords():
    assert db.redact("postgresql://me:p%40ss@h:5432/d") == "postgresql://me:***@h:5432/d"
    assert db.redact("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
