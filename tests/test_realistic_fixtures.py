"""The realistic LLM-reply development set (benchmarks/realistic/) is well formed: every file
parses, every marker names a passage of its prompt, kinds and labels are the allowed ones, and the
committed JSON Lines are exactly what the authoring files produce."""

from __future__ import annotations

import json

import pytest

from devtools import realistic_fixtures as rf

SETS = [s for s in ("seed", "bbc") if (rf.DIR / f"replies-{s}.jsonl").exists()]


@pytest.mark.parametrize("set_name", SETS)
def test_fixtures_check_clean(set_name, capsys):
    assert rf.check([set_name]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("set_name", SETS)
def test_fixtures_match_their_authoring_files(set_name, tmp_path, monkeypatch):
    committed = {kind: (rf.DIR / f"{kind}-{set_name}.jsonl").read_text(encoding="utf-8")
                 for kind in ("replies", "variants")}
    out = tmp_path / "realistic"
    out.mkdir()
    for name in (f"prompts-{set_name}.jsonl",):
        (out / name).write_text((rf.DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    (out / "authoring").symlink_to(rf.DIR / "authoring")
    monkeypatch.setattr(rf, "DIR", out)
    rf.write(set_name)
    for kind, text in committed.items():
        assert (out / f"{kind}-{set_name}.jsonl").read_text(encoding="utf-8") == text, kind


def test_check_reports_a_marker_out_of_range(tmp_path, monkeypatch, capsys):
    prompt = json.loads((rf.DIR / "prompts-seed.jsonl").read_text(encoding="utf-8").splitlines()[0])
    n = len(prompt["passages"])
    bad = {"id": prompt["id"], "reply": f"A claim [{n + 1}].", "declined": False,
           "sentences": [{"text": f"A claim [{n + 1}].", "cites": [n + 1], "label": "supported",
                          "style": ["paraphrase"]}]}
    variant = {"id": prompt["id"] + "-v1", "question_id": prompt["id"], "kind": "exaggeration",
               "sentence": "X [1].", "cites": [1], "derived_from": "", "companion": "Y [1].",
               "reply": "Y [1]. X [1]."}
    (tmp_path / "prompts-t.jsonl").write_text(json.dumps({**prompt, "set": "t"}) + "\n")
    (tmp_path / "replies-t.jsonl").write_text(json.dumps(bad) + "\n")
    (tmp_path / "variants-t.jsonl").write_text(json.dumps(variant) + "\n")
    monkeypatch.setattr(rf, "DIR", tmp_path)
    assert rf.check(["t"]) == 1
    out = capsys.readouterr().out
    assert f"bad markers in 'A claim [{n + 1}].'" in out
    assert "unknown kind 'exaggeration'" in out
