"""The feedback review: ratings and their "What was wrong?" details read back, filtered, exported
as an `assistant eval questions` file that the CLI then scores (end to end, real model)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assistant import review
from assistant.access import Reader, parse_rules
from assistant.access_views import WITHHELD, readable_answer
from assistant.cli import main
from assistant.index.builder import build
from assistant.service import Assistant
from assistant.ui import feedback
from devtools.access_corpus import QUESTION, RULES, make_access_corpus

pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def test_feedback_becomes_questions_and_a_report(tmp_path, embedder, capsys):
    import tomllib

    from assistant.config import Settings

    settings = Settings().replace(corpus_dir=make_access_corpus(tmp_path / "corpus"),
                                  index_dir=tmp_path / "index", data_dir=tmp_path / "data")
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    a = Assistant(settings, embedder=embedder)
    rules = parse_rules(tomllib.loads(RULES), "t")
    good = a.ask(QUESTION, scope=rules.scope(Reader.of("alice@example.org")))
    bad = a.ask(QUESTION, scope=rules.scope(Reader.of("bob@example.org")))
    up = feedback.feedback_record(good, "up", user="alice@example.org", when="2026-12-01T10:00:00Z")
    down = feedback.feedback_record(bad, "down", user="bob@example.org",
                                    when="2026-12-02T10:00:00Z")
    unknown = feedback.feedback_record(a.ask("Who won the 1912 chess final?"), "down",
                                       user="bob@example.org", when="2026-12-03T09:00:00Z")
    for rec in (up, down, unknown):
        feedback.append_feedback(settings.data_dir, rec)
    with open(settings.data_dir / feedback.FEEDBACK_FILE, "a") as fh:
        fh.write("{broken\n")
    review.add_detail(settings.data_dir, review.detail_record(
        down["id"], ["other_article"], "it is in the memo", "politics/budget-3.txt"))
    review.add_detail(settings.data_dir, review.detail_record(unknown["id"], ["should_abstain"]))

    items, problems = review.read_feedback(settings.data_dir)
    assert len(problems) == 1 and "line 4" in problems[0]
    assert [f.id for f in items] == [unknown["id"], down["id"], up["id"]]  # newest first
    assert [f.id for f in review.filter_feedback(items, rating="down")] == [unknown["id"],
                                                                           down["id"]]
    assert [f.id for f in review.filter_feedback(items, since=dt.date(2026, 12, 2),
                                                 until=dt.date(2026, 12, 2))] == [down["id"]]
    assert [f.id for f in review.filter_feedback(items, user="alice")] == [up["id"]]
    d = next(f for f in items if f.id == down["id"])
    assert d.reasons == ("other_article",) and d.comment == "it is in the memo"

    path = tmp_path / "questions.jsonl"
    path.write_text(review.export_questions(items))
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0] == {"question": "Who won the 1912 chess final?", "answerable": False}
    assert lines[1] == {"question": QUESTION, "answerable": True,
                        "source": "politics/budget-3.txt"}
    assert lines[2]["source"].startswith("politics/")

    capsys.readouterr()
    assert main(["eval", "questions", str(path), "--index", str(settings.index_dir), "--no-llm",
                 "--report", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "3 questions (0 malformed lines skipped)" in out and "hit@1" in out
    assert (tmp_path / "report" / "report.md").is_file()


def test_readable_answer_withholds_what_the_reader_may_not_read(tmp_path, embedder):
    import tomllib

    from assistant.config import Settings

    settings = Settings().replace(corpus_dir=make_access_corpus(tmp_path / "corpus", politics=2),
                                  index_dir=tmp_path / "index")
    build(settings, embedder=embedder, log=lambda m: None, progress=False)
    rules = parse_rules(tomllib.loads(RULES), "t")
    answer = Assistant(settings, embedder=embedder).ask(QUESTION)
    assert any(c.source.startswith("politics/") for c in answer.citations)
    shown = readable_answer(answer, rules.scope(Reader.of("bob@example.org")))
    assert shown.text == WITHHELD and not shown.citations
    assert all(not p.source.startswith("politics/") for p in shown.passages)
    alice = readable_answer(answer, rules.scope(Reader.of("alice@example.org")))
    assert alice.text == answer.text and alice.citations == answer.citations
    assert all(p.source.startswith("politics/") for p in alice.passages)
    admin = rules.scope(Reader.of("chief@example.org"))
    assert readable_answer(answer, admin) is answer
