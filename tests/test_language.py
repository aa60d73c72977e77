"""The language notice (assistant/answer/language.py): a clearly non-English question still gets its
search, with one line saying answers in other languages are unreliable; English questions,
including ones full of foreign names, get no notice. False alarms on the English question sets
are measured by benchmarks/bench_language.py (results/language.json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.answer import language
from assistant.service import Assistant, build_index
from devtools.ui_samples import REPO

FRENCH = "Qui dirigera les efforts coordonnés contre les cartels ?"
GERMAN = "Wer wird die gemeinsamen Einsätze gegen die Kartelle leiten?"
SPANISH = "¿Quién dirigirá los esfuerzos coordinados contra los cárteles?"


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.mark.parametrize("question, expected", [
    (FRENCH, "french"), (GERMAN, "german"), (SPANISH, "spanish"),
    ("Что сказал министр о сотрудничестве?", "cyrillic"),
    ("国境を越えた犯罪について大臣は何と言いましたか", "hiragana"),
])
def test_non_english_questions_are_detected(question, expected):
    assert language.detect(question) == expected


@pytest.mark.parametrize("question", [
    "Who will lead the coordinated efforts?",
    "Where was Friedrich Ratzel born?",  # foreign names, English question
    "Was Tony Blair in Berlin?",  # German words, English question
    "Who is Kofi Annan?",
    "Paris",  # too short to tell
    "",
])
def test_english_and_too_short_questions_get_no_notice(question):
    assert language.detect(question) is None
    assert language.question_notice(question) == ""


def test_the_reply_still_searches_and_says_why_in_one_line(seed_index, embedder):
    assistant = Assistant.open(settings=seed_index.settings(), embedder=embedder)
    for question in (FRENCH, GERMAN, SPANISH):
        answer = assistant.ask(question)
        assert answer.notice == language.NOTICE, question
        assert "\n" not in answer.notice
        assert answer.passages or answer.citations  # it still searched
        assert answer.to_json()["notice"] == language.NOTICE
    english = assistant.ask("Who will lead the coordinated efforts?")
    assert language.NOTICE not in english.notice


def test_cli_json_shows_the_notice_and_status_lists_non_english_articles(
        corpus_dir, index_dir, seed_path, embedder):
    from assistant.config import Settings

    (corpus_dir / seed_path.name).write_bytes(seed_path.read_bytes())
    (corpus_dir / "rapport.txt").write_text(
        "Rapport sur la coopération\nLa coopération entre les deux pays contre le crime "
        "organisé a été renforcée cette année. Les ministres se sont réunis à Mexico pour "
        "discuter des nouvelles mesures et des opérations communes le long de la frontière.\n",
        encoding="utf-8")
    settings = Settings().replace(corpus_dir=corpus_dir, index_dir=index_dir)
    build_index(settings, embedder=embedder, log=lambda m: None, progress=False)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "--json", SPANISH],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["notice"] == language.NOTICE
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "status"],
                         capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert status["non_english_articles"] == [
        {"source": "rapport.txt", "title": "Rapport sur la coopération", "language": "french"}]
    assert (index_dir / "languages.json").is_file()  # verdicts kept: only new articles are read
    assert status["watcher"] is None
