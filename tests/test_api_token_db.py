"""API tokens in the app database (issue 25 over issue 22): the CLI's tokens land in the
database as hashes only, a revoked one gets 401, and an older api_tokens.json is imported once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from assistant.api.access import ApiError, Gate
from assistant.api.settings import ApiSettings
from assistant.api.token_db import DbTokenStore
from assistant.api.tokens import FileTokenStore, looks_like_token, token_hash
from assistant.ui.auth import parse_allow_list
from assistant.workspace.db import DB_FILE
from devtools.ui_samples import REPO

pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.fixture(autouse=True)
def _no_database_url(monkeypatch):
    monkeypatch.delenv("ASSISTANT_DATABASE_URL", raising=False)


def _cli(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "token", *args,
                           "--data", str(tmp_path / "data")], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, check=False,
                          env={**env, "PYTHONPATH": str(REPO)})


def _gate(store):
    return Gate(store, ApiSettings(), parse_allow_list("@example.org", "test"))


def test_a_cli_token_is_a_hash_in_the_database_and_revoked_gets_401(tmp_path):
    made = _cli(tmp_path, "create", "--user", "Dana@Example.org", "--name", "report",
                "--secrets", str(tmp_path / "none.toml"))
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert looks_like_token(secret)
    db = tmp_path / "data" / DB_FILE
    assert not (tmp_path / "data" / "api_tokens.json").exists()  # no file store any more
    raw = b"".join(p.read_bytes() for p in db.parent.glob(DB_FILE + "*"))
    assert secret.encode() not in raw and secret[4:].encode() not in raw
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_key, name, token_hash FROM api_tokens")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("dana@example.org", "report", token_hash(secret))]

    store = DbTokenStore.in_data_dir(tmp_path / "data")  # what `assistant serve` opens
    info = store.lookup(secret)
    assert _gate(store).check(f"Bearer {secret}", "10.0.0.5").user == "dana@example.org"
    assert _cli(tmp_path, "revoke", info.id).returncode == 0
    with pytest.raises(ApiError) as err:
        _gate(store).check(f"Bearer {secret}", "10.0.0.5")
    assert err.value.status == 401 and "revoked" in err.value.message
    assert store.lookup(secret).revoked_by == "cli"


def test_an_older_token_file_is_imported_once_and_left_in_place(tmp_path, capsys):
    data = tmp_path / "data"
    old = FileTokenStore.in_data_dir(data)
    live, live_info = old.create("a@example.org", "bot")
    gone, gone_info = old.create("b@example.org", "old bot")
    old.revoke(gone_info.id, by="boss@example.org")

    store = DbTokenStore.in_data_dir(data)
    got = store.lookup(live)
    assert got.active and got.user == "a@example.org" and got.name == "bot"
    assert got.created == live_info.created
    was = store.lookup(gone)
    assert not was.active and was.revoked_by == "boss@example.org"
    assert "Imported 2 API token(s)" in capsys.readouterr().err
    with pytest.raises(ApiError):
        _gate(store).check(f"Bearer {gone}", "10.0.0.5")
    assert old.path.exists()

    later, _ = old.create("c@example.org", "made in the file after the import")
    again = DbTokenStore.in_data_dir(data)
    assert again.lookup(later) is None  # the import ran once; the file is no longer read
    assert len(again.list()) == 2
    assert "Imported" not in capsys.readouterr().err


def test_a_damaged_token_file_is_one_line_and_tokens_still_work(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "api_tokens.json").write_text("{not json")
    store = DbTokenStore.in_data_dir(data)
    secret, info = store.create("a@example.org", "bot")
    assert store.lookup(secret) == info
    err = capsys.readouterr().err.strip()
    assert "api_tokens.json" in err and "not imported" in err and len(err.splitlines()) == 1
