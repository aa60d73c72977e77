"""The shipped settings are the ones the committed tuning results chose (nothing copied by hand
drifts from its source)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answering import DEFAULT_ANSWER_SETTINGS

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def test_abstention_model_and_tier_thresholds_match_results():
    fitted = json.loads((RESULTS / "squad.json").read_text())["fitted"]
    s = DEFAULT_ANSWER_SETTINGS
    assert s.coef == pytest.approx(fitted["coef"], abs=6e-4)
    assert s.threshold == pytest.approx(fitted["threshold"], abs=6e-5)
    assert s.possible_threshold == pytest.approx(fitted["possible_threshold"], abs=6e-5)
    assert s.possible_threshold <= s.threshold


# The verifier thresholds are checked against results/verifier.json in tests/test_verify.py.
