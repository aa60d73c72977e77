"""Who may read what: the rules file (assistant/access.py) and the row filter inside retrieval,
with the real model. A filter applied after ranking would fail test_filter_is_inside_retrieval:
the forbidden collection holds all the best passages."""

from __future__ import annotations

import json

import pytest

from assistant import access
from assistant.access import Reader, collection_of, load_rules, parse_rules
from assistant.index.builder import build
from assistant.service import Assistant
from devtools.access_corpus import QUESTION, RULES, SECRET, make_access_corpus
from devtools.llm_servers import Reply, ScriptedServer

ALICE, BOB, CHIEF = (Reader.of(e) for e in ("alice@example.org", "Bob@Example.org",
                                             "chief@example.org"))


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def _rules(tmp_path, text=RULES):
    p = tmp_path / "access.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_collection_is_the_top_level_folder():
    assert collection_of("politics/2024/a.txt") == "politics"
    assert collection_of("a.txt") == ""
    assert collection_of("sports\\b.md") == "sports"


def test_rules_by_user_domain_group_and_default(tmp_path):
    rules = load_rules(_rules(tmp_path))
    assert not rules.problem
    assert rules.scope(ALICE).permits("politics") and not rules.scope(ALICE).permits("sports")
    assert rules.scope(BOB).permits("sports") and not rules.scope(BOB).permits("politics")
    carol = Reader.of("carol@sports.example.org")
    assert rules.scope(carol).permits("sports")
    desk = Reader.of("dan@example.org", ["politics-desk"])
    assert rules.scope(desk).permits("politics") and not rules.scope(desk).permits("sports")
    nobody = rules.scope(Reader())
    assert not nobody.permits("politics") and not nobody.permits("")  # default deny
    assert rules.scope(CHIEF).all and rules.is_admin(CHIEF) and not rules.is_admin(ALICE)
    opened = parse_rules({"default": "allow", "collections": {"hr": {"users": ["h@x.org"]}}}, "t")
    assert opened.scope(ALICE).permits("news") and not opened.scope(ALICE).permits("hr")


@pytest.mark.parametrize("text, named", [
    ('default = "maybe"', "default"),
    ('admins = "chief@example.org"', "admins"),
    ('[collections.hr]\nuser = ["a@example.org"]', "[collections.hr] has unknown key 'user'"),
    ('[collections.hr]\nusers = [""]', "[collections.hr] users"),
    ('colections = 1', "colections"),
    ('default = ', "not valid TOML"),
])
def test_invalid_rules_fail_closed_naming_the_rule(tmp_path, text, named):
    rules = load_rules(_rules(tmp_path, text))
    assert named in rules.problem and "\n" not in rules.problem
    scope = rules.scope(CHIEF)
    assert not scope.all and not scope.permits("hr") and not scope.permits("")
    assert not rules.is_admin(CHIEF)


def test_missing_named_file_fails_closed(tmp_path):
    assert load_rules(tmp_path / "nope.toml").problem
    assert access.rules_path("", cwd=tmp_path) is None  # no file, no setting: open as today
    assert access.scope_for(Reader(), tmp_path / "nope.toml").problem


def test_rules_are_reread_when_changed(tmp_path):
    p = _rules(tmp_path)
    assert not load_rules(p).scope(BOB).permits("politics")
    p.write_text(RULES.replace('users = ["alice@example.org"]',
                               'users = ["alice@example.org", "bob@example.org"]'))
    assert load_rules(p).scope(BOB).permits("politics")


@pytest.fixture(scope="module")
def two_collections(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("access")
    from assistant.config import Settings

    settings = Settings().replace(corpus_dir=make_access_corpus(root / "corpus"),
                                  index_dir=root / "index")
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    rules = load_rules(_rules(root))
    return settings, rules


def _sources(passages):
    return {p.source.split("/")[0] for p in passages}


def test_filter_is_inside_retrieval(two_collections, embedder):
    settings, rules = two_collections
    a = Assistant(settings, embedder=embedder)
    everyone = a.search(QUESTION, k=5)
    assert _sources(everyone) == {"politics"}  # the forbidden collection holds the best answers
    bob = a.search(QUESTION, k=3, scope=rules.scope(BOB))
    # Filtered after ranking, Bob would get nothing from the top 3; inside retrieval he gets the
    # weaker, allowed answer.
    assert bob and _sources(bob) == {"sports"}
    answer = a.ask(QUESTION, k=3, scope=rules.scope(BOB))
    text = json.dumps(answer.to_json(), ensure_ascii=False)
    assert SECRET not in text and "politics/" not in text
    assert all(p.source.startswith("sports/") for p in answer.passages)
    alice = a.ask(QUESTION, k=3, scope=rules.scope(ALICE))
    assert "42 billion" in alice.text and all(c.source.startswith("politics/")
                                              for c in alice.citations)
    admin = a.search(QUESTION, k=20, scope=rules.scope(CHIEF))
    assert _sources(admin) == {"politics", "sports", "guide.txt"}  # the root file too
    nobody = a.ask(QUESTION, scope=rules.scope(Reader.of("eve@example.org")))
    assert nobody.abstained and not nobody.passages


def test_viewer_and_catalog_apply_the_rule(two_collections, embedder):
    settings, rules = two_collections
    a = Assistant(settings, embedder=embedder)
    bob = rules.scope(BOB)
    listed = a.articles(scope=bob)
    assert [x.source for x in listed] == ["sports/stadium.txt"]
    assert len(a.articles()) == 14
    secret_id = next(x.id for x in a.articles() if x.source.startswith("politics/"))
    with pytest.raises(access.AccessDenied):
        a.article(secret_id, scope=bob)
    assert a.article(secret_id, scope=rules.scope(ALICE))[1]


def test_llm_endpoint_gets_no_forbidden_passage(two_collections, embedder):
    settings, rules = two_collections
    with ScriptedServer(lambda body: Reply("The stadium budget is about two million crowns [1].")
                        ) as server:
        a = Assistant(settings.replace(llm_url=server.base_url, llm_model=server.model),
                      embedder=embedder)
        answer = a.ask(QUESTION, scope=rules.scope(BOB), llm=True)
        sent = json.dumps(server.requests, ensure_ascii=False)
        assert server.requests and "stadium" in sent.lower()
        assert SECRET not in sent and "42 billion" not in sent
        assert answer.passages and _sources(answer.passages) == {"sports"}


def test_cli_ask_as(two_collections, tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    settings, _ = two_collections
    monkeypatch.setenv("ASSISTANT_ACCESS", str(_rules(tmp_path)))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))
    assert main(["ask", QUESTION, "--as", "bob@example.org", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "sports/stadium.txt" in out
    assert main(["ask", QUESTION, "--as", "chief@example.org", "--json"]) == 0
    assert "politics/" in capsys.readouterr().out
    _rules(tmp_path, 'default = "perhaps"')
    assert main(["ask", QUESTION, "--as", "bob@example.org"]) == 2
    assert "default" in capsys.readouterr().err
    monkeypatch.delenv("ASSISTANT_ACCESS")
    monkeypatch.chdir(tmp_path / "..")  # no rules anywhere: --as says rules are needed
    assert main(["ask", QUESTION, "--as", "bob@example.org"]) == 2
    assert "ASSISTANT_ACCESS" in capsys.readouterr().err
