"""The app database on a real PostgreSQL (Debian's postgresql 15, started here by
devtools/postgres.py in a temporary folder): the same schema through the migration, full-text
search with its GIN index, two users apart, two servers migrating at once, and the server going
down mid-session and coming back with nothing saved lost."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from assistant.workspace import DatabaseUnavailable, Workspace, WorkspaceHolder, db, search, shares
from assistant.workspace import conversations as cv
from assistant.workspace import feedback as fb
from assistant.workspace.schema import metadata
from devtools import postgres
from devtools.answer_samples import make_answer, other_answer

pytestmark = pytest.mark.slow

if postgres.available():
    pytest.skip(postgres.available(), allow_module_level=True)


@pytest.fixture(scope="module")
def pg():
    with postgres.PostgresServer() as server:
        yield server


def fresh_database(pg, name: str) -> str:
    with sa.create_engine(pg.url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    return pg.url.rsplit("/", 1)[0] + "/" + name


def test_two_servers_starting_at_once_migrate_once(pg):
    """Three processes (as three app servers) and two threads open a new database at once."""
    url = fresh_database(pg, "race")
    code = ("import sys; from assistant.workspace import Workspace; "
            "Workspace.open(url=sys.argv[1]).close(); print('ok')")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    opened, errors = [], []

    def start():
        try:
            opened.append(Workspace.open(url=url))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [o[0].strip() for o in outs] == ["ok"] * 3, [o[1][-500:] for o in outs]
    assert errors == [] and len(opened) == 2
    inspector = sa.inspect(opened[0].engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == {
            c.name for c in table.columns}, table.name
    assert "ix_messages_search" in {i["name"] for i in inspector.get_indexes("messages")}
    for w in opened:
        w.close()


def test_conversations_search_and_shares_on_postgresql(pg):
    ws = Workspace.open(url=fresh_database(pg, "features"))
    cid, mid = cv.save_answer(ws, "alice", None, make_answer())
    cv.save_answer(ws, "alice", cid, other_answer("Trains in Spain?", "Renfe runs them."),
                   history=["When did the café open?"])
    for query in ("zurich", "ZÜRICH", "cafe ole", "zur", "1901"):
        assert [h.message_id for h in search.search(ws, "alice", query)] == [mid], query
    assert search.search(ws, "bob", "zurich") == []
    assert search.search(ws, "alice", "zurich renfe") == []
    assert search.search(ws, "alice", "' | ! & :*") == []
    assert cv.get_conversation(ws, "bob", cid) is None
    _, turns = cv.get_conversation(ws, "alice", cid)
    assert turns[0].answer == make_answer() and turns[1].history == ("When did the café open?",)
    token = shares.create_share(ws, "alice", mid)
    other = Workspace.open(url=str(ws.url))  # another app server
    assert other.dialect == "postgresql"
    assert shares.open_share(other, token).status == "ok"
    assert shares.revoke(other, "alice", shares.list_shares(other, "alice")[0].id)
    assert shares.open_share(ws, token).status == "revoked"
    fb.record_feedback(ws, {"rating": "up", "user": "alice", "question": "q", "answer": "a"}, mid)
    assert cv.delete(ws, "alice", cid)
    assert fb.list_feedback(other)[0]["user"] == "alice"  # kept, without its message
    ws.close()
    other.close()


def test_api_tokens_on_postgresql(pg):
    """The API's token store (issue 25) over PostgreSQL: created, seen by another server,
    revoked there with who did it, looked up by hash."""
    from assistant.api.token_db import DbTokenStore

    url = fresh_database(pg, "tokens")
    app_side, server_side = DbTokenStore(WorkspaceHolder(url=url)), DbTokenStore(
        WorkspaceHolder(url=url))
    secret, info = app_side.create("Alice@Example.org", "bot")
    assert server_side.lookup(secret) == info and info.user == "alice@example.org"
    assert server_side.revoke(info.id, by="boss@example.org").revoked_by == "boss@example.org"
    assert not app_side.lookup(secret).active
    assert [t.id for t in app_side.list("alice@example.org")] == [info.id]
    for store in (app_side, server_side):
        store.holder.get().close()


def test_postgresql_down_mid_session_then_back_loses_nothing(pg, monkeypatch):
    monkeypatch.setattr(db, "RETRY_AFTER_S", 0.0)
    url = fresh_database(pg, "outage")
    holder = WorkspaceHolder(url=url)
    ws = holder.get()
    cid, _ = cv.save_answer(ws, "alice", None, make_answer())
    pg.stop()
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            cv.save_answer(ws, "alice", cid, other_answer("During the outage?", "Lost."))
        line = str(info.value)
        assert "\n" not in line and "could not be written" in line and url.split("@")[1] in line
        with pytest.raises(DatabaseUnavailable):
            cv.list_conversations(ws, "alice")
        # A server starting now: one line, and it tries again later.
        with pytest.raises(DatabaseUnavailable) as started:
            WorkspaceHolder(url=url).get()
        assert "could not be opened" in str(started.value)
    finally:
        pg.start()
    turns = cv.get_conversation(ws, "alice", cid)[1]  # the pool reconnects by itself
    assert [t.question for t in turns] == ["When did the café open?"]
    cv.save_answer(ws, "alice", cid, other_answer("After the outage?", "Saved."))
    assert len(cv.get_conversation(holder.get(), "alice", cid)[1]) == 2
    ws.close()
