"""`assistant eval questions`: figures on a tiny question file, computed by hand, and malformed lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.eval import parse_question_file, run_questions, write_question_report
from assistant.service import Assistant

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.fixture(scope="module")
def seed_assistant(seed_index, embedder):
    return Assistant.open(settings=seed_index.settings(), embedder=embedder)


LINES = [
    {"question": "Who will lead the coordinated efforts?", "source": SEED.name,
     "section": "Details of the Joint Operations", "answers": ["Drug Enforcement Administration"]},
    {"question": "How many drug overdose deaths were recorded in the U.S.?", "source": SEED.name,
     "section": "Context of the Partnership", "answers": ["110,000", "a million"]},
    # Expected in an article the corpus does not have: never found, so it scores 0.
    {"question": "Which synthetic opioid is a primary driver of the crisis?", "source": "other.txt",
     "answers": ["heroin"]},
    {"question": "Who won the 2022 World Cup?", "answerable": False},
]


def write(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


def test_figures_match_a_hand_count(seed_assistant, tmp_path):
    summary = run_questions(write(tmp_path / "q.jsonl", LINES), seed_assistant)
    assert summary["questions"] == 4 and summary["malformed"] == []
    # Two of the three placed questions find their section first; the third never does.
    assert summary["hit@1"] == pytest.approx(2 / 3)
    assert summary["hit@5"] == pytest.approx(2 / 3)
    assert summary["mrr"] == pytest.approx(2 / 3)
    assert summary["recall_at_k"][20] == pytest.approx(2 / 3)
    # Answers: DEA yes, 110,000 yes, "heroin" no (the article says fentanyl).
    assert summary["answers_checked"] == 3
    assert summary["answer_contains_expected"] == pytest.approx(2 / 3)
    assert summary["unanswerable"] == 1 and summary["unanswerable_abstained"] == 1
    assert summary["answerable"] == 3 and summary["answerable_wrongly_abstained"] == 0
    assert summary["latency_ms"]["p50"] > 0

    report = write_question_report(summary, tmp_path / "report")
    text = report.read_text()
    assert "| hit@1 (expected source/section) | 0.667 |" in text
    assert "Which synthetic opioid" in text  # the miss is listed
    assert (tmp_path / "report" / "recall_at_k.png").stat().st_size > 1000
    assert (tmp_path / "report" / "confidence.png").stat().st_size > 1000


def test_malformed_lines_are_reported_and_the_rest_count(seed_assistant, tmp_path):
    path = write(tmp_path / "bad.jsonl", [
        LINES[0],
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"question": ""}),
        json.dumps({"question": "Who will lead?", "answers": "DEA"}),
        json.dumps({"question": "Who will lead?", "history": [1, 2]}),
        LINES[3],
    ])
    items, problems = parse_question_file(path)
    assert [i["line"] for i in items] == [1, 7]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "not valid JSON" in problems[0] and "answers" in problems[3]
    summary = run_questions(path, seed_assistant)
    assert summary["questions"] == 2 and summary["hit@1"] == 1.0


def test_cli_eval_questions(seed_assistant, tmp_path, capsys, monkeypatch):
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(seed_assistant.index_dir))
    path = write(tmp_path / "q.jsonl", LINES + ["oops"])
    assert main(["eval", "questions", str(path), "--report", str(tmp_path / "r")]) == 0
    captured = capsys.readouterr()
    assert "line 5: not valid JSON" in captured.err
    assert "hit@1 0.667" in captured.out
    assert (tmp_path / "r" / "report.md").is_file()


def test_shipped_starter_set_is_well_formed():
    items, problems = parse_question_file(ROOT / "examples" / "seed-questions.jsonl")
    assert problems == [] and len(items) >= 20
    assert any(not i["answerable"] for i in items) and any(i["history"] for i in items)
