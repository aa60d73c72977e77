"""The realistic SQuAD development set (benchmarks/realistic/*-squad.jsonl, issue 21) is well
formed, has the volumes the set promises, and is exactly what its authored file produces."""

from __future__ import annotations

import json
from collections import Counter

from devtools import realistic_check_squad as check
from devtools import realistic_squad_assemble as assemble


def _rows(name):
    return [json.loads(x) for x in (check.DIR / name).read_text(encoding="utf-8").splitlines()]


def test_squad_set_checks_clean():
    problems, counts = check.check_set("squad")
    assert problems == []
    kinds = Counter(v["kind"] for v in _rows("variants-squad.jsonl"))
    assert set(kinds) == set(check.KINDS) and len(set(kinds.values())) == 1  # even numbers
    assert min(kinds.values()) >= 35
    supported = sum(n for (h, label), n in counts["sentences"].items() if label == "supported")
    assert supported >= 90
    assert counts["styles"]["joins_passages"] >= 15 and counts["styles"]["echoes_question"] >= 15
    assert sum(counts["declined"].values()) >= 1


def test_squad_jsonl_is_what_the_authored_file_makes():
    prompts = {r["id"]: r for r in _rows("prompts-squad.jsonl")}
    replies, variants = assemble.assemble(assemble.parse(assemble.DIR / "squad-authored.txt"),
                                          prompts)
    assert replies == _rows("replies-squad.jsonl")
    assert variants == _rows("variants-squad.jsonl")


def test_check_names_a_marker_out_of_range_and_an_unknown_kind(tmp_path):
    prompt = _rows("prompts-squad.jsonl")[0]
    n = len(prompt["passages"])
    reply = {"id": prompt["id"], "reply": f"A claim [{n + 1}].", "declined": False,
             "sentences": [{"text": f"A claim [{n + 1}].", "cites": [n + 1],
                            "label": "supported", "style": ["paraphrase"]}]}
    variant = {"id": prompt["id"] + "-v1", "question_id": prompt["id"], "kind": "exaggeration",
               "sentence": "X [1].", "cites": [1], "derived_from": "", "companion": "Y [1].",
               "reply": "Y [1]. X [1]."}
    (tmp_path / "prompts-t.jsonl").write_text(json.dumps(prompt) + "\n", encoding="utf-8")
    (tmp_path / "replies-t.jsonl").write_text(json.dumps(reply) + "\n", encoding="utf-8")
    (tmp_path / "variants-t.jsonl").write_text(json.dumps(variant) + "\n", encoding="utf-8")
    problems, _ = check.check_set("t", tmp_path)
    assert any("replies-t.jsonl:1: marker out of range" in p for p in problems)
    assert any("variants-t.jsonl:1: kind 'exaggeration'" in p for p in problems)
