"""The shipped settings are the ones the committed tuning results chose (nothing copied by hand
drifts from its source)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.extractive import DEFAULT_ANSWER_SETTINGS

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def test_abstention_model_and_tier_thresholds_match_results():
    fitted = json.loads((RESULTS / "squad.json").read_text())["fitted"]
    s = DEFAULT_ANSWER_SETTINGS
    assert s.coef == pytest.approx(fitted["coef"], abs=6e-4)
    assert s.threshold == pytest.approx(fitted["threshold"], abs=6e-5)
    assert s.possible_threshold == pytest.approx(fitted["possible_threshold"], abs=6e-5)
    assert s.possible_threshold <= s.threshold


# The verifier thresholds are checked against results/verifier.json in tests/test_verify.py.


def test_fusion_matches_the_section_tuning():
    """Method, weights, lexical level and feedback: benchmarks/tune_sections.py's best on
    SciFact train. (`candidates` is not tuned there: the tuning ranks 300 deep for nDCG and
    recall@100, the product takes 100 from each side for its top 10.)"""
    from assistant.retrieval import DEFAULT_FUSION

    best = json.loads((RESULTS / "tune_sections.json").read_text())["best"]
    for field in ("method", "dense_weight", "lexical_norm", "lexical_level", "rrf_k",
                  "feedback_weight", "feedback_passages", "feedback_after"):
        assert getattr(DEFAULT_FUSION, field) == best[field], field


def test_bm25_parameters_match_the_lexical_tuning():
    from assistant.index.lexical import BM25_PARAMS

    best = json.loads((RESULTS / "tuning.json").read_text())["best_lexical"]
    assert (BM25_PARAMS["k1"], BM25_PARAMS["b"]) == (best["k1"], best["b"])
