"""Evaluation and tuning: retrieval on BEIR folders, answers and abstention on SQuAD v2, the LLM
reader's outcomes, and question files written by people. Needs the `eval` extra (scikit-learn,
matplotlib, ranx): the chat app and the core install never import this package.

Everything here reaches the index through `assistant.service` (the facade); the two exceptions
say why where they import."""

from __future__ import annotations

from .beir import METRICS, beir_articles, beir_run, load_beir, run_beir
from .common import contains_answer, ensure_index, half
from .llm_check import llm_outcome, llm_summary, recheck, squad_llm
from .questions import (
           parse_question_file,
           run_questions,
           summarize_questions,
           write_question_report,
)
from .squad import load_squad, possible_threshold, squad_articles, squad_features, squad_report

__all__ = ["METRICS", "beir_articles", "beir_run", "contains_answer", "ensure_index", "half",
           "llm_outcome", "llm_summary", "load_beir", "load_squad", "parse_question_file",
           "possible_threshold", "recheck", "run_beir", "run_questions", "squad_articles",
           "squad_features", "squad_llm", "squad_report", "summarize_questions",
           "write_question_report"]
