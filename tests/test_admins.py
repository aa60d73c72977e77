"""One list of administrators, wherever a name is written: ASSISTANT_ADMINS, `[assistant]
admins` in secrets.toml, and `admins` in the access rules (access.toml). An administrator may
press Update now, sees every API token, reviews feedback and reads every collection; rules that
failed closed make nobody admin. (Before, the rules' admins could not press Update now nor see
all tokens, and ASSISTANT_ADMINS admins could not open the review page.)"""

from __future__ import annotations

import pytest

from assistant import access
from assistant.access import Reader
from assistant.api.access import Gate, is_admin
from assistant.api.settings import ApiSettings
from assistant.api.tokens import FileTokenStore
from assistant.errors import SettingError
from assistant.ui import freshness
from assistant.ui.auth import Access, named_admins, read_admins
from assistant.ui.identity import Identity

RULES = """
default = "deny"
admins = ["chief@example.org"]
[collections.politics]
users = ["alice@example.org"]
"""
OPS = frozenset({"ops@example.org"})


@pytest.fixture
def rules(tmp_path, monkeypatch):
    path = tmp_path / "access.toml"
    path.write_text(RULES, encoding="utf-8")
    monkeypatch.setenv(access.ENV, str(path))
    return path


def user(email: str) -> Access:
    return Access("allowed", user=Identity(email=email, sub="s", name="n"))


def test_named_in_either_place_is_admin(rules):
    chief, ops, alice = (Reader.of(e) for e in ("Chief@Example.org", "ops@example.org",
                                                 "alice@example.org"))
    assert access.is_admin(chief) and access.is_admin(chief, admins=OPS)
    assert not access.is_admin(ops) and access.is_admin(ops, admins=OPS)
    assert not access.is_admin(alice, admins=OPS) and not access.is_admin(None, admins=OPS)
    assert not access.is_admin(Reader(), admins=OPS)  # no address, no admin


def test_an_admin_from_either_list_reads_every_collection(rules):
    ops = Reader.of("ops@example.org")
    assert not access.scope_for(ops).permits("politics")
    scope = access.scope_for(ops, admins=OPS)
    assert scope.all and scope.admin and scope.permits("politics") and scope.permits("")
    alice = access.scope_for(Reader.of("alice@example.org"), admins=OPS)
    assert alice.permits("politics") and not alice.permits("sports") and not alice.all


def test_without_a_rules_file_the_named_list_alone_decides(tmp_path, monkeypatch):
    monkeypatch.delenv(access.ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # no access.toml here
    assert access.rules_path() is None
    assert access.is_admin(Reader.of("ops@example.org"), admins=OPS)
    assert not access.is_admin(Reader.of("chief@example.org"), admins=OPS)


def test_rules_that_failed_closed_make_nobody_admin(tmp_path, monkeypatch):
    path = tmp_path / "access.toml"
    path.write_text('admins = ["chief@example.org"]\ndefault = "maybe"\n', encoding="utf-8")
    monkeypatch.setenv(access.ENV, str(path))
    for email in ("chief@example.org", "ops@example.org"):
        assert not access.is_admin(Reader.of(email), admins=OPS)
        scope = access.scope_for(Reader.of(email), admins=OPS)
        assert scope.problem and not scope.all and not scope.permits("politics")
    assert not freshness.may_update(user("ops@example.org"), {}, {"ASSISTANT_ADMINS":
                                                                 "ops@example.org"})


def test_the_rules_admin_may_update_and_the_named_admin_too(rules):
    assert freshness.may_update(user("chief@example.org"), {}, environ={})
    assert freshness.may_update(user("ops@example.org"), {"assistant": {"admins": ["ops@example.org"]}},
                                environ={})
    assert not freshness.may_update(user("alice@example.org"), {}, environ={})


def test_a_list_naming_a_domain_counts_for_nothing_on_the_page(rules):
    """The API server refuses to start on it (read_admins, one line); the page names nobody
    admin from it rather than a whole organisation."""
    assert named_admins({}, {"ASSISTANT_ADMINS": "@example.org"}) == frozenset()
    assert not freshness.may_update(user("alice@example.org"), {},
                                    {"ASSISTANT_ADMINS": "@example.org"})
    assert named_admins({"assistant": {"admins": ["Ops@Example.org"]}}, {}) == OPS
    assert named_admins({}, {"ASSISTANT_ADMINS": " Ops@Example.org "}) == OPS  # its environ


def test_read_admins_joins_both_lists_and_names_the_setting_it_refuses():
    assert read_admins({"ASSISTANT_ADMINS": "ops@example.org"},
                       {"assistant": {"admins": ["Chief@Example.org"]}}) == OPS | {
                           "chief@example.org"}
    with pytest.raises(SettingError) as err:
        read_admins({}, {"assistant": {"admins": ["@example.org"]}})
    assert str(err.value).startswith("ASSISTANT_ADMINS / [assistant] admins: name admins by "
                                      "address") and "@example.org" in str(err.value)
    with pytest.raises(SettingError) as err:
        read_admins({}, {"assistant": {"admins": [3]}})
    assert "[assistant] admins" in str(err.value)  # the entry is named by where it is written
    with pytest.raises(SettingError) as err:
        read_admins({"ASSISTANT_ADMINS": "@x.org, a@x.org"}, {})
    assert "@x.org" in str(err.value)
    with pytest.raises(SettingError) as err:
        read_admins({"ASSISTANT_ADMINS": "boss"}, {})
    assert str(err.value).startswith("ASSISTANT_ADMINS: 'boss' is neither")


def test_an_api_token_of_the_rules_admin_is_an_admin_token(rules, tmp_path):
    store = FileTokenStore.in_data_dir(tmp_path / "data")
    gate = Gate(store, ApiSettings(admins=OPS))
    callers = {e: gate.check(f"Bearer {store.create(e, 'bot')[0]}", "10.0.0.5")
               for e in ("chief@example.org", "ops@example.org", "alice@example.org")}
    assert {e: c.admin for e, c in callers.items()} == {
        "chief@example.org": True, "ops@example.org": True, "alice@example.org": False}
    assert is_admin("chief@example.org", ApiSettings()) and not is_admin("ops@example.org",
                                                                         ApiSettings())
